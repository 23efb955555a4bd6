"""shared.authority: the optional [starter_pack] section (Lancashire: "A starter pack
will be sent out to you electronically and meetings will be scheduled in to support
you through the process"), and the email it makes. An authority without the
section sends no pack; a broken section fails with the file, the key path and the
problem."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from services.notifications import messages as m
from shared.authority import (
    STARTER_PACK_MOMENTS,
    Authority,
    AuthorityConfigError,
    StarterPack,
    load_authority,
)

REPO = Path(__file__).resolve().parents[2]
COVENTRY = REPO / "deploy" / "authorities" / "coventry.toml"
LANCASHIRE = REPO / "deploy" / "authorities" / "lancashire.toml"

PACK = """
[starter_pack]
title = "Coventry starter pack"
description = "Audit tool, action plan template and example applications."
url = "https://example.org/coventry-starter-pack.pdf"
send_when = "registered"
support_meetings = "catch-up-meeting"
"""


def with_section(tmp_path: Path, section: str, source: Path = COVENTRY) -> Path:
    """The shipped file with its own [starter_pack] (if any) replaced by ``section``,
    appended at the end (TOML tables may come in any order)."""
    path = tmp_path / "variant.toml"
    path.write_text(without_pack(source.read_text(encoding="utf-8")) + section, encoding="utf-8")
    return path


def without_pack(text: str) -> str:
    kept, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            inside = line.strip() == "[starter_pack]"
        if not inside:
            kept.append(line)
    return "".join(kept)


def problems(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    assert str(path) in str(caught.value)
    return list(caught.value.problems)


def without(line: str) -> str:
    assert line in PACK, line
    return PACK.replace(line + "\n", "")


# ---------------------------------------------------------------- the shipped files


def test_coventry_sends_the_audit_tool_and_offers_catch_up_meetings() -> None:
    pack = load_authority(COVENTRY).starter_pack
    assert pack is not None and pack.title == "Schools of Sanctuary audit tool"
    assert pack.send_when == "pledge_signed" and pack.url is None
    assert pack.support_meetings == "catch-up-meeting"


def test_lancashire_sends_its_starter_pack_once_the_pledge_is_signed() -> None:
    lancashire = load_authority(LANCASHIRE)
    pack = lancashire.starter_pack
    assert pack is not None
    assert pack.send_when == "pledge_signed"
    assert pack.url is None  # the seed gives none, so none is invented
    assert "Lancashire" in pack.title and pack.description
    meetings = lancashire.cpd_item(pack.support_meetings)
    assert (meetings.code, meetings.kind) == ("support-meetings", "on_request")


# ---------------------------------------------------------------- valid sections


def test_a_full_section(tmp_path: Path) -> None:
    pack = load_authority(with_section(tmp_path, PACK)).starter_pack
    assert pack == StarterPack(
        title="Coventry starter pack",
        description="Audit tool, action plan template and example applications.",
        send_when="registered",
        url="https://example.org/coventry-starter-pack.pdf",
        support_meetings="catch-up-meeting",
    )


@pytest.mark.parametrize("optional", ['url = "https://example.org/coventry-starter-pack.pdf"',
                                      'support_meetings = "catch-up-meeting"'])
def test_url_and_support_meetings_may_be_left_out(tmp_path: Path, optional: str) -> None:
    pack = load_authority(with_section(tmp_path, without(optional))).starter_pack
    assert pack is not None
    key = optional.split(" = ")[0]
    assert getattr(pack, key) is None


@pytest.mark.parametrize("moment", STARTER_PACK_MOMENTS)
def test_each_moment_is_accepted(tmp_path: Path, moment: str) -> None:
    section = PACK.replace('send_when = "registered"', f'send_when = "{moment}"')
    assert load_authority(with_section(tmp_path, section)).starter_pack.send_when == moment


# ---------------------------------------------------------------- broken sections


@pytest.mark.parametrize("required", ["title", "description", "send_when"])
def test_a_missing_required_key_is_named(tmp_path: Path, required: str) -> None:
    line = next(ln for ln in PACK.splitlines() if ln.startswith(f"{required} = "))
    assert problems(with_section(tmp_path, without(line))) == [
        (f"starter_pack.{required}", "Missing data for required field.")]


def test_an_unknown_moment_is_named_by_its_key_path(tmp_path: Path) -> None:
    section = PACK.replace('send_when = "registered"', 'send_when = "awarded"')
    [(key, problem)] = problems(with_section(tmp_path, section))
    assert key == "starter_pack.send_when"
    assert problem.startswith("Must be one of: registered, pledge_signed")


def test_an_empty_title_is_refused(tmp_path: Path) -> None:
    section = PACK.replace('title = "Coventry starter pack"', 'title = ""')
    assert [key for key, _ in problems(with_section(tmp_path, section))] == ["starter_pack.title"]


def test_a_link_must_be_a_url(tmp_path: Path) -> None:
    section = PACK.replace('url = "https://example.org/coventry-starter-pack.pdf"',
                           'url = "ask the lead"')
    assert problems(with_section(tmp_path, section)) == [("starter_pack.url", "Not a valid URL.")]


def test_a_misspelt_key_fails(tmp_path: Path) -> None:
    section = PACK.replace("send_when =", "sent_when =")
    assert set(problems(with_section(tmp_path, section))) == {
        ("starter_pack.sent_when", "Unknown field."),
        ("starter_pack.send_when", "Missing data for required field."),
    }


def test_support_meetings_must_name_a_programme_item(tmp_path: Path) -> None:
    section = PACK.replace('"catch-up-meeting"', '"support-meetings"')
    assert problems(with_section(tmp_path, section)) == [
        ("starter_pack.support_meetings", "No CPD item with code 'support-meetings'.")]


def test_support_meetings_must_be_meetings_on_request(tmp_path: Path) -> None:
    section = PACK.replace('"catch-up-meeting"', '"network-meeting"')
    assert problems(with_section(tmp_path, section)) == [
        ("starter_pack.support_meetings", 'CPD item \'network-meeting\' is kind "series", not "on_request".')]


# ---------------------------------------------------------------- the email


@pytest.fixture(scope="module")
def lancashire() -> Authority:
    return load_authority(LANCASHIRE)


def test_without_a_link_the_email_says_the_lead_sends_it(lancashire: Authority) -> None:
    draft = m.starter_pack("Ann", "Ribble Primary", "ann@ribble.example.org", lancashire)
    assert (draft.kind, draft.to_email, draft.reason) == (
        "starter-pack", "ann@ribble.example.org", m.COORDINATOR)
    assert draft.subject == "Lancashire Schools of Sanctuary starter pack for Ribble Primary"
    assert "The Lancashire Schools of Sanctuary lead will send you the Lancashire Schools of Sanctuary " \
           "starter pack for Ribble Primary by email." in draft.body
    assert f"write to {lancashire.contact_email}" in draft.body
    assert "http" not in draft.body
    assert "Support meetings through the process: sign in to ask for a meeting" in draft.body
    text, _ = m.render(draft, lancashire)
    assert lancashire.sign_off in text
    for coventry_words in ("Coventry", "EMAS", "emasteachers"):
        assert coventry_words not in text


def test_with_a_link_the_email_gives_it(lancashire: Authority) -> None:
    pack = dataclasses.replace(lancashire.starter_pack, url="https://example.org/pack", support_meetings=None)
    draft = m.starter_pack("Ann", "Ribble Primary", "ann@ribble.example.org",
                           dataclasses.replace(lancashire, starter_pack=pack))
    assert "Here is the Lancashire Schools of Sanctuary starter pack for Ribble Primary: " \
           "https://example.org/pack" in draft.body
    assert "will send" not in draft.body and "meeting" not in draft.body


def test_the_registration_email_names_the_authoritys_own_commitments(lancashire: Authority) -> None:
    coventry = load_authority(COVENTRY)
    ours = m.school_registered("Ann", "Ribble Primary", "ann@ribble.example.org", lancashire).body
    theirs = m.school_registered("Ann", "Hill Primary", "ann@hill.example.org", coventry).body
    assert "secure the commitment of your head teacher and" in ours and "governors" not in ours
    assert "secure the commitment of your leadership and governors and" in theirs


@pytest.mark.parametrize(("months", "advice"), [
    (12, "We advise at least a whole school year of learning, embedding and sharing before applying."),
    (18, "We advise at least 18 months of learning"),
    (0, None),
])
def test_the_pledge_email_gives_the_authoritys_own_advice(lancashire: Authority, months: int,
                                                          advice: str | None) -> None:
    rules = dataclasses.replace(lancashire.pledge, advised_months_before_application=months)
    authority = dataclasses.replace(lancashire, pledge=rules)
    body = m.pledge_signed("Ann", "Ribble Primary", "ann@ribble.example.org", "2026-09-10", authority).body
    assert body.startswith(
        "Ribble Primary signed the Schools of Sanctuary pledge on Thursday 10 September 2026.")
    if advice is None:
        assert "advise" not in body
    else:
        assert advice in body
