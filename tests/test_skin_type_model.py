"""Skin-type model: label parsing and protocol, the knowledge fallback rule, the committed
model on real products, determinism, and evaluate reproducing the manifest."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.learn import evaluate_models as E
from recommender.learn import skin_types as S

CICA_CREAM = "P436378"       # Kiehl's Centella Sensitive Cica-Cream: no irritant class
MATTE_FRAGRANT = "P422536"   # Origins Original Skin Matte Moisturizer: essential oils, allergens
RICH_CREAM = "P470509"       # Augustinus Bader The Rich Cream
ACNE_PADS = "P114902"        # Peter Thomas Roth Goodbye Acne pads: salicylic acid, alcohol denat.


@pytest.fixture(scope="module")
def skin_data(data_dir):
    return S.load_skin_type_data()


@pytest.fixture(scope="module")
def scored(data_dir):
    from recommender.catalogs import load_catalog

    df = load_catalog("sephora_2023").set_index("product_id")
    return E.predict(df.loc[[CICA_CREAM, MATTE_FRAGRANT, RICH_CREAM, ACNE_PADS]])


@pytest.mark.parametrize("highlights, expected", [
    (["Vegan", "Best for Dry, Combo, Normal Skin"], {"dry", "combination", "normal"}),
    (["Best for Oily Skin"], {"oily"}),
    (["Best for Combination Skin", "Good for: Pores"], {"combination"}),
    (["Best for Oily, Combo, Normal Skin"], {"oily", "combination", "normal"}),
    (["Good for: Dryness", "Fragrance Free"], None),
    ([], None),
])
def test_parse_best_for(highlights, expected):
    assert S.parse_best_for(highlights) == expected


def test_label_protocol(skin_data):
    frame, Y = skin_data
    assert list(Y.columns) == list(S.SKIN_TYPES)
    cos = (frame["source"] == "cosmetics_2017").to_numpy()
    seph = ~cos
    assert 250 < cos.sum() < 340 and 550 < seph.sum() < 700
    # cosmetics_2017: rows ticking all five or none are gone
    n = Y[cos].sum(axis=1)
    assert ((n > 0) & (n < 5)).all()
    assert Y[cos].notna().all().all()
    # Sephora never names sensitive skin: unknown, not negative
    assert Y.loc[seph, "sensitive"].isna().all()
    assert Y.loc[seph, ["dry", "oily", "combination", "normal"]].notna().all().all()
    assert (Y.loc[seph, ["dry", "oily", "combination", "normal"]].sum(axis=1) >= 1).all()


def test_choose_output_rule():
    assert S.choose_output(0.70, 0.52) == "model"
    assert S.choose_output(0.56, 0.57) == "knowledge_index"
    assert S.choose_output(0.50, 0.48) == "knowledge_index"    # both at chance
    assert S.choose_output(None, 0.6) == "knowledge_index"


def test_knowledge_index_direction(data_dir):
    from recommender.catalogs import load_catalog

    df = load_catalog("sephora_2023").set_index("product_id")
    k = S.knowledge_scores(df.loc[[CICA_CREAM, MATTE_FRAGRANT]])
    assert k[0] == 0 and k[1] <= -10         # higher = gentler


def test_committed_model_follows_its_cv(scored):
    from recommender import config
    from recommender.learn.artifacts import read_manifest

    entry = read_manifest(config.MODELS_DIR / E.SKIN_DIR)["artifacts"][E.SKIN_FILE]
    m = entry["metrics"]["per_type"]
    _cm, sm, _v = E.load_models()
    for t in S.SKIN_TYPES:
        assert sm.source_[t] == m[t]["output"] == S.choose_output(m[t].get("roc_auc"),
                                                                  m[t]["knowledge_roc_auc"])
        assert entry["output_source"][t] == sm.source_[t]
    # dry and oily are learned and beat the knowledge index clearly
    for t in ("dry", "oily"):
        assert m[t]["output"] == "model"
        assert m[t]["roc_auc"] > m[t]["knowledge_roc_auc"] + 0.1


def test_gentleness_is_the_sensitive_output(scored):
    assert np.allclose(scored["gentleness"], scored["skin_sensitive"])
    assert scored.loc[CICA_CREAM, "gentleness"] > scored.loc[MATTE_FRAGRANT, "gentleness"] + 0.1
    vals = scored[[f"skin_{t}" for t in S.SKIN_TYPES]].to_numpy()
    assert np.isfinite(vals).all() and (vals > 0).all() and (vals < 1).all()


def test_rich_cream_for_dry_acne_pads_for_oily(scored):
    assert scored.loc[RICH_CREAM, "skin_dry"] > 0.7
    assert scored.loc[RICH_CREAM, "skin_oily"] < 0.4
    assert scored.loc[ACNE_PADS, "skin_oily"] > 0.8
    assert scored.loc[ACNE_PADS, "skin_dry"] < 0.4


def test_evaluate_reproduces_manifest(data_dir):
    res = E.evaluate_all(parts=("skin_types",))["skin_types"]
    assert res["reproduced"], (res["max_abs_diff"], res["worst"], res["stale_inputs"])


def test_training_is_deterministic_on_a_subsample(data_dir, tmp_path):
    from recommender.learn.artifacts import dumps_artifact, load_artifact, sha256_bytes

    a = E.train_skin_types(out_dir=tmp_path, seed=5, subsample=200, plots=False)
    model, entry = load_artifact(tmp_path / E.SKIN_DIR / E.SKIN_FILE, with_entry=True)
    assert entry["sha256"] == a["sha256"] and entry["metrics"]["n_products"] == 200
    assert set(model.source_) == set(S.SKIN_TYPES)
    frame, Y = E._subsample(*S.load_skin_type_data(), 200, 5)
    again = S.train(frame, Y, seed=5, cv_metrics=entry["metrics"])
    assert sha256_bytes(dumps_artifact(again)) == a["sha256"]
