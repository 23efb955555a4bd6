"""Celebrations in memory: an awarded school is invited to the first celebration
session after its award day (or waits for one), answers, and is moved on when its
session is cancelled; the authority files configure one celebration each; the
invitation email says what it should, to the coordinator."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.events.application import invitation_id, sessions_of
from services.events.contract import EVENTS
from services.events.programme import CpdEvent
from services.notifications import messages as m
from shared.authority import AuthorityConfigError, load_authority
from shared.config import ROOT
from shared.errors import Conflict, NotFound

LEAD = "account:lead"
SCHOOL = "account:coordinator"
URN, OTHER = "740501", "740502"
AWARDED = dt.date(2027, 7, 1)
SIX, EIGHT = dt.time(18, 0), dt.time(20, 0)
COVENTRY = ROOT / "deploy" / "authorities" / "coventry.toml"
LANCASHIRE = ROOT / "deploy" / "authorities" / "lancashire.toml"


def when(day: dt.date | None, status: str = "confirmed") -> dict:
    return {"date_status": status, "date": day, "month": None, "start": SIX, "end": EIGHT}


def session(session_id: str, day: dt.date | None, status: str = "confirmed") -> dict:
    return {"id": session_id, **when(day, status), "venue_status": "tbc", "venue": None,
            "joining_link": None}


def celebration(*sessions: dict, capacity: int | None = None) -> CpdEvent:
    return CpdEvent(code="celebration", title="Presentation and celebration", description="",
                    kind="celebration", runs_by="Coventry EMAS", audience="Awarded schools",
                    capacity=capacity, sessions=list(sessions), actor="system:config")


def invite(event: CpdEvent, urn: str = URN, awarded_on: dt.date = AWARDED, application: str = "a1") -> dict:
    return event.invite(invitation_id(application), urn, "2026-27", application, awarded_on,
                        "system:celebrations")


def public(event: CpdEvent) -> list[tuple[str, dict]]:
    """The integration events the pending changes would publish (type, payload); it takes
    the pending events, so call it once per test."""
    found = []
    for domain_event in event.collect_events():
        envelope = EVENTS.envelope(domain_event, 1, "coventry")
        if envelope is not None:
            found.append((envelope.type, envelope.payload))
    return found


# -- who is invited to what ---------------------------------------------------------------


def test_an_award_invites_the_school_to_the_first_session_after_its_award_day() -> None:
    event = celebration(session("c-late", dt.date(2027, 12, 1)), session("c-same-day", AWARDED),
                        session("c-before", dt.date(2027, 6, 1)), session("c-next", dt.date(2027, 10, 8)))
    invitation = invite(event)
    assert (invitation["session"], invitation["status"]) == ("c-next", "invited")
    assert invitation["awarded_on"] == AWARDED and invitation["urn"] == URN


def test_unconfirmed_and_cancelled_sessions_are_passed_over() -> None:
    event = celebration(session("c-tbc", None, "tbc"), session("c-gone", dt.date(2027, 9, 1)),
                        session("c-on", dt.date(2027, 11, 1)))
    event.cancel_session("c-gone", "Hall unavailable", LEAD)
    assert invite(event)["session"] == "c-on"


def test_with_no_session_scheduled_the_invitation_waits() -> None:
    event = celebration(session("c-tbc", None, "tbc"))
    invitation = invite(event)
    assert (invitation["session"], invitation["status"]) == (None, "waiting")
    [(kind, payload)] = public(event)[1:]  # after the listing
    assert kind == "CelebrationInvitationWaiting"
    assert (payload["urn"], payload["session"], payload["date"]) == (URN, None, None)


def test_a_waiting_invitation_is_attached_when_the_lead_adds_a_session_after_the_award() -> None:
    event = celebration()
    invite(event)
    event.add_session("c-early", when(dt.date(2027, 6, 20)), LEAD)  # before the award: not for it
    assert event.invitations[invitation_id("a1")]["status"] == "waiting"
    event.add_session("c-1", when(dt.date(2027, 10, 8)), LEAD)
    invitation = event.invitations[invitation_id("a1")]
    assert (invitation["session"], invitation["status"]) == ("c-1", "invited")
    published = public(event)
    assert [kind for kind, _ in published] == ["ProgrammeListed", "CelebrationInvitationWaiting",
                                                "SessionScheduled", "SessionScheduled", "CelebrationInvited"]
    assert payload_of(published, "CelebrationInvited") == {
        "event": event.id.hex, "invitation": invitation_id("a1"), "urn": URN, "school_year": "2026-27",
        "title": "Presentation and celebration", "session": "c-1", "date": "2027-10-08",
        "start": "18:00:00", "end": "20:00:00", "venue_status": "tbc", "venue": None}


def payload_of(published: list[tuple[str, dict]], kind: str) -> dict:
    [payload] = [p for k, p in published if k == kind]
    return payload


def test_a_waiting_invitation_is_attached_when_a_tbc_date_is_confirmed() -> None:
    event = celebration(session("c-1", None, "tbc"))
    invite(event)
    event.reschedule("c-1", when(dt.date(2027, 10, 8)), LEAD)
    assert event.invitations[invitation_id("a1")]["session"] == "c-1"
    assert event.invitations[invitation_id("a1")]["status"] == "invited"


def test_a_new_session_does_not_move_schools_already_invited() -> None:
    event = celebration(session("c-dec", dt.date(2027, 12, 1)))
    invite(event)
    event.add_session("c-oct", when(dt.date(2027, 10, 8)), LEAD)
    assert event.invitations[invitation_id("a1")]["session"] == "c-dec"


def test_each_award_is_one_invitation() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    invite(event)
    with pytest.raises(Conflict):
        invite(event)
    invite(event, urn=OTHER, application="a2")
    assert {i["urn"] for i in event.invitations.values()} == {URN, OTHER}


def test_only_a_celebration_takes_invitations() -> None:
    series = CpdEvent(code="network-meeting", title="Network", description="", kind="series",
                      runs_by="EMAS", audience="Staff", capacity=None,
                      sessions=[session("n-1", dt.date(2027, 10, 8))], actor="system:config")
    with pytest.raises(Conflict):
        invite(series)


def test_a_celebration_is_not_booked_by_name_but_the_lead_schedules_it() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    with pytest.raises(Conflict):
        event.book("c-1", "b1", URN, {"name": "Ann"}, "email:ann", dt.date(2027, 9, 1), SCHOOL)
    event.add_session("c-2", when(dt.date(2028, 3, 1)), LEAD)
    assert set(event.sessions) == {"c-1", "c-2"}


# -- the school's answer --------------------------------------------------------------------


def test_the_school_accepts_and_takes_a_place() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    invite(event)
    event.answer_invitation(invitation_id("a1"), URN, True, dt.date(2027, 7, 2), SCHOOL)
    invitation = event.invitations[invitation_id("a1")]
    assert (invitation["status"], invitation["answered_by"]) == ("accepted", SCHOOL)
    assert event.places_taken("c-1") == 1
    assert payload_of(public(event), "CelebrationAccepted") == {
        "event": event.id.hex, "invitation": invitation_id("a1"), "urn": URN, "session": "c-1"}


def test_the_school_may_decline_and_change_its_mind_but_not_repeat_itself() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    invite(event)
    today = dt.date(2027, 7, 2)
    event.answer_invitation(invitation_id("a1"), URN, False, today, SCHOOL)
    assert event.invitations[invitation_id("a1")]["status"] == "declined"
    assert event.places_taken("c-1") == 0
    with pytest.raises(Conflict):
        event.answer_invitation(invitation_id("a1"), URN, False, today, SCHOOL)
    event.answer_invitation(invitation_id("a1"), URN, True, today, SCHOOL)
    assert event.invitations[invitation_id("a1")]["status"] == "accepted"
    assert [k for k, _ in public(event)][-2:] == ["CelebrationDeclined", "CelebrationAccepted"]


def test_another_school_cannot_answer_the_invitation() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    invite(event)
    with pytest.raises(NotFound):
        event.answer_invitation(invitation_id("a1"), OTHER, True, dt.date(2027, 7, 2), SCHOOL)
    with pytest.raises(NotFound):
        event.answer_invitation("000000000000", URN, True, dt.date(2027, 7, 2), SCHOOL)


def test_a_waiting_invitation_cannot_be_answered_yet() -> None:
    event = celebration()
    invite(event)
    with pytest.raises(Conflict, match="No date is set"):
        event.answer_invitation(invitation_id("a1"), URN, True, dt.date(2027, 7, 2), SCHOOL)


def test_no_answer_after_the_celebration() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)))
    invite(event)
    event.answer_invitation(invitation_id("a1"), URN, True, dt.date(2027, 10, 8), SCHOOL)  # on the day
    with pytest.raises(Conflict, match="already taken place"):
        event.answer_invitation(invitation_id("a1"), URN, False, dt.date(2027, 10, 9), SCHOOL)


def test_a_full_celebration_refuses_another_acceptance() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)), capacity=1)
    invite(event)
    invite(event, urn=OTHER, application="a2")
    event.answer_invitation(invitation_id("a1"), URN, True, dt.date(2027, 7, 2), SCHOOL)
    with pytest.raises(Conflict, match="full"):
        event.answer_invitation(invitation_id("a2"), OTHER, True, dt.date(2027, 7, 2), SCHOOL)
    event.answer_invitation(invitation_id("a2"), OTHER, False, dt.date(2027, 7, 2), SCHOOL)  # a no is fine


# -- the lead cancels --------------------------------------------------------------------------


def test_a_cancelled_session_moves_its_schools_on_to_the_next_or_back_to_waiting() -> None:
    event = celebration(session("c-1", dt.date(2027, 10, 8)), session("c-2", dt.date(2028, 3, 1)))
    invite(event)  # accepted
    invite(event, urn=OTHER, application="a2")  # declined
    invite(event, urn="740503", application="a3", awarded_on=dt.date(2027, 11, 1))  # invited to c-2
    event.answer_invitation(invitation_id("a1"), URN, True, dt.date(2027, 7, 2), SCHOOL)
    event.answer_invitation(invitation_id("a2"), OTHER, False, dt.date(2027, 7, 2), SCHOOL)
    event.cancel_session("c-1", "Hall flooded", LEAD)
    statuses = {i["urn"]: (i["session"], i["status"]) for i in event.invitations.values()}
    assert statuses == {URN: ("c-2", "invited"),  # asked again, for the new date
                        OTHER: ("c-1", "declined"),  # said no: left alone
                        "740503": ("c-2", "invited")}
    event.cancel_session("c-2", "No budget", LEAD)
    statuses = {i["urn"]: (i["session"], i["status"]) for i in event.invitations.values()}
    assert statuses[URN] == (None, "waiting") and statuses["740503"] == (None, "waiting")


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [COVENTRY, LANCASHIRE], ids=["coventry", "lancashire"])
def test_each_authority_has_one_celebration_awaiting_its_date(path: Path) -> None:
    authority = load_authority(path)
    [item] = [i for i in authority.cpd if i.kind == "celebration"]
    assert item.code == "celebration"
    assert (item.date_status, item.dates, item.venue_status) == ("tbc", (), "tbc")
    [placeholder] = sessions_of(item)  # listed as "date TBC" until the lead confirms or adds one
    assert (placeholder["id"], placeholder["date_status"], placeholder["date"]) == (
        "celebration-1", "tbc", None)


def test_a_celebration_may_have_several_dates(tmp_path: Path) -> None:
    tbc = 'kind = "celebration"\nruns_by = "Coventry EMAS"\ndate_status = "tbc"'
    text = COVENTRY.read_text(encoding="utf-8")
    assert tbc in text
    text = text.replace(tbc, 'kind = "celebration"\nruns_by = "Coventry EMAS"\ndate_status = "confirmed"\n'
                             'dates = [2027-10-08, 2028-03-01]\n#')
    path = tmp_path / "dated.toml"
    path.write_text(text, encoding="utf-8")
    item = load_authority(path).cpd_item("celebration")
    assert item.dates == (dt.date(2027, 10, 8), dt.date(2028, 3, 1))
    assert [s["date"] for s in sessions_of(item)] == [dt.date(2027, 10, 8), dt.date(2028, 3, 1)]


def test_an_authority_has_at_most_one_celebration(tmp_path: Path) -> None:
    text = COVENTRY.read_text(encoding="utf-8")
    others = 'kind = "run_by_others"\nruns_by = "Schools"'  # Day of Welcome, made a second celebration
    assert others in text
    second = text.replace(others, 'kind = "celebration"\nruns_by = "Schools"')
    path = tmp_path / "two.toml"
    path.write_text(second, encoding="utf-8")
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    index = [i.code for i in load_authority(COVENTRY).cpd].index("celebration")
    assert f'{path}: cpd[{index}].kind: Only one item may be kind "celebration"' in str(caught.value)


# -- the email --------------------------------------------------------------------------------


def test_the_invitation_email_names_the_school_the_date_and_why() -> None:
    coventry = load_authority(COVENTRY)
    session_ = {"title": "Presentation and celebration", "date": "2027-10-08", "start": "18:00:00",
                "end": "20:00:00", "place": "Council House"}
    draft = m.celebration_invitation("Ann", "Hill Primary", "ann@hill.example.org", session_, coventry)
    assert (draft.kind, draft.to_email, draft.subject) == (
        "celebration-invitation", "ann@hill.example.org", "You are invited to celebrate")
    assert "Hill Primary" in draft.body and "Friday 8 October 2027, 6pm to 8pm" in draft.body
    assert "Council House" in draft.body and "accept or decline" in draft.body
    assert draft.reason == m.COORDINATOR and not draft.optional
