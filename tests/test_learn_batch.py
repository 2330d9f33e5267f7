"""Batch paths of the learned models give the same numbers as the per-product ones.

- ``features.featurize_many`` / ``transform_parsed_many`` (per-name caches, one knowledge
  block per product shared by the concern and skin-type featurizers, CSR written directly)
  against the per-row loop the featurizer used before (kept here verbatim as the
  reference): equal value for value, column order included.
- ``absorption.product_absorption_many`` (one permeability call per batch) against
  ``product_absorption(detail=False)`` product by product.

Real lists from the three catalogs of the data directory.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recommender.learn import features as F


def _reference_matrix(self, parsed, cats) -> sp.csr_matrix:
    """IngredientFeaturizer._matrix before the batch path (commit 2220821), verbatim."""
    vocab = self.vocabulary_
    n_tok = len(vocab)
    wvocab = self.word_vocabulary_
    n_words = len(wvocab)
    cls_index = {c: i for i, c in enumerate(self.class_names_)}
    n_cls = len(cls_index)
    groups = tuple(F.FEATURE_GROUPS)
    g_index = {g: i for i, g in enumerate(groups)}
    off_cls = n_tok + n_words
    off_func = off_cls + 2 * n_cls
    off_grp = off_func + (len(F.FUNCTIONS) if self.functions else 0)
    off_agg = off_grp + (2 * len(groups) if self.groups else 0)
    off_cat = off_agg + (len(F.AGGREGATES) if self.aggregates else 0)
    cat_index = {c: i for i, c in enumerate(self.categories_)}
    FI = F._FUNC_INDEX

    rows, cols, vals = [], [], []
    for r, (p, cat) in enumerate(zip(parsed, cats, strict=True)):
        weights = F._product_weights(p, self.weighting)
        feats: dict[int, float] = {}
        for name, w in weights.items():
            j = vocab.get(name)
            if j is not None:
                feats[j] = w
            if n_words:
                for word in F._words(name):
                    k = wvocab.get(word)
                    if k is not None and w > feats.get(n_tok + k, 0.0):
                        feats[n_tok + k] = w
        if n_cls:
            seen: dict[str, set] = {}
            for name, _pos, _comp, classes in p:
                for c in classes:
                    if c in cls_index:
                        seen.setdefault(c, set()).add(name)
            for c, members in seen.items():
                i = cls_index[c]
                feats[off_cls + 2 * i] = float(len(members))
                feats[off_cls + 2 * i + 1] = max(weights[m] for m in members)
        if self.functions or self.groups or self.aggregates:
            total_w = sum(weights.values()) or 1.0
            func_w = np.zeros(len(F.FUNCTIONS))
            grp_n = np.zeros(len(groups))
            grp_top = np.zeros(len(groups))
            n_allergen = 0
            n_unknown = 0
            kow_sum = kow_w = mw_sum = 0.0
            hum_w = emo_w = 0.0
            for name, w in weights.items():
                funcs, allergen, logkow, mw, grps = F._name_info(name)
                if name.startswith("?"):
                    n_unknown += 1
                for fi in funcs:
                    func_w[fi] += w
                for g in grps:
                    gi = g_index[g]
                    grp_n[gi] += 1
                    grp_top[gi] = max(grp_top[gi], w)
                n_allergen += bool(allergen)
                if logkow is not None:
                    kow_sum += w * logkow
                    kow_w += w
                if mw is not None and mw > 0:
                    mw_sum += w * math.log(mw)
                if FI["HUMECTANT"] in funcs or FI["SKIN CONDITIONING - HUMECTANT"] in funcs:
                    hum_w += w
                if FI["SKIN CONDITIONING - EMOLLIENT"] in funcs or \
                        FI["SKIN CONDITIONING - OCCLUSIVE"] in funcs:
                    emo_w += w
            if self.functions:
                for fi in np.flatnonzero(func_w):
                    feats[off_func + int(fi)] = float(func_w[fi] / total_w)
            if self.groups:
                for gi in np.flatnonzero(grp_n):
                    feats[off_grp + int(gi)] = float(grp_n[gi])
                    feats[off_grp + len(groups) + int(gi)] = float(grp_top[gi])
            if self.aggregates:
                n = len(weights)
                first = min(p, key=lambda e: (e[2], e[1]))[0] if p else ""
                agg = (
                    math.log1p(n),
                    n_unknown / n if n else 0.0,
                    float(n_allergen),
                    hum_w / total_w,
                    emo_w / total_w,
                    kow_sum / kow_w if kow_w else 0.0,
                    kow_w / total_w,
                    mw_sum / total_w,
                    float(len({e[2] for e in p})),
                    1.0 if first in ("AQUA", "WATER") else 0.0,
                )
                for k, v in enumerate(agg):
                    if v:
                        feats[off_agg + k] = float(v)
        if cat_index:
            feats[off_cat + cat_index.get(cat, cat_index["other"])] = 1.0
        for j in sorted(feats):
            rows.append(r)
            cols.append(j)
            vals.append(feats[j])
    return sp.csr_matrix(
        (np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64),
                                              np.asarray(cols, dtype=np.int64))),
        shape=(len(parsed), self.n_features_out_),
    )


def _same(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    """Same shape, same stored entries in the same order, bit-identical values."""
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)      # exact: no tolerance


@pytest.fixture(scope="module")
def real_lists(catalogs):
    """~1,300 real products from the three catalogs: (texts, categories, ParsedLists)."""
    from recommender.knowledge.reader import default_reader

    frames = [catalogs("sephora_2023").iloc[::12], catalogs("cosmetics_2017").iloc[::4],
              catalogs("lookfantastic_2020").iloc[::4]]
    df = pd.concat(frames, ignore_index=True)
    texts = df["ingredients"].fillna("").astype(str).tolist()
    cats = df["category"].tolist()
    parsed = default_reader().read_many(texts)
    return texts, cats, parsed


@pytest.fixture(scope="module")
def committed():
    from recommender.learn import evaluate_models as E

    cm, sm, _v = E.load_models()
    return cm, sm


def test_committed_featurizers_match_the_reference(real_lists, committed):
    _texts, cats, parsed = real_lists
    entries = [F.from_parsed_list(p) for p in parsed]
    coarse = [F.coarse_category(c) for c in cats]
    cm, sm = committed
    fc, fs = cm.featurizer_, sm.model_.featurizer_
    ref_c = _reference_matrix(fc, entries, coarse)
    ref_s = _reference_matrix(fs, entries, coarse)
    assert ref_c.nnz > 10 * len(entries)
    for _ in range(2):                      # cold, then with every per-name cache warm
        _same(fc.transform_parsed(entries, cats), ref_c)
        _same(fs.transform_parsed(entries, cats), ref_s)
        shared_c, shared_s = F.transform_parsed_many([fc, fs], entries, cats)
        _same(shared_c, ref_c)
        _same(shared_s, ref_s)
    # equal featurizers share one matrix
    a, b = F.transform_parsed_many([fc, fc], entries, cats)
    assert a is b
    _same(a, ref_c)


def test_other_feature_blocks_match_the_reference(real_lists):
    texts, cats, parsed = real_lists
    entries = [F.from_parsed_list(p) for p in parsed]
    coarse = [F.coarse_category(c) for c in cats]
    frame = pd.DataFrame({"ingredients": texts[:300], "category": cats[:300]})
    variants = [
        dict(weighting="step", words=False),
        dict(weighting="binary", classes=False, groups=False),
        dict(functions=False, aggregates=False, category=False, tokens=False),
        dict(functions=False, groups=False, aggregates=False),
    ]
    fitted = [F.IngredientFeaturizer(min_df=2, disk_cache=False, **v).fit(frame)
              for v in variants]
    shared = F.transform_parsed_many(fitted, entries, cats)
    for f, X in zip(fitted, shared, strict=True):
        ref = _reference_matrix(f, entries, coarse)
        _same(f.transform_parsed(entries, cats), ref)
        _same(X, ref)


def test_refit_and_bounded_caches(real_lists, monkeypatch):
    texts, cats, parsed = real_lists
    entries = [F.from_parsed_list(p) for p in parsed]
    coarse = [F.coarse_category(c) for c in cats]
    a = pd.DataFrame({"ingredients": texts[:200], "category": cats[:200]})
    b = pd.DataFrame({"ingredients": texts[200:500], "category": cats[200:500]})
    f = F.IngredientFeaturizer(min_df=2, disk_cache=False).fit(a)
    f.transform_parsed(entries, cats)
    f.fit(b)                                # new vocabularies: no stale column is used
    fresh = F.IngredientFeaturizer(min_df=2, disk_cache=False).fit(b)
    _same(f.transform_parsed(entries, cats), _reference_matrix(fresh, entries, coarse))
    # per-name caches stay bounded (unknown names are not bounded by the KB)
    import weakref

    monkeypatch.setattr(F, "NAME_CACHE_LIMIT", 50)
    for cache in ("_KNOWLEDGE_CACHE", "_INFO_CACHE", "_WORD_CACHE"):
        monkeypatch.setattr(F, cache, {})
    monkeypatch.setattr(F, "_VOCAB_COLUMNS", weakref.WeakKeyDictionary())
    _same(f.transform_parsed(entries, cats), _reference_matrix(fresh, entries, coarse))
    assert len(F._KNOWLEDGE_CACHE) <= 50 and len(F._INFO_CACHE) <= 50
    assert len(F._WORD_CACHE) <= 50
    assert len(F._vocab_columns(f)) <= 50


def test_shared_prediction_equals_separate(real_lists, committed):
    texts, cats, parsed = real_lists
    from recommender.learn import evaluate_models as E

    cm, sm = committed
    entries = [F.from_parsed_list(p) for p in parsed]
    got = E.predict(pd.DataFrame({"ingredients": texts, "category": cats}), parsed=parsed)
    concern = cm.predict_proba_parsed(entries, cats)        # each featurizes on its own
    skin = sm.predict_proba_parsed(entries, cats)
    assert np.array_equal(got[[f"concern_{c}" for c in cm.labels_]].to_numpy(), concern,
                          equal_nan=True)
    assert np.array_equal(got[[f"skin_{t}" for t in sm.labels_]].to_numpy(), skin,
                          equal_nan=True)


@pytest.mark.parametrize(("t", "depth", "occluded"),
                         [(24.0, 1.0, False), (0.0, 0.25, False), (5.0, 2.0, True),
                          (72.0, 0.0, False)])
def test_product_absorption_many_equals_one_by_one(real_lists, t, depth, occluded):
    from recommender.learn import absorption as A

    _texts, _cats, parsed = real_lists
    parsed = parsed[:400]
    A.clear_cache()
    one = [A.product_absorption(p, t, depth_mm=depth, occluded=occluded, curve_hours=None,
                                detail=False) for p in parsed]
    A.clear_cache()                         # the batch predicts every ingredient in one call
    many = A.product_absorption_many(parsed, t, depth_mm=depth, occluded=occluded)
    assert len(many) == len(one)
    assert sum(v is not None for v, _x in many) > len(parsed) // 2
    for (v, x), res in zip(many, one, strict=True):
        assert v == res["absorption_index"] and x == res["x_vs_intact"]   # exact
    assert A.product_absorption_many([], t) == []
    with pytest.raises(ValueError, match="t_hours"):
        A.product_absorption_many(parsed[:1], -1.0)


def test_plan_rows_equal_one_by_one(real_lists):
    """AbsorptionPlan.at for some rows (the web app's shown rows: any order, repeats, none)
    gives product_absorption's numbers for those products, exactly, call after call (the
    time-free part of the terms is taken once per plan)."""
    from recommender.learn import absorption as A

    _texts, _cats, parsed = real_lists
    parsed = parsed[:300]
    plan = A.AbsorptionPlan([p if p.found else None for p in parsed])
    rng = np.random.default_rng(3)
    cases = [(0.0, 1.0, False), (24.0, 0.5, False), (36.5, 2.0, True), (200.0, 1.5, False),
             (12.0, 0.0, False)]
    for t, depth, occluded in cases:
        rows = rng.integers(0, len(parsed), 60).tolist() + [5, 5, 0]
        for ask in (rows, rows[::-1][:7], []):
            index, x = plan.at(t, depth_mm=depth, occluded=occluded, rows=ask)
            assert len(index) == len(x) == len(ask)
            for j, row in enumerate(ask):
                res = A.product_absorption(parsed[row], t, depth_mm=depth, occluded=occluded,
                                           curve_hours=None, detail=False)
                want_i, want_x = res["absorption_index"], res["x_vs_intact"]
                assert (math.isnan(index[j]) if want_i is None else index[j] == want_i)
                assert (math.isnan(x[j]) if want_x is None else x[j] == want_x)
        assert np.isfinite(plan.at(t, depth_mm=depth, occluded=occluded, rows=rows)[1]).any()


def test_num_rounds_as_the_format_text():
    from recommender.learn.absorption import _num

    rng = np.random.default_rng(5)
    values = np.concatenate([rng.uniform(0, 1e4, 20_000), 10 ** rng.uniform(-12, 12, 20_000),
                             [0.0, -0.0, 1.0, 999999.5, 9999.5, 0.000123455, math.inf]])
    for digits in (4, 6, 3):
        for v in values.tolist():
            assert _num(v, digits) == float(f"{v:.{digits}g}")
        assert _num(values[:50], digits) == [float(f"{v:.{digits}g}") for v in values[:50]]
    assert _num(None) is None and _num(np.float64(2.0)) == 2.0
