"""What an authority's file marks as assumed (issue 17, item 7): ``[[to_confirm]]`` entries name
a value by its place in the file, and the criteria's wording keeps its own marking; a place
that names nothing fails with the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shared.assumed import find, in_words
from shared.authority import AuthorityConfigError, load_authority

REPO = Path(__file__).resolve().parents[2]
COVENTRY = REPO / "deploy" / "authorities" / "coventry.toml"
LANCASHIRE = REPO / "deploy" / "authorities" / "lancashire.toml"


def variant(tmp_path: Path, extra: str, source: Path = COVENTRY) -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(source.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def test_coventry_lists_its_assumed_term_dates_the_deadline_kept_as_published_and_the_wording() -> None:
    marked = {item.value: item for item in load_authority(COVENTRY).to_confirm}
    assert set(marked) == {"terms.2026-27", "cycles.2026-27.draft_deadline", "cycles.2026-27.feedback_by",
                           "cpd.speak-up-for-sanctuary.dates", "authority.sign_off", "criteria_sets.sos-2026"}
    deadline = marked["cycles.2026-27.draft_deadline"]
    assert deadline.shown == "Thursday 25 March 2027" and "Friday 25th March 2027" in deadline.note
    terms = marked["terms.2026-27"].shown
    assert terms.startswith("autumn-1: Wednesday 2 September 2026 to Friday 23 October")
    assert marked["terms.2026-27"].shown.count(" to ") == 6
    assert "learn-1: Training and expertise" in marked["criteria_sets.sos-2026"].shown
    assert "wording_confirmed = true" in marked["criteria_sets.sos-2026"].note


def test_lancashire_lists_its_own() -> None:
    marked = {item.value: item.shown for item in load_authority(LANCASHIRE).to_confirm}
    assert marked["pledge.lapse_years"] == "3"
    assert marked["cycles.2026-27.panel"] == "min_members 3, min_lived_experience 1"
    assert "criteria_sets.sos-2026" in marked


def test_confirmed_wording_and_no_entries_leave_nothing_to_confirm(tmp_path: Path) -> None:
    text = COVENTRY.read_text(encoding="utf-8")
    text = text[:text.index("[[to_confirm]]")]
    text = text.replace("wording_confirmed = false", "wording_confirmed = true")
    path = tmp_path / "confirmed.toml"
    path.write_text(text, encoding="utf-8")
    assert load_authority(path).to_confirm == ()


def test_a_place_that_names_nothing_fails_with_the_file(tmp_path: Path) -> None:
    path = variant(tmp_path, '\n[[to_confirm]]\nvalue = "cycles.2031-32.draft_deadline"\nnote = "Typo"\n')
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    [(where, problem)] = caught.value.problems
    assert where.startswith("to_confirm[") and where.endswith("].value")
    assert "cycles.2031-32.draft_deadline" in problem


def test_an_entry_needs_its_note(tmp_path: Path) -> None:
    path = variant(tmp_path, '\n[[to_confirm]]\nvalue = "authority.name"\n')
    with pytest.raises(AuthorityConfigError) as caught:
        load_authority(path)
    assert any(where.endswith(".note") for where, _ in caught.value.problems)


def test_a_place_picks_entries_of_a_list_by_their_name() -> None:
    data = {"terms": [{"school_year": "2026-27", "name": "autumn-1"},
                      {"school_year": "2027-28", "name": "x"}],
            "non_school_days": [{"date": dt.date(2027, 3, 26), "reason": "Good Friday"}]}
    assert find(data, "terms.2026-27.name") == ["autumn-1"]
    assert find(data, "terms.x") == [{"school_year": "2027-28", "name": "x"}]
    assert find(data, "non_school_days.2027-03-26.reason") == ["Good Friday"]
    assert find(data, "terms.2030-31") == [] and find(data, "nothing") == []


def test_values_in_words() -> None:
    assert in_words(dt.date(2027, 3, 25)) == "Thursday 25 March 2027"
    assert in_words([dt.date(2026, 11, 17)]) == "Tuesday 17 November 2026"
    assert in_words(True) == "yes" and in_words("pledge_signed") == "pledge_signed"
