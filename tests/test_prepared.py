"""PreparedCatalog (the web app's catalog) ranks exactly as `skinrec recommend` does.

The prepared catalog estimates every product's verdict and score with numpy and re-scores
only the rows that can reach each list's top k through score_frame. These tests compare its
answers with recommend() over a whole real catalog (every row through score_frame) for
people who differ in every way the safety engine and the formula look at.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from recommender.recommend import recommend
from recommender.safety import load_protocol
from recommender.scoring import make_score_context, score_frame
from recommender.scoring.prepared import ESTIMATE_TOLERANCE, PreparedCatalog

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"

PEOPLE = [
    ({"day": 1, "depth": 1.0}, {"k": 10}),
    ({"day": 3, "depth": 0.5, "concerns": "dark spots,dryness", "skin_type": "dry"},
     {"k": 8, "budget": 40}),
    # a class, an INCI name and a word that resolves to nothing (matched as printed)
    ({"day": 7, "depth": 1.5, "avoid": "fragrance, niacinamide, unobtainium extract"},
     {"k": 10}),
    ({"hours": 36, "depth": 0.25, "pregnant": True, "concerns": "acne"}, {"k": 10, "strict": True}),
    ({"day": 5, "depth": 2.0, "modality": "rf", "skin_type": "oily,sensitive"}, {"k": 3}),
]


@pytest.fixture(scope="module")
def prepared(catalogs):
    return PreparedCatalog(catalogs("cosmetics_2017"), source="cosmetics_2017")


def _json(d: dict) -> str:
    return json.dumps(d, sort_keys=True, default=str)


@pytest.mark.parametrize(("person", "options"), PEOPLE)
def test_recommend_equals_the_full_scoring_path(prepared, person, options):
    ctx = make_score_context(**person)
    fast = prepared.recommend(ctx, **options)
    full = recommend(prepared.frame, ctx, **options)
    assert _json(fast) == _json(full)
    if "budget" not in options and not options.get("strict"):
        assert sum(fast["counts"][k] for k in ("use_now", "later", "avoid")) == len(prepared)


def test_printed_prices_read_once_give_the_full_paths_answer(catalogs):
    """Prices as a catalog prints them (text with a currency sign, a thousands comma, a
    decimal comma, nothing, words) are parsed once per prepared catalog: the items' prices,
    the budget's exclusions and counts are what recommend() gives reading them per row."""
    df = catalogs("cosmetics_2017").iloc[:1500].reset_index(drop=True)
    texts = ["$12.50", "1,234.5", "19,99", "", None, "N/A", "45", " 7.25 ", "£30", "free"]
    df["price"] = [texts[i % len(texts)] for i in range(len(df))]
    pc = PreparedCatalog(df, source="priced")
    for person, options in [({"day": 2}, {"k": 20}), ({"day": 6, "depth": 0.5}, {"k": 15,
                            "budget": 20.0}), ({"day": 1, "avoid": "fragrance"},
                            {"k": 10, "budget": 1000.0})]:
        ctx = make_score_context(**person)
        fast = pc.recommend(ctx, with_flags=True, **options)
        full = recommend(pc.frame, ctx, with_flags=True, **options)
        assert _json(fast) == _json(full)
        prices = {it["price"] for name in ("use_now", "later") for it in fast[name]}
        assert len(prices - {None}) > 2


def test_clinic_protocol_changes_the_prepared_answer_as_it_does_the_full_one(prepared):
    clinic = load_protocol(CLINIC)
    ctx = make_score_context(day=5.5, protocol=clinic)
    fast = prepared.recommend(ctx, k=50)
    assert _json(fast) == _json(recommend(prepared.frame, ctx, k=50))
    default = prepared.recommend(make_score_context(day=5.5), k=50)
    assert fast["counts"] != default["counts"]


@pytest.mark.parametrize("person", [
    {"day": 2, "depth": 1.0, "concerns": "fine lines", "skin_type": "dry"},
    *(p for p, _ in PEOPLE[1:]),
    {"hours": 30.5, "depth": 1.23, "concerns": "dark spots,acne,dryness", "use_models": False},
])
def test_estimates_agree_with_score_frame_on_every_row(prepared, person):
    """Verdicts, never-safe and safe-from day are exact; the score estimate within one
    rounding step (0.1)."""
    ctx = make_score_context(**person)
    est = prepared.estimate(ctx)
    scored = score_frame(prepared.frame, ctx)
    assert list(est["verdict"]) == scored["verdict"].tolist()
    assert np.array_equal(est["never_safe"], scored["never_safe"].to_numpy())
    np.testing.assert_array_equal(est["safe_from_day"], scored["safe_from_day"].to_numpy())
    # within one rounding step: what SCORE_MARGIN (the rows re-scored for the first k) rests on
    np.testing.assert_allclose(est["score"], scored["post_needling_score"].to_numpy(),
                               atol=ESTIMATE_TOLERANCE, rtol=0, equal_nan=True)
    np.testing.assert_allclose(est["score_when_safe"], scored["score_when_safe"].to_numpy(),
                               atol=ESTIMATE_TOLERANCE, rtol=0, equal_nan=True)


def test_score_and_product_lookup(prepared):
    ids = prepared.frame["product_id"].iloc[[0, 5, 17]].tolist()
    ctx = make_score_context(day=4)
    got = prepared.score(ctx, ids)
    want = score_frame(prepared.frame.iloc[[0, 5, 17]], ctx)
    assert got["post_needling_score"].tolist() == pytest.approx(
        want["post_needling_score"].tolist(), nan_ok=True)
    assert got["flags"].tolist() == want["flags"].tolist()
    assert prepared.product(ids[1])["product_id"] == ids[1]
    assert prepared.product("no-such-id") is None
    with pytest.raises(KeyError, match="no-such-id"):
        prepared.score(ctx, ["no-such-id"])


def test_kept_answers_per_stretch_of_time_equal_fresh_ones(prepared):
    """The verdicts and risk terms kept per interval of t between the safety table's ends
    are what a fresh computation gives at every hour of a fortnight, asked in an order that
    reuses them (0.5 h steps cross every window end of the default protocol at 1.0 mm)."""
    ctx = make_score_context(day=0, depth=1.0)
    table, outside = prepared._table(ctx)
    assert not outside
    hours = list(np.arange(0.0, 14 * 24 + 1, 0.5)) * 2
    for h in hours:
        t = h / 24.0
        kept = prepared._timed(table, t, ctx.weights)
        fresh = table.timed(t, ctx.weights, table.avoid_end)
        for a, b in zip(kept[:4], fresh, strict=True):      # then the estimate's scales
            np.testing.assert_array_equal(a, b)
    intervals = {int(np.searchsorted(table.ends, h / 24.0, side="right")) for h in hours}
    assert len(intervals) > 3                     # the walk crossed window ends
    mine = [k for k in prepared._timed_kept if k[0] == id(table)]
    assert len(mine) == len(intervals)            # one kept answer per stretch, not per hour


@pytest.mark.parametrize("avoid", ["fragrance", "niacinamide, Limonene", "Linalool, Lanolin",
                                   "unobtainium extract"])
def test_avoid_list_answers_from_the_kept_ones_equal_fresh_ones(prepared, avoid):
    """With an avoid-list (a rule that never closes) the verdicts and risk terms are the
    kept answer without it, changed only on the products the list hits: what the table
    computes afresh with those products' avoid ends at infinity, at every half day."""
    from recommender.scoring.prepared import _with_avoid

    for depth, pregnant in ((1.0, False), (0.5, True), (2.0, False)):
        ctx = make_score_context(day=0, depth=depth, avoid=avoid, pregnant=pregnant)
        table, outside = prepared._table(ctx)
        assert outside
        hits = prepared._avoid_hits(ctx.safety.avoid, ctx.active_protocol)
        avoid_end = np.where(hits, np.inf, table.avoid_end)
        for t in np.arange(0.0, 15.0, 0.5):
            code, code_later, keep_now, keep_later, *_ = prepared._timed(table, t, ctx.weights)
            c, c_later, k_later = _with_avoid(hits, code, code_later, keep_now, keep_later)
            got = (c, c_later, keep_now, k_later)
            fresh = table.timed(t, ctx.weights, avoid_end)
            for a, b in zip(got, fresh, strict=True):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
    if avoid != "unobtainium extract":
        assert hits.any()


def _candidates_by_sorting(mask, group, s, row, k, margin):
    """The definition candidate_rows implements, by sorting every row."""
    idx = np.flatnonzero(mask)
    if len(idx) <= k:
        return idx
    g, v, r = group[idx], s[idx], row[idx]
    order = np.lexsort((r, np.where(np.isnan(v), np.inf, -v), g))
    kth = order[k - 1]
    same = g == g[kth]
    near = same & ((~np.isnan(v) | (r <= r[kth])) if np.isnan(v[kth]) else
                   (v >= v[kth] - margin))
    return idx[(g < g[kth]) | near]


def test_candidate_rows_equal_the_sorting_definition():
    """Partition-based candidate_rows picks exactly the rows the full sort picks: ties,
    NaN scores (k-th inside the NaNs too), groups (numbers, booleans, one group given as
    None), every margin the catalog uses."""
    from recommender.scoring.prepared import BENEFIT_MARGIN, SCORE_MARGIN, candidate_rows

    rng = np.random.default_rng(0)
    kth_nan = 0
    for _ in range(5000):
        n = int(rng.integers(0, 60))
        mask = rng.random(n) < rng.random()
        kind = int(rng.integers(0, 3))
        group = (rng.integers(0, 3, n).astype(float), rng.random(n) < 0.5, np.zeros(n))[kind]
        s = np.round(rng.random(n) * 10, int(rng.integers(0, 2)))
        s[rng.random(n) < rng.random() * 0.6] = np.nan
        row = rng.permutation(n) + 1
        k = int(rng.integers(1, 12))
        margin = float(rng.choice([0.0, SCORE_MARGIN, BENEFIT_MARGIN]))
        want = _candidates_by_sorting(mask, group, s, row, k, margin)
        got = candidate_rows(mask, None if kind == 2 else group, s, row, k, margin)
        np.testing.assert_array_equal(got, want)
        kth_nan += bool(len(want) > k and np.isnan(s[want]).any())
    assert kth_nan > 20          # NaN-scored rows reached the candidates in many draws


def test_kept_absorption_is_the_plans_answer(prepared):
    """The shown rows' absorption is kept per (time, depth, product): asked again, alone or
    with other rows, in another order, the plan's own answer for those rows."""
    m = prepared.models
    assert m.plan is not None, "the committed absorption model is not loaded"
    rng = np.random.default_rng(3)
    asked = [(24.0, 1.0), (30.5, 0.75), (24.0, 1.0), (0.0, 2.0), (30.5, 0.75), (24.0, 0.5)]
    for hours, depth in asked:
        rows = rng.choice(len(prepared), 60, replace=False).tolist()
        rows = rows + rows[:7]                       # some rows twice in one call
        index, x = m.plan.at(hours, depth_mm=depth, rows=rows)
        got_index, got_x = m._absorption(hours, depth, rows)
        np.testing.assert_array_equal(np.array(got_index), index)
        np.testing.assert_array_equal(np.array(got_x), x)
        assert np.isfinite(index).any() and np.isfinite(x).any()
