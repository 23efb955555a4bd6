"""What an application keeps about people: names and free text as personal values, each with the
subject an erasure names (a name at the school; the school's free text), and the upcasters that
give events stored with them in clear the same shape."""

from __future__ import annotations

import datetime as dt

from services.applications.accreditation import AwardApplication
from services.applications.people import carried, free_text, named, owners_named, reason_kept, visit_named
from shared.personal import Personal, subject_for_name

URN = "103712"


def test_a_name_is_its_own_subject_at_the_school_and_free_text_is_the_schools() -> None:
    assert named(URN, "Ms Khan") == Personal(subject_for_name(URN, "Ms Khan"), "Ms Khan")
    assert named(URN, None) is None
    assert free_text(URN, "Off sick") == Personal(subject_for_name(URN, "free text"), "Off sick")
    already = named(URN, "Ms Khan")
    assert named(URN, already) is already and free_text(URN, already) is already


def test_an_owner_erased_since_is_carried_into_a_renewal_without_a_name() -> None:
    kept = {"id": "a1", "owner": named(URN, "Ms Khan"), "status": "done"}
    erased = {"id": "a2", "owner": Personal(subject_for_name(URN, "Mr Gone"), None, erased=True)}
    plain = {"id": "a3", "owner": "Head of PSHE"}  # carried by an event stored before
    assert carried([kept, erased, plain]) == [kept, {"id": "a2", "owner": None}, plain]


def test_upcasters_wrap_what_was_stored_in_clear() -> None:
    action = {"urn": URN, "owner": "Mr Art"}
    owners_named(action)
    assert action["owner"] == named(URN, "Mr Art")
    started = {"urn": URN, "carried_actions": [{"id": "a1", "owner": "Ms Head"}, {"id": "a2", "owner": None}]}
    owners_named(started)
    assert [a["owner"] for a in started["carried_actions"]] == [named(URN, "Ms Head"), None]
    visit = {"urn": URN, "attendees": ["Head teacher", "School council"], "notes": "Pupils led the tour."}
    visit_named(visit)
    assert visit["attendees"] == [named(URN, "Head teacher"), named(URN, "School council")]
    assert visit["notes"] == free_text(URN, "Pupils led the tour.")
    withdrawn = {"urn": URN, "reason": "New head"}
    reason_kept(withdrawn)
    assert withdrawn["reason"] == free_text(URN, "New head")


def test_the_changed_events_are_version_2_and_the_extension_upcaster_says_not_confirmed() -> None:
    for cls in (AwardApplication.ActionPlanned, AwardApplication.ExtensionGranted,
                AwardApplication.VisitRecorded):
        assert cls.class_version == 2, cls
    assert AwardApplication.Withdrawn.class_version == 3  # 3: the day it was withdrawn
    assert AwardApplication.Started.class_version == 3  # 3: the days each submission is due
    state = {"urn": URN, "stage": "draft", "until": dt.date(2027, 4, 2), "reason": "Flu"}
    AwardApplication.ExtensionGranted.upcast_v1_v2(state)
    assert state["reason"] == free_text(URN, "Flu") and state["beyond_panel_meeting"] is False
