"""When each held-back shelf product becomes usable, in which step, and why it waited.

Which need it answers: "when can I use my retinol again?" for every product on the shelf.
A product is listed when something beyond the blanket first-24-hours rule holds it back:
``from_day`` with the first whole day d such that safe_from_day <= d (its date, its step
and slots, the flags that held it: ingredient as printed, position, rule, window end,
source), ``never`` when a personal rule (avoid-list, pregnancy) applies, with that rule,
or ``unchecked`` when its list could not be read. ``first_placed_day`` says when the plan
actually uses it (a usable product can still be outranked in its step).
"""

from __future__ import annotations

import datetime as dt

from recommender.regimen.placement import ShelfItem, first_day


def _avoid_end(flag: dict):
    ends = [st["until_day"] for st in flag["stages"]
            if st["severity"] == "avoid" and st["until_day"] is not None]
    return max(ends) if ends else None


def held_back_reasons(item: ShelfItem, day: int, blanket_ids: set[str]) -> list[dict]:
    """The avoid flags that hold the product back (not the blanket product-level rules)."""
    out = []
    for f in item.flags(day):
        if not any(st["severity"] == "avoid" for st in f["stages"]):
            continue
        if f["scope"] == "product" and f["rule"] in blanket_ids:
            continue
        out.append({"reason": f["reason"], "ingredient": f["ingredient"],
                    "position": f["position"], "rule": f["rule"], "until_day": _avoid_end(f),
                    "never": f["never"], "source": f["source"], "evidence": f["evidence"]})
    return out


def records(items: list[ShelfItem], day0: int, baseline: float, blanket_ids: set[str],
            first_placed: dict[str, int], treated: dt.date) -> tuple[list[dict], list[dict]]:
    """(reintroduce, shelf): the reintroduction list and every shelf product's summary."""
    reintroduce, shelf = [], []
    for p in items:
        why = held_back_reasons(p, day0, blanket_ids)
        sfd = p.safe_from_day
        fd = None if p.never or sfd is None or p.unchecked_reason else first_day(sfd)
        fp = first_placed.get(p.id)
        shelf.append({
            "product_id": p.id, "name": p.name, "category": p.row["category"], "step": p.step,
            "step_reason": p.step_reason, "slots": list(p.slots), "slot_reason": p.slot_reason,
            "status": "unchecked" if p.unchecked_reason else "never" if p.never else "ok",
            "safe_from_day": sfd, "first_day": fd, "first_placed_day": fp,
        })
        base = {"product_id": p.id, "name": p.name, "step": p.step, "slots": list(p.slots)}
        if p.unchecked_reason:
            reintroduce.append({**base, "status": "unchecked", "safe_from_day": None,
                                "first_day": None, "date": None,
                                "reasons": [{"reason": p.unchecked_reason}],
                                "first_placed_day": None})
        elif p.never:
            reintroduce.append({**base, "status": "never", "safe_from_day": None,
                                "first_day": None, "date": None,
                                "reasons": [w for w in why if w["never"]] or why,
                                "first_placed_day": None})
        elif sfd is not None and sfd > baseline:
            reintroduce.append({
                **base, "status": "from_day", "safe_from_day": sfd, "first_day": fd,
                "date": (treated + dt.timedelta(days=fd)).isoformat(), "reasons": why,
                "first_placed_day": fp,
                "note": "" if fp is not None else
                (f"usable from day {fd} but another {p.step} product scored higher on every "
                 "listed day; the client may switch to it"),
            })
    reintroduce.sort(key=lambda r: (r["first_day"] if r["first_day"] is not None else 10**6,
                                    r["product_id"]))
    return reintroduce, shelf
