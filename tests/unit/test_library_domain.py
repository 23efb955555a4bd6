"""The library's aggregates in memory: resources tagged with criteria and stages,
the partner directory (organisations only), and schools' links with partners."""

from __future__ import annotations

import datetime as dt

import pytest

from services.library.domain import STAGES, Partner, PartnerLink, Resource, stages_for
from shared.errors import Conflict, Invalid
from tests.unit.refusals import refused

TODAY = dt.date(2026, 11, 23)
CRITERIA = ("learn-1", "learn-2", "embed-3", "embed-4", "embed-5", "share-6", "share-7", "share-8")
SHARE = ("share-6", "share-7", "share-8")
COVENTRY_STAGES = stages_for(("draft", "final"))
PDF = {"filename": "guidance.pdf", "content_type": "application/pdf", "size": 1234, "sha256": "a" * 64}


def link(**changes: object) -> Resource:
    values = {"title": "Schools of Sanctuary resource pack", "description": "Ideas for every criterion",
              "kind": "link", "url": "https://example.org/pack", "file": None,
              "criteria": ["share-6"], "stages": ["draft"], "public": False, **changes}
    return Resource.add(**values, actor="lead", known_criteria=CRITERIA, known_stages=COVENTRY_STAGES)


def edit(resource: Resource, **changes: object) -> bool:
    return resource.edit(**{**resource.values(), **changes}, actor="lead", known_criteria=CRITERIA,
                         known_stages=COVENTRY_STAGES)


def partner(**changes: object) -> Partner:
    values = {"name": "Coventry Refugee and Migrant Centre", "kind": "sanctuary_organisation",
              "area": "Coventry", "website": "https://example.org/crmc",
              "offers": "Assemblies and visits", **changes}
    return Partner.add(**values, actor="lead")


def school_link(since: dt.date = TODAY, criteria: tuple = ("share-7",)) -> PartnerLink:
    return PartnerLink.record("103712", "ab" * 16, since, "A choir visit each term", list(criteria),
                              TODAY, SHARE, "coordinator")


# -- resources ---------------------------------------------------------------------------


def test_a_resource_is_tagged_with_criteria_and_stages_in_their_own_order() -> None:
    r = link(criteria=["share-6", "learn-1"], stages=["final", "audit"])
    assert r.criteria == ["learn-1", "share-6"]
    assert r.stages == ["audit", "final"]
    assert r.helps_with("share-6") and r.helps_with(stage="audit") and r.helps_with("learn-1", "final")
    assert not r.helps_with("embed-3") and not r.helps_with("share-6", "draft")
    assert r.helps_with()  # no filter: everything


def test_a_file_resource_keeps_the_checked_file_facts() -> None:
    r = link(kind="file", url=None, file=PDF, public=True)
    assert r.file == PDF and r.public and r.url is None


@pytest.mark.parametrize(("changes", "field"), [
    ({"criteria": ["share-9"]}, "criteria"),
    ({"criteria": ["share-6", "share-6"]}, "criteria"),
    ({"stages": ["visit"]}, "stages"),
    ({"stages": ["draft", "draft"]}, "stages"),
    ({"url": "http://example.org/pack"}, "url"),
    ({"url": None}, "url"),
    ({"file": PDF}, "file"),
    ({"kind": "file", "url": None}, "file"),
    ({"kind": "file", "file": PDF}, "url"),
    ({"kind": "file", "url": None, "file": {"sha256": "a" * 64}}, "file"),
    ({"kind": "video"}, "kind"),
    ({"title": "  "}, "title"),
])
def test_a_resource_that_breaks_a_rule_is_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        link(**changes)
    assert caught.value.field == field
    assert field in caught.value.fields


def test_stages_follow_the_authority_a_draft_only_where_a_cycle_has_one() -> None:
    assert COVENTRY_STAGES == STAGES
    lancashire = stages_for(("final",))
    assert "draft" not in lancashire and "final" in lancashire and "action-plan" in lancashire
    with pytest.raises(Invalid) as caught:
        Resource.add("Guidance", "", "link", "https://example.org/g", None, [], ["draft"], False, "lead",
                     CRITERIA, lancashire)
    assert caught.value.field == "stages"


def test_editing_records_the_whole_new_state_and_nothing_when_nothing_changes() -> None:
    r = link()
    r.collect_events()
    assert edit(r) is False
    assert r.collect_events() == []
    assert edit(r, title="Resource pack (2026)", stages=["draft", "final"], public=True) is True
    [edited] = r.collect_events()
    assert type(edited).__name__ == "Edited" and edited.actor == "lead"
    assert (edited.title, edited.stages, edited.public) == ("Resource pack (2026)", ["draft", "final"], True)


def test_an_edit_that_breaks_a_rule_changes_nothing() -> None:
    r = link()
    with refused(Invalid, "criteria", r):
        edit(r, criteria=["share-6", "nope-1"])


def test_a_retired_resource_cannot_be_retired_again_or_edited() -> None:
    r = link()
    r.retire("Out of date", "lead")
    assert r.retired == {"reason": "Out of date", "by": "lead"}
    with refused(Conflict, "resource", r):
        r.retire("again", "lead")
    with refused(Conflict, "resource", r):
        edit(r, title="New title")


def test_a_configured_resource_has_the_same_id_at_every_start() -> None:
    first = Resource.seeded_id("coventry", "https://example.org/pack")
    assert first == Resource.seeded_id("coventry", "https://example.org/pack")
    assert first != Resource.seeded_id("lancashire", "https://example.org/pack")
    r = Resource.add("Pack", "", "link", "https://example.org/pack", None, [], [], False, "system:config",
                     CRITERIA, STAGES, id=first)
    assert r.id == first


# -- the partner directory -------------------------------------------------------------------------


def test_a_partner_is_an_organisation_of_a_known_kind() -> None:
    p = partner(name="  St Mary's Church ", kind="faith_group", website=None)
    assert (p.name, p.kind, p.website) == ("St Mary's Church", "faith_group", None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "person"}, "kind"),
    ({"name": ""}, "name"),
    ({"website": "http://example.org"}, "website"),
    ({"offers": "Ask for Jane: jane.smith@example.org"}, "offers"),
    ({"offers": "Ring Jane on 07700 900123"}, "offers"),
    ({"area": "call +44 24 7697 5491"}, "area"),
])
def test_the_directory_refuses_what_is_not_about_an_organisation(changes: dict, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        partner(**changes)
    assert caught.value.field == field


def test_a_year_or_a_postcode_is_not_taken_for_a_phone_number() -> None:
    assert partner(offers="Since 2011: Refugee Week 2027 events at CV1 2AB").offers


def test_partners_are_edited_and_taken_off_the_directory() -> None:
    p = partner()
    assert p.edit(**p.values(), actor="lead") is False
    assert p.edit(**{**p.values(), "offers": "Visits, assemblies"}, actor="lead") is True
    p.retire("Closed", "lead")
    with refused(Conflict, "partner", p):
        p.edit(**{**p.values(), "name": "Other"}, actor="lead")
    with refused(Conflict, "partner", p):
        p.retire("again", "lead")


# -- a school's links ---------------------------------------------------------------------------------


def test_one_link_per_school_and_partner() -> None:
    assert school_link().id == school_link().id
    other = PartnerLink.record("103713", "ab" * 16, TODAY, "x", [], TODAY, SHARE, "lead")
    assert other.id != school_link().id


def test_a_link_supports_share_criteria_only() -> None:
    assert school_link(criteria=("share-8", "share-6")).criteria == ["share-6", "share-8"]
    with pytest.raises(Invalid) as caught:
        school_link(criteria=("learn-1", "share-6"))
    assert caught.value.field == "criteria"
    assert "learn-1" in caught.value.fields["criteria"][0]


def test_a_link_cannot_start_in_the_future() -> None:
    with pytest.raises(Invalid) as caught:
        school_link(since=TODAY + dt.timedelta(days=1))
    assert caught.value.field == "since"


def test_a_link_is_updated_then_ended_and_stays_on_record() -> None:
    link_ = school_link(since=dt.date(2026, 9, 1))
    assert link_.update("A choir visit each term", ["share-7"], SHARE, "coordinator") is False
    assert link_.update("Choir visits and a joint concert", ["share-7", "share-8"], SHARE, "coordinator")
    with refused(Invalid, "on", link_):
        link_.end(dt.date(2026, 8, 31), TODAY, "coordinator")
    link_.end(TODAY, TODAY, "coordinator")
    assert link_.ended_on == TODAY and not link_.active
    with refused(Conflict, "link", link_):
        link_.end(TODAY, TODAY, "coordinator")
    with refused(Conflict, "link", link_):
        link_.update("more", [], SHARE, "coordinator")


def test_an_ended_link_can_be_taken_up_again_but_an_active_one_is_not_recorded_twice() -> None:
    link_ = school_link(since=dt.date(2026, 9, 1))
    with refused(Conflict, "partner_id", link_):
        link_.take_up_again(TODAY, "again", [], TODAY, SHARE, "coordinator")
    link_.end(dt.date(2026, 10, 1), TODAY, "coordinator")
    with refused(Invalid, "since", link_):
        link_.take_up_again(dt.date(2026, 9, 30), "again", [], TODAY, SHARE, "coordinator")
    link_.take_up_again(TODAY, "Back again", ["share-6"], TODAY, SHARE, "coordinator")
    assert link_.active and link_.since == TODAY and link_.criteria == ["share-6"]


def test_every_event_records_who_acted() -> None:
    link_ = school_link()
    link_.update("More", [], SHARE, "lead")
    link_.end(TODAY, TODAY, "coordinator")
    assert [e.actor for e in link_.collect_events()] == ["coordinator", "lead", "coordinator"]
