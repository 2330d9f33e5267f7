"""IngredientFeaturizer: position weighting, canonical tokens, classes, categories, no name or
brand, the parse cache, and scikit-learn's estimator checks.

These need only the committed knowledge base (models/kb), not the data directory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.learn import features as F
from recommender.learn.features import IngredientFeaturizer, coarse_category, position_weight

RETINOL_SERUM = "Water, Glycerin, Squalane, Retinol, Niacinamide, Phenoxyethanol, Parfum"
CLEANSER = "Aqua, Sodium Laureth Sulfate, Cocamidopropyl Betaine, Glycerin, Parfum, Limonene"


def _row(X, names, name):
    idx = list(names).index(name)
    return X[:, idx].toarray().ravel()


@pytest.fixture(scope="module")
def fitted():
    frame = pd.DataFrame({
        "ingredients": [RETINOL_SERUM, CLEANSER, "Water (Aqua, Eau), Glycerin, Retinol"],
        "category": ["Treatments > Face Serums", "Cleansers > Face Wash & Cleansers",
                     "Moisturizers"],
    })
    f = IngredientFeaturizer(min_df=1, word_min_df=1, disk_cache=False).fit(frame)
    return f, frame, f.transform(frame), f.get_feature_names_out()


def test_position_weights():
    assert position_weight(1, "sqrt") == 1.0
    assert position_weight(4, "sqrt") == pytest.approx(0.5)
    assert position_weight(5, "step") == 1.0 and position_weight(6, "step") == 0.3
    assert position_weight(40, "binary") == 1.0
    with pytest.raises(ValueError, match="weighting"):
        position_weight(1, "log")
    with pytest.raises(ValueError, match="weighting"):
        IngredientFeaturizer(weighting="nope", disk_cache=False).fit(["Water"])


def test_tokens_are_canonical_and_position_weighted(fitted):
    f, _frame, X, names = fitted
    aqua = _row(X, names, "tok:AQUA")
    # "Water", "Aqua" and "Water (Aqua, Eau)" are one canonical token, in position 1
    assert list(aqua) == [1.0, 1.0, 1.0]
    retinol = _row(X, names, "tok:RETINOL")
    assert retinol[0] == pytest.approx(1 / np.sqrt(4))   # 4th in the serum
    assert retinol[2] == pytest.approx(1 / np.sqrt(3))   # 3rd in the third list
    assert retinol[1] == 0.0


def test_classes_functions_groups_and_aggregates(fitted):
    f, _frame, X, names = fitted
    assert _row(X, names, "class_top:retinoid")[0] == pytest.approx(0.5)
    assert _row(X, names, "class_n:retinoid")[1] == 0
    assert _row(X, names, "class_n:fragrance")[1] >= 1
    assert _row(X, names, "class_top:niacinamide")[0] == pytest.approx(1 / np.sqrt(5))
    assert _row(X, names, "func:HUMECTANT")[0] > 0
    assert _row(X, names, "func:SURFACTANT - CLEANSING")[1] > _row(X, names,
                                                                   "func:SURFACTANT - CLEANSING")[0]
    assert _row(X, names, "group_n:surfactant_strong")[1] == 1
    assert _row(X, names, "agg:n_eu_allergens")[1] >= 1          # limonene
    n = _row(X, names, "agg:log_n_ingredients")
    assert n[0] == pytest.approx(np.log1p(7)) and n[2] == pytest.approx(np.log1p(3))
    assert list(_row(X, names, "agg:water_first")) == [1.0, 1.0, 1.0]


def test_category_one_hot(fitted):
    f, _frame, X, names = fitted
    assert _row(X, names, "cat:treatment")[0] == 1
    assert _row(X, names, "cat:cleanser")[1] == 1
    assert _row(X, names, "cat:moisturizer")[2] == 1
    cats = [n for n in names if n.startswith("cat:")]
    assert np.asarray(X[:, [list(names).index(c) for c in cats]].sum(axis=1)).ravel().tolist() \
        == [1, 1, 1]


@pytest.mark.parametrize("text, expected", [
    ("Moisturizers > Face Oils", "oil"),
    ("Cleansers > Toners", "toner"),
    ("Treatments > Facial Peels", "exfoliant"),
    ("Eye Care > Eye Masks", "eye"),
    ("Eye cream", "eye"),
    ("Sun protect", "sunscreen"),
    ("Face Mask", "mask"),
    ("Moisturiser", "moisturizer"),
    ("Bath Oil", "body"),
    ("Lip Balms & Treatments", "lip"),
    ("Serum", "treatment"),
    ("", "other"),
    (None, "other"),
    ("Fragrance", "other"),
])
def test_coarse_category(text, expected):
    assert coarse_category(text) == expected
    assert coarse_category(expected) == expected        # idempotent on its own ids


def test_changed_feature_code_is_refused(fitted, monkeypatch):
    f, frame, _X, _names = fitted
    monkeypatch.setattr(F, "_CATEGORY_RULES", F._CATEGORY_RULES[:-1])
    with pytest.raises(F.FeatureLayoutError, match="skinrec train"):
        f.transform(frame)


def test_transform_parsed_equals_transform(fitted):
    f, frame, X, _names = fitted
    from recommender.knowledge.reader import read_list

    parsed = [F.from_parsed_list(read_list(t)) for t in frame["ingredients"]]
    assert (f.transform_parsed(parsed, frame["category"].tolist()) != X).nnz == 0


def test_never_reads_name_or_brand(fitted):
    f, frame, X, _names = fitted
    other = frame.assign(name=["Retinol Miracle", "Acne Killer", "Eye Cream"],
                         brand=["A", "B", "C"])
    renamed = other.assign(name=["x", "y", "z"], brand=["Q", "R", "S"])
    assert (f.transform(other) != X).nnz == 0
    assert (f.transform(renamed) != X).nnz == 0


def test_input_forms_agree():
    texts = ["Water, Glycerin, Retinol, Parfum", "Aqua, Salicylic Acid, Alcohol Denat."]
    lists = [["Water", "Glycerin", "Retinol", "Parfum"], ["Aqua", "Salicylic Acid", "Alcohol Denat."]]
    f = IngredientFeaturizer(min_df=1, category=False, disk_cache=False).fit(texts)
    a = f.transform(texts)
    b = f.transform(lists)
    c = f.transform(np.array([["Water", "Glycerin", "Retinol", "Parfum"],
                              ["Aqua", "Salicylic Acid", "Alcohol Denat.", None]], dtype=object))
    assert (a != b).nnz == 0
    assert (a != c).nnz == 0
    with pytest.raises(ValueError, match="one string"):
        f.transform("Water, Glycerin")


def test_unrecognised_names_are_kept_and_may_contain_ignored():
    parsed = F.parse_texts(["Water, Zzqx Wonder Complex, Glycerin. May contain: CI 77491"],
                           disk_cache=False)[0]
    names = [e[0] for e in parsed]
    assert names[:3] == ["AQUA", "?zzqx wonder complex", "GLYCERIN"]
    assert "IRON OXIDES" not in names           # may-contain: safety only, never a benefit


def test_kits_keep_the_best_position():
    text = "Kit A: Water, Glycerin, Retinol. Kit B: Retinol, Water"
    parsed = F.parse_texts([text], disk_cache=False)[0]
    w = F._product_weights(parsed, "sqrt")
    if len({e[2] for e in parsed}) > 1:      # parsed as two components
        assert w["RETINOL"] == 1.0
    else:                                     # one list: retinol first seen 3rd
        assert w["RETINOL"] >= 1 / np.sqrt(4)


def test_irritant_index_counts_irritants_and_allergens():
    plain, scented = F.parse_texts([
        "Water, Glycerin, Squalane, Ceramide NP, Panthenol",
        "Water, Alcohol Denat., Glycolic Acid, Parfum, Lavandula Angustifolia Oil, Linalool, "
        "Limonene",
    ], disk_cache=False)
    assert F.irritant_index(plain) == 0
    assert F.irritant_index(scented) >= 6
    # citric acid late in a list is a pH adjuster, not an irritant
    late = F.parse_texts(["Water, Glycerin, A, B, C, D, E, F, G, H, I, Citric Acid"],
                         disk_cache=False)[0]
    assert F.irritant_index(late) == 0


def test_disk_cache_round_trip(tmp_path, monkeypatch):
    monkeypatch.setenv("SKINREC_CACHE_DIR", str(tmp_path))
    text = "Aqua, Niacinamide, Zinc PCA, Parfum, Some Unknown Thing 7"
    F._MEM_CACHE.pop(text, None)
    first = F.parse_texts([text])[0]
    files = list(tmp_path.glob("parse-*.json.gz"))
    assert len(files) == 1 and F.parse_fingerprint() in files[0].name
    F._MEM_CACHE.pop(text, None)
    again = F.parse_texts([text])[0]        # from disk this time
    assert again == first
    assert again == F._parse_one(text)


# Checks that cannot hold for ingredient lists (documented in features.py): the input is a
# list of any length, so a different number of "columns" at transform time is normal.
EXPECTED_FAILED_CHECKS = {
    "check_n_features_in_after_fitting":
        "ingredient lists have any length; n_features_in_ is informational, not enforced",
    "check_transformer_general":
        "same reason: transform accepts lists longer or shorter than those seen in fit",
}


def test_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    results = check_estimator(IngredientFeaturizer(disk_cache=False),
                              expected_failed_checks=EXPECTED_FAILED_CHECKS, on_fail=None)
    failed = [r for r in results if r["status"] == "failed"
              and r["check_name"] not in EXPECTED_FAILED_CHECKS]
    assert not failed, [(r["check_name"], str(r["exception"])[:200]) for r in failed]
    passed = [r for r in results if r["status"] == "passed"]
    assert len(passed) >= 38
