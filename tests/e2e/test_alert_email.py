"""Alerts reach someone: a real Prometheus with the project's alert rules and a real Alertmanager
with the project's configuration (deploy/alertmanager), against the running system; a service is
killed, and the ServiceDown email arrives in the system's mail sink, routed by its severity.

Only what a test cannot wait for is changed: the rules' `for`, Prometheus's intervals and
Alertmanager's grouping waits are seconds, and its SMTP relay is the system's mail sink."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from sanctuary.launch import ORDER
from sanctuary.mail_sink import read_folder
from shared.config import ROOT
from shared.mail import SmtpSettings
from tests.e2e.conftest import E2ESystem, free_port, wait_for

pytestmark = pytest.mark.e2e

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
ALERTMANAGER = ROOT / "deploy" / "alertmanager"
KILLED = "library"


def answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/-/ready", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def started(command: list[str], url: str, log: Path, what: str) -> subprocess.Popen:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_for(lambda: answers(url) or process.poll() is not None, 30, f"{what} to start")
        assert process.poll() is None, f"{what} exited:\n{log.read_text()}"
    except BaseException:
        process.kill()
        raise
    return process


@pytest.fixture
def alertmanager(system: E2ESystem, tmp_path: Path) -> Iterator[str]:
    config = yaml.safe_load((ALERTMANAGER / "alertmanager.yml").read_text())
    smtp = config["global"]
    for key in ("smtp_auth_username", "smtp_auth_password_file"):
        smtp.pop(key)
    smtp.update(smtp_smarthost=f"127.0.0.1:{SmtpSettings.from_env(system.env).port}", smtp_require_tls=False)
    config["route"].update(group_wait="1s", group_interval="2s")
    (tmp_path / "sanctuary-email.tmpl").write_text((ALERTMANAGER / "sanctuary-email.tmpl").read_text())
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{free_port()}"
    process = started(["prometheus-alertmanager", f"--config.file={tmp_path / 'alertmanager.yml'}",
                       f"--storage.path={tmp_path / 'alertmanager'}", f"--web.listen-address={url[7:]}",
                       "--cluster.listen-address="], url, tmp_path / "alertmanager.log", "Alertmanager")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def prometheus(system: E2ESystem, alertmanager: str, tmp_path: Path) -> Iterator[str]:
    """Scraping every service each second, the alert rules' `for` cut to seconds."""
    rules = re.sub(r"^(\s+for:) \d+m$", r"\1 3s", ALERTS.read_text(), flags=re.MULTILINE)
    (tmp_path / "alerts.yml").write_text(rules)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "alerts.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager[7:]]}]}]},
        "scrape_configs": [{
            "job_name": "sanctuary", "scrape_timeout": "1s",
            "static_configs": [{"targets": [system.ops_address(name)], "labels": {"service": name}}
                               for name in ORDER],
        }],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    url = f"http://127.0.0.1:{free_port()}"
    process = started(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                       f"--storage.tsdb.path={tmp_path / 'prometheus'}", f"--web.listen-address={url[7:]}"],
                      url, tmp_path / "prometheus.log", "Prometheus")
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)


def alert_emails(system: E2ESystem) -> list:
    return [m for m in read_folder(system.mail_dir) if "Schools of Sanctuary:" in str(m["Subject"])
            and str(m["From"]).endswith("<sanctuary-alerts@example.gov.uk>")]


def test_a_service_killed_is_emailed_to_the_it_teams_urgent_address(
        system: E2ESystem, prometheus: str) -> None:
    def all_up() -> bool:
        body = requests.get(f"{prometheus}/api/v1/query", params={"query": 'up{job="sanctuary"}'},
                            timeout=5).json()["data"]["result"]
        return len(body) == len(ORDER) and all(r["value"][1] == "1" for r in body)
    wait_for(all_up, 30, "Prometheus to scrape every service")
    assert alert_emails(system) == []  # a healthy system emails nobody

    system.kill(KILLED)
    [email] = wait_for(lambda: alert_emails(system), 45, "the ServiceDown email in the mail sink")

    assert str(email["Subject"]) == f"[CRITICAL] Schools of Sanctuary: {KILLED} is down"
    assert str(email["To"]) == "it-urgent@example.gov.uk"  # critical: the urgent receiver
    text = email.get_body(("plain",)).get_content()
    assert f"{KILLED} is down" in text and "systemctl status sanctuary@library" in text, text
    assert "ServiceDown, severity critical" in text
