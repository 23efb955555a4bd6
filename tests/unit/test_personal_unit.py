"""The pure parts of personal data: the wrapper, reveal, and subject ids."""

from __future__ import annotations

from shared.personal import Personal, reveal, subject_for_email, subject_for_name


def test_personal_str_gives_the_value_or_erased() -> None:
    assert str(Personal("s", "Ada Lovelace")) == "Ada Lovelace"
    assert str(Personal("s", 42)) == "42"
    assert str(Personal("s")) == ""
    assert str(Personal("s", None, erased=True)) == "[erased]"


def test_label_is_a_creation_hint_not_part_of_the_value() -> None:
    assert Personal("s", "Ada", label="coordinator of 103712") == Personal("s", "Ada")
    assert hash(Personal("s", "Ada", label="x")) == hash(Personal("s", "Ada"))
    assert Personal("s", None, erased=True) != Personal("s", None)


def test_repr_keeps_the_value_out_of_logs() -> None:
    assert "Ada" not in repr(Personal("email:abc", "Ada"))
    assert "email:abc" in repr(Personal("email:abc", "Ada"))


def test_reveal_replaces_personal_values_recursively() -> None:
    data = {
        "urn": "103712",
        "contact": {"name": Personal("a", "Ada"), "phones": [Personal("a", "0123"), "x"]},
        "gone": Personal("b", None, erased=True),
        "nested": Personal("a", {"line": "1 High St"}),
        "pair": (Personal("a", 1), 2),
    }
    assert reveal(data) == {
        "urn": "103712",
        "contact": {"name": "Ada", "phones": ["0123", "x"]},
        "gone": "[erased]",
        "nested": {"line": "1 High St"},
        "pair": (1, 2),
    }
    assert reveal("plain") == "plain"


def test_subject_for_email_ignores_case_and_surrounding_space() -> None:
    subject = subject_for_email("Ann.Coordinator@Example.org")
    assert subject == subject_for_email("  ann.coordinator@example.ORG \n")
    assert subject.startswith("email:") and len(subject) == len("email:") + 64
    assert "ann" not in subject.lower() and "example" not in subject.lower()
    assert subject != subject_for_email("ann@example.org")


def test_subject_for_name_is_scoped_and_normalised() -> None:
    subject = subject_for_name("103712", "Ms  Jo\tHead")
    assert subject == subject_for_name("103712", " ms jo HEAD ")
    assert subject.startswith("name:") and "head" not in subject.lower()
    assert subject != subject_for_name("103713", "Ms Jo Head")
    # The separator keeps scope and name apart: without it both would hash "10x".
    assert subject_for_name("1", "0x") != subject_for_name("10", "x")
