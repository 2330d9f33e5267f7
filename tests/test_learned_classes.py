"""Learned class fallback: determinism, refusal rule, version/sha checks, apply_fallback."""

from __future__ import annotations

import json
import random
import shutil

import numpy as np
import pytest
import sklearn

from recommender import config
from recommender.inci.model import Mention, ParsedList
from recommender.knowledge import learned_classes as lc
from recommender.knowledge.classes import load_class_rules
from recommender.knowledge.kb import default_kb

THRESHOLD = config.LEARNED_CLASS_MIN_PROB


@pytest.fixture(scope="module")
def kb():
    return default_kb()


@pytest.fixture(scope="module")
def rules():
    return load_class_rules()


@pytest.fixture(scope="module")
def subsample(kb, rules) -> list[str]:
    """~3,800 KB names: up to 80 positives of every learnable class + 2,500 random others."""
    rng = random.Random(7)
    names = kb.names()
    by_class: dict[str, list[str]] = {}
    for name in names:
        rec = kb.record(name)
        for c in rules.classify(name, rec["functions"], rec["eu_allergen"]):
            by_class.setdefault(c, []).append(name)
    pick = set(rng.sample(names, 2500))
    for members in by_class.values():
        pick.update(rng.sample(members, min(80, len(members))))
    return sorted(pick)


@pytest.fixture(scope="module")
def small_model(kb, rules, subsample):
    return lc.train_fallback(kb, rules, names=subsample, seed=3)


@pytest.fixture(scope="module")
def shipped():
    """The committed artifact (models/kb/class_fallback.joblib)."""
    return lc.load_fallback()


PROBES = [
    "RETINYL LINOLEATE X", "ACETYL DECAPEPTIDE-99", "CITRUS SINENSIS PEEL OIL", "GLYCERIN",
    "XQZV BLORP", "SODIUM ASCORBYL PHOSPHATE X", "CI 77491", "WALNUT SHELL POWDER",
]


# --- training ---------------------------------------------------------------------------------

def test_same_seed_same_predictions(kb, rules, subsample, small_model):
    again = lc.train_fallback(kb, rules, names=subsample, seed=3)
    assert again.classes == small_model.classes
    np.testing.assert_array_equal(again.predict_proba(PROBES), small_model.predict_proba(PROBES))
    assert again.predict(PROBES) == small_model.predict(PROBES)


def test_labels_exclude_fragrance_allergen_and_rare_classes(kb, rules, small_model):
    ts = lc.training_set(kb, rules)
    assert "fragrance_allergen" not in ts.classes
    assert all(n >= lc.MIN_POSITIVES for n in ts.positives.values())
    assert {"bha", "benzoyl_peroxide"} <= set(ts.dropped)      # 3 and 1 positive names
    assert {"peptide", "essential_oil", "retinoid", "pigment"} <= set(ts.classes)
    assert "fragrance_allergen" not in small_model.classes
    assert "fragrance_allergen" in small_model.info["excluded_classes"]


def test_small_model_learns_the_obvious(small_model):
    preds = dict(zip(PROBES, small_model.predict(PROBES), strict=True))
    assert "peptide" in preds["ACETYL DECAPEPTIDE-99"].classes
    assert preds["XQZV BLORP"].classes == ()


def test_first_word_groups():
    assert lc.first_word("Retinyl Linoleate") == "RETINYL"
    assert lc.first_word("  retinyl   palmitate ") == "RETINYL"
    assert lc.first_word("CAPRYLIC/CAPRIC TRIGLYCERIDE") == "CAPRYLIC"
    assert lc.first_word("") == ""


def test_grouped_cv_reports_per_class_figures(kb, rules, subsample):
    cv = lc.cross_validate(kb, rules, names=subsample[:1500] + subsample[-600:], folds=3)
    assert "GroupKFold(3)" in cv["scheme"]
    for v in cv["per_class"].values():
        assert v["tp"] + v["fn"] == v["support"]
        assert v["recall"] is None or 0.0 <= v["recall"] <= 1.0
    assert cv["micro"]["tp"] > 0


# --- the shipped artifact ---------------------------------------------------------------------

@pytest.mark.parametrize(("name", "cls"), [
    ("RETINYL LINOLEATE X", "retinoid"),
    ("Retinyl Linoleate X", "retinoid"),
    ("ACETYL DECAPEPTIDE-99", "peptide"),
    ("PALMITOYL NONAPEPTIDE-77", "peptide"),
    ("Sodium Ascorbyl Phosphate X", "vitamin_c"),
    ("Hydrolyzed Sodium Hyaluronate X", "hyaluronic_acid"),
])
def test_unseen_but_obvious_names(kb, shipped, name, cls):
    assert lc.fold_name(name) not in kb  # really unseen
    (pred,) = shipped.predict([name])
    assert cls in pred.classes, pred
    assert pred.prob >= THRESHOLD
    assert not pred.uncertain


@pytest.mark.parametrize("name", ["XQZV BLORP", "Hair Band", "All About You", "zzzz", "12345"])
def test_nonsense_gets_no_class(shipped, name):
    (pred,) = shipped.predict([name])
    assert pred.classes == ()


def test_traps_stay_out(shipped):
    # carrier oils and fatty alcohols, unseen spellings
    preds = shipped.predict(["ORGANIC JOJOBA SEED OIL X", "CETEARYL ALCOHOL X", "BAKUCHIOL X"])
    assert "essential_oil" not in preds[0].classes
    assert "drying_alcohol" not in preds[1].classes
    assert "retinoid" not in preds[2].classes


def test_shipped_manifest_is_complete_and_current(kb):
    manifest = json.loads((config.KB_DIR / lc.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert lc.MODEL_FILE in manifest["artifacts"]
    assert manifest["sklearn_version"].split(".")[:2] == sklearn.__version__.split(".")[:2]
    assert manifest["training"]["train_cpu_seconds"] < 60
    per_class = manifest["cv"]["per_class"]
    assert set(per_class) == set(manifest["training"]["classes"])
    assert manifest["cv"]["micro"]["precision"] >= 0.9
    stale = {k: v for k, v in lc.input_hashes(kb).items() if manifest["inputs"].get(k) != v}
    assert not stale, (
        f"class_fallback.joblib was trained on other inputs ({sorted(stale)}): "
        f"run `{lc.TRAIN_COMMAND}`"
    )


# --- the refusal rule -------------------------------------------------------------------------

@pytest.mark.parametrize(("row", "classes", "uncertain"), [
    ([0.95, 0.10, 0.01], ("a",), False),
    ([0.80, 0.10, 0.01], ("a",), False),           # the threshold itself is enough
    ([0.85, 0.90, 0.01], ("a", "b"), False),       # multi-label
    ([0.85, 0.60, 0.01], ("a",), False),           # a class given: not "unsure"
    ([0.79, 0.10, 0.01], (), True),                # unsure: no class, flagged
    ([0.50, 0.10, 0.01], (), True),
    ([0.49, 0.30, 0.01], (), False),               # confidently nothing
    ([0.0, 0.0, 0.0], (), False),
])
def test_decide_threshold_and_uncertain(row, classes, uncertain):
    pred = lc.decide(row, ("a", "b", "c"), 0.80)
    assert pred.classes == classes
    assert pred.uncertain is uncertain
    assert pred.prob == pytest.approx(max(row))


def test_threshold_comes_from_config(small_model):
    assert small_model.min_prob == config.LEARNED_CLASS_MIN_PROB == 0.80


# --- apply_fallback ---------------------------------------------------------------------------

class _FakeModel:
    def __init__(self, table):
        self.table = table
        self.seen = []

    def predict(self, names, functions=None):
        self.seen.extend(names)
        return [self.table[n] for n in names]


def _parsed(*mentions: Mention) -> ParsedList:
    return ParsedList(text="x", ingredients=list(mentions))


def test_apply_fallback_touches_only_unmatched_and_fuzzy():
    model = _FakeModel({
        "Retinyl Oddate": lc.LearnedPrediction(("retinoid",), 0.93, False),
        "Cltronellol": lc.LearnedPrediction((), 0.3, False),
        "Mystery Oil": lc.LearnedPrediction((), 0.7, True),
        "Leaf Oyl": lc.LearnedPrediction(("essential_oil",), 0.85, False),
    })
    exact = Mention("Retinol", "Retinol", 1, inci="RETINOL", match="exact", classes=("retinoid",))
    alias = Mention("Octinoxate", "Octinoxate", 2, inci="ETHYLHEXYL METHOXYCINNAMATE",
                    match="alias", classes=("chemical_uv_filter",))
    unknown = Mention("Retinyl Oddate", "Retinyl Oddate", 3)
    fuzzy = Mention("Cltronellol", "Cltronellol", 4, inci="CITRONELLOL", match="fuzzy",
                    classes=("fragrance_allergen",))
    unsure = Mention("Mystery Oil", "Mystery Oil", 5)
    fuzzy2 = Mention("Leaf Oyl", "Leaf Oyl", 6, inci="X", match="fuzzy", classes=())
    parsed = _parsed(exact, alias, unknown, fuzzy, unsure, fuzzy2)
    lc.apply_fallback(parsed, model)

    assert model.seen == ["Retinyl Oddate", "Cltronellol", "Mystery Oil", "Leaf Oyl"]
    assert exact.classes == ("retinoid",) and exact.class_confidence is None
    assert alias.classes == ("chemical_uv_filter",) and alias.class_confidence is None
    assert unknown.classes == ("retinoid",) and unknown.class_confidence == pytest.approx(0.93)
    assert unknown.match is None and not unknown.uncertain
    # a fuzzy match keeps its target's curated classes (the model never learns allergens)
    assert fuzzy.classes == ("fragrance_allergen",) and fuzzy.match == "fuzzy"
    assert unsure.classes == () and unsure.uncertain and unsure.class_confidence == 0.7
    assert fuzzy2.classes == ("essential_oil",)


def test_apply_fallback_with_the_shipped_model(shipped):
    unknown = Mention("Retinyl Linoleate X", "Retinyl Linoleate X", 1)
    nonsense = Mention("Xqzv Blorp", "Xqzv Blorp", 2)
    empty = Mention("", "", 3)
    parsed = _parsed(unknown, nonsense, empty)
    lc.apply_fallback(parsed, shipped)
    assert unknown.classes == ("retinoid",)
    assert unknown.class_confidence >= THRESHOLD
    assert nonsense.classes == ()
    assert empty.class_confidence is None
    lc.apply_fallback(_parsed(), shipped)  # nothing to do is fine


# --- save / load ------------------------------------------------------------------------------

class _TinyKB:
    def __init__(self, names):
        self._names = sorted(names)

    def names(self):
        return list(self._names)

    def record(self, name):
        return {"functions": ("SKIN CONDITIONING",), "eu_allergen": False}


TINY_NAMES = (
    [f"PALMITOYL TRIPEPTIDE-{i}" for i in range(1, 9)]
    + [f"RETINYL {w}" for w in ("ACETATE", "PALMITATE", "OLEATE", "LINOLEATE", "PROPIONATE",
                                "MYRISTATE", "STEARATE")]
    + [f"{w} EXTRACT" for w in ("ROSE", "OAT", "RICE", "TEA", "KALE", "PEAR", "FIG")]
)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory, rules):
    model = lc.train_fallback(_TinyKB(TINY_NAMES), rules)
    assert set(model.classes) == {"peptide", "retinoid"}
    directory = tmp_path_factory.mktemp("fallback")
    lc.save_fallback(model, directory)
    return directory


def _copy(src, dst):
    for name in (lc.MODEL_FILE, lc.MANIFEST_FILE):
        shutil.copy(src / name, dst / name)
    return dst


def _set_version(directory, version):
    path = directory / lc.MANIFEST_FILE
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["sklearn_version"] = version
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_round_trip(tiny_dir):
    model = lc.load_fallback(tiny_dir)
    assert model.classes == ("peptide", "retinoid")
    manifest = json.loads((tiny_dir / lc.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert manifest["sklearn_version"] == sklearn.__version__
    assert len(manifest["artifacts"][lc.MODEL_FILE]["sha256"]) == 64


def test_refuses_another_minor_version(tiny_dir, tmp_path):
    major, minor = sklearn.__version__.split(".")[:2]
    for other in (f"{major}.{int(minor) + 1}.0", f"{major}.{max(int(minor) - 1, 0)}.9",
                  f"{int(major) + 1}.{minor}.0"):
        if other.split(".")[:2] == [major, minor]:
            continue
        d = _copy(tiny_dir, tmp_path)
        _set_version(d, other)
        with pytest.raises(lc.FallbackModelError, match="skinrec build-kb") as err:
            lc.load_fallback(d)
        assert other in str(err.value) and sklearn.__version__ in str(err.value)


def test_patch_difference_only_warns(tiny_dir, tmp_path):
    major, minor = sklearn.__version__.split(".")[:2]
    d = _copy(tiny_dir, tmp_path)
    _set_version(d, f"{major}.{minor}.9999")
    with pytest.warns(UserWarning, match="patch difference"):
        model = lc.load_fallback(d)
    assert model.classes == ("peptide", "retinoid")


def test_refuses_altered_or_missing_artifact(tiny_dir, tmp_path):
    d = _copy(tiny_dir, tmp_path)
    with open(d / lc.MODEL_FILE, "ab") as fh:
        fh.write(b"\0")
    with pytest.raises(lc.FallbackModelError, match="sha256"):
        lc.load_fallback(d)
    (d / lc.MANIFEST_FILE).unlink()
    with pytest.raises(lc.FallbackModelError, match="missing"):
        lc.load_fallback(d)
    (d / lc.MANIFEST_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(lc.FallbackModelError, match="not valid JSON"):
        lc.load_fallback(d)


def test_predict_command(capsys):
    assert lc.main(["predict", "ACETYL DECAPEPTIDE-99", "XQZV BLORP"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split("\t")[1] == "peptide"
    assert out[1].split("\t")[1] == "-"


def test_fast_path_matches_the_estimators(small_model):
    x = small_model._features(PROBES, None)
    np.testing.assert_allclose(small_model.predict_proba(PROBES),
                               small_model.classifier.predict_proba(x), atol=1e-6)


def test_cache_gives_the_same_answer_for_spelling_variants(shipped):
    first = shipped.predict(["Retinyl Linoleate X", "xqzv blorp"])
    again = shipped.predict(["RETINYL  LINOLEATE X", "XQZV BLORP", "Retinyl Linoleate X"])
    assert again == [first[0], first[1], first[0]]


def test_apply_fallback_many_in_one_call():
    model = _FakeModel({"A X": lc.LearnedPrediction(("retinoid",), 0.9, False),
                        "B X": lc.LearnedPrediction(("peptide",), 0.95, False)})
    lists = [_parsed(Mention("A X", "A X", 1)), _parsed(Mention("B X", "B X", 1))]
    lc.apply_fallback_many(lists, model)
    assert [p.ingredients[0].classes for p in lists] == [("retinoid",), ("peptide",)]
    assert model.seen == ["A X", "B X"]


def test_artifact_bytes_are_reproducible(tiny_dir, tmp_path, rules):
    model = lc.train_fallback(_TinyKB(TINY_NAMES), rules)
    lc.save_fallback(model, tmp_path)
    a = json.loads((tiny_dir / lc.MANIFEST_FILE).read_text(encoding="utf-8"))
    b = json.loads((tmp_path / lc.MANIFEST_FILE).read_text(encoding="utf-8"))
    assert a["artifacts"] == b["artifacts"]
