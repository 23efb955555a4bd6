"""The starter pack policy with a real store and the mail sink: an authority that
configures a ``[starter_pack]`` (Lancashire) emails the school's coordinator the pack
once, when the configured moment comes; one that does not (Coventry) never does.

Fed as the pledges service publishes, through the real consumer (``World`` from
test_notifications).
"""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage

import pytest

from shared.authority import Authority, load_authority
from shared.config import ROOT
from tests.components import Store
from tests.integration import ON_POSTGRES, mail_fixtures
from tests.integration.mail_fixtures import SinkProcess
from tests.integration.test_notifications import WHY, World, text

pytestmark = [pytest.mark.integration, ON_POSTGRES]  # see tests/integration/__init__.py
mail_sink = mail_fixtures.mail_sink  # the fixture, for pytest to find

URN, SCHOOL = "119001", "Ribble Primary"
ANN = "ann.coordinator@ribble.example.org"
PACK_SUBJECT = f"Lancashire Schools of Sanctuary starter pack for {SCHOOL}"


@pytest.fixture(scope="module")
def lancashire() -> Authority:
    return load_authority(ROOT / "deploy" / "authorities" / "lancashire.toml")


@pytest.fixture
def lancs(store: Store, lancashire: Authority, mail_sink: SinkProcess) -> World:
    w = World(store, lancashire, mail_sink)
    yield w
    w.close()


@pytest.fixture
def cov(store: Store, coventry: Authority, mail_sink: SinkProcess) -> World:
    w = World(store, coventry, mail_sink)
    yield w
    w.close()


def pledge(w: World, on: str = "2026-09-10") -> dict:
    return w.feed("pledges", "PledgeSigned",
                  {"urn": URN, "signed_by": "Ms Head", "role": "Head teacher", "signed_on": on})


def packs(w: World) -> list[EmailMessage]:
    return [message for message in w.mail() if message["Subject"] == PACK_SUBJECT]


def kinds(w: World) -> list[str]:
    return sorted(entry["kind"] for entry in w.app.delivery_log())


def test_the_pack_goes_to_the_coordinator_once_the_pledge_is_signed(lancs: World,
                                                                    lancashire: Authority) -> None:
    lancs.register(URN, SCHOOL, "Ann Coordinator", ANN)
    assert lancs.send()["sent"] == 1
    [registered] = lancs.new_mail()
    assert "secure the commitment of your head teacher and" in text(registered)
    assert packs(lancs) == []  # not on registration: Lancashire sends it with the pledge

    pledge(lancs)
    assert lancs.send()["sent"] == 3
    assert {(m["To"], m["Subject"]) for m in lancs.new_mail()} == {
        (ANN, f"Thank you: {SCHOOL} has signed the pledge"),
        (lancashire.contact_email, f"{SCHOOL} has signed the pledge"),
        (ANN, PACK_SUBJECT),
    }
    [pack] = packs(lancs)
    body = text(pack)
    assert body.startswith("Dear Ann Coordinator,\n\nThe Lancashire Schools of Sanctuary lead will send you")
    assert f"If it has not reached you, write to {lancashire.contact_email}." in body
    assert "Support meetings through the process: sign in to ask for a meeting" in body
    assert lancashire.sign_off in body
    assert f"{WHY} you are your school's Schools of Sanctuary coordinator." in body
    assert pack["Reply-To"] == lancashire.contact_email
    for coventry_words in ("Coventry", "EMAS", "emasteachers"):
        assert all(coventry_words not in text(m) for m in lancs.mail())


def test_pledging_again_brings_no_second_pack(lancs: World) -> None:
    lancs.register(URN, SCHOOL, "Ann Coordinator", ANN)
    pledge(lancs)
    lancs.send()
    body = pledge(lancs, "2026-10-01")  # withdrawn and signed again, say
    lancs.send()
    assert len(packs(lancs)) == 1
    assert kinds(lancs).count("starter-pack") == 1
    lancs.feed("pledges", body["type"], body["payload"])  # and the same news again, newly numbered
    assert lancs.send()["sent"] == 2  # the pledge emails of that news, not the pack
    assert len(packs(lancs)) == 1


def test_a_pledge_heard_before_the_registration_still_brings_the_pack(lancs: World) -> None:
    """Each kind of news has its own queue, so the pledge can arrive first."""
    pledge(lancs)
    assert "starter-pack" not in kinds(lancs)  # no address to send it to yet
    lancs.register(URN, SCHOOL, "Ann Coordinator", ANN)
    lancs.send()
    [pack] = packs(lancs)
    assert pack["To"] == ANN
    assert kinds(lancs).count("starter-pack") == 1


def test_a_pack_configured_for_registration_comes_with_the_welcome(store: Store, lancashire: Authority,
                                                                  mail_sink: SinkProcess) -> None:
    pack = dataclasses.replace(lancashire.starter_pack, send_when="registered",
                               url="https://example.org/starter-pack")
    w = World(store, dataclasses.replace(lancashire, starter_pack=pack), mail_sink)
    try:
        w.register(URN, SCHOOL, "Ann Coordinator", ANN)
        assert w.send()["sent"] == 2
        [sent] = packs(w)
        assert f"Here is the {pack.title} for {SCHOOL}: https://example.org/starter-pack" in text(sent)
        pledge(w)
        w.send()
        assert len(packs(w)) == 1
    finally:
        w.close()


def test_coventry_sends_its_own_pack_the_audit_tool(cov: World) -> None:
    cov.register(URN, SCHOOL, "Ann Coordinator", ANN)
    pledge(cov)
    assert cov.send()["sent"] == 4
    assert kinds(cov) == ["pledge-signed", "pledge-signed-lead", "school-registered", "starter-pack"]
    [pack] = [m for m in cov.mail() if "audit tool" in m["Subject"]]
    assert not any("lancashire" in m["Subject"].lower() for m in cov.mail())
    assert pack["To"] == ANN
