"""What panel members and the lead are told of appraisal panels, in plain English. Plain Python.

A member is addressed by account (name and address come from the accounts service when
the email is sent); each email links to the page where they act.
"""

from __future__ import annotations

from services.notifications.messages import Draft, day, for_lead, see

ABOUT_PANEL = "it is about your part in an appraisal panel"


def _member(kind: str, account: str, subject: str, body: str, stage: str, year: str) -> Draft:
    return Draft(kind, "", "", subject, body, f"you are a member of the {stage} appraisal panel for {year}",
                 to_account=account, essential=ABOUT_PANEL)


def member_added(account: str, authority: str, stage: str, year: str, meets_on: str | None,
                 link: str) -> Draft:
    return _member(
        "panel-member-added", account, f"You are on the {stage} appraisal panel for {year}",
        see(f"You are a member of {authority} Schools of Sanctuary's {stage} appraisal panel for {year}, "
            f"which meets on {day(meets_on)}. Each application assigned to the panel will come to you by "
            "email: you declare any conflict of interest with the school first, then judge each "
            "criterion before the panel meets.", link, "Your appraisals"), stage, year)


def application_assigned(account: str, school: str, stage: str, year: str, meets_on: str | None,
                         link: str) -> Draft:
    return _member(
        "application-assigned", account, f"{school}'s {stage} application is ready for you to appraise",
        see(f"{school}'s {stage} application is assigned to your panel, which meets on {day(meets_on)}. "
            "Before you read it, declare whether you have any tie to the school; then judge each "
            "criterion, with a comment, before the panel meets.", link, "Start the appraisal"), stage, year)


def member_removed(account: str, stage: str, year: str) -> Draft:
    return _member(
        "panel-member-removed", account, f"You are no longer on the {stage} appraisal panel for {year}",
        f"The lead has taken you off the {stage} appraisal panel for {year}. You have nothing more to do "
        "for it. Thank you for the time you gave.", stage, year)


def panel_reminder(account: str, stage: str, year: str, meets_on: str, days: int,
                   unfinished: list[tuple[str, str, str]]) -> Draft:
    """``unfinished``: (school, what is left, link) for each appraisal the member has not finished."""
    when = "tomorrow" if days == 1 else f"in {days} days"
    rows = "\n".join(f"- {school}: {left}. {link}" for school, left, link in unfinished)
    return _member(
        "panel-reminder", account, f"The {stage} panel meets {when}: appraisals to finish",
        f"The {stage} appraisal panel meets on {day(meets_on)}, {when}. These appraisals are not "
        f"finished yet:\n\n{rows}", stage, year)


def conflict_declared(school: str, stage: str, year: str, clear: int, link: str) -> Draft:
    return for_lead(
        "conflict-declared", f"A panel member declared a conflict of interest with {school}",
        see(f"A member of the {stage} panel for {year} declared a conflict of interest with {school}, so "
            f"they take no part in its appraisal. {_clear(clear)} so far.", link, "The panel"))


def judging_complete(school: str, stage: str, year: str, clear: int, link: str) -> Draft:
    if clear == 0:
        said = (f"Every member of the {stage} panel declared a conflict of interest with {school}: nobody "
                "is clear to judge it. Add a member to the panel.")
    else:
        said = (f"Every member of the {stage} panel clear of any conflict ({clear}) has judged {school}'s "
                f"{stage} application. The panel can agree its outcome.")
    return for_lead("appraisal-judged", f"{school}'s {stage} application: judging is complete",
                    see(said, link, "The appraisal"))


def _clear(clear: int) -> str:
    return f"{clear} member{'s are' if clear != 1 else ' is'} clear to judge it"
