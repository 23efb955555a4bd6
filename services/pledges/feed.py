"""The public Atom feed (RFC 4287) of awarded schools that chose to share their news.

Built with the standard library's ``xml.etree``, which escapes every text and
attribute; characters XML cannot carry are dropped first. Each entry is one
school's one award: its id is a tag URI (RFC 4151) naming the school and the
award's date, so a renewal is a new entry and a re-published choice is not.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from services.pledges.domain import strip_unpublishable

if TYPE_CHECKING:
    from shared.authority import Authority

ATOM = "http://www.w3.org/2005/Atom"
FEED_TAG_DATE = "2026"  # when the deployments began minting these tags (RFC 4151 needs a date)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # not strftime's: that follows the process's locale
_DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")

ET.register_namespace("", ATOM)


@dataclass(frozen=True)
class Publisher:
    """Who publishes the list: the authority's name, a domain it owns (for tag URIs) and
    the public address of the gateway (for the feed's own links)."""

    name: str = "Schools of Sanctuary"
    tag_authority: str = "sanctuary.invalid"
    public_url: str = "http://127.0.0.1:8080"

    @classmethod
    def of(cls, authority: Authority, public_url: str) -> Publisher:
        candidates = [urlsplit(authority.website).hostname if authority.website else None,
                      authority.contact_email.rpartition("@")[2], urlsplit(public_url).hostname]
        domain = next((c.lower() for c in candidates if c and _DOMAIN.fullmatch(c.lower())),
                      cls.tag_authority)
        return cls(authority.name, domain, public_url.rstrip("/"))


def entry_id(publisher: Publisher, urn: str, awarded_on: dt.date) -> str:
    """One school's one award, for ever: ``tag:coventry.sch.uk,2027-06-15:schools-of-sanctuary/103712``."""
    return f"tag:{publisher.tag_authority},{awarded_on.isoformat()}:schools-of-sanctuary/{urn}"


def atom_feed(listed: list[dict], publisher: Publisher, now: dt.datetime) -> bytes:
    """``listed``: the public listings in order, each with the school's ``urn`` (for the
    entry id only) and ``chosen_at`` (when the school last chose what to share)."""
    feed = ET.Element(_atom("feed"))
    _text(feed, "id", f"tag:{publisher.tag_authority},{FEED_TAG_DATE}:schools-of-sanctuary/awarded")
    _text(feed, "title", f"Schools of Sanctuary: {publisher.name}")
    _text(feed, "subtitle", "Schools that hold the Schools of Sanctuary award and chose to share "
                            "the news. A school is listed only by its own choice.")
    # as Django's syndication does: the latest entry's, or now when there is none
    _text(feed, "updated", _instant(max((_updated(s) for s in listed), default=now)))
    author = ET.SubElement(feed, _atom("author"))
    _text(author, "name", f"{publisher.name} Schools of Sanctuary")
    ET.SubElement(feed, _atom("link"), rel="self", type="application/atom+xml",
                  href=f"{publisher.public_url}/awarded-schools.atom")
    ET.SubElement(feed, _atom("link"), rel="alternate", type="application/json",
                  href=f"{publisher.public_url}/awarded-schools")
    for school in listed:
        feed.append(_entry(school, publisher))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _entry(school: dict, publisher: Publisher) -> ET.Element:
    awarded_on: dt.date = school["awarded_on"]
    awarded_at = dt.datetime.combine(awarded_on, dt.time(0), dt.UTC)
    entry = ET.Element(_atom("entry"))
    _text(entry, "id", entry_id(publisher, school["urn"], awarded_on))
    _text(entry, "title", school["name"])
    _text(entry, "updated", _instant(_updated(school)))
    _text(entry, "published", _instant(awarded_at))
    where = f" ({school['town']})" if school.get("town") else ""
    content = f"{school['name']}{where} holds the Schools of Sanctuary award, awarded on " \
              f"{awarded_on.day} {MONTHS[awarded_on.month - 1]} {awarded_on.year}."
    if school.get("statement"):
        _text(entry, "summary", school["statement"])
        content += "\n\n" + school["statement"]
    _text(entry, "content", content)
    if school.get("link"):
        ET.SubElement(entry, _atom("link"), rel="alternate", type="text/html", href=_clean(school["link"]))
    return entry


def _updated(school: dict) -> dt.datetime:
    """The later of the school's choice and its award (midnight UTC of the award's day)."""
    return max(school["chosen_at"], dt.datetime.combine(school["awarded_on"], dt.time(0), dt.UTC))


def _atom(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, _atom(tag))
    if tag in ("title", "subtitle", "summary", "content"):
        element.set("type", "text")  # plain text, never markup
    element.text = _clean(text)
    return element


def _clean(text: str) -> str:
    """Drop what XML 1.0 cannot carry (ElementTree escapes the rest)."""
    return strip_unpublishable(text)


def _instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
