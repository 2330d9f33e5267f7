"""Skin-type model: P(suitable) for dry, oily, combination, normal and sensitive skin.

Which real input or need each rule answers (DESIGN.md "Learned components" 2, issue #4):

- Labels come from two catalogs:
  * cosmetics_2017 flags Combination/Dry/Normal/Oily/Sensitive (0/1). Rows ticking all
    five (45 %) or none (32 %) carry no information and are dropped, as are rows whose
    ingredient field is a placeholder ("#NAME?", "No Info", "Visit the ... boutique").
  * Sephora "Best for ... Skin" highlights ("Best for Dry, Combo, Normal Skin",
    "Best for Oily Skin" ...) on skincare products (same exclusions as the concern model).
    Within products showing such a highlight an absent type is negative. Sephora never
    names sensitive skin there, so its sensitive label is unknown (NaN), not negative:
    the sensitive output is learned from cosmetics_2017 alone (~340 rows, 68 brands).
  Known bias: Sephora's two common highlights ("Dry, Combo, Normal" vs "Oily, Combo,
  Normal") make dry and oily nearly complementary and combination/normal nearly always
  positive; the cosmetics_2017 flags were ticked by a retailer, not measured on skin.
- Knowledge baseline (DESIGN.md): the irritant index = distinct members of the irritant
  classes (fragrance, essential_oil, drying_alcohol, aha — not as a late pH adjuster —,
  bha, retinoid) plus distinct EU-labelled allergens; higher = less suitable. Its AUC is
  computed per type on the same brand-grouped folds as the model's.
- Decision per type, stated in the artifact (``source_``): when the model's grouped-CV
  AUC does not beat the knowledge index's (or is below ``MIN_MODEL_AUC`` = 0.55, i.e. it
  learned nothing usable), the output for that type is the knowledge
  index, Platt-calibrated on that type's labels (a monotone map: the ranking is the
  knowledge ranking). 'gentleness' = the sensitive output, whichever it is.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd

from recommender.learn import concerns as C
from recommender.learn.features import IngredientFeaturizer, irritant_index, parse_texts

SKIN_TYPES: tuple[str, ...] = ("dry", "oily", "combination", "normal", "sensitive")
_COSMETICS_COLUMNS = {"Dry": "dry", "Oily": "oily", "Combination": "combination",
                      "Normal": "normal", "Sensitive": "sensitive"}
_BEST_FOR_RE = re.compile(r"^Best for (.+?) Skin$", re.IGNORECASE)
_TYPE_WORDS = {"dry": "dry", "oily": "oily", "combo": "combination",
               "combination": "combination", "normal": "normal", "sensitive": "sensitive"}


def parse_best_for(highlights: list[str]) -> set[str] | None:
    """Sephora highlights -> the skin types named by "Best for ... Skin", or None if none."""
    found: set[str] | None = None
    for h in highlights:
        m = _BEST_FOR_RE.match(h.strip())
        if not m:
            continue
        found = found or set()
        for word in re.split(r"[,/&]|\band\b", m.group(1).lower()):
            t = _TYPE_WORDS.get(word.strip())
            if t:
                found.add(t)
    return found


# A learned output must beat the knowledge index AND be clearly above chance: a model at
# AUC 0.50 "beating" an index at 0.48 has learned nothing either.
MIN_MODEL_AUC = 0.55


_OUTPUTS = {"model": "model", "knowledge_index": "knowledge_index"}


def choose_output(model_auc: float | None, knowledge_auc: float | None) -> str:
    """'model' when the labels beat the knowledge index (and chance), else 'knowledge_index'."""
    if model_auc is None:
        return "knowledge_index"
    if model_auc > (knowledge_auc or 0.0) and model_auc >= MIN_MODEL_AUC:
        return "model"
    return "knowledge_index"


def load_skin_type_data(data_dir: str | os.PathLike | None = None
                        ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(products, labels): rows from both sources; labels 0/1 with NaN = unknown."""
    from recommender.catalogs import load_catalog

    with C.data_dir_env(data_dir):
        cos = load_catalog("cosmetics_2017", keep_all=True)
    flags = cos[list(_COSMETICS_COLUMNS)].apply(pd.to_numeric, errors="coerce").fillna(0)
    n = flags.sum(axis=1)
    cos = cos[(n > 0) & (n < 5)]
    parsed = parse_texts(cos["ingredients"].tolist())
    cos = cos[[len(p) > 0 for p in parsed]]
    y_cos = cos[list(_COSMETICS_COLUMNS)].apply(pd.to_numeric).rename(
        columns=_COSMETICS_COLUMNS).astype(float)
    f_cos = pd.DataFrame({
        "product_id": cos["product_id"], "brand": cos["brand"],
        "group": cos["brand"].map(C.brand_group), "ingredients": cos["ingredients"],
        "category": cos["category"], "source": "cosmetics_2017",
    })

    sk = C.sephora_skincare(data_dir)
    types = sk["highlights"].map(parse_best_for)
    keep = types.notna()
    sk, types = sk[keep], types[keep]
    y_sk = pd.DataFrame({t: types.map(lambda s, t=t: float(t in s)) for t in SKIN_TYPES},
                        index=sk.index)
    y_sk["sensitive"] = np.where(types.map(lambda s: "sensitive" in s), 1.0, np.nan)
    f_sk = sk[["product_id", "brand", "group", "ingredients", "category"]].assign(
        source="sephora_2023")

    frame = pd.concat([f_cos, f_sk], ignore_index=True)
    Y = pd.concat([y_cos[list(SKIN_TYPES)], y_sk[list(SKIN_TYPES)]], ignore_index=True)
    return frame, Y


def knowledge_scores(frame) -> np.ndarray:
    """Minus the irritant index per product (higher = more suitable / gentler)."""
    parsed = parse_texts(frame["ingredients"].tolist())
    return -np.array([irritant_index(p) for p in parsed])


class SkinTypeModel:
    """Learned types where the labels beat the knowledge index; the knowledge index elsewhere.

    ``model_``: a fitted ``CalibratedLinearMultiLabel`` over the five types; ``source_``:
    type -> 'model' | 'knowledge_index'; ``knowledge_platt_``: type -> (slope, intercept)
    mapping minus the irritant index to P(suitable); ``cv_``: the CV figures that decided.
    """

    def __init__(self, model: C.CalibratedLinearMultiLabel, source: dict[str, str],
                 knowledge_platt: dict[str, tuple[float, float]], cv: dict):
        self.model_ = model
        # Canonical string objects: pickle memoises by identity, so equal strings from
        # json (the manifest) and from code literals would otherwise pickle differently.
        self.source_ = {t: _OUTPUTS[source[t]] for t in SKIN_TYPES}
        self.knowledge_platt_ = dict(knowledge_platt)
        self.cv_ = cv
        self.labels_ = SKIN_TYPES

    def predict_proba(self, frame) -> np.ndarray:
        parsed, cats = self.model_.featurizer_.parsed_inputs(frame)
        return self.predict_proba_parsed(parsed, cats)

    def predict_proba_parsed(self, parsed, categories=None, *, X=None) -> np.ndarray:
        """(n, 5) P(suitable) for parsed products; NaN rows where nothing was read. ``X``:
        their features when already computed (``features.transform_parsed_many``)."""
        P = self.model_.predict_proba_parsed(parsed, categories, X=X)
        k = -np.array([irritant_index(p) for p in parsed], dtype=np.float64)
        for j, t in enumerate(SKIN_TYPES):
            if self.source_.get(t) == "knowledge_index":
                a, b = self.knowledge_platt_[t]
                P[:, j] = C._sigmoid(a * k + b)
        empty = np.array([len(p) == 0 for p in parsed], dtype=bool)
        P[empty] = np.nan
        return P

    def frame(self, frame) -> pd.DataFrame:
        P = self.predict_proba(frame)
        index = frame.index if isinstance(frame, pd.DataFrame) else None
        return self._as_frame(P, index)

    def frame_parsed(self, parsed, categories=None, index=None, *, X=None) -> pd.DataFrame:
        return self._as_frame(self.predict_proba_parsed(parsed, categories, X=X), index)

    @staticmethod
    def _as_frame(P: np.ndarray, index) -> pd.DataFrame:
        out = pd.DataFrame(P, columns=[f"skin_{t}" for t in SKIN_TYPES], index=index)
        out["gentleness"] = out["skin_sensitive"]
        return out


def default_model(seed: int = 0) -> C.CalibratedLinearMultiLabel:
    return C.CalibratedLinearMultiLabel(featurizer=IngredientFeaturizer(), C=0.1, seed=seed)


def evaluate(frame: pd.DataFrame, Y: pd.DataFrame, *, seed: int = 0, n_splits: int = 5,
             with_predictions: bool = False) -> dict:
    """Brand-grouped CV: model AUC vs knowledge-index AUC per type, same folds."""
    groups = frame["group"].to_numpy()
    folds = C.grouped_folds(groups, n_splits, seed)
    C.check_folds_grouped(folds, groups)
    model = default_model(seed)
    X, names = C.full_matrix(frame, model.featurizer)
    Yn = Y.to_numpy(dtype=np.float64)
    P = C.cv_predict(model, X, names, Yn, groups, folds)
    K = knowledge_scores(frame)
    per_type = {}
    for j, t in enumerate(SKIN_TYPES):
        m = C.label_metrics(Yn[:, j], P[:, j])
        kn = C.label_metrics(Yn[:, j], K.astype(float))
        m["knowledge_roc_auc"] = kn.get("roc_auc")
        m["knowledge_average_precision"] = kn.get("average_precision")
        m["by_source"] = {}
        for src in sorted(frame["source"].unique()):
            rows = (frame["source"] == src).to_numpy()
            sm = C.label_metrics(Yn[rows, j], P[rows, j])
            sk = C.label_metrics(Yn[rows, j], K[rows].astype(float))
            if "roc_auc" in sm:
                m["by_source"][src] = {"n": sm["n"], "roc_auc": sm["roc_auc"],
                                       "knowledge_roc_auc": sk.get("roc_auc")}
        m["output"] = choose_output(m.get("roc_auc"), m["knowledge_roc_auc"])
        per_type[t] = m
    metrics = {
        "cv": f"{len(folds)}-fold GroupKFold by brand (shuffle, seed {seed})",
        "n_products": int(len(frame)),
        "n_brands": int(len(np.unique(groups))),
        "rows_by_source": {k: int(v) for k, v in frame["source"].value_counts().sort_index().items()},
        "knowledge_baseline": "minus irritant index (fragrance, essential_oil, drying_alcohol, "
                              "aha, bha, retinoid members + EU allergens)",
        "per_type": per_type,
        "gentleness": f"skin_sensitive ({per_type['sensitive']['output']})",
    }
    if with_predictions:
        metrics["_oof"] = {"P": P, "K": K, "Y": Yn, "folds": folds}
    return metrics


def train(frame: pd.DataFrame, Y: pd.DataFrame, *, seed: int = 0,
          cv_metrics: dict | None = None) -> SkinTypeModel:
    """Fit the learned part on every labelled row; pick each type's output from the CV."""
    if cv_metrics is None:
        cv_metrics = evaluate(frame, Y, seed=seed)
    model = default_model(seed).fit(frame[["ingredients", "category"]], Y, frame["group"])
    K = knowledge_scores(frame)
    Yn = Y.to_numpy(dtype=np.float64)
    platt = {}
    for j, t in enumerate(SKIN_TYPES):
        rows = ~np.isnan(Yn[:, j])
        platt[t] = C.platt_fit(K[rows], Yn[rows, j])
    source = {t: cv_metrics["per_type"][t]["output"] for t in SKIN_TYPES}
    summary = {t: {"roc_auc": cv_metrics["per_type"][t].get("roc_auc"),
                   "knowledge_roc_auc": cv_metrics["per_type"][t].get("knowledge_roc_auc")}
               for t in SKIN_TYPES}
    return SkinTypeModel(model, source, platt, summary)


def data_inputs(data_dir: str | os.PathLike | None = None) -> dict:
    from recommender import config

    with C.data_dir_env(data_dir):
        out = C.data_inputs(data_dir)
        out["cosmetics_2017"] = config.data_path(config.CATALOGS["cosmetics_2017"][0])
        return out
