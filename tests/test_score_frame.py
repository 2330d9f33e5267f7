"""score_frame, the one scoring path, on real products from the shared catalogs.

Pinned products (sephora_2023): P442540 Vitamin A Serum with 0.5% Retinol (retinol at 8:
avoid until 7), P502588 Eyebrow & Lash Enhancing Serum (panthenol, hyaluronic acid, nothing
flagged), P480152 The Shampoo (nothing flagged), P393401 Luminous Silk foundation
(alcohol at 6, fragrance: avoid until 3, caution until 7), P465326 Water Jelly primer.
Verdicts are checked against the safety engine itself (an independent path), so a
score_frame that re-implemented or dropped a rule would fail here.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommender.check import check, make_context
from recommender.safety import load_protocol
from recommender.scoring import (
    OUTPUT_COLUMNS,
    ColumnError,
    ScoreContext,
    Weights,
    resolve_columns,
    score_frame,
)
from recommender.scoring import make_score_context as _make
from recommender.scoring.formula import benefit_term, combine, gate
from recommender.scoring.frame import COMPACT_FLAG_KEYS
from recommender.scoring.learned import CONCERN_COLUMNS, SKIN_COLUMNS, default_models

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"
PINNED = ["P442540", "P502588", "P480152", "P393401", "P465326"]


def make_score_context(**kw):
    """Rules and formula tests run without the learned models (fast, and exact: the
    absorption factor depends on t); the learned columns have their own tests below."""
    kw.setdefault("use_models", False)
    return _make(**kw)


@pytest.fixture(scope="module")
def pinned(catalogs):
    df = catalogs("sephora_2023")
    sub = df[df["product_id"].isin(PINNED)].set_index("product_id").loc[PINNED].reset_index()
    assert len(sub) == len(PINNED)
    return sub


@pytest.fixture(scope="module")
def sample(catalogs):
    """300 real products from two catalogs (fixed rows, so failures reproduce)."""
    a = catalogs("sephora_2023").iloc[1000:1200]
    b = catalogs("cosmetics_2017").iloc[200:300]
    return pd.concat([a, b], ignore_index=True)


def by_id(out: pd.DataFrame, pid: str) -> pd.Series:
    return out.set_index("product_id").loc[pid]


# --- shape of the output ------------------------------------------------------------------


def test_keeps_input_columns_index_and_adds_contract_columns(pinned):
    df = pinned.copy()
    df.index = [f"r{i}" for i in range(len(df))]
    df["extra"] = range(len(df))
    out = score_frame(df, make_score_context(day=2))
    assert list(out.columns[: len(df.columns)]) == list(df.columns)
    assert list(out.columns[len(df.columns):]) == list(OUTPUT_COLUMNS)
    assert list(out.index) == list(df.index)
    pd.testing.assert_frame_equal(out[df.columns], df)
    for col in ("verdict", "safe_from_day", "post_needling_score", "flags", "gentleness",
                "absorption_index", "n_ingredients", "unrecognized", "post_procedure_friendly",
                "protocol_name", "protocol_version", "concern_model_version", *CONCERN_COLUMNS):
        assert col in out.columns


def test_empty_frame_has_the_same_schema(pinned):
    ctx = make_score_context(day=2)
    full = score_frame(pinned, ctx)
    empty = score_frame(pinned.iloc[:0], ctx)
    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)
    assert dict(empty.dtypes) == dict(full.dtypes)


def test_verdicts_agree_with_the_safety_engine(sample):
    for day in (1.5, 8):
        ctx = make_score_context(day=day)
        out = score_frame(sample, ctx)
        for (_, row), (_, src) in zip(out.iterrows(), sample.iterrows(), strict=True):
            res = check(src["ingredients"], ctx.safety, name=src["name"], category=src["category"])
            a = res.assessment
            assert row["verdict"] == a.verdict, (day, src["product_id"])
            if a.safe_from_day is None:
                assert math.isnan(row["safe_from_day"]) and row["never_safe"]
            else:
                assert row["safe_from_day"] == a.safe_from_day
            assert row["n_ingredients"] == len(res.parsed.ingredients)
            assert json.loads(row["unrecognized"]) == res.parsed.unrecognized


def test_flags_json_is_the_check_contract(sample):
    """The cached flag JSON equals Flag.to_dict() of the engine, flag for flag."""
    ctx = make_score_context(day=2)
    out = score_frame(sample, ctx)
    for (_, row), (_, src) in zip(out.iterrows(), sample.iterrows(), strict=True):
        res = check(src["ingredients"], ctx.safety, name=src["name"], category=src["category"])
        assert json.loads(row["flags"]) == [f.to_dict() for f in res.assessment.flags]


@pytest.mark.parametrize("kw", [dict(day=2), dict(day=8, modality="rf", depth=1.5),
                                dict(day=0.5, avoid=["niacinamide", "fragrance"], pregnant=True),
                                dict(day=4, protocol="clinic")])
def test_flags_text_is_byte_identical_to_dumping_to_dict(sample, kw):
    """The flags column is built from pieces (frame.flag_json); its text is exactly what
    json.dumps(Flag.to_dict()) writes (key order, escapes, floats, nulls), flag for flag."""
    from recommender.safety import assess
    from recommender.scoring.frame import flag_json

    if kw.get("protocol") == "clinic":
        kw = {**kw, "protocol": load_protocol(CLINIC)}
    ctx = make_score_context(**kw)
    out = score_frame(sample, ctx)
    n = 0
    for (_, row), (_, src) in zip(out.iterrows(), sample.iterrows(), strict=True):
        parsed = check(src["ingredients"], ctx.safety).parsed
        flags = assess(parsed, ctx.safety, ctx.active_protocol, name=src["name"],
                       category=src["category"]).flags
        dumped = [json.dumps(f.to_dict(), ensure_ascii=False, separators=(",", ":"))
                  for f in flags]
        assert [flag_json(f)[0] for f in flags] == dumped
        assert [flag_json(f)[1] for f in flags] == [f.reason for f in flags]
        assert row["flags"] == "[" + ",".join(dumped) + "]"
        n += len(dumped)
    assert n > 500


def test_compact_flags(pinned):
    ctx = ScoreContext(safety=make_context(day=2), flag_detail="compact")
    out = score_frame(pinned, ctx)
    flags = json.loads(by_id(out, "P442540")["flags"])
    assert all(tuple(f) == COMPACT_FLAG_KEYS for f in flags)
    retinol = [f for f in flags if f["rule"] == "retinoid"]
    assert retinol == [{"scope": "ingredient", "ingredient": "Retinol", "inci": "RETINOL",
                        "position": 8, "class": "retinoid", "rule": "retinoid",
                        "severity": "avoid", "until_day": 7.0, "open": True}]


# --- the score ---------------------------------------------------------------------------


def test_score_range_and_gate(sample):
    out = score_frame(sample, make_score_context(day=2))
    ok = out[out["status"] == "ok"]
    assert ok["post_needling_score"].between(0, 100).all()
    assert (ok.loc[ok["verdict"] == "avoid", "post_needling_score"] == 0).all()
    assert (ok.loc[ok["verdict"] != "avoid", "post_needling_score"] > 0).any()
    # once usable, the score is positive for most products
    safe = ok[ok["never_safe"] == False]  # noqa: E712
    assert safe["score_when_safe"].notna().all()
    assert (ok["verdict"] != "avoid").sum() and \
        (safe.loc[safe["verdict"] != "avoid", "score_when_safe"]
         == safe.loc[safe["verdict"] != "avoid", "post_needling_score"]).all()


def test_pinned_scores_and_reasons(pinned):
    out = score_frame(pinned, make_score_context(day=2))
    retinol = by_id(out, "P442540")
    assert retinol["verdict"] == "avoid" and retinol["safe_from_day"] == 7
    assert retinol["post_needling_score"] == 0
    assert retinol["score_when_safe"] > 0
    assert json.loads(retinol["reasons_against"]) == [
        "Retinol (position 8) is a retinoid: avoid until day 7 after 1.0 mm needling"]
    serum = by_id(out, "P502588")
    assert serum["verdict"] == "suitable" and serum["post_procedure_friendly"]
    pro = json.loads(serum["reasons_for"])
    assert any("hyaluronic acid" in r for r in pro) and any("panthenol" in r for r in pro)
    assert serum["risk_term"] == 0
    # a hydrating serum with nothing flagged outranks a shampoo with nothing flagged
    assert serum["post_needling_score"] > by_id(out, "P480152")["post_needling_score"] > 0
    found = by_id(out, "P393401")                    # caution until 7 from day 3
    at5 = by_id(score_frame(pinned, make_score_context(day=5)), "P393401")
    assert at5["verdict"] == "caution"
    assert 0 < at5["post_needling_score"] < by_id(out, "P502588")["post_needling_score"]
    assert found["score_when_safe"] == at5["post_needling_score"]


def test_formula_pieces():
    w = Weights()
    assert gate("avoid", w) == 0 and gate("suitable", w) == 1 and gate("caution", w) == w.caution_factor
    # unavailable terms are dropped and the rest renormalised, never imputed
    assert combine({"benefit": 0.5, "low_risk": 1.0, "concern_fit": float("nan")}, "suitable") == \
        pytest.approx(100 * (0.2 * 0.5 + 0.2 * 1.0) / 0.4, abs=0.05)
    assert combine({"benefit": 0.5, "low_risk": 1.0}, "caution") == \
        pytest.approx(100 * w.caution_factor * 0.75, abs=0.05)
    assert benefit_term({}) == 0
    assert benefit_term({"hyaluronic_acid": 1}) == 1.0
    assert benefit_term({"hyaluronic_acid": 4}) == pytest.approx(0.5)
    assert benefit_term({"humectant": 1}) < benefit_term({"hyaluronic_acid": 1})


def test_weights_live_in_one_place(pinned):
    """Changing a weight in the Weights dataclass changes the score; nothing else needed."""
    base = score_frame(pinned, ScoreContext(safety=make_context(day=2), use_models=False))
    no_benefit = score_frame(pinned, ScoreContext(safety=make_context(day=2), use_models=False,
                                                  weights=Weights(benefit=0.0)))
    # without the benefit term, two products with nothing flagged tie at 100
    assert by_id(no_benefit, "P502588")["post_needling_score"] == 100
    assert by_id(no_benefit, "P480152")["post_needling_score"] == 100
    assert by_id(base, "P502588")["post_needling_score"] < 100


# --- learned columns: real or NaN, never invented -----------------------------------------


def test_learned_columns_real_or_unavailable(pinned):
    out = score_frame(pinned, make_score_context(day=2, concerns="dryness", skin_type="dry",
                                                 use_models=True))
    models = default_models()
    for cols, has, version in ((CONCERN_COLUMNS, models.has_concerns, "concern_model_version"),
                               (SKIN_COLUMNS, models.has_skin_types, "skin_type_model_version")):
        values = out[list(cols)].to_numpy(dtype=float)
        if has:
            assert np.nanmin(values) >= 0 and np.nanmax(values) <= 1
            assert (out[version] != "unavailable").all()
        else:
            assert np.isnan(values).all()
            assert (out[version] == "unavailable").all()
    if not models.has_absorption:
        assert out["absorption_index"].isna().all()
        assert (out["absorption_model_version"] == "unavailable").all()
    disabled = score_frame(pinned, ScoreContext(safety=make_context(day=2), use_models=False))
    assert disabled[list(CONCERN_COLUMNS) + ["gentleness", "absorption_index"]].isna().all().all()
    assert (disabled["concern_model_version"] == "unavailable").all()


# --- unreadable fields are rows, not crashes ----------------------------------------------


@pytest.mark.parametrize("field", ["", "   ", "N/A", "see packaging", None, float("nan"),
                                   "\x00\x01\x02binary", "x" * 200_000])
def test_unreadable_field_gets_the_protocol_caution(field):
    df = pd.DataFrame({"name": ["thing"], "ingredients": [field]})
    out = score_frame(df, make_score_context(day=30))
    row = out.iloc[0]
    assert row["status"] != "ok"
    assert row["verdict"] == "caution"                   # unreadable_list: caution at any time
    assert "unreadable_list" in {f["rule"] for f in json.loads(row["flags"])}
    assert math.isnan(row["post_needling_score"]) and not row["post_procedure_friendly"]
    assert row["n_ingredients"] == 0


def test_errors_mark_keeps_other_rows(pinned):
    from recommender.knowledge.reader import default_reader

    real = default_reader()

    class Flaky:
        def read(self, text):
            if "Retinol" in text:
                raise RuntimeError("boom")
            return real.read(text)

    with pytest.raises(RuntimeError):
        score_frame(pinned, make_score_context(day=2), reader=Flaky())
    out = score_frame(pinned, make_score_context(day=2), reader=Flaky(), errors="mark")
    bad = by_id(out, "P442540")
    assert bad["status"] == "error" and "boom" in bad["reasons_against"]
    assert (out.loc[out["product_id"] != "P442540", "status"] == "ok").all()


# --- people and protocols -----------------------------------------------------------------


def test_avoid_list_and_pregnancy_make_never_safe(pinned):
    out = score_frame(pinned, make_score_context(day=30, avoid="panthenol"))
    serum = by_id(out, "P502588")
    assert serum["verdict"] == "avoid" and serum["never_safe"]
    assert math.isnan(serum["safe_from_day"]) and math.isnan(serum["score_when_safe"])
    assert serum["post_procedure_friendly"]          # the badge is person-independent
    preg = by_id(score_frame(pinned, make_score_context(day=30, pregnant=True)), "P442540")
    assert preg["verdict"] == "avoid" and preg["never_safe"]


def test_clinic_protocol_changes_the_scores(pinned):
    """The clinic's file ends the retinoid window on day 5: day 5.5 is no longer 'avoid'."""
    clinic = load_protocol(CLINIC)
    default = by_id(score_frame(pinned, make_score_context(day=5.5)), "P442540")
    mine = by_id(score_frame(pinned, make_score_context(day=5.5, protocol=clinic)), "P442540")
    assert default["verdict"] == "avoid" and default["post_needling_score"] == 0
    assert default["protocol_name"] == "skinrec-default"
    assert mine["verdict"] != "avoid" and mine["safe_from_day"] == 5
    assert mine["post_needling_score"] > 0
    assert (mine["protocol_name"], mine["protocol_version"]) == ("example-clinic", "2026.03")


def test_concerns_and_skin_types_validated():
    ctx = make_score_context(concerns="Dark spots, wrinkles", skin_type="Combo, dry skin")
    assert ctx.concerns == ("dark_spots", "fine_lines_wrinkles")
    assert ctx.skin_types == ("combination", "dry")
    with pytest.raises(ValueError, match="unknown concern"):
        make_score_context(concerns="glow")
    with pytest.raises(ValueError, match="unknown skin type"):
        make_score_context(skin_type="lizard")


# --- columns ------------------------------------------------------------------------------


def test_column_mapping_and_detection(catalogs):
    assert resolve_columns(["product_name", "clean_ingreds"])["ingredients"] == "clean_ingreds"
    assert resolve_columns(["Name", "Ingredients"]) == \
        {"ingredients": "Ingredients", "name": "Name", "category": None}
    with pytest.raises(ColumnError, match="--map ingredients=COLUMN"):
        resolve_columns(["a", "b"])
    with pytest.raises(ColumnError, match="not in the input"):
        resolve_columns(["ingredients"], {"ingredients": "nope"})
    df = catalogs("lookfantastic_2020").head(20).rename(columns={"ingredients": "clean_ingreds",
                                                                 "name": "product_name"})
    out = score_frame(df, make_score_context(day=2),
                      columns={"ingredients": "clean_ingreds", "name": "product_name"})
    assert (out["status"] == "ok").sum() >= 18


def test_input_column_named_like_an_output_is_kept(pinned):
    df = pinned.assign(verdict="from the shop")
    out = score_frame(df, make_score_context(day=2))
    assert (out["input_verdict"] == "from the shop").all()
    assert set(out["verdict"]) <= {"avoid", "caution", "suitable"}


def test_learned_columns_equal_the_models_own_predict(sample):
    """The adapter hands the featurizer our parses: the numbers must not change."""
    models = default_models()
    if not models.has_concerns:
        pytest.skip("concern/skin-type models not trained here (columns are NaN, tested above)")
    from recommender.learn import evaluate_models, features

    df = sample.iloc[:80]
    out = score_frame(df, make_score_context(day=2, use_models=True))
    features._MEM_CACHE.clear()
    ref = evaluate_models.predict(pd.DataFrame({"ingredients": df["ingredients"].tolist(),
                                                "category": df["category"].tolist()}))
    ok = (out["status"] == "ok").to_numpy()
    for col in (*CONCERN_COLUMNS, *SKIN_COLUMNS, "gentleness"):
        np.testing.assert_allclose(out[col].to_numpy()[ok], ref[col].to_numpy()[ok], err_msg=col)
    assert out.loc[ok, "concern_model_version"].str.startswith("concerns@").all()


def test_person_fit_is_numpys_mean_bit_for_bit(sample):
    """score_columns averages fewer than 8 of the person's concern (skin-type) columns by
    column-wise sums: the same float, bit for bit, as numpy's mean of the stacked columns,
    for 1-9 columns of real predictions of 300 products (with the NaN of unread rows) and
    for a web request's few rows as for a batch chunk's."""
    from recommender.scoring.frame import _fit

    models = default_models()
    if not models.has_concerns:
        pytest.skip("concern/skin-type models not trained here")
    out = score_frame(sample, make_score_context(day=2, use_models=True))
    cols = [out[c].to_numpy(dtype=float) for c in (*CONCERN_COLUMNS, *SKIN_COLUMNS)]
    assert np.isnan(cols[0]).any() and not np.isnan(cols[0]).all()
    rng = np.random.default_rng(0)
    for m in range(1, 10):
        for rows in (1, 31, 5000):
            at = rng.choice(len(sample), size=rows)
            picked = [cols[j][at] for j in rng.choice(len(cols), size=m, replace=False)]
            ref = np.column_stack(picked).mean(axis=1)
            got = np.array(_fit(picked))
            assert got.tobytes() == ref.tobytes(), (m, rows)
    assert _fit([]) is None
