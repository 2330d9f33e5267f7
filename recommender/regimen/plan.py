"""``build_regimen``: a day-by-day post-treatment plan from the clinic's shelf.

Which need it answers (issue #7): "given a treatment, a client and a shelf, what does the
client put on their skin each morning and evening until the next session, what comes back
when, what clashes, and what to stop before the next session?" No rule lives here: the
verdicts, safe days and scores come from :func:`recommender.scoring.score_frame` (the one
scoring path, through a PreparedCatalog of the shelf so each list is read once), called once per listed day for this client (day d covers [d, d+1) days
after treatment and is scored at t = d); steps, conflicts, stops and phases come from
data/regimen/*.yaml. This module only orchestrates:

1. check the inputs (shelf, dates, the client's context) -> :class:`RegimenError`;
2. read each product once (classes with positions, step, slots: actives.py, steps.py);
3. score the shelf for each listed day (0 .. max(14, latest window end) - 1, then one entry
   "until the next session");
4. fill each routine (placement.py), collect same-slot conflicts (conflicts.py);
5. shelf-level conflicts, reintroduction (reintroduce.py), stops (stop_before.py).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from recommender import DISCLAIMER, __version__
from recommender.regimen import conflicts as conflicts_mod
from recommender.regimen import reintroduce as reintroduce_mod
from recommender.regimen.actives import class_mentions
from recommender.regimen.model import Client, Regimen, RegimenError, Treatment, parse_date
from recommender.regimen.phases import make_phases, phase_of, window_ends
from recommender.regimen.placement import GAP_PREFIX, ShelfItem, fill_routine
from recommender.regimen.rules import RegimenRules, default_rules
from recommender.regimen.shelf import normalise_shelf
from recommender.regimen.steps import allowed_slots, assign_step
from recommender.regimen.stop_before import stop_record
from recommender.safety import Protocol, default_protocol
from recommender.scoring import make_score_context
from recommender.scoring.prepared import PreparedCatalog

__all__ = ["GAP_PREFIX", "build_regimen"]


def _num(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _blanket_rules(protocol: Protocol, factor: float) -> list[tuple[float, object]]:
    """(avoid end, rule) of product-level rules on every product (the first 24 hours)."""
    out = []
    for r in protocol.rules:
        if r.scope == "product" and r.product == "all" and r.when is None:
            end = max((s.until for s in r.stages if s.severity == "avoid"), default=0.0)
            out.append((end * (factor if r.scaled else 1.0), r))
    return out


def _read_shelf(shelf: pd.DataFrame, rules: RegimenRules) -> list[ShelfItem]:
    from recommender.knowledge.reader import default_reader

    reader = default_reader()
    items = []
    for row in shelf.to_dict("records"):
        classes = class_mentions(reader.read(row["ingredients"]), rules.conflicts.ignore)
        step, step_reason = assign_step(row["name"], row["category"], row["step"], classes,
                                        rules.steps)
        slots, slot_reason = allowed_slots(rules.steps.step(step).slots, classes, rules.steps)
        items.append(ShelfItem(row, classes, step, step_reason, slots, slot_reason))
    return items


def _score_days(shelf: pd.DataFrame, items: list[ShelfItem], ctx0, days: list[int]) -> dict:
    """Fill each item's ``by_day`` from score_frame; returns the model versions used."""
    # The shelf is read and its learned (person- and day-independent) columns predicted
    # once; every day is then scored through score_frame with those reads.
    shelf_pc = PreparedCatalog(shelf[["product_id", "name", "category", "ingredients"]],
                               use_models=ctx0.use_models)
    models: dict = {}
    for d in days:
        scored = shelf_pc.score(replace(ctx0, safety=ctx0.safety.at(float(d))))
        models = {c: str(scored[c].iloc[0]) for c in scored.columns
                  if c.endswith("_model_version")}
        for p, (_, r) in zip(items, scored.iterrows(), strict=True):
            p.by_day[d] = {
                "verdict": r["verdict"], "safe_from_day": _num(r["safe_from_day"]),
                "score": _num(r["post_needling_score"]), "flags": r["flags"],
                "reasons_for": r["reasons_for"], "status": r["status"],
                "never_safe": bool(r["never_safe"]), "n_ingredients": int(r["n_ingredients"]),
                "n_unrecognized": int(r["n_unrecognized"]),
            }
    for p in items:
        p.settle(days[0])
    return models


def _conflicts(items: list[ShelfItem], together: dict, rules: RegimenRules) -> list[dict]:
    by_id = {p.id: p for p in items}
    out = []
    for (rid, aid, bid), occ in together.items():
        a, b = by_id[aid], by_id[bid]
        cl = next(c for c in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts)
                  if c.rule.id == rid)
        out.append(conflicts_mod.conflict_record(
            cl, a.ref, b.ref, scope="same_slot", occurrences=occ,
            resolution="used together by this plan: a caution, not a block; consider "
                       "different routines"))
    eventually = [p for p in items if not p.unchecked_reason and not p.never]
    for i, a in enumerate(eventually):
        for b in eventually[i + 1:]:
            for cl in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts):
                if (cl.rule.id, a.id, b.id) in together or (cl.rule.id, b.id, a.id) in together:
                    continue
                res = ("the plan never puts them in the same routine; do not layer them"
                       if cl.rule.severity == "avoid"
                       else "not used together in this plan; if layered, expect the caution")
                out.append(conflicts_mod.conflict_record(cl, a.ref, b.ref, scope="shelf",
                                                         resolution=res))
    return out


def build_regimen(shelf: pd.DataFrame, treatment: Treatment, client: Client | None = None,
                  protocol: Protocol | None = None, *, next_session: dt.date | str | None = None,
                  clinic: str | None = None, rules: RegimenRules | None = None,
                  use_models: bool = True) -> Regimen:
    """Build the plan. Bad input raises :class:`RegimenError` (ShelfError is one) with a
    message for the user. ``use_models=False`` skips the learned models (ranking by the
    rule-based terms only; safety is unchanged)."""
    t0 = time.perf_counter()
    rules = rules or default_rules()
    client = client or Client()
    if not isinstance(treatment, Treatment):
        raise RegimenError("treatment must be a Treatment(date, depth_mm, modality, area)")
    protocol = protocol or default_protocol()
    shelf = normalise_shelf(shelf)
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
    latest_end = max(window_ends(protocol, factor) or [0.0])
    horizon = min(next_day, max(rules.phases.min_days_listed, math.ceil(latest_end)))
    day_list = list(range(horizon)) + ([horizon] if horizon < next_day else [])
    notes: list[str] = []
    if latest_end > next_day:
        notes.append(f"a protocol window ends on day {latest_end:g}, after the next session "
                     f"(day {next_day}): ask the provider before the next session")

    items = _read_shelf(shelf, rules)
    models = _score_days(shelf, items, ctx0, day_list)
    blanket = _blanket_rules(protocol, factor)
    phases = make_phases(protocol, factor, rules.phases, next_day)
    session_date = treated + dt.timedelta(days=next_day)

    days_out = []
    together: dict[tuple, list[dict]] = {}
    first_placed: dict[str, int] = {}
    for d in day_list:
        date = treated + dt.timedelta(days=d)
        phase = phase_of(d, phases)
        entry = {"day": d, "date": date.isoformat(), "phase": phase["label"],
                 "phase_id": phase["id"], "until_day": d + 1 if d < horizon else next_day,
                 "am": [], "pm": [], "notes": []}
        if d == horizon:
            entry["notes"].append(f"this routine holds from day {d} until the next session "
                                  f"on {session_date.isoformat()}")
        held = [(end, r) for end, r in blanket if d < end]
        for slot in ("am", "pm"):
            entry[slot], placed = fill_routine(items, slot, d, rules, held)
            for p in placed:
                first_placed.setdefault(p.id, d)
            # Same-slot conflicts among what was placed (caution rules only, by construction).
            for i, a in enumerate(placed):
                for b in placed[i + 1:]:
                    for cl in conflicts_mod.pair_clashes(a.classes, b.classes, rules.conflicts):
                        together.setdefault((cl.rule.id, a.id, b.id), []).append(
                            {"day": d, "slot": slot, "date": date.isoformat()})
        days_out.append(entry)

    reintroduce, shelf_out = reintroduce_mod.records(
        items, day_list[0], max([end for end, _ in blanket] or [0.0]),
        {r.id for _, r in blanket}, first_placed, treated)
    stops = [rec for p in items if not p.unchecked_reason and not p.never
             for rec in [stop_record(p.row, p.classes, rules.stop_before, treated, next_day)]
             if rec is not None]
    stops.sort(key=lambda r: (r["stop_from_day"], r["product_id"]))

    return Regimen(
        treatment={**treatment.to_dict(), "factor": factor,
                   "modality_label": protocol.modality_label(treatment.modality)},
        client=client.to_dict(),
        protocol={"name": protocol.name, "version": protocol.version,
                  "disclaimer": protocol.disclaimer,
                  "file": Path(protocol.path).name if protocol.path else None},
        next_session={"date": session_date.isoformat(), "day": next_day,
                      "given": next_session is not None},
        phases=phases,
        steps=[{"id": s.id, "label": s.label, "slots": list(s.slots)} for s in rules.steps.steps],
        shelf=shelf_out, days=days_out, reintroduce=reintroduce,
        conflicts=_conflicts(items, together, rules), stop_before_next=stops,
        clinic=clinic or None, notes=notes,
        generated={"skinrec_version": __version__, "models": models,
                   "seconds": round(time.perf_counter() - t0, 3),
                   "rules": {"steps": rules.steps.source, "evidence": rules.steps.evidence}},
        disclaimer=DISCLAIMER,
    )
