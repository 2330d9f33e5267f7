"""Concern model: ingredients (+ category) -> calibrated P(concern) for nine concern ids.

Which real input or need each rule answers (DESIGN.md "Learned components" 1, issue #4):

- Labels are Sephora's "Good for: <concern>" highlights (sephora_2023). Only skincare
  products (``primary_category == 'Skincare'``) that show at least one "Good for"
  highlight are labelled; within them an absent concern counts as negative. Known bias:
  Sephora shows at most ~6 highlights per product (853 of the 1,343 labelled products
  show exactly 6), so a product good for a concern it had no room to show is a false
  negative; AUC and AP below are measured against these noisy negatives.
- "Value & Gift Sets" and "Mini Size" repeat full-size products (the same ingredients and
  highlights): dropped. "High Tech Tools" (devices) and "Wellness" (ingestible
  supplements, facial rollers) are not topical products: dropped too.
- The product name and brand are never features. Random folds leak brand house styles
  (~0.1 AUC higher): every figure comes from 5-fold CV grouped by brand (folds fixed by
  the seed), and the baseline (TF-IDF over raw ingredient words + logistic regression,
  DESIGN.md) is computed on the same folds in the same run.
- Model: one L2 logistic regression per concern over ``IngredientFeaturizer`` features.
  Knowledge features (classes, CosIng functions, active families, aggregates, category) are
  max-abs scaled; the memorisable blocks (canonical-name tokens, name words) are scaled
  down (``block_scales``, x0.3), which is a stronger penalty on them: the model leans on
  what the project knows about ingredients rather than on tokens of one retailer.
- Probabilities are Platt-calibrated on out-of-fold scores (inner 3-fold CV grouped by
  brand inside the training data), so P(concern)=0.3 means about 30 % of such products
  carry the label. Reliability (ECE, 10 bins) and Brier score are reported.
- A list with no readable ingredient gets NaN probabilities, never a made-up number.
"""

from __future__ import annotations

import ast
import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from recommender.learn.features import IngredientFeaturizer

# concern id -> the Sephora highlight text after "Good for: " (exact strings in the data).
CONCERNS: dict[str, str] = {
    "acne": "Acne/Blemishes",
    "dark_spots": "Dark spots",
    "fine_lines_wrinkles": "Anti-Aging",
    "firmness": "Loss of firmness",
    "dullness_texture": "Dullness/Uneven Texture",
    "pores": "Pores",
    "dryness": "Dryness",
    "redness": "Redness",
    "dark_circles": "Dark Circles",
}
CONCERN_IDS: tuple[str, ...] = tuple(CONCERNS)
GOOD_FOR = "Good for: "
EXCLUDED_CATEGORIES: tuple[str, ...] = (
    "Value & Gift Sets", "Mini Size", "High Tech Tools", "Wellness",
)
BLOCK_SCALES: tuple[tuple[str, float], ...] = (("tok:", 0.3), ("word:", 0.3))


# ----------------------------------------------------------------------------- data


@contextlib.contextmanager
def data_dir_env(data_dir: str | os.PathLike | None) -> Iterator[None]:
    """Point the project's loaders at ``data_dir`` for the duration (None: leave as is)."""
    if data_dir is None:
        yield
        return
    old = os.environ.get("SKINREC_DATA_DIR")
    os.environ["SKINREC_DATA_DIR"] = str(data_dir)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SKINREC_DATA_DIR", None)
        else:
            os.environ["SKINREC_DATA_DIR"] = old


def parse_highlights(value: object) -> list[str]:
    """Sephora's ``highlights`` field (a stringified Python list) -> list of strings."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    text = str(value).strip()
    if not text:
        return []
    try:
        out = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return []
    return [str(x) for x in out] if isinstance(out, (list, tuple)) else []


def sephora_skincare(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Sephora skincare products with ingredients, without sets, minis, devices, supplements.

    Columns: product_id, brand, group (case-folded brand), ingredients, category
    ('secondary > tertiary'), highlights (list).
    """
    from recommender.catalogs import load_catalog

    with data_dir_env(data_dir):
        df = load_catalog("sephora_2023", keep_all=True)
    df = df[(df["primary_category"] == "Skincare") & ~df["category"].isin(EXCLUDED_CATEGORIES)]
    df = df[df["ingredients"].str.strip() != ""]
    out = pd.DataFrame({
        "product_id": df["product_id"],
        "brand": df["brand"],
        "group": df["brand"].map(brand_group),
        "ingredients": df["ingredients"],
        "category": (df["category"] + " > " + df["tertiary_category"]).str.rstrip(" >"),
        "highlights": df["highlights"].map(parse_highlights),
    })
    return out.reset_index(drop=True)


def brand_group(brand: object) -> str:
    """CV group key: the brand, case- and punctuation-folded ('LA MER' == 'La Mer')."""
    return "".join(ch for ch in str(brand).lower() if ch.isalnum())


def load_concern_data(data_dir: str | os.PathLike | None = None
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(products, labels): labelled Sephora skincare products and their 0/1 concern labels."""
    sk = sephora_skincare(data_dir)
    good = sk["highlights"].map(
        lambda hs: {h[len(GOOD_FOR):].strip() for h in hs if h.startswith(GOOD_FOR)})
    keep = good.map(len) > 0
    sk = sk[keep].reset_index(drop=True)
    good = good[keep].reset_index(drop=True)
    Y = pd.DataFrame({cid: good.map(lambda s, t=text: t in s).astype(np.int8)
                      for cid, text in CONCERNS.items()})
    return sk.drop(columns=["highlights"]), Y


# ----------------------------------------------------------------------------- model


def fast_sklearn():
    """Hundreds of small fits on data we built ourselves: skip re-validation (~2x faster)."""
    import sklearn

    return sklearn.config_context(assume_finite=True, skip_parameter_validation=True)


def platt_fit(z: np.ndarray, y: np.ndarray, *, l2: float = 1e-4,
              iterations: int = 100) -> tuple[float, float]:
    """Platt scaling: (a, b) minimising the log loss of sigmoid(a*z + b).

    Newton steps with step halving on the standardised score (so any scale of ``z``, such
    as an integer irritant count, converges), mapped back to ``z``'s scale; a tiny L2 on the
    slope keeps separable data finite. Deterministic, a few milliseconds. A constant label
    gives slope 0 and the (clipped) log-odds of the prevalence.
    """
    z = np.asarray(z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3)) if len(y) else 0.5
    logit = float(np.log(prior / (1 - prior)))
    sd = float(z.std()) if len(z) else 0.0
    if len(y) == 0 or y.min() == y.max() or sd == 0.0:
        return 0.0, logit
    mu = float(z.mean())
    X = np.column_stack([(z - mu) / sd, np.ones_like(z)])
    reg = np.array([l2 * len(z), 0.0])

    def loss(w):
        t = X @ w
        return float(np.sum(np.logaddexp(0.0, t) - y * t) + 0.5 * reg[0] * w[0] ** 2)

    w = np.array([0.0, logit])
    current = loss(w)
    for _ in range(iterations):
        p = _sigmoid(X @ w)
        grad = X.T @ (p - y) + reg * w
        H = (X * (p * (1 - p))[:, None]).T @ X + np.diag(reg + 1e-12)
        step = np.linalg.solve(H, grad)
        t = 1.0
        while t > 1e-6:
            cand = w - t * step
            new = loss(cand)
            if new <= current:
                break
            t /= 2
        else:
            break
        w, improvement, current = cand, current - new, new
        if improvement < 1e-12:
            break
    a = w[0] / sd
    return float(a), float(w[1] - a * mu)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35, 35)))


def grouped_folds(groups: Sequence, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold with shuffled group assignment fixed by ``seed``."""
    groups = np.asarray(groups)
    n = min(n_splits, len(np.unique(groups)))
    if n < 2:
        raise ValueError("grouped CV needs at least two groups (brands)")
    kf = GroupKFold(n_splits=n, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in kf.split(np.zeros(len(groups)), groups=groups)]


class CalibratedLinearMultiLabel(BaseEstimator):
    """Per-label L2 logistic regression on block-scaled features + Platt calibration.

    ``fit(frame, Y, groups)``: ``frame`` is what ``IngredientFeaturizer`` accepts (a
    DataFrame with ``ingredients`` and ``category``); ``Y`` a DataFrame of 0/1 labels with
    NaN where a row has no label for that column (skin types: Sephora says nothing about
    sensitive skin); ``groups`` the CV groups (brands) for the calibration folds.
    Stored after fit (no sets, so the pickle is byte-stable): ``featurizer_``,
    ``labels_``, ``coef_`` (labels x features, scaling folded in), ``intercept_``,
    ``platt_`` (labels x 2: slope, intercept on the decision value), ``n_train_``.
    """

    def __init__(self, featurizer: IngredientFeaturizer | None = None, C: float = 0.2,
                 block_scales: tuple[tuple[str, float], ...] = BLOCK_SCALES,
                 class_weight: str | None = "balanced", calibration_folds: int = 3,
                 seed: int = 0):
        self.featurizer = featurizer
        self.C = C
        self.block_scales = block_scales
        self.class_weight = class_weight
        self.calibration_folds = calibration_folds
        self.seed = seed

    # -- fitting on a prepared matrix (shared by fit and the CV code)
    def _column_scale(self, X: sp.csr_matrix, names: np.ndarray) -> np.ndarray:
        maxabs = np.asarray(abs(X).max(axis=0).todense()).ravel()
        scale = np.where(maxabs > 0, 1.0 / np.where(maxabs > 0, maxabs, 1.0), 0.0)
        for prefix, factor in self.block_scales:
            mask = np.char.startswith(names.astype(str), prefix)
            scale[mask] *= factor
        return scale

    def _fit_one(self, Xs: sp.csr_matrix, y: np.ndarray) -> tuple[np.ndarray, float]:
        if len(np.unique(y)) < 2:
            prior = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
            return np.zeros(Xs.shape[1]), float(np.log(prior / (1 - prior)))
        m = LogisticRegression(C=self.C, solver="liblinear", class_weight=self.class_weight,
                               random_state=self.seed, max_iter=1000)
        m.fit(Xs, y)
        return m.coef_.ravel().copy(), float(m.intercept_[0])

    def _fit_platt(self, z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        return platt_fit(z, y)

    def fit_matrix(self, X: sp.csr_matrix, names: np.ndarray, Y: np.ndarray,
                   groups: np.ndarray) -> CalibratedLinearMultiLabel:
        """Fit on a feature matrix whose columns are ``names`` (labels: NaN = unlabelled)."""
        with fast_sklearn():
            return self._fit_matrix(X, names, Y, groups)

    def _fit_matrix(self, X, names, Y, groups) -> CalibratedLinearMultiLabel:
        X = sp.csr_matrix(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        groups = np.asarray(groups)
        scale = self._column_scale(X, names)
        Xs = X @ sp.diags(scale)
        Xs = sp.csr_matrix(Xs)
        L = Y.shape[1]
        coef = np.zeros((L, X.shape[1]))
        intercept = np.zeros(L)
        platt = np.zeros((L, 2))
        n_train = np.zeros(L, dtype=np.int64)
        for j in range(L):
            rows = np.flatnonzero(~np.isnan(Y[:, j]))
            y = Y[rows, j].astype(np.int64)
            n_train[j] = len(rows)
            w, b = self._fit_one(Xs[rows], y)
            coef[j] = w * scale
            intercept[j] = b
            # Platt on out-of-fold decision values (inner folds grouped by brand).
            z = np.zeros(len(rows))
            try:
                inner = grouped_folds(groups[rows], self.calibration_folds, self.seed + 1)
            except ValueError:
                inner = []
            if inner:
                Xr = X[rows]
                for itr, ite in inner:
                    s_in = self._column_scale(Xr[itr], names)
                    Xin = sp.csr_matrix(Xr @ sp.diags(s_in))
                    wi, bi = self._fit_one(Xin[itr], y[itr])
                    z[ite] = Xin[ite] @ wi + bi
                platt[j] = self._fit_platt(z, y)
            else:
                platt[j] = (1.0, 0.0)
        self.coef_ = coef
        self.intercept_ = intercept
        self.platt_ = platt
        self.n_train_ = n_train
        return self

    def fit(self, frame, Y: pd.DataFrame, groups: Sequence) -> CalibratedLinearMultiLabel:
        feat = self.featurizer if self.featurizer is not None else IngredientFeaturizer()
        from sklearn.base import clone

        self.featurizer_ = clone(feat).fit(frame)
        X = self.featurizer_.transform(frame)
        self.labels_ = tuple(str(c) for c in Y.columns)
        return self.fit_matrix(X, self.featurizer_.get_feature_names_out(),
                               Y.to_numpy(dtype=np.float64), np.asarray(groups))

    # -- prediction
    def decision_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def proba_matrix(self, X: sp.csr_matrix) -> np.ndarray:
        z = self.decision_matrix(X)
        return _sigmoid(z * self.platt_[:, 0] + self.platt_[:, 1])

    def predict_proba(self, frame) -> np.ndarray:
        """(n, labels) calibrated probabilities; NaN rows where nothing was read."""
        parsed, cats = self.featurizer_.parsed_inputs(frame)
        return self.predict_proba_parsed(parsed, cats)

    def predict_proba_parsed(self, parsed, categories=None, *, X=None) -> np.ndarray:
        """As ``predict_proba`` for parsed products and their category strings. ``X``: their
        features when already computed (``features.transform_parsed_many``)."""
        if X is None:
            X = self.featurizer_.transform_parsed(parsed, categories)
        P = self.proba_matrix(X)
        empty = np.array([len(p) == 0 for p in parsed])
        P[empty] = np.nan
        return P


def _select_columns(X: sp.csc_matrix, names: np.ndarray, rows: np.ndarray, min_df: int,
                    word_min_df: int) -> np.ndarray:
    """Columns a featurizer fitted on ``rows`` would keep (token/word document frequency)."""
    df = np.asarray((X[rows] != 0).sum(axis=0)).ravel()
    s = names.astype(str)
    is_tok = np.char.startswith(s, "tok:")
    is_word = np.char.startswith(s, "word:")
    keep = (~is_tok & ~is_word) | (is_tok & (df >= min_df)) | (is_word & (df >= word_min_df))
    return np.flatnonzero(keep)


def full_matrix(frame, featurizer: IngredientFeaturizer) -> tuple[sp.csr_matrix, np.ndarray]:
    """Features with every token and word kept (min_df=1): CV folds select their columns."""
    from sklearn.base import clone

    f = clone(featurizer).set_params(min_df=1, word_min_df=1).fit(frame)
    return f.transform(frame), f.get_feature_names_out()


def cv_predict(model: CalibratedLinearMultiLabel, X: sp.csr_matrix, names: np.ndarray,
               Y: np.ndarray, groups: np.ndarray, folds) -> np.ndarray:
    """Out-of-fold calibrated probabilities, each fold fitted as a fresh model would be."""
    feat = model.featurizer if model.featurizer is not None else IngredientFeaturizer()
    X = sp.csr_matrix(X)
    Xc = X.tocsc()
    P = np.full(Y.shape, np.nan)
    for tr, te in folds:
        cols = _select_columns(Xc, names, tr, feat.min_df, feat.word_min_df)
        Xf = X[:, cols]
        from sklearn.base import clone

        m = clone(model).fit_matrix(Xf[tr], names[cols], Y[tr], groups[tr])
        P[te] = m.proba_matrix(Xf[te])
    return P


# ----------------------------------------------------------------------------- metrics


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    err = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            err += m.mean() * abs(p[m].mean() - y[m].mean())
    return float(err)


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        if m.any():
            out.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(m.sum()),
                        "mean_pred": round(float(p[m].mean()), 4),
                        "frac_pos": round(float(y[m].mean()), 4)})
    return out


def label_metrics(y: np.ndarray, p: np.ndarray) -> dict:
    """ROC-AUC, AP, Brier, ECE, prevalence for one label over its labelled rows."""
    m = ~np.isnan(y) & ~np.isnan(p)
    y, p = y[m].astype(int), p[m]
    if not len(y):
        return {"n": 0}
    out = {"n": int(m.sum()), "positives": int(y.sum()), "prevalence": round(float(y.mean()), 4)}
    if 0 < y.sum() < len(y):
        out["roc_auc"] = round(float(roc_auc_score(y, p)), 4)
        out["average_precision"] = round(float(average_precision_score(y, p)), 4)
    if ((p >= 0) & (p <= 1)).all():
        out["brier"] = round(float(brier_score_loss(y, p)), 4)
        out["brier_prevalence_only"] = round(float(brier_score_loss(
            y, np.full(len(y), y.mean()))), 4)
        out["ece"] = round(expected_calibration_error(y, p), 4)
    return out


def check_folds_grouped(folds, groups: np.ndarray) -> None:
    """Raise if any group (brand) appears in two folds' test sets or in train and test."""
    seen: dict = {}
    for k, (tr, te) in enumerate(folds):
        test_groups = set(groups[te])
        if test_groups & set(groups[tr]):
            raise AssertionError(f"fold {k}: a brand is in both train and test")
        for g in test_groups:
            if g in seen:
                raise AssertionError(f"brand {g!r} in the test sets of folds {seen[g]} and {k}")
            seen[g] = k


# ----------------------------------------------------------------------------- baseline


def baseline_tfidf_cv(texts: Sequence[str], Y: np.ndarray, folds, *,
                      categories: Sequence[str] | None = None, C: float = 1.0,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """DESIGN.md baseline: TF-IDF over raw ingredient words + logistic regression, fitted per
    fold (vectoriser included). Returns {"tfidf": P} and, with ``categories``, also
    {"tfidf_category": P} with the category one-hot appended (same folds, same vectoriser)."""
    texts = np.asarray([str(t) for t in texts], dtype=object)
    out = {"tfidf": np.full(Y.shape, np.nan)}
    cats = None
    if categories is not None:
        out["tfidf_category"] = np.full(Y.shape, np.nan)
        cats = np.asarray(categories, dtype=object).reshape(-1, 1)
    with fast_sklearn():
        _baseline_folds(texts, Y, folds, out, cats, C, seed)
    return out


def _baseline_folds(texts, Y, folds, out, cats, C, seed) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import OneHotEncoder

    for tr, te in folds:
        vec = TfidfVectorizer(min_df=2).fit(texts[tr])
        variants = {"tfidf": (vec.transform(texts[tr]), vec.transform(texts[te]))}
        if cats is not None:
            enc = OneHotEncoder(handle_unknown="ignore").fit(cats[tr])
            a, b = variants["tfidf"]
            variants["tfidf_category"] = (sp.hstack([a, enc.transform(cats[tr])]).tocsr(),
                                          sp.hstack([b, enc.transform(cats[te])]).tocsr())
        for key, (Xtr, Xte) in variants.items():
            for j in range(Y.shape[1]):
                rows = np.flatnonzero(~np.isnan(Y[tr, j]))
                y = Y[tr[rows], j].astype(int)
                if len(np.unique(y)) < 2:
                    continue
                m = LogisticRegression(C=C, solver="liblinear", random_state=seed)
                m.fit(Xtr[rows], y)
                out[key][te, j] = m.decision_function(Xte)


# ----------------------------------------------------------------------------- train / evaluate


def default_model(seed: int = 0) -> CalibratedLinearMultiLabel:
    return CalibratedLinearMultiLabel(featurizer=IngredientFeaturizer(), seed=seed)


def evaluate(frame: pd.DataFrame, Y: pd.DataFrame, *, seed: int = 0, n_splits: int = 5,
             with_predictions: bool = False) -> dict:
    """Brand-grouped CV of the concern model and the baselines on the same folds."""
    groups = frame["group"].to_numpy()
    folds = grouped_folds(groups, n_splits, seed)
    check_folds_grouped(folds, groups)
    model = default_model(seed)
    X, names = full_matrix(frame, model.featurizer)
    Yn = Y.to_numpy(dtype=np.float64)
    P = cv_predict(model, X, names, Yn, groups, folds)
    base = baseline_tfidf_cv(frame["ingredients"].tolist(), Yn, folds, seed=seed,
                             categories=frame["category"].str.split(" > ").str[0].tolist())
    B, Bc = base["tfidf"], base["tfidf_category"]
    per_label = {}
    for j, cid in enumerate(Y.columns):
        m = label_metrics(Yn[:, j], P[:, j])
        b = label_metrics(Yn[:, j], B[:, j])
        bc = label_metrics(Yn[:, j], Bc[:, j])
        m["baseline_roc_auc"] = b.get("roc_auc")
        m["baseline_average_precision"] = b.get("average_precision")
        m["baseline_category_roc_auc"] = bc.get("roc_auc")
        m["baseline_category_average_precision"] = bc.get("average_precision")
        m["reliability"] = reliability_table(Yn[:, j], P[:, j])
        per_label[cid] = m

    def macro(key):
        return round(float(np.mean([v[key] for v in per_label.values()])), 4)

    metrics = {
        "cv": f"{len(folds)}-fold GroupKFold by brand (shuffle, seed {seed})",
        "n_products": int(len(frame)),
        "n_brands": int(len(np.unique(groups))),
        "macro_roc_auc": macro("roc_auc"),
        "macro_average_precision": macro("average_precision"),
        "macro_brier": macro("brier"),
        "macro_ece": macro("ece"),
        "baseline": "TF-IDF over raw ingredient words + logistic regression (C=1), same folds",
        "baseline_macro_roc_auc": macro("baseline_roc_auc"),
        "baseline_macro_average_precision": macro("baseline_average_precision"),
        "baseline_category": "the same + Sephora secondary_category one-hot, same folds",
        "baseline_category_macro_roc_auc": macro("baseline_category_roc_auc"),
        "better_than_baseline_on_every_label": all(
            v["roc_auc"] > v["baseline_roc_auc"] for v in per_label.values()),
        "per_label": per_label,
    }
    if with_predictions:
        metrics["_oof"] = {"P": P, "B": B, "Y": Yn, "folds": folds}
    return metrics


def train(frame: pd.DataFrame, Y: pd.DataFrame, *, seed: int = 0) -> CalibratedLinearMultiLabel:
    return default_model(seed).fit(frame[["ingredients", "category"]], Y, frame["group"])


def concern_frame(model: CalibratedLinearMultiLabel, frame) -> pd.DataFrame:
    """Calibrated probabilities as ``concern_<id>`` columns."""
    P = model.predict_proba(frame)
    index = frame.index if isinstance(frame, pd.DataFrame) else None
    return pd.DataFrame(P, columns=[f"concern_{c}" for c in model.labels_], index=index)


def data_inputs(data_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Input files whose hashes go into the manifest."""
    from recommender import config

    with data_dir_env(data_dir):
        return {
            "sephora_2023": config.data_path(config.CATALOGS["sephora_2023"][0]),
            "kb_ingredients": config.KB_DIR / "ingredients.csv",
            "kb_manifest": config.KB_DIR / "manifest.json",
            "aliases": config.ALIASES_FILE,
        }
