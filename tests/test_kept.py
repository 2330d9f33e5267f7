"""What the prepared catalog keeps across requests equals what a fresh computation gives.

recommender.scoring.kept keeps each shown product's safety part per (treatment, product,
stretch of t) and re-words it for other depths of the same factor; the prepared catalog
keeps avoid-list masks, per-product benefit parts and a sparse form of the uptake estimate.
These tests ask, on real products, in an order that reuses every kept answer, for contexts
that differ in every way a kept answer could wrongly ignore (day and hour, depth of the same
and of another factor, modality, pregnancy, avoid-lists that do and do not hit the product,
a clinic protocol, the compact flag detail) and compare with the engine and formula called
afresh.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.recommend import Recommender
from recommender.safety import assess, load_protocol
from recommender.safety.engine import _avoid_match
from recommender.scoring import make_score_context
from recommender.scoring.formula import (
    BENEFIT_LABELS,
    benefit_positions,
    benefit_term,
    position_weight,
)
from recommender.scoring.frame import benefit_part, safety_part, score_columns
from recommender.scoring.kept import SafetyParts
from recommender.scoring.prepared import PreparedCatalog

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"


@pytest.fixture(scope="module")
def prep(catalogs):
    df = catalogs("sephora_2023").sample(400, random_state=11).reset_index(drop=True)
    return PreparedCatalog(df, source="sephora_2023 sample")


def _contexts() -> list:
    clinic = load_protocol(CLINIC)
    out = []
    # one factor at several depths (0.5, 0.75, 1.2 mm), days inside and past every window,
    # whole and fractional: reused stretches, re-worded depths
    for depth in (0.5, 1.2, 0.75):
        for day in (0.0, 0.4, 1.0, 2.5, 3.0, 5.0, 7.25, 10.0, 14.0, 30.0):
            out.append(make_score_context(day=day, depth=depth))
    for day in (1.0, 4.0, 9.0):
        out.append(make_score_context(day=day, depth=2.0))                 # another factor
        out.append(make_score_context(day=day, depth=0.25))
        out.append(make_score_context(day=day, depth=1.0, modality="rf"))
        out.append(make_score_context(day=day, depth=1.0, modality="prp"))
        out.append(make_score_context(day=day, depth=1.0, pregnant=True))
        out.append(make_score_context(day=day, depth=1.0, avoid="fragrance"))
        out.append(make_score_context(day=day, depth=1.5, avoid="niacinamide, Limonene"))
        out.append(make_score_context(day=day, depth=0.5, avoid="unobtainium extract"))
        out.append(make_score_context(day=day, depth=1.0, pregnant=True, avoid="Linalool"))
        out.append(make_score_context(day=day + 0.5, depth=1.0, protocol=clinic))
        out.append(make_score_context(day=day, depth=1.2, flag_detail="compact"))
    out.append(make_score_context(hours=36, depth=0.5))
    return out


def _fresh_part(prep, row: int, ctx):
    a = assess(prep.parsed[row], ctx.safety, ctx.active_protocol, name=prep.names[row],
               category=prep.cats[row])
    return safety_part(a, ctx.weights, ctx.flag_detail, as_lists=True)


def _hits(prep, ctx):
    return prep._avoid_hits(ctx.safety.avoid, ctx.active_protocol) if ctx.safety.avoid \
        else None


def test_kept_safety_parts_equal_fresh_ones(prep, monkeypatch):
    import recommender.scoring.kept as kept

    reworded = []
    real = kept._reworded
    monkeypatch.setattr(kept, "_reworded", lambda *a: reworded.append(1) or real(*a))
    parts = SafetyParts(limit=100_000)
    rows = list(range(len(prep)))
    asked = 0
    for ctx in _contexts():
        hits = _hits(prep, ctx)
        get = parts.getter(ctx, rows, prep._assessor(rows, ctx, hits), hits)
        for i, row in enumerate(rows):
            assert get(i, prep.parsed[row]) == _fresh_part(prep, row, ctx), \
                (prep.frame["product_id"][row], ctx.safety)
            asked += 1
    assert len(parts) < asked / 5            # kept answers were reused, not recomputed
    kept_reworded = sum(len(slot[2][3]) for entry in parts._kept.values()
                        for slot in entry[3].values() if slot[2] is not None)
    assert len(reworded) >= kept_reworded > 500      # ... and re-worded for other depths


def test_a_small_bound_keeps_few_answers_and_they_stay_right(prep):
    parts = SafetyParts(limit=7)
    rows = list(range(60))
    for ctx in _contexts()[::4]:
        hits = _hits(prep, ctx)
        get = parts.getter(ctx, rows, prep._assessor(rows, ctx, hits), hits)
        for i, row in enumerate(rows):
            assert get(i, prep.parsed[row]) == _fresh_part(prep, row, ctx)
        assert len(parts) <= 7


def test_depths_typed_once_do_not_take_the_place_of_the_usual_ones(prep, monkeypatch):
    """Re-worded answers are kept for the depths asked again and again: when the first depths
    re-worded are one-offs of the same factor (0.51, 0.52, ... mm), and more come between the
    usual 0.5 and 0.75 mm, those two end up kept (not re-worded again), and every answer
    equals a fresh one."""
    import recommender.scoring.kept as kept

    reworded = []
    real = kept._reworded
    monkeypatch.setattr(kept, "_reworded", lambda *a: reworded.append(a[2]) or real(*a))
    parts = SafetyParts(limit=100_000)
    rows = list(range(0, len(prep), 4))
    one_off = [round(0.51 + 0.01 * i, 2) for i in range(22)]
    depths = [1.0, one_off[0], one_off[1]]           # the first depths seen are one-offs
    for d in one_off[2:]:
        depths += [0.5, d, 0.75]
    for depth in depths:
        ctx = make_score_context(day=2.0, depth=depth)
        get = parts.getter(ctx, rows, prep._assessor(rows, ctx), None)
        for i, row in enumerate(rows):
            assert get(i, prep.parsed[row]) == _fresh_part(prep, row, ctx)
    usual = [s for s in reworded if " 0.5 mm" in s or " 0.75 mm" in s]
    assert reworded and usual                    # the usual depths were re-worded ...
    n_usual = len(usual)
    for depth in (0.5, 0.75, 0.5):
        ctx = make_score_context(day=2.0, depth=depth)
        get = parts.getter(ctx, rows, prep._assessor(rows, ctx), None)
        for i, row in enumerate(rows):
            assert get(i, prep.parsed[row]) == _fresh_part(prep, row, ctx)
    # ... and then kept despite the one-off depths before and between them
    assert len([s for s in reworded if " 0.5 mm" in s or " 0.75 mm" in s]) == n_usual
    kept_suffixes = {s for entry in parts._kept.values() for slot in entry[3].values()
                     if slot[2] is not None for s in slot[2][3]}
    assert all(" 0.5 mm" in s or " 0.75 mm" in s for s in kept_suffixes)
    assert len(kept_suffixes) == 2


@pytest.mark.parametrize("avoid", ["fragrance", "niacinamide, Limonene", "Linalool",
                                   "unobtainium extract", "Dimethicone, essential oil"])
def test_avoid_masks_are_the_engines_matches(prep, avoid):
    """The kept mask marks exactly the products with a mention the engine matches (the
    key that lets every other product share the assessment made without the list)."""
    ctx = make_score_context(day=1, avoid=avoid)
    protocol = ctx.active_protocol
    count_may = protocol.may_contain_counts
    want = np.array([any(_avoid_match(m, ctx.safety) is not None for m in p.ingredients
                         if m.section != "may_contain" or count_may) for p in prep.parsed])
    got = prep._avoid_hits(ctx.safety.avoid, protocol)
    np.testing.assert_array_equal(got, want)
    assert prep._avoid_hits(ctx.safety.avoid, protocol) is got      # kept
    assert not got.flags.writeable


def test_benefit_parts_equal_the_formula(prep):
    ctx = make_score_context(day=1)
    w = ctx.weights
    vals = w.benefit_values
    parts, raw = prep._benefits(w)
    n_classes = 0
    for row, p in enumerate(prep.parsed):
        if not p.found:
            assert parts[row] is None and raw[row] == 0.0
            continue
        best, where = benefit_positions(p.ingredients, vals)
        ranked = sorted(best, key=lambda c: -vals[c] * position_weight(best[c]))
        contains = tuple(f"contains {BENEFIT_LABELS.get(c, c)}: {where[c]} "
                         f"(position {best[c]})" for c in ranked[:3])
        assert parts[row] == benefit_part(p.ingredients, w)
        assert (parts[row].best, parts[row].where, parts[row].contains) == \
            (best, where, contains)
        assert parts[row].term == raw[row] == benefit_term(best, w)
        n_classes += len(best)
    assert n_classes > 100


def test_scored_rows_with_kept_parts_equal_fresh_scoring(prep):
    """The shown rows' columns (prepared: kept safety and benefit parts) are what
    score_columns gives with nothing kept, for people of every kind, asked twice."""
    rows = np.arange(0, len(prep), 3)
    at = rows.tolist()
    ctxs = _contexts()[::3]
    ctxs += [make_score_context(day=2, depth=1.2, concerns="dark spots,dryness",
                                skin_type="dry"),
             make_score_context(day=6.5, depth=0.5, concerns="acne", skin_type="oily",
                                avoid="fragrance")]
    for ctx in ctxs + ctxs:
        got = prep._score_columns(rows, ctx)
        fresh = score_columns([prep.texts[i] for i in at], [prep.names[i] for i in at],
                              [prep.cats[i] for i in at], ctx, models=prep.models,
                              reader=prep.reader, as_lists=True)
        for col, v in fresh.items():
            assert json.dumps(got[col]) == json.dumps(v.tolist()), (col, ctx.safety)
        # the columns a ranking reads (the model columns taken by row: only the person's)
        want = Recommender(ctx).read_columns()
        some = prep._score_columns(rows, ctx, want)
        assert {c for c in fresh if c in want} <= set(some)
        assert not any(c.startswith(("concern_", "skin_")) for c in some)
        for col in fresh:
            if col in want:
                assert json.dumps(some[col]) == json.dumps(got[col]), (col, ctx.safety)


def test_kept_absorption_is_the_plans_and_bounded(prep, monkeypatch):
    """The shown rows' absorption kept per (time, depth) is the plan's own answer, asked
    again or not, and no more than ABSORPTION_KEPT rows are kept (whole times given up,
    the least recently asked first)."""
    import recommender.scoring.prepared as P

    models = prep.models
    monkeypatch.setattr(P, "ABSORPTION_KEPT", 150)
    models._abs_kept.clear()
    models._abs_rows = 0
    rows = np.flatnonzero(prep.found)[:60].tolist()
    times = [(h, d) for h in (0.0, 6.0, 30.0, 100.0) for d in (0.5, 1.0, 1.73)]
    for h, d in times + times[:3]:
        for part in (rows[:40], rows[20:]):          # half asked before, half new
            idx, x = models._absorption(h, d, part)
            want_idx, want_x = models.plan.at(h, depth_mm=d, rows=part)
            np.testing.assert_array_equal(np.array(idx), want_idx)
            np.testing.assert_array_equal(np.array(x), want_x)
            assert np.isfinite(want_x).sum() > 10
        assert models._abs_rows == sum(len(v) for v in models._abs_kept.values()) <= 150
        assert next(reversed(models._abs_kept)) == (h, d)
    assert len(models._abs_kept) == 2


def test_uptake_estimate_equals_the_per_term_sum(prep):
    """The sparse per-ratio sum gives the per-term sum's x vs intact (to rounding)."""
    from recommender.learn.absorption import LN2, t_half_hours

    plan = prep.models.plan
    sel = plan.model[plan.pair_key]
    key = plan.pair_key[sel]
    ratio = plan.channel[key] / plan.intact[key]
    for hours, depth in ((0.0, 1.0), (5.0, 0.5), (30.0, 2.0), (100.0, 1.5)):
        f_now = np.exp(-LN2 * hours / t_half_hours(depth))
        s = np.bincount(prep.up_prod, weights=prep.up_w * np.log(1.0 + f_now * ratio),
                        minlength=len(prep))
        with np.errstate(invalid="ignore", divide="ignore"):
            want = np.where(prep.up_wsum > 0, np.exp(s / prep.up_wsum), np.nan)
        got = prep._uptake(hours, depth)
        np.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)
        assert np.isfinite(got).sum() > 100


def test_kept_benefit_terms_equal_fresh_ones_and_keep_the_times_asked_again(prep):
    """The estimate's benefit terms kept per (time and depth, weights) are what a fresh
    estimate gives, for whole and fractional days, several depths and without the models;
    a time asked again is kept, one asked once is not (it would push out the common ones)."""
    import recommender.scoring.prepared as P

    def fresh(ctx):
        kept, seen = prep._uptakes.copy(), prep._uptakes_seen.copy()
        prep._uptakes.clear()
        prep._uptakes_seen.clear()
        try:
            return prep.estimate(ctx)
        finally:
            prep._uptakes.clear()
            prep._uptakes.update(kept)
            prep._uptakes_seen.clear()
            prep._uptakes_seen.update(seen)

    prep._uptakes.clear()
    prep._uptakes_seen.clear()
    ctxs = [make_score_context(day=d, depth=depth, concerns=c)
            for d in (0.0, 1.0, 2.5, 7.0) for depth in (0.5, 2.0) for c in ("", "acne")]
    ctxs.append(make_score_context(day=3, use_models=False))
    once = make_score_context(day=2.37, depth=1.23)
    for ctx in ctxs + [once] + ctxs + ctxs[::-1]:
        got, want = prep.estimate(ctx), fresh(ctx)
        assert got.keys() == want.keys()
        for k in want:
            np.testing.assert_array_equal(got[k], want[k])
    # 4 days x 2 depths, day 0 the same at both (every channel open), and no models
    assert len(prep._uptakes) == min(P.UPTAKE_KEPT, 8)
    f_once = list(prep._uptakes_seen)
    assert len(f_once) == 1 and f_once[0] not in prep._uptakes    # asked once: not kept
    assert all(not a.flags.writeable for _w, ans in prep._uptakes.values() for a in ans)
