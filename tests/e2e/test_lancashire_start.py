"""Lancashire from a fresh start, as the README runs it: ``sanctuary up lancashire`` (what
``./run lancashire`` starts), its own process, on an empty data folder. It starts, loads
example data shaped to Lancashire's rules (the head teacher's approval is the only
commitment; a school applying has no draft and no deadline; the schools are Lancashire's),
and the lead's cycle page says the cycle has no fixed dates rather than that every date has
passed. Its own module: never two systems at once on a small machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sanctuary.example import PLACES
from shared.config import ROOT
from tests.e2e.conftest import system_env

pytestmark = pytest.mark.e2e

LANCASHIRE = ROOT / "deploy" / "authorities" / "lancashire.toml"
YEAR = "2026-27"
STARTED = "Schools of Sanctuary is running at"
START_TIMEOUT = 240.0


@dataclass(frozen=True)
class Started:
    base_url: str
    data_dir: Path
    output: Path

    def api(self, path: str, **kwargs: object) -> requests.Response:
        token = (self.data_dir / "example-lead-token").read_text().strip()
        return requests.get(f"{self.base_url}{path}", headers={"Authorization": f"Bearer {token}"},
                            timeout=20, **kwargs)

    def page(self, path: str) -> str:
        token = (self.data_dir / "example-lead-token").read_text().strip()
        response = requests.get(f"{self.base_url}{path}", cookies={"sanctuary_session": token}, timeout=20)
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture(scope="module")
def lancashire_up(module_amqp_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Started]:
    data = tmp_path_factory.mktemp("e2e-lancashire-up")
    env = {**os.environ, **system_env(module_amqp_uri, data)}
    env.pop("SANCTUARY_AUTHORITY", None)  # named on the command line, as the README does
    output = data / "up.out"
    with open(output, "wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "sanctuary.cli", "up", "lancashire"], env=env,
                                   cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while STARTED not in output.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                                 for p in sorted((data / "logs").glob("*.log")))
                pytest.fail(f"sanctuary up did not start:\n{output.read_text(errors='replace')}\n{logs}")
            time.sleep(0.5)
        yield Started(f"http://{env['SANCTUARY_GATEWAY_ADDRESS']}", data, output)
    finally:
        process.send_signal(signal.SIGTERM)  # it stops every service it started
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_lancashire_starts_with_example_data_of_its_own(lancashire_up: Started) -> None:
    said = lancashire_up.output.read_text()
    assert "Loaded example data for Lancashire: a lead and 5 schools." in said
    assert "lancashire.lead@example.org" in said
    assert f"authority: {LANCASHIRE}" in said
    assert (lancashire_up.data_dir / "authority").read_text() == "lancashire\n"  # the folder keeps to it

    schools = {s["urn"]: s for s in lancashire_up.api("/schools").json()["schools"]}
    assert sorted(schools) == ["999001", "999002", "999003", "999004", "999005"]
    assert [schools[urn]["name"] for urn in sorted(schools)] == [
        f"{name} (example)" for name, _ in PLACES["lancashire"]]
    assert not any(s["postcode"].startswith("CV") for s in schools.values())
    committed = schools["999002"]
    assert committed["status"] == "committed"
    assert [(c["body"], c["role"]) for c in committed["commitments"]] == [("head_teacher", "Head teacher")]
    assert schools["999001"]["status"] == schools["999005"]["status"] == "signed"

    # the school applying: final stage only, whenever it is ready
    applying = lancashire_up.api(f"/schools/999005/applications/{YEAR}").json()
    assert (applying["stage"], applying["next_submission"], applying["deadline"]) == (
        "started", "final", None)
    assert applying["evidence"][0]["title"] == "Training log (example)"

    page = lancashire_up.page("/lead")
    assert "This cycle has no fixed dates" in page
    assert "Every date of this cycle has passed" not in page
    assert "Ormskirk Green Primary (example)" in page  # on the lead's cycle page, applying

