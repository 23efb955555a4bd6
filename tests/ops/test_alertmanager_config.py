"""deploy/alertmanager: amtool accepts the configuration and its email template, every severity the
alert rules use is routed to its own receiver, and each receiver sends email."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sanctuary.launch import OPS_BASE_PORT, ORDER
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


# -- the operations guide's monitoring steps ---------------------------------------------------------

GUIDE = ROOT / "docs" / "operations.md"


def guide_block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading`` in the operations guide."""
    text = GUIDE.read_text()
    after = text[text.index(heading):]
    return after[after.index(f"```{language}\n") + len(language) + 4:].split("```", 1)[0]


def test_the_guides_prometheus_config_passes_promtool_and_sends_to_the_guides_alertmanager(
        tmp_path: Path) -> None:
    from tests.ops.test_prometheus_config import ALERTS, assert_ok, promtool

    block = guide_block("### Prometheus", "yaml")
    config = yaml.safe_load(block)
    assert config["rule_files"] == ["/etc/prometheus/sanctuary-alerts.yml"]
    (tmp_path / "prometheus.yml").write_text(block.replace("/etc/prometheus/sanctuary-alerts.yml",
                                                           str(ALERTS)))
    assert_ok(promtool("check", "config", str(tmp_path / "prometheus.yml")))
    [target] = config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"]
    alertmanager = GUIDE.read_text().split("### Alertmanager", 1)[1].split("### Grafana", 1)[0]
    assert f'ARGS="--web.listen-address={target} --cluster.listen-address="' in alertmanager
    scraped = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert scraped == {f"127.0.0.1:{OPS_BASE_PORT + i}" for i in range(len(ORDER))} | {"127.0.0.1:15692"}
