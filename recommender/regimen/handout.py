"""The printable client handout (HTML): what to use each morning and evening, what comes
back when, what clashes, what to stop before the next session.

Which need it answers: "hand the client a printable sheet" (DESIGN.md, aesthetician). The
page is rendered from the plan's JSON (so a saved record re-renders the same sheet) with a
Jinja2 template shipped in this package (templates/handout.html.j2), autoescaped (a product
named "<script>" prints as text), print CSS in a <style> block, no scripts. It names the
clinic, the protocol and its version, and carries the disclaimer: not medical advice; the
provider's protocol takes precedence.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

from recommender import DISCLAIMER, __version__
from recommender.regimen.model import Regimen, RegimenError

TEMPLATES = Path(__file__).with_name("templates")


@functools.lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=jinja2.select_autoescape(("html", "j2"),
                                                                  default_for_string=True,
                                                                  default=True),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True)


def render_handout(plan: Regimen | dict, clinic: str | None = None) -> str:
    """The handout as one HTML document. ``clinic`` overrides the plan's clinic name."""
    d = plan.to_dict() if isinstance(plan, Regimen) else Regimen.from_dict(plan).to_dict()
    try:
        return _render(d, clinic)
    except (KeyError, TypeError, ValueError, AttributeError, jinja2.UndefinedError) as exc:
        raise RegimenError(f"the plan record is incomplete or damaged: "
                           f"{type(exc).__name__}: {exc}") from None


def _render(d: dict, clinic: str | None) -> str:
    labels = {s["id"]: s["label"] for s in d["steps"]}
    phases = []
    for ph in d["phases"]:
        days = [x for x in d["days"] if x.get("phase_id") == ph["id"]]
        if days:
            phases.append({"phase": ph, "rows": _rows(days)})
    cautions: dict[str, dict] = {}
    for day in d["days"]:
        for slot in ("am", "pm"):
            for p in day[slot]:
                if p.get("product_id") is not None and p.get("cautions"):
                    c = cautions.setdefault(p["product_id"], {"name": p["name"], "days": [],
                                                              "reasons": []})
                    if day["day"] not in c["days"]:
                        c["days"].append(day["day"])
                    for r in p["cautions"]:
                        if r not in c["reasons"]:
                            c["reasons"].append(r)
    return _env().get_template("handout.html.j2").render(
        plan=d, clinic=clinic or d.get("clinic") or "", labels=labels, phases=phases,
        cautions=list(cautions.values()),
        disclaimer=d.get("disclaimer") or DISCLAIMER, version=__version__,
        avoid_conflicts=[c for c in d["conflicts"] if c["severity"] == "avoid"],
        caution_conflicts=[c for c in d["conflicts"] if c["severity"] != "avoid"],
    )


def _signature(day: dict) -> tuple:
    return tuple((slot, p["step"], p.get("product_id"), p.get("gap"), bool(p.get("cautions")))
                 for slot in ("am", "pm") for p in day[slot])


def _rows(days: list[dict]) -> list[dict]:
    """Consecutive days with the same routine as one row ("days 3-6")."""
    rows: list[dict] = []
    for day in days:
        if rows and _signature(rows[-1]["last"]) == _signature(day) \
                and rows[-1]["last"]["until_day"] == day["day"]:
            rows[-1]["last"] = day
            continue
        rows.append({"first": day, "last": day})
    out = []
    for r in rows:
        first, last = r["first"], r["last"]
        slots = {}
        for slot in ("am", "pm"):
            gaps = {p.get("gap") for p in first[slot]}
            same_gap = bool(first[slot]) and None not in gaps and len(gaps) == 1
            slots[slot] = {"items": first[slot], "all_gap": gaps.pop() if same_gap else None}
        out.append({"from_day": first["day"], "to_day": last["until_day"] - 1,
                    "from_date": first["date"], "to_date": last["date"],
                    "open_ended": last["until_day"] > last["day"] + 1, **slots})
    return out


def render_text(plan: Regimen | dict) -> str:
    """A plain-text summary for the terminal (`skinrec regimen` without --json)."""
    d = plan.to_dict() if isinstance(plan, Regimen) else plan
    labels = {s["id"]: s["label"] for s in d["steps"]}
    out = [f"Aftercare plan{' - ' + d['clinic'] if d.get('clinic') else ''}: treatment "
           f"{d['treatment']['date']} ({d['treatment']['depth_mm']:g} mm "
           f"{d['treatment']['modality']}), next session {d['next_session']['date']}, "
           f"protocol {d['protocol']['name']} {d['protocol']['version']}"]
    phase = None
    for day in d["days"]:
        if day["phase"] != phase:
            phase = day["phase"]
            out.append(f"== {phase}")
        span = f"day {day['day']}" if day["until_day"] == day["day"] + 1 else \
            f"days {day['day']}-{day['until_day'] - 1}"
        out.append(f"{span} ({day['date']})")
        for slot in ("am", "pm"):
            gaps = {p["gap"] for p in day[slot]}
            if day[slot] and None not in gaps and len(gaps) == 1:
                out.append(f"  {slot.upper()}: {gaps.pop()}")
                continue
            items = []
            for p in day[slot]:
                what = p["name"] if p["product_id"] is not None else f"GAP: {p['gap']}"
                if p.get("cautions"):
                    what += " [caution]"
                items.append(f"{labels.get(p['step'], p['step'])}: {what}")
            out.append(f"  {slot.upper()}: " + " | ".join(items))
    if d["reintroduce"]:
        out.append("== Coming back")
        for r in d["reintroduce"]:
            when = {"from_day": f"day {r['first_day']} ({r['date']})", "never": "never",
                    "unchecked": "cannot be checked"}[r["status"]]
            why = "; ".join(w.get("reason", "") for w in r["reasons"][:2])
            out.append(f"  {when}: {r['name']} [{r['step']}] - {why}")
    if d["conflicts"]:
        out.append("== Conflicts")
        for c in d["conflicts"]:
            out.append(f"  [{c['severity']}, {c['scope']}] {c['reason']} -> {c['resolution']}")
    if d["stop_before_next"]:
        out.append(f"== Before the next session ({d['next_session']['date']})")
        for s in d["stop_before_next"]:
            out.append(f"  stop from {s['stop_from_date']}: {s['name']} - {s['reason']}")
    for n in d.get("notes", []):
        out.append(f"note: {n}")
    out.append(d.get("disclaimer") or DISCLAIMER)
    return "\n".join(out)
