"""One copy of each rule: the day a submission is due and the day a pledge lapses are set by
the service that owns them, published in its events (schema 2), and kept as told by those
that hear them. Events stored before the days were recorded are read, and published, as
they were then (schema 1), and consumers work the day out for that news alone."""

from __future__ import annotations

import dataclasses
import datetime as dt

from services.applications.accreditation import AwardApplication
from services.applications.contract import APPLICATIONS
from services.applications.standing import PledgeStanding
from services.pledges.domain import School
from shared.envelope import parse_envelope

DUE = {"draft": dt.date(2027, 3, 25), "final": dt.date(2027, 5, 28)}


def started(due: dict | None = DUE) -> AwardApplication:
    return AwardApplication(urn="103712", school_name="Hill Primary", school_year="2026-27",
                            criteria_version="sos-2026", criteria=["learn-1"], has_draft=due != {},
                            renewal_of=None, carried_actions=[], actor="coordinator", due=due)


# -- the applications service: the day each submission is due ---------------------------------------


def test_application_started_tells_the_day_each_submission_is_due() -> None:
    [event] = started().collect_events()
    news = APPLICATIONS.envelope(event, 7, "coventry")
    assert (news.type, news.schema_version) == ("ApplicationStarted", 2)
    assert news.payload["due"] == {"draft": "2027-03-25", "final": "2027-05-28"}
    assert parse_envelope(news.to_dict()) == news


def test_no_fixed_day_is_told_as_none() -> None:
    [event] = started({"final": None}).collect_events()
    assert APPLICATIONS.envelope(event, 7, "lancashire").payload["due"] == {"final": None}


def test_a_start_stored_before_the_days_were_recorded_reads_back_and_is_published_as_it_was() -> None:
    state = {"urn": "103712", "school_name": "Hill Primary", "school_year": "2026-27", "carried_actions": []}
    AwardApplication.Started.upcast_v1_v2(state)
    AwardApplication.Started.upcast_v2_v3(state)
    assert (state["due"], state["pledged_on"], state["started_on"]) == (None, None, None)

    [event] = started().collect_events()
    news = APPLICATIONS.envelope(dataclasses.replace(event, due=None), 7, "coventry")
    assert news.schema_version == 1
    assert news.payload == {"application": str(event.originator_id), "urn": "103712",
                            "school_year": "2026-27", "school_name": "Hill Primary", "renewal_of": None}


# -- the pledges service: the day a pledge lapses --------------------------------------------------------


def signed(on: dt.date) -> School:
    s = School(urn="103712", name="Hill Primary", phase="primary", postcode="CV1 2AB",
               coordinator={"name": "Ann", "email": "ann@example.org"}, actor="lead")
    s.express_interest(on, on, "lead")
    s.sign_pledge("Ms Head", "Head teacher", on, on, (), 3, "lead")
    return s


def test_signing_records_the_lapse_day_and_the_school_keeps_to_it() -> None:
    school = signed(dt.date(2024, 2, 29))
    assert school.collect_events()[-1].lapses_on == dt.date(2027, 2, 28)
    assert school.lapses_on(5) == dt.date(2027, 2, 28)  # as set at signing, whatever the rule now


def test_a_signature_stored_before_the_lapse_day_was_recorded_lapses_by_the_rule() -> None:
    state: dict = {"urn": "103712", "signed_on": dt.date(2024, 9, 2)}
    School.PledgeSigned.upcast_v1_v2(state)
    assert state["lapses_on"] is None
    events = [dataclasses.replace(e, lapses_on=None) if isinstance(e, School.PledgeSigned) else e
              for e in signed(dt.date(2024, 9, 2)).collect_events()]
    school = None
    for e in events:
        school = e.mutate(school)
    assert school.lapses_on(3) == dt.date(2027, 9, 2)


# -- the applications service hears it -------------------------------------------------------------------


def standing(*news: tuple[str, int, dict]) -> PledgeStanding:
    s = PledgeStanding(urn="103712")
    for kind, position, payload in news:
        s.learn(kind, position, {"urn": "103712", **payload}, "account:lead")
    return s


def test_the_lapse_day_told_is_kept() -> None:
    s = standing(("PledgeSigned", 3, {"signed_on": "2024-09-02", "lapses_on": "2026-09-21"}))
    assert s.lapses_on(3) == dt.date(2026, 9, 21)  # not three years on: as told
    assert s.may_apply(dt.date(2026, 9, 20), 3) and not s.may_apply(dt.date(2026, 9, 21), 3)


def test_news_of_schema_1_lapses_by_the_rule_of_its_time() -> None:
    s = standing(("PledgeSigned", 3, {"signed_on": "2024-02-29"}))
    assert s.lapses_on(3) == dt.date(2027, 2, 28)


def test_the_latest_signature_or_renewal_counts_unless_withdrawn_since() -> None:
    s = standing(("PledgeSigned", 3, {"signed_on": "2023-09-01", "lapses_on": "2026-09-01"}),
                 ("PledgeRenewed", 9, {"renewed_on": "2026-06-20", "lapses_on": "2029-06-20"}))
    assert (s.pledged_on, s.lapses_on(3)) == (dt.date(2026, 6, 20), dt.date(2029, 6, 20))
    s.learn("PledgeWithdrawn", 12, {"urn": "103712", "withdrawn_on": "2027-01-10"}, "account:lead")
    assert (s.pledged_on, s.lapses_on(3)) == (None, None)
    assert not s.may_apply(dt.date(2027, 1, 11), 3)
    s.learn("PledgeSigned", 15, {"urn": "103712", "signed_on": "2027-03-01", "lapses_on": "2030-03-01"},
            "account:lead")
    assert s.lapses_on(3) == dt.date(2030, 3, 1)
