"""The lead fixes a panel's membership in a browser (issue 16, item 4): the navigation's
Panels link, a member's flag corrected and a member removed (after a page that asks)
before convening; once convened, the convene button is gone, a change without a reason
or one that breaks the composition rule is refused and stores nothing, and a member
added or removed with a reason is listed with it. At desktop and phone widths."""

from __future__ import annotations

import pytest

from tests.e2e.browser.conftest import Visitor
from tests.e2e.conftest import Api, E2ESystem, Person

pytestmark = pytest.mark.e2e
PHONE_FITS = True

YEAR = "2026-27"
PANEL = f"/lead/panels/{YEAR}/final"


@pytest.fixture(scope="module")
def members(system: E2ESystem) -> dict[str, Person]:
    return {handle: system.add_account(f"{handle}@panel-membership.e2e.example.org", name,
                                       [{"role": "panel_member"}])
            for handle, name in (("lia", "Lia Lived"), ("max", "Max Member"), ("ned", "Ned Newcomer"),
                                 ("ola", "Ola Other"), ("pip", "Pip Late"))}


def add_member(lead: Visitor, member: Person, lived: bool, reason: str = "") -> None:
    lead.page.get_by_label("Panel member").select_option(label=f"{member.name} ({member.email})")
    lead.choose("Yes" if lived else "No")
    if reason:
        lead.fill("Reason for adding them", reason)
    lead.click("Add member")


def panel(api: Api) -> dict:
    return api.ok(api.get(f"/cycles/{YEAR}/panels/final"))


def flags(api: Api) -> dict[str, bool]:
    return {m["account"]: m["lived_experience"] for m in panel(api)["members"]}


def test_the_lead_fixes_the_panel_before_and_after_convening(system: E2ESystem, visit,
                                                              members: dict[str, Person]) -> None:
    api, m = Api(system), members
    lead: Visitor = visit("phone").sign_in_as(system.lead)
    lead.open("/lead")
    nav = lead.page.locator("#navigation a").all_inner_texts()
    assert {"People", "Schools", "Panels", "CPD", "Emails", "Exports"} <= set(nav), nav
    lead.click("Panels")
    assert lead.heading() == f"Panels for {YEAR}"
    lead.click("Manage the final panel")
    lead.click("Form the final panel")
    add_member(lead, m["lia"], False)  # wrongly: Lia has lived experience
    add_member(lead, m["max"], False)
    add_member(lead, m["ned"], False)
    add_member(lead, m["ola"], False)

    # before convening: correct Lia's flag, remove Ola after being asked
    lead.click(f"Change {m['lia'].name}")
    assert lead.heading() == m["lia"].name
    assert "Reason for the change" not in lead.text()  # not convened: no reason asked
    lead.choose("Yes")
    lead.click("Save the correction")
    assert "The member's lived experience is corrected." in lead.text()
    assert flags(api)[m["lia"].id] is True
    lead.click(f"Change {m['ola'].name}")
    lead.click(f"Remove {m['ola'].name} from the panel")
    assert lead.heading() == f"Are you sure you want to remove {m['ola'].name} from the panel?"
    lead.click("Yes, remove them")
    assert "The member is removed from the panel." in lead.text()
    assert m["ola"].id not in flags(api)

    lead.click("Convene the panel")
    assert "The final panel has convened." in lead.text()
    assert lead.page.get_by_role("button", name="Convene the panel").count() == 0

    # after convening: no reason, refused; breaking the rule, refused; nothing stored either way
    position = api.applications_position()
    lead.click(f"Change {m['max'].name}")
    lead.click(f"Remove {m['max'].name} from the panel", label="removal after convening")
    lead.click("Yes, remove them", label="removal refused, no reason")
    assert lead.error_summary() == ["Enter the reason for the change"]
    lead.fill("Reason for removing them", "Max has moved away")
    lead.click("Yes, remove them", label="removal refused, the rule")
    [error] = lead.error_summary()
    assert "at least 3 members" in error and "it has 2" in error
    assert lead.page.get_by_label("Reason for removing them").input_value() == "Max has moved away"
    lead.open(f"{PANEL}/members/{m['lia'].id}", label="correction after convening")
    lead.choose("No")
    lead.click("Save the correction", label="correction refused, no reason")
    assert lead.error_summary() == ["Enter the reason for the change"]
    assert api.applications_position() == position
    assert flags(api) == {m["lia"].id: True, m["max"].id: False, m["ned"].id: False}

    lead.open(PANEL)
    add_member(lead, m["pip"], False)
    assert lead.error_summary() == ["Enter the reason for the change"]
    assert api.applications_position() == position
    add_member(lead, m["pip"], False, "Pip joins so that Max can step down")
    assert "Member added. The final panel has 4 members" in lead.text()
    lead.click(f"Change {m['max'].name}")
    lead.click(f"Remove {m['max'].name} from the panel")
    lead.fill("Reason for removing them", "Max has moved away")
    lead.click("Yes, remove them")
    assert "The member is removed from the panel." in lead.text()
    changes = lead.page.locator("#changes").inner_text()
    assert f"{m['pip'].name} added by Lee Lead (e2e): Pip joins so that Max can step down" in changes
    assert f"{m['max'].name} removed by Lee Lead (e2e): Max has moved away" in changes
    assert [c["reason"] for c in panel(api)["changes"]] == ["Pip joins so that Max can step down",
                                                            "Max has moved away"]


def test_a_panel_member_cannot_change_a_panel(system: E2ESystem, visit, members: dict[str, Person]) -> None:
    member: Visitor = visit().sign_in_as(members["ned"])
    response = member.page.goto(system.base_url + f"{PANEL}/members/{members['ned'].id}/removal")
    assert response.status == 403
    member.checked("panel member refused")
