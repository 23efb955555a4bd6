"""The operator's monitoring files (deploy/prometheus, deploy/grafana): promtool
accepts the Prometheus configurations and the alert rules, the rules' unit tests
pass, and the alerts and the dashboard only use metrics the services export."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sanctuary.launch import OPS_BASE_PORT, ORDER

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
CONFIGS = [PROMETHEUS / "prometheus.yml", PROMETHEUS / "prometheus-local.yml"]
ALERTS = PROMETHEUS / "alerts.yml"
ALERT_TESTS = PROMETHEUS / "alerts.test.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboard.json"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"

METRIC = re.compile(r"\bsanctuary_[a-z0-9_]*[a-z0-9]\b")
# what Prometheus adds to a family's name: histograms, counters, Info
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_info", "_created")
SEVERITIES = {"critical", "warning", "info"}
# Grafana's variables, replaced by something PromQL parses
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$service": ".*", "$school_year": ".*"}


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool is not on PATH (apt-get install prometheus; ./run-tests installs it)")
    return subprocess.run([tool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, (
        f"{' '.join(result.args)} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}")


def rules() -> list[dict]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict) -> list[dict]:
    """Every panel but rows, including those folded into a collapsed row."""
    found = []
    for panel in board["panels"]:
        if panel.get("type") == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def dashboard_exprs(board: dict) -> list[str]:
    return [target["expr"] for panel in panels(board) for target in panel.get("targets", [])
            if target.get("expr")]


def exported_metrics() -> set[str]:
    """Every sanctuary_* name the services' Python spells out (metric families,
    gauges read at scrape time)."""
    names = set()
    for folder in ("shared", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            names.update(re.findall(r"""["'](sanctuary_[a-z0-9_]+)["']""", path.read_text()))
    return names


def is_exported(name: str, exported: set[str]) -> bool:
    return name in exported or any(
        name.endswith(suffix) and name.removesuffix(suffix) in exported for suffix in SUFFIXES)


# -- promtool ---------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_promtool_accepts_the_prometheus_config(config: Path) -> None:
    assert_ok(promtool("check", "config", str(config)))


def test_promtool_accepts_the_alert_rules() -> None:
    assert_ok(promtool("check", "rules", str(ALERTS)))


def test_the_alert_rules_pass_their_unit_tests() -> None:
    result = promtool("test", "rules", ALERT_TESTS.name, cwd=PROMETHEUS)
    assert_ok(result)
    assert "SUCCESS" in result.stdout + result.stderr


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    exprs = dashboard_exprs(dashboard())
    for variable in [v for p in dashboard()["templating"]["list"] if (v := p.get("definition"))]:
        exprs.append(re.sub(r"^label_values\((.*), *\w+\)$", r"\1", variable))
    recorded = []
    for i, expr in enumerate(exprs):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"a Grafana variable this test does not know: {expr}"
        recorded.append({"record": f"dashboard:query_{i}", "expr": expr})
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    assert_ok(promtool("check", "rules", str(rules_file)))


# -- what the files say -----------------------------------------------------------------------


def test_every_alert_has_a_severity_and_tells_the_operator_what_is_wrong() -> None:
    for rule in rules():
        assert rule["labels"]["severity"] in SEVERITIES, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert len(rule["annotations"]["description"]) > 80, rule["alert"]


def test_every_alert_is_tested_firing_and_quiet() -> None:
    cases: dict[str, list[bool]] = {}
    for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]:
        for case in test.get("alert_rule_test", []):
            cases.setdefault(case["alertname"], []).append(bool(case.get("exp_alerts")))
    for name in {rule["alert"] for rule in rules()}:
        assert True in cases.get(name, []), f"no test where {name} fires"
        assert False in cases.get(name, []), f"no test where {name} stays quiet"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_prometheus_scrapes_every_service_with_its_name(config: Path) -> None:
    body = yaml.safe_load(config.read_text())
    assert body["global"]["scrape_interval"] == "15s"
    assert body["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in body["scrape_configs"]}
    assert set(jobs) == {"sanctuary", "rabbitmq"}
    targets = [t for c in jobs["sanctuary"]["static_configs"] for t in c["targets"]]
    if config.name == "prometheus-local.yml":  # the ports sanctuary.launch gives each process
        named = {t: c["labels"]["service"] for c in jobs["sanctuary"]["static_configs"] for t in c["targets"]}
        assert named == {f"127.0.0.1:{OPS_BASE_PORT + i}": name for i, name in enumerate(ORDER)}
    else:  # docker compose: host = service name, port 9400, service label relabelled from it
        assert sorted(targets) == sorted(f"{name}:9400" for name in ORDER)
        relabel = jobs["sanctuary"]["relabel_configs"][0]
        assert relabel["target_label"] == "service"
        assert {re.sub(relabel["regex"], relabel["replacement"].replace("$1", r"\1"), t)
                for t in targets} == set(ORDER)
    assert [t for c in jobs["rabbitmq"]["static_configs"] for t in c["targets"]][0].endswith(":15692")


def test_the_alerts_use_only_metrics_the_services_export() -> None:
    exported = exported_metrics()
    used = set(METRIC.findall(ALERTS.read_text()))
    assert used, "alerts.yml uses no sanctuary_* metric"
    assert {name for name in used if not is_exported(name, exported)} == set()


def test_the_dashboard_uses_only_metrics_the_services_export() -> None:
    exported = exported_metrics()
    board = dashboard()
    used = set(METRIC.findall(" ".join(dashboard_exprs(board))))
    used |= set(METRIC.findall(json.dumps(board["templating"])))
    assert used, "the dashboard uses no sanctuary_* metric"
    assert {name for name in used if not is_exported(name, exported)} == set()


def test_the_dashboard_loads_and_every_panel_has_a_title_and_a_query() -> None:
    board = dashboard()
    assert board["title"] and board["uid"]
    names = {variable["name"]: variable for variable in board["templating"]["list"]}
    assert names["DS_PROMETHEUS"]["type"] == "datasource"
    assert names["DS_PROMETHEUS"]["query"] == "prometheus"
    found = panels(board)
    assert len(found) >= 12
    ids = [panel["id"] for panel in board["panels"]] + [p["id"] for p in found if p not in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in found:
        assert panel.get("title", "").strip(), panel
        exprs = [target.get("expr", "").strip() for target in panel.get("targets", [])]
        assert exprs and all(exprs), f"panel {panel['title']!r} has no query"
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]


def test_grafana_provisioning_points_at_prometheus_and_the_dashboard() -> None:
    sources = yaml.safe_load((PROVISIONING / "datasources.yml").read_text())
    assert sources["apiVersion"] == 1
    assert [s["type"] for s in sources["datasources"]] == ["prometheus"]
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"
    providers = yaml.safe_load((PROVISIONING / "dashboards.yml").read_text())
    assert providers["apiVersion"] == 1
    assert providers["providers"][0]["type"] == "file"
    assert providers["providers"][0]["options"]["path"] == "/etc/grafana/dashboards"
