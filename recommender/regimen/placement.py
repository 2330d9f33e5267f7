"""Filling one routine (one day, AM or PM) from the shelf: a product per step, or a gap.

Which need it answers: "each step filled with the best suitable product from the shelf for
that day (never one with an open avoid window), or an explicit gap" (issue #7). Rules, all
read from score_frame's columns for that day (t = d) and from data/regimen/*.yaml:

- usable on day d: ingredient list read, at most ``MAX_UNRECOGNIZED_SHARE`` of its names
  unrecognised (as ``skinrec recommend``), not never-safe (avoid-list, pregnancy), verdict at
  t = d not ``avoid`` and safe_from_day <= d;
- ``suitable`` before ``caution`` (design choice: a product in a caution window is used only
  when nothing suitable fits, and its open cautions are printed), then the highest
  ``post_needling_score``, then the product id;
- a candidate that clashes (conflict severity ``avoid``) with a product already in the
  routine is skipped, and the skip recorded; steps are filled in ``fill_order``;
- a gap says what to look for (steps.yaml) and why each shelf product of that step did not
  fit; while a protocol rule holds every product back (the first 24 hours), the gap quotes
  that rule instead.
"""

from __future__ import annotations

import json
import math

from recommender.recommend import MAX_UNRECOGNIZED_SHARE
from recommender.regimen import conflicts as conflicts_mod
from recommender.regimen.rules import STEP_IDS, RegimenRules

GAP_PREFIX = "nothing on your shelf fits; look for: "


def first_day(safe_from_day: float) -> int:
    """The first whole day d with safe_from_day <= d."""
    return max(0, math.ceil(safe_from_day))


class ShelfItem:
    """One shelf product: its row, its reading, its step and its score_frame row per day."""

    def __init__(self, row: dict, classes, step, step_reason, slots, slot_reason):
        self.row = row
        self.id = row["product_id"]
        self.name = row["name"]
        self.classes = classes
        self.step = step
        self.step_reason = step_reason
        self.slots = slots
        self.slot_reason = slot_reason
        self.by_day: dict[int, dict] = {}
        self.never = False
        self.safe_from_day: float | None = None
        self.unchecked_reason = ""

    @property
    def ref(self) -> dict:
        return {"product_id": self.id, "name": self.name}

    def settle(self, day: int) -> None:
        """Product-level facts (never safe, safe day, checkable) from one day's row."""
        s = self.by_day[day]
        self.never = s["never_safe"]
        self.safe_from_day = s["safe_from_day"]
        if s["status"] != "ok":
            self.unchecked_reason = f"no ingredient list could be read ({s['status']})"
        elif s["n_ingredients"] and s["n_unrecognized"] / s["n_ingredients"] > MAX_UNRECOGNIZED_SHARE:
            self.unchecked_reason = (f"{s['n_unrecognized']} of {s['n_ingredients']} ingredient "
                                     "names not recognised: cannot be vouched for")

    def usable(self, d: int) -> bool:
        s = self.by_day[d]
        return (not self.unchecked_reason and not self.never and s["verdict"] != "avoid"
                and s["safe_from_day"] is not None and s["safe_from_day"] <= d)

    def flags(self, d: int) -> list[dict]:
        return json.loads(self.by_day[d]["flags"])

    def open_cautions(self, d: int) -> list[str]:
        return [f["reason"] for f in self.flags(d)
                if f.get("open") and f.get("severity") == "caution"]

    def not_usable_reason(self, d: int) -> str:
        if self.unchecked_reason:
            return f"{self.name}: cannot be checked ({self.unchecked_reason})"
        if self.never:
            why = [f["reason"] for f in self.flags(d) if f.get("never")]
            return f"{self.name}: never ({'; '.join(why) or 'personal rule'})"
        why = [f["reason"] for f in self.flags(d)
               if f.get("open") and f.get("severity") == "avoid"]
        return (f"{self.name}: not before day {first_day(self.safe_from_day or 0.0)} "
                f"({'; '.join(why[:2])})")


def fill_routine(items: list[ShelfItem], slot: str, d: int, rules: RegimenRules,
                 held: list[tuple[float, object]]) -> tuple[list[dict], list[ShelfItem]]:
    """(placements in routine order, the items placed) for day ``d``'s ``slot``.

    ``held``: (end, rule) of protocol rules holding every product back on day d.
    """
    step_defs = {s.id: s for s in rules.steps.steps}
    placed: dict[str, dict] = {}
    chosen_items: list[ShelfItem] = []
    for step in rules.steps.fill_order:
        sd = step_defs[step]
        if slot not in sd.slots:
            continue
        on_step = [p for p in items if p.step == step]
        cands = [p for p in on_step if slot in p.slots and p.usable(d) and p not in chosen_items]
        cands.sort(key=lambda p: (p.by_day[d]["verdict"] != "suitable",
                                  -(p.by_day[d]["score"] or 0.0), p.id))
        skipped, chosen = [], None
        for c in cands:
            blocking = [(q, cl) for q in chosen_items
                        for cl in conflicts_mod.blocks(
                            conflicts_mod.pair_clashes(c.classes, q.classes, rules.conflicts))]
            if blocking:
                q, cl = blocking[0]
                skipped.append(f"{c.name}: clashes with {q.name} in the same routine "
                               f"(rule {cl.rule.id}: {cl.rule.message})")
                continue
            chosen = c
            break
        if chosen is not None:
            placed[step] = _placement(chosen, cands, sd.label, d, skipped)
            chosen_items.append(chosen)
        else:
            placed[step] = _gap(on_step, chosen_items, sd, slot, d, held, skipped)
    return [placed[s] for s in STEP_IDS if s in placed], chosen_items


def _placement(chosen: ShelfItem, cands: list[ShelfItem], label: str, d: int,
               skipped: list[str]) -> dict:
    s = chosen.by_day[d]
    rank = [x for x in cands if x is not chosen]
    if rank:
        nxt = rank[0]
        why = (f"highest post-needling score on day {d} ({s['score']:.1f}) of {len(cands)} "
               f"usable products for {label}; next: {nxt.name} "
               f"({(nxt.by_day[d]['score'] or 0.0):.1f}, {nxt.by_day[d]['verdict']})")
    else:
        why = f"the only usable product for {label} on day {d}"
    if s["verdict"] == "caution":
        why += "; nothing suitable without a caution was on the shelf"
    return {
        "step": chosen.step, "product_id": chosen.id, "name": chosen.name, "gap": None,
        "verdict": s["verdict"], "score": s["score"], "safe_from_day": chosen.safe_from_day,
        "why": why, "reasons_for": json.loads(s["reasons_for"])[:3],
        "cautions": chosen.open_cautions(d), "skipped": skipped,
    }


def _gap(on_step: list[ShelfItem], chosen_items: list[ShelfItem], sd, slot: str, d: int,
         held, skipped: list[str]) -> dict:
    look = sd.look_for_at(d)
    if held and not any(p.usable(d) for p in on_step):
        end, r = held[0]
        gap = (f"nothing from your shelf yet: {r.label} (until day {end:g})"
               + (f"; {r.note}" if r.note else ""))
        reasons = [f"protocol rule {r.id}: {r.label}, avoid until day {end:g} "
                   f"(source: {r.source})"]
    else:
        gap = GAP_PREFIX + look
        if not on_step:
            reasons = [f"no {sd.id} product on the shelf"]
        else:
            reasons = []
            for p in on_step:
                if slot not in p.slots:
                    reasons.append(f"{p.name}: not in the {slot.upper()} routine "
                                   f"({p.slot_reason})")
                elif p in chosen_items:
                    reasons.append(f"{p.name}: already used in this routine")
                elif not p.usable(d):
                    reasons.append(p.not_usable_reason(d))
            reasons += skipped
    return {"step": sd.id, "product_id": None, "name": None, "gap": gap, "look_for": look,
            "gap_reasons": reasons}
