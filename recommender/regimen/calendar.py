"""The reintroduction calendar: an .ics file the client imports into their phone.

Which need it answers: "when can I use my retinol again?" answered by a reminder on the
right day. One all-day VEVENT per reintroduced shelf product, on the first calendar day it
is usable (day ``first_day`` after the treatment date; a day d is usable when the product's
safe_from_day <= d). UIDs are stable (a hash of treatment date, protocol, product and
kind), so importing a re-rendered plan updates the events instead of duplicating them, and
DTSTAMP is the treatment date, so the same plan gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from icalendar import Calendar, Event

from recommender import DISCLAIMER, __version__
from recommender.regimen.model import Regimen, RegimenError


def _uid(plan: dict, product_id: str, kind: str) -> str:
    key = "|".join([plan["treatment"]["date"], plan["protocol"]["name"],
                    str(plan["protocol"]["version"]), str(product_id), kind])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:24] + "@skinrec"


def to_ics(plan: Regimen | dict) -> bytes:
    """The plan's reintroduction dates as iCalendar bytes (text/calendar)."""
    d = plan.to_dict() if isinstance(plan, Regimen) else Regimen.from_dict(plan).to_dict()
    try:
        return _calendar(d)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegimenError(f"the plan record is incomplete or damaged: "
                           f"{type(exc).__name__}: {exc}") from None


def _calendar(d: dict) -> bytes:
    treated = dt.date.fromisoformat(d["treatment"]["date"])
    cal = Calendar()
    cal.add("prodid", f"-//skinrec {__version__}//regimen//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Aftercare: products coming back")
    stamp = dt.datetime(treated.year, treated.month, treated.day, tzinfo=dt.UTC)
    labels = {s["id"]: s["label"] for s in d.get("steps", [])}
    for r in d["reintroduce"]:
        if r.get("status") != "from_day" or not r.get("date"):
            continue
        day = dt.date.fromisoformat(r["date"])
        ev = Event()
        ev.add("uid", _uid(d, r["product_id"], "reintroduce"))
        ev.add("dtstamp", stamp)
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
        ev.add("summary", f"You can use again: {r['name']}")
        why = "; ".join(w.get("reason", "") for w in r.get("reasons", [])[:3])
        step = labels.get(r.get("step"), r.get("step") or "")
        ev.add("description", (
            f"From day {r['first_day']} after your treatment on {d['treatment']['date']} "
            f"({step}). Why it waited: {why}. Protocol {d['protocol']['name']} "
            f"{d['protocol']['version']}. {DISCLAIMER}"))
        ev.add("categories", ["skinrec-reintroduce"])
        ev.add("transp", "TRANSPARENT")
        cal.add_component(ev)
    return cal.to_ical()
