"""``build_regimen``: a day-by-day post-treatment plan from the clinic's shelf.

Which need it answers (issue #7): "given a treatment, a client and a shelf, what does the
client put on their skin each morning and evening until the next session, what comes back
when, what clashes, and what to stop before the next session?" No rule lives here: the
verdicts, safe days and scores come from :func:`recommender.scoring.score_frame` (the one
scoring path), called once per listed day for this client; steps, conflicts, stops and
phases come from data/regimen/*.yaml.

How a slot is filled (day d covers [d, d+1) days after treatment; scored at t = d):

- candidates for a step are the shelf products assigned to it (steps.py) that may be used
  in that slot (sunscreen in the morning only; retinoids at night only) and that are usable
  on day d: their ingredient list was read, at most ``MAX_UNRECOGNIZED_SHARE`` of its names
  are unrecognised (as in ``skinrec recommend``), they are not never-safe (avoid-list,
  pregnancy) and their verdict at t = d is not ``avoid`` (so ``safe_from_day <= d``);
- ``suitable`` products come before ``caution`` ones (design choice: a product still in a
  caution window, e.g. a chemical sunscreen before day 14, is used only when nothing on the
  shelf is suitable, and its open cautions are printed with it); then the highest
  ``post_needling_score``; then the product id (stable output);
- a candidate that would clash (a conflict of severity ``avoid``) with a product already
  placed in the same slot is skipped, and the skip is recorded;
- steps are filled in ``fill_order`` (sunscreen, treatment, cleanser, moisturizer) and
  listed in routine order; a product fills at most one step per slot;
- nothing usable: an explicit gap, "nothing on your shelf fits; look for: ..." with the
  reason per shelf product (not yet usable until day N, never, cannot be checked, clash),
  or, while a protocol rule holds every product back (the first 24 hours), that rule's note.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from dataclasses import replace

import pandas as pd

from recommender import DISCLAIMER, __version__
from recommender.recommend import MAX_UNRECOGNIZED_SHARE
from recommender.regimen import conflicts as conflicts_mod
from recommender.regimen.actives import class_mentions
from recommender.regimen.model import Client, Regimen, RegimenError, Treatment, parse_date
from recommender.regimen.phases import make_phases, phase_of, window_ends
from recommender.regimen.rules import STEP_IDS, RegimenRules, default_rules
from recommender.regimen.shelf import ShelfError, normalise_shelf
from recommender.regimen.steps import allowed_slots, assign_step
from recommender.regimen.stop_before import stop_record
from recommender.safety import Protocol, default_protocol
from recommender.scoring import make_score_context, score_frame

GAP_PREFIX = "nothing on your shelf fits; look for: "


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _first_day(safe_from_day: float) -> int:
    """The first whole day d with safe_from_day <= d."""
    return max(0, math.ceil(safe_from_day))


def _blanket_rules(protocol: Protocol, factor: float) -> list[tuple[float, object]]:
    """(avoid end, rule) of product-level rules on every product (the first 24 hours)."""
    out = []
    for r in protocol.rules:
        if r.scope == "product" and r.product == "all" and r.when is None:
            end = max((s.until for s in r.stages if s.severity == "avoid"), default=0.0)
            out.append((end * (factor if r.scaled else 1.0), r))
    return out


class _Product:
    """One shelf product: its row, reading, step and per-day scores."""

    def __init__(self, row: dict, parsed, classes, step, step_reason, slots, slot_reason):
        self.row = row
        self.id = row["product_id"]
        self.name = row["name"]
        self.parsed = parsed
        self.classes = classes
        self.step = step
        self.step_reason = step_reason
        self.slots = slots
        self.slot_reason = slot_reason
        self.by_day: dict[int, dict] = {}
        self.status = "ok"
        self.never = False
        self.safe_from_day: float | None = None
        self.unchecked_reason = ""

    @property
    def ref(self) -> dict:
        return {"product_id": self.id, "name": self.name}


def build_regimen(shelf: pd.DataFrame, treatment: Treatment, client: Client | None = None,
                  protocol: Protocol | None = None, *, next_session: dt.date | str | None = None,
                  clinic: str | None = None, rules: RegimenRules | None = None,
                  use_models: bool = True) -> Regimen:
    """Build the plan. Raises :class:`RegimenError` (or its subclass ShelfError's sibling)
    with a clear message for bad input; see the module docstring for how slots are filled."""
    t0 = time.perf_counter()
    rules = rules or default_rules()
    client = client or Client()
    if not isinstance(treatment, Treatment):
        raise RegimenError("treatment must be a Treatment(date, depth_mm, modality, area)")
    protocol = protocol or default_protocol()
    try:
        shelf = normalise_shelf(shelf)
    except ShelfError as exc:
        raise RegimenError(str(exc)) from None
    try:
        ctx0 = make_score_context(day=0, depth=treatment.depth_mm, modality=treatment.modality,
                                  avoid=list(client.avoid) or None, pregnant=client.pregnant,
                                  concerns=list(client.concerns) or None,
                                  skin_type=list(client.skin_types) or None, protocol=protocol,
                                  use_models=use_models)
    except ValueError as exc:
        raise RegimenError(str(exc)) from None
    factor = protocol.factor(treatment.depth_mm, treatment.modality)
    treated = treatment.date
    if next_session is None:
        next_day = rules.phases.default_next_session_days
    else:
        next_day = (parse_date(next_session, "next session date") - treated).days
        if next_day < 2:
            raise RegimenError(f"the next session ({next_session}) must be at least 2 days "
                               f"after the treatment ({treated.isoformat()})")
    latest_end = max([e for e in window_ends(protocol, factor)] or [0.0])
    horizon = min(next_day, max(rules.phases.min_days_listed, math.ceil(latest_end)))
    day_list = list(range(horizon)) + ([horizon] if horizon < next_day else [])
    notes: list[str] = []
    if latest_end > next_day:
        notes.append(f"a protocol window ends on day {latest_end:g}, after the next session "
                     f"(day {next_day}): ask the provider before the next session")

    # Read each product once: classes with positions, step, slots.
    from recommender.knowledge.reader import default_reader

    reader = default_reader()
    products: list[_Product] = []
    ignore = rules.conflicts.ignore
    for row in shelf.to_dict("records"):
        parsed = reader.read(row["ingredients"])
        classes = class_mentions(parsed, ignore)
        step, step_reason = assign_step(row["name"], row["category"], row["step"], classes,
                                        rules.steps)
        slots, slot_reason = allowed_slots(rules.steps.step(step).slots, classes, rules.steps)
        products.append(_Product(row, parsed, classes, step, step_reason, slots, slot_reason))

    # Score the shelf once per listed day (the one scoring path).
    frame = shelf[["product_id", "name", "category", "ingredients"]]
    for d in day_list:
        ctx = replace(ctx0, safety=ctx0.safety.at(float(d)))
        scored = score_frame(frame, ctx)
        models = {c: str(scored[c].iloc[0]) for c in scored.columns
                  if c.endswith("_model_version") and len(scored)}
        for p, (_, r) in zip(products, scored.iterrows(), strict=True):
            p.by_day[d] = {
                "verdict": r["verdict"], "safe_from_day": _num(r["safe_from_day"]),
                "score": _num(r["post_needling_score"]), "flags": r["flags"],
                "reasons_for": r["reasons_for"], "status": r["status"],
                "never_safe": bool(r["never_safe"]), "n_ingredients": int(r["n_ingredients"]),
                "n_unrecognized": int(r["n_unrecognized"]),
            }
    first = day_list[0]
    for p in products:
        s0 = p.by_day[first]
        p.status = s0["status"]
        p.never = s0["never_safe"]
        p.safe_from_day = s0["safe_from_day"]
        if p.status != "ok":
            p.unchecked_reason = f"no ingredient list could be read ({p.status})"
        elif s0["n_ingredients"] and s0["n_unrecognized"] / s0["n_ingredients"] > MAX_UNRECOGNIZED_SHARE:
            p.unchecked_reason = (f"{s0['n_unrecognized']} of {s0['n_ingredients']} ingredient "
                                  "names not recognised: cannot be vouched for")

    blanket = _blanket_rules(protocol, factor)
    step_defs = {s.id: s for s in rules.steps.steps}

    def usable(p: _Product, d: int) -> bool:
        s = p.by_day[d]
        return (not p.unchecked_reason and not p.never and s["verdict"] != "avoid"
                and s["safe_from_day"] is not None and s["safe_from_day"] <= d)

    def open_cautions(p: _Product, d: int) -> list[str]:
        return [f["reason"] for f in json.loads(p.by_day[d]["flags"])
                if f.get("open") and f.get("severity") == "caution"]

    def not_usable_reason(p: _Product, d: int) -> str:
        if p.unchecked_reason:
            return f"{p.name}: cannot be checked ({p.unchecked_reason})"
        if p.never:
            why = [f["reason"] for f in json.loads(p.by_day[d]["flags"]) if f.get("never")]
            return f"{p.name}: never ({'; '.join(why) or 'personal rule'})"
        fd = _first_day(p.safe_from_day or 0.0)
        why = [f["reason"] for f in json.loads(p.by_day[d]["flags"])
               if f.get("open") and f.get("severity") == "avoid"]
        return f"{p.name}: not before day {fd} ({'; '.join(why[:2])})"

    phases = make_phases(protocol, factor, rules.phases, next_day)
    days_out = []
    together: dict[tuple, list[dict]] = {}
    for d in day_list:
        date = treated + dt.timedelta(days=d)
        phase = phase_of(d, phases)
        entry = {"day": d, "date": date.isoformat(), "phase": phase["label"],
                 "phase_id": phase["id"],
                 "until_day": d + 1 if d < horizon else next_day, "am": [], "pm": [], "notes": []}
        if d == horizon:
            entry["notes"].append(f"this routine holds from day {d} until the next session "
                                  f"on {(treated + dt.timedelta(days=next_day)).isoformat()}")
        held = [(end, r) for end, r in blanket if d < end]
        for slot in ("am", "pm"):
            placed: dict[str, dict] = {}
            placed_products: list[_Product] = []
            for step in rules.steps.fill_order:
                sd = step_defs[step]
                if slot not in sd.slots:
                    continue
                on_step = [p for p in products if p.step == step]
                cands = [p for p in on_step if slot in p.slots and usable(p, d)
                         and p not in placed_products]
                cands.sort(key=lambda p: (p.by_day[d]["verdict"] != "suitable",
                                          -(p.by_day[d]["score"] or 0.0), p.id))
                skipped, chosen = [], None
                for c in cands:
                    blocking = [(q, cl) for q in placed_products
                                for cl in conflicts_mod.blocks(
                                    conflicts_mod.pair_clashes(c.classes, q.classes,
                                                               rules.conflicts))]
                    if blocking:
                        q, cl = blocking[0]
                        skipped.append(f"{c.name}: clashes with {q.name} in the same routine "
                                       f"(rule {cl.rule.id}: {cl.rule.message})")
                        continue
                    chosen = c
                    break
                if chosen is not None:
                    s = chosen.by_day[d]
                    rank = [x for x in cands if x is not chosen]
                    if rank:
                        nxt = rank[0]
                        why = (f"highest post-needling score on day {d} ({s['score']:.1f}) of "
                               f"{len(cands)} usable products for {sd.label}; next: {nxt.name} "
                               f"({(nxt.by_day[d]['score'] or 0.0):.1f}, "
                               f"{nxt.by_day[d]['verdict']})")
                    else:
                        why = f"the only usable product for {sd.label} on day {d}"
                    if s["verdict"] == "caution":
                        why += "; nothing suitable without a caution was on the shelf"
                    placed[step] = {
                        "step": step, "product_id": chosen.id, "name": chosen.name, "gap": None,
                        "verdict": s["verdict"], "score": s["score"],
                        "safe_from_day": chosen.safe_from_day, "why": why,
                        "reasons_for": json.loads(s["reasons_for"])[:3],
                        "cautions": open_cautions(chosen, d), "skipped": skipped,
                    }
                    placed_products.append(chosen)
                else:
                    look = sd.look_for_at(d)
                    if held and not any(usable(p, d) for p in on_step):
                        end, r = held[0]
                        gap = (f"nothing from your shelf yet: {r.label} (until day {end:g})"
                               + (f"; {r.note}" if r.note else ""))
                        reasons = [f"protocol rule {r.id}: {r.label}, avoid until day {end:g} "
                                   f"(source: {r.source})"]
                    else:
                        gap = GAP_PREFIX + look
                        if not on_step:
                            reasons = [f"no {sd.label.lower()} product on the shelf"]
                        else:
                            reasons = []
                            for p in on_step:
                                if slot not in p.slots:
                                    reasons.append(f"{p.name}: not in the {slot.upper()} "
                                                   f"routine ({p.slot_reason})")
                                elif p in placed_products:
                                    reasons.append(f"{p.name}: already used in this routine")
                                elif not usable(p, d):
                                    reasons.append(not_usable_reason(p, d))
                            reasons += skipped
                    placed[step] = {"step": step, "product_id": None, "name": None, "gap": gap,
                                    "look_for": look, "gap_reasons": reasons}
            entry[slot] = [placed[s] for s in STEP_IDS if s in placed]
            # Same-slot conflicts among what was placed (caution rules only, by construction).
            for i, a in enumerate(placed_products):
                for b in placed_products[i + 1:]:
                    for cl in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts):
                        key = (cl.rule.id, a.id, b.id)
                        together.setdefault(key, []).append({"day": d, "slot": slot,
                                                             "date": date.isoformat()})
        days_out.append(entry)

    by_id = {p.id: p for p in products}
    conflicts = []
    for (rid, aid, bid), occ in together.items():
        a, b = by_id[aid], by_id[bid]
        cl = next(c for c in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts)
                  if c.rule.id == rid)
        conflicts.append(conflicts_mod.conflict_record(
            cl, a.ref, b.ref, scope="same_slot", occurrences=occ,
            resolution="used together by this plan: a caution, not a block; consider "
                       "different routines"))
    eventually = [p for p in products if not p.unchecked_reason and not p.never]
    for i, a in enumerate(eventually):
        for b in eventually[i + 1:]:
            for cl in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts):
                if (cl.rule.id, a.id, b.id) in together or (cl.rule.id, b.id, a.id) in together:
                    continue
                res = ("the plan never puts them in the same routine; do not layer them"
                       if cl.rule.severity == "avoid"
                       else "not used together in this plan; if layered, expect the caution")
                conflicts.append(conflicts_mod.conflict_record(cl, a.ref, b.ref, scope="shelf",
                                                               resolution=res))

    baseline = max([end for end, _ in blanket] or [0.0])
    first_placed: dict[str, int] = {}
    for day in days_out:
        for slot in ("am", "pm"):
            for pl in day[slot]:
                if pl["product_id"] is not None:
                    first_placed.setdefault(pl["product_id"], day["day"])
    reintroduce, shelf_out, stops = [], [], []
    for p in products:
        s0 = p.by_day[first]
        flags0 = json.loads(s0["flags"])
        held_back = [f for f in flags0 if any(st["severity"] == "avoid" for st in f["stages"])
                     and not (f["scope"] == "product" and f["rule"] in {r.id for _, r in blanket})]
        why = [{"reason": f["reason"], "ingredient": f["ingredient"], "position": f["position"],
                "rule": f["rule"], "until_day": max([st["until_day"] for st in f["stages"]
                                                     if st["severity"] == "avoid"
                                                     and st["until_day"] is not None] or [None],
                                                    key=lambda x: -1 if x is None else x),
                "never": f["never"], "source": f["source"], "evidence": f["evidence"]}
               for f in held_back]
        sfd = p.safe_from_day
        first_day = None if p.never or sfd is None or p.unchecked_reason else _first_day(sfd)
        shelf_out.append({
            "product_id": p.id, "name": p.name, "category": p.row["category"], "step": p.step,
            "step_reason": p.step_reason, "slots": list(p.slots), "slot_reason": p.slot_reason,
            "status": ("unchecked" if p.unchecked_reason else "never" if p.never else "ok"),
            "safe_from_day": sfd, "first_day": first_day,
            "first_placed_day": first_placed.get(p.id),
        })
        if p.unchecked_reason:
            reintroduce.append({"product_id": p.id, "name": p.name, "step": p.step,
                                "status": "unchecked", "safe_from_day": None, "first_day": None,
                                "date": None, "reasons": [{"reason": p.unchecked_reason}],
                                "first_placed_day": None})
        elif p.never:
            reintroduce.append({"product_id": p.id, "name": p.name, "step": p.step,
                                "status": "never", "safe_from_day": None, "first_day": None,
                                "date": None, "reasons": [w for w in why if w["never"]] or why,
                                "first_placed_day": None})
        elif sfd is not None and sfd > baseline:
            fp = first_placed.get(p.id)
            reintroduce.append({
                "product_id": p.id, "name": p.name, "step": p.step, "slots": list(p.slots),
                "status": "from_day", "safe_from_day": sfd, "first_day": first_day,
                "date": (treated + dt.timedelta(days=first_day)).isoformat(),
                "reasons": why, "first_placed_day": fp,
                "note": ("" if fp is not None else
                         f"usable from day {first_day} but another {p.step} product scored "
                         "higher on every listed day; the client may switch to it"),
            })
        if not p.unchecked_reason:
            rec = stop_record(p.row, p.classes, rules.stop_before, treated, next_day)
            if rec is not None and not p.never:
                stops.append(rec)
    reintroduce.sort(key=lambda r: (r["first_day"] if r["first_day"] is not None else 10**6,
                                    r["product_id"]))
    stops.sort(key=lambda r: (r["stop_from_day"], r["product_id"]))

    return Regimen(
        treatment={**treatment.to_dict(), "factor": factor,
                   "modality_label": protocol.modality_label(treatment.modality)},
        client=client.to_dict(),
        protocol={"name": protocol.name, "version": protocol.version,
                  "disclaimer": protocol.disclaimer, "path": protocol.path},
        next_session={"date": (treated + dt.timedelta(days=next_day)).isoformat(),
                      "day": next_day, "given": next_session is not None},
        phases=phases,
        steps=[{"id": s.id, "label": s.label, "slots": list(s.slots)} for s in rules.steps.steps],
        shelf=shelf_out, days=days_out, reintroduce=reintroduce, conflicts=conflicts,
        stop_before_next=stops, clinic=clinic or None, notes=notes,
        generated={"skinrec_version": __version__, "models": models,
                   "seconds": round(time.perf_counter() - t0, 3),
                   "rules": {"steps": rules.steps.source, "evidence": rules.steps.evidence}},
        disclaimer=DISCLAIMER,
    )
