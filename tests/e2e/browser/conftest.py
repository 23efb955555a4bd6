"""Browser tests: Debian's Chromium, headless, driven by Playwright, against the
whole system (the e2e ``system`` fixture). They run in a pytest process of their
own, without eventlet (see tests/conftest.py): ``pytest tests/e2e/browser``.

People browse with JavaScript switched off, which proves every task works
without it. Each distinct page they reach is checked: axe-core (WCAG 2.0-2.2 A
and AA rules and best practice) in a second, script-enabled tab that is served
the very HTML the person saw, at desktop and phone widths, failing on any
serious or critical violation; and screenshots at both widths are kept under
``test-artifacts/browser/<module>/``. A module that sets ``PHONE_FITS = True`` also
has every page checked for fitting a phone: at 390 px, the document is no wider
than the screen (nothing scrolls sideways).

A distinct page (its title, and the label a test gives it) is checked once per run,
by whichever module reaches it first: once per pytest process, and once across the
streams of ``./run-tests``, which share a folder of marks (``SANCTUARY_PAGES_CHECKED``).
The checks cost about a second of Chromium's CPU each, and most modules pass through
the same sign-in, error and list pages.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import eventlet.patcher
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.conftest import E2ESystem, Person

CHROMIUM = os.environ.get("SANCTUARY_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "browser"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = {"serious", "critical"}
AXE = Axe()  # holds axe-core's script, read once
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
CHECKED_MARKS = os.environ.get("SANCTUARY_PAGES_CHECKED")  # a folder shared by one run's streams
_CHECKED: set[str] = set()  # the pages this process has checked
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: ./run-tests installs Debian's chromium package")
    if eventlet.patcher.is_monkey_patched("socket"):
        pytest.fail("run the browser tests in a pytest process of their own "
                    "(pytest tests/e2e/browser): they cannot run under eventlet")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class Checker:
    """Checks and photographs each distinct page a module's visitors reach."""

    def __init__(self, browser: Browser, folder: Path, phone_fits: bool = False) -> None:
        self.context = browser.new_context(viewport=WIDTHS["desktop"])
        self.page = self.context.new_page()
        self.folder = folder
        self.phone_fits = phone_fits
        self.count = 0
        self.report: list[dict] = []

    def check(self, page: Page, label: str = "") -> None:
        title = page.title()
        if not first_check(f"{title}|{label}|{self.phone_fits}"):
            return
        self.count += 1
        html, url = page.content(), page.url
        self.page.route(url, lambda route: route.fulfill(status=200, body=html,
                                                         content_type="text/html; charset=utf-8"))
        try:
            self.page.goto(url)
        finally:
            self.page.unroute(url)
        slug = re.sub(r"[^a-z0-9]+", "-", (label or title).lower()).strip("-")[:60]
        self.page.evaluate(AXE.axe_script)  # once for both widths: parsing it is a sixth of a run
        for width, size in WIDTHS.items():
            self.page.set_viewport_size(size)
            self.page.screenshot(path=str(self.folder / f"{self.count:02d}-{slug}-{width}.png"),
                                 full_page=True)
            self._audit(title, url, width)
            if self.phone_fits and width == "phone":
                wide = self.page.evaluate("document.documentElement.scrollWidth")
                assert wide <= size["width"], f"{title!r} ({url}) is {wide}px wide on a 390px phone"

    def _audit(self, title: str, url: str, width: str) -> None:
        violations = self.page.evaluate("options => axe.run(options).then(results => results.violations)",
                                        AXE_OPTIONS)
        self.report.append({"title": title, "url": url, "width": width,
                            "violations": [{"id": v["id"], "impact": v["impact"],
                                            "nodes": len(v["nodes"])} for v in violations]})
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"accessibility violations on {title!r} ({url}, {width}):\n" + "\n".join(
            f"- {v['id']} ({v['impact']}): {v['help']}; "
            + "; ".join(n["html"][:160] for n in v["nodes"][:3]) for v in blocking)

    def close(self) -> None:
        (self.folder / "axe-report.json").write_text(json.dumps(self.report, indent=1))
        self.context.close()


def first_check(key: str) -> bool:
    """Whether no one in this run has checked the page ``key`` names yet (and now it is
    this caller's): a mark made with O_EXCL is made by one process only."""
    if key in _CHECKED:
        return False
    _CHECKED.add(key)
    if not CHECKED_MARKS:
        return True
    os.makedirs(CHECKED_MARKS, exist_ok=True)
    mark = Path(CHECKED_MARKS) / hashlib.sha256(key.encode()).hexdigest()
    try:
        os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


@pytest.fixture(scope="module")
def checker(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Checker]:
    folder = ARTIFACTS / request.module.__name__.rsplit(".", 1)[-1]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    checker = Checker(browser, folder, phone_fits=getattr(request.module, "PHONE_FITS", False))
    yield checker
    checker.close()


class Visitor:
    """One person in their own browser profile, JavaScript off. ``open``, ``click``
    and ``press`` wait for the next page and have it checked."""

    def __init__(self, system: E2ESystem, context: BrowserContext, checker: Checker) -> None:
        self.system = system
        self.context = context
        self.page = context.new_page()
        self.checker = checker

    def sign_in_as(self, person: Person) -> Visitor:
        """Use ``person``'s API token as the session cookie: a quick way in for tests
        whose subject is not signing in (the emailed link is tested on its own)."""
        self.context.add_cookies([{"name": "sanctuary_session", "value": person.token or "",
                                   "url": self.system.base_url}])
        return self

    def open(self, path: str, label: str = "") -> Page:
        self.page.goto(self.system.base_url + path)
        return self.checked(label)

    def click(self, name: str, label: str = "") -> Page:
        """Click the link or button called ``name`` (its accessible name) and wait."""
        target = self.page.get_by_role("button", name=name, exact=True)
        if target.count() == 0:
            target = self.page.get_by_role("link", name=name, exact=True)
        with self.page.expect_navigation():
            target.first.click()
        return self.checked(label)

    def fill(self, label: str, value: str) -> None:
        """Type into the field whose label is ``label`` (as a screen reader finds it)."""
        self.page.get_by_label(label, exact=True).fill(value)

    def choose(self, label: str) -> None:
        self.page.get_by_label(label, exact=True).check()

    def checked(self, label: str = "") -> Page:
        self.checker.check(self.page, label)
        return self.page

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).first.inner_text()

    def text(self) -> str:
        return self.page.locator("main").inner_text()

    def error_summary(self) -> list[str]:
        return self.page.locator(".govuk-error-summary__list a").all_inner_texts()


@pytest.fixture(scope="module")
def visit(browser: Browser, checker: Checker, system: E2ESystem) -> Iterator[Any]:
    """``visit()`` gives a new Visitor (a new browser profile) on the module's system."""
    contexts: list[BrowserContext] = []

    def new_visitor(width: str = "desktop") -> Visitor:
        context = browser.new_context(java_script_enabled=False, viewport=WIDTHS[width])
        contexts.append(context)
        return Visitor(system, context, checker)

    yield new_visitor
    for context in contexts:
        context.close()
