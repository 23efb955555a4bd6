"""shared.authority: the shipped authority files load and match the seeds;
broken files fail with the file, the key path and the problem."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from shared.authority import Authority, AuthorityConfigError, load_authority

REPO = Path(__file__).resolve().parents[2]
COVENTRY = REPO / "deploy" / "authorities" / "coventry.toml"
LANCASHIRE = REPO / "deploy" / "authorities" / "lancashire.toml"

COVENTRY_CPD_TITLES = {
    "An introduction to Schools of Sanctuary – process, application and award",
    "Speak up for Sanctuary Central CPD",
    "Online Training for Panel Members and Local Leads",
    "Schools of Sanctuary – network meeting of local schools",
    "Schools catch up meeting to share progress, review audit and action planning",
    "Refugee Week: Planning and Inspiration Central CPD",
    "IRC Healing Classrooms",
    "Day of Welcome Refugee Week",
    "Schools of Sanctuary presentation and celebration",  # Step 4's celebration (kind "celebration")
}


@pytest.fixture(scope="module")
def coventry() -> Authority:
    return load_authority(COVENTRY)


@pytest.fixture(scope="module")
def lancashire() -> Authority:
    return load_authority(LANCASHIRE)


def cpd(authority: Authority, code: str):
    return next(item for item in authority.cpd if item.code == code)


# ---------------------------------------------------------------- Coventry


def test_coventry_identity(coventry: Authority) -> None:
    assert coventry.slug == "coventry"
    assert coventry.lead_team == "Ethnic Minority Achievement Service (EMAS)"
    assert coventry.contact_email == "emasteachers@coventry.sch.uk"
    assert str(coventry.timezone) == "Europe/London"
    assert coventry.source == COVENTRY


def test_coventry_pledge(coventry: Authority) -> None:
    assert coventry.pledge.required_commitments == ("slt", "governors")
    assert coventry.pledge.lapse_years == 3
    assert coventry.pledge.advised_months_before_application == 12


def test_coventry_cycle_dates(coventry: Authority) -> None:
    cycle = coventry.cycle("2026-27")
    assert cycle.stages == ("draft", "final")
    assert cycle.draft_deadline == dt.date(2027, 3, 25)
    assert cycle.draft_panel == dt.date(2027, 4, 20)
    assert cycle.final_deadline == dt.date(2027, 5, 28)
    assert cycle.final_panel == dt.date(2027, 6, 10)
    assert cycle.renewal_deadline == dt.date(2027, 1, 22)
    assert cycle.visit_window is not None and cycle.visit_window.name == "summer-2"
    assert cycle.final_panel in cycle.visit_window
    assert (cycle.panel.min_members, cycle.panel.min_lived_experience) == (3, 1)


def test_coventry_criteria(coventry: Authority) -> None:
    criteria = coventry.criteria(coventry.cycle("2026-27").criteria_version)
    assert [c.number for c in criteria.criteria] == list(range(1, 9))
    assert [c.principle for c in criteria.criteria] == ["learn"] * 2 + ["embed"] * 3 + ["share"] * 3
    assert criteria.criterion("embed-4").title == "Refugee Week"
    assert criteria.wording_confirmed is False


def test_coventry_every_cpd_title(coventry: Authority) -> None:
    assert {item.title for item in coventry.cpd} == COVENTRY_CPD_TITLES


def test_coventry_network_meetings(coventry: Authority) -> None:
    meetings = cpd(coventry, "network-meeting")
    assert meetings.kind == "series"
    assert meetings.dates == (dt.date(2026, 10, 22), dt.date(2027, 3, 2), dt.date(2027, 6, 30))
    # The seed's weekdays (Thursday, Tuesday, Wednesday) follow from the dates.
    assert [d.strftime("%A") for d in meetings.dates] == ["Thursday", "Tuesday", "Wednesday"]
    assert (meetings.start, meetings.end) == (dt.time(16), dt.time(17))
    assert meetings.venue_status == "tbc"


def test_coventry_panel_training_is_tbc(coventry: Authority) -> None:
    training = cpd(coventry, "panel-training")
    assert training.date_status == "tbc"
    assert training.dates == ()
    assert training.venue_status == "online"
    assert training.kind == "run_by_others"


def test_coventry_speak_up_times(coventry: Authority) -> None:
    item = cpd(coventry, "speak-up-for-sanctuary")
    assert item.dates == (dt.date(2026, 11, 17),)
    assert (item.start, item.end) == (dt.time(13, 15), dt.time(15))
    assert item.venue == "Council House, Diamond Room 5"


def test_dataclasses_are_frozen(coventry: Authority) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        coventry.slug = "x"  # type: ignore[misc]


def test_lookups_raise_clear_key_errors(coventry: Authority) -> None:
    with pytest.raises(KeyError, match="no cycle for school year '1999-00'"):
        coventry.cycle("1999-00")
    with pytest.raises(KeyError, match="no criteria set 'nope'"):
        coventry.criteria("nope")


def test_coventry_final_decision_waits_for_the_visit(coventry: Authority) -> None:
    cycle = coventry.cycle("2026-27")
    assert cycle.visit_before_decision == ("final",)
    assert cycle.needs_visit("final") and not cycle.needs_visit("draft")
    assert (cycle.panel_meets_on("draft"), cycle.panel_meets_on("final")) == (
        dt.date(2027, 4, 20), dt.date(2027, 6, 10))
    assert cycle.has_fixed_dates


@pytest.mark.parametrize(("day", "why"), [
    (dt.date(2027, 6, 12), "a Saturday"),
    (dt.date(2027, 6, 13), "a Sunday"),
    (dt.date(2027, 5, 3), "Early May bank holiday"),
    (dt.date(2027, 3, 26), "Good Friday"),
    (dt.date(2027, 6, 14), None),  # a Monday in term
    (dt.date(2027, 6, 18), None),  # a Friday
])
def test_school_days(coventry: Authority, day: dt.date, why: str | None) -> None:
    assert coventry.not_a_school_day(day) == why


def test_non_school_days_are_optional_and_in_date_order(tmp_path: Path, coventry: Authority) -> None:
    days = [d.date for d in coventry.non_school_days]
    assert days == sorted(days) and len(days) == 9
    text = COVENTRY.read_text(encoding="utf-8")
    without = text[:text.index("[[non_school_days]]")] + text[text.index("# ----", text.index(
        "[[non_school_days]]")):]
    path = tmp_path / "plain.toml"
    path.write_text(without, encoding="utf-8")
    plain = load_authority(path)
    assert plain.non_school_days == ()
    assert plain.not_a_school_day(dt.date(2027, 5, 3)) is None  # a Monday, nothing listed
    assert plain.not_a_school_day(dt.date(2027, 5, 1)) == "a Saturday"


# ---------------------------------------------------------------- Lancashire


def test_lancashire_has_no_fixed_dates_and_no_visit_rule(lancashire: Authority) -> None:
    cycle = lancashire.cycles[0]
    assert not cycle.has_fixed_dates
    assert cycle.visit_before_decision == () and not cycle.needs_visit("final")
    assert cycle.panel_meets_on("final") is None


def test_lancashire_has_no_draft_stage(lancashire: Authority) -> None:
    cycle = lancashire.cycles[0]
    assert cycle.stages == ("final",)
    assert not cycle.has_draft
    assert cycle.draft_deadline is None and cycle.draft_panel is None
    # The seed gives no dates, so none were invented.
    assert cycle.final_deadline is None and cycle.visit_window is None
    assert lancashire.terms == ()


def test_lancashire_identity_and_commitment(lancashire: Authority) -> None:
    assert lancashire.slug == "lancashire"
    assert lancashire.contact_email == "izabela.zalewska-ratajczak@lancashire.gov.uk"
    assert lancashire.pledge.required_commitments == ("head_teacher",)
    assert [s.code for s in lancashire.steps][:2] == ["school-lead", "head-teacher-approval"]


# ---------------------------------------------------------------- broken files


def write_variant(tmp_path: Path, old: str, new: str, source: Path = COVENTRY) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path = tmp_path / "broken.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "draft_deadline = 2027-03-25",
            'draft_deadline = "25 March 2027"',
            "cycles[0].draft_deadline: Not a valid date.",
            id="malformed-date",
        ),
        pytest.param(
            'slug = "coventry"',
            'slug = "coventry"\ncolour = "blue"',
            "authority.colour: Unknown field.",
            id="unknown-key",
        ),
        pytest.param(
            'contact_email = "emasteachers@coventry.sch.uk"\n',
            "",
            "authority.contact_email: Missing data for required field.",
            id="missing-key",
        ),
        pytest.param(
            "draft_panel = 2027-04-20",
            "draft_panel = 2027-03-01",
            "cycles[0].draft_panel: Must be after draft_deadline (2027-03-25).",
            id="dates-out-of-order",
        ),
        pytest.param(
            'criteria_version = "sos-2026"',
            'criteria_version = "sos-1999"',
            "cycles[0].criteria_version: No criteria set with version 'sos-1999'.",
            id="unknown-criteria-version",
        ),
        pytest.param(
            'visit_window = "summer-2"',
            'visit_window = "summer-3"',
            "cycles[0].visit_window: Must be one of",
            id="unknown-term-name",
        ),
        pytest.param(
            'timezone = "Europe/London"',
            'timezone = "Europe/Coventry"',
            "authority.timezone: Unknown timezone 'Europe/Coventry'",
            id="bad-timezone",
        ),
        pytest.param(
            'start = "13:15"\nend = "15:00"',
            'start = "13:15"\nend = "13:00"',
            "cpd[1].end: Must be after start (13:15).",
            id="cpd-end-before-start",
        ),
        pytest.param(
            'code = "share-8"',
            'code = "share-7"',
            "criteria_sets[0].criteria[7].code: Must be 'share-8'",
            id="criterion-code-mismatch",
        ),
        pytest.param(
            'stages = ["draft", "final"]',
            'stages = ["final"]',
            'cycles[0].draft_deadline: Not allowed: "draft" is not a stage.',
            id="draft-dates-without-draft-stage",
        ),
        pytest.param(
            'visit_before_decision = ["final"]',
            'visit_before_decision = ["draft"]',
            "cycles[0].visit_before_decision[0]: Must be one of: final.",
            id="a-draft-decision-cannot-wait-for-a-visit",
        ),
        pytest.param(
            "date = 2027-05-03",
            "date = 2027-05-01",
            "non_school_days[6].date: 2027-05-01 is a Saturday: weekends are never school days",
            id="a-weekend-listed-as-a-non-school-day",
        ),
        pytest.param(
            "date = 2027-05-03",
            "date = 2027-03-29",
            "non_school_days[6].date: Duplicate: 2027-03-29 appears earlier.",
            id="a-non-school-day-listed-twice",
        ),
        pytest.param(
            'reason = "Early May bank holiday"',
            'reason = ""',
            "non_school_days[6].reason: Shorter than minimum length 1.",
            id="a-non-school-day-needs-a-reason",
        ),
        pytest.param(
            "max_file_mb = 20",
            "max_file_mb = 61",
            "portfolio.max_file_mb: Must be from 1 to 60: an upload crosses the message bus whole",
            id="a-portfolio-file-limit-past-what-the-gateway-takes",
        ),
    ],
)
def test_invalid_file_names_file_key_and_problem(tmp_path: Path, old: str, new: str, expected: str) -> None:
    path = write_variant(tmp_path, old, new)
    message = load_error(path)
    assert message.startswith(f"{path}: ")
    assert f"{path}: {expected}" in message


def test_missing_draft_dates_when_draft_is_a_stage(tmp_path: Path) -> None:
    path = write_variant(tmp_path, 'stages = ["final"]', 'stages = ["draft", "final"]', LANCASHIRE)
    message = load_error(path)
    assert f'{path}: cycles[0].draft_deadline: Missing: required when "draft" is a stage.' in message
    assert f"{path}: cycles[0].draft_panel: Missing" in message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write_variant(tmp_path, "draft_panel = 2027-04-20", "draft_panel = 2027-04-")
    lines = path.read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("draft_panel ="))
    message = load_error(path)
    assert message.startswith(f"{path}: line {line}, column ")
    assert "TOML syntax error" in message


def test_several_field_errors_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "two.toml"
    text = COVENTRY.read_text(encoding="utf-8")
    text = text.replace("draft_deadline = 2027-03-25", 'draft_deadline = "soon"')
    text = text.replace('contact_email = "emasteachers@coventry.sch.uk"', 'contact_email = "nope"')
    path.write_text(text, encoding="utf-8")
    lines = load_error(path).splitlines()
    assert f"{path}: authority.contact_email: Not a valid email address." in lines
    assert any(line.startswith(f"{path}: cycles[0].draft_deadline: Not a valid date.") for line in lines)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    assert load_error(path).startswith(f"{path}: file: ")


def test_visit_window_must_name_a_defined_term(tmp_path: Path) -> None:
    # Lancashire defines no terms, so any visit window is dangling.
    path = write_variant(
        tmp_path, 'stages = ["final"]', 'stages = ["final"]\nvisit_window = "summer-2"', LANCASHIRE
    )
    assert f"{path}: cycles[0].visit_window: No term 'summer-2' defined for 2026-27." in load_error(path)


def test_criteria_set_needs_exactly_eight(tmp_path: Path) -> None:
    text = COVENTRY.read_text(encoding="utf-8")
    last = text.index('[[criteria_sets.criteria]]\ncode = "share-8"')
    end = text.index("# ----", last)
    path = tmp_path / "seven.toml"
    path.write_text(text[:last] + text[end:], encoding="utf-8")
    assert f"{path}: criteria_sets[0].criteria: Must hold exactly 8 criteria, found 7." in load_error(path)


@pytest.mark.parametrize(("today", "year"), [
    (dt.date(2026, 12, 1), "2026-27"),
    (dt.date(2027, 8, 31), "2026-27"),
    (dt.date(2026, 3, 1), "2026-27"),  # before any configured year: the next one
    (dt.date(2027, 9, 1), "2026-27"),  # after the last: the last
])
def test_the_current_cycle(coventry: Authority, today: dt.date, year: str) -> None:
    assert coventry.current_cycle(today).school_year == year


def test_the_current_cycle_of_two(tmp_path: Path) -> None:
    path = tmp_path / "two.toml"
    path.write_text(COVENTRY.read_text(encoding="utf-8") + '\n[[cycles]]\nschool_year = "2027-28"\n'
                    'criteria_version = "sos-2026"\nstages = ["final"]\n\n[cycles.panel]\nmin_members = 3\n'
                    "min_lived_experience = 1\n", encoding="utf-8")
    two = load_authority(path)
    assert [two.current_cycle(day).school_year for day in (
        dt.date(2026, 1, 5), dt.date(2027, 8, 31), dt.date(2027, 9, 1), dt.date(2031, 1, 1))] == [
        "2026-27", "2026-27", "2027-28", "2027-28"]
