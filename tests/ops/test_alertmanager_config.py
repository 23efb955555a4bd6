"""deploy/alertmanager: amtool accepts the configuration and its email template, every severity the
alert rules use is routed to its own receiver, and each receiver sends email."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.ops.test_prometheus_config import SEVERITIES, rules

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
ROUTED = {"critical": "it-team-urgent", "warning": "it-team", "info": "sanctuary-lead"}


def amtool(*args: str) -> subprocess.CompletedProcess:
    tool = shutil.which("amtool")
    if tool is None:
        pytest.skip("amtool is not on PATH (apt-get install prometheus-alertmanager, as ./run-tests does)")
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)


def test_amtool_accepts_the_configuration_and_its_template() -> None:
    result = amtool("check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 templates" in result.stdout  # the email template was found beside it


@pytest.mark.parametrize("severity", sorted(SEVERITIES))
def test_each_severity_reaches_its_receiver(severity: str) -> None:
    result = amtool("config", "routes", "test", f"--config.file={CONFIG}", f"severity={severity}",
                    "alertname=ServiceDown", "service=pledges")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ROUTED[severity]


def test_every_severity_the_rules_use_is_routed_and_every_receiver_emails() -> None:
    assert {rule["labels"]["severity"] for rule in rules()} <= set(ROUTED)
    config = yaml.safe_load(CONFIG.read_text())
    for receiver in config["receivers"]:
        [email] = receiver["email_configs"]
        assert "@" in email["to"] and "sanctuary.subject" in email["headers"]["Subject"], receiver["name"]
    assert config["global"]["smtp_require_tls"] is True
    assert "smtp_auth_password" not in config["global"]  # a file, never the password in the config
