"""Train, evaluate and apply the concern and skin-type models (issue #4 parts 2, 3, 6).

Which need each entry point answers:

- ``train_all``: one seeded, deterministic training from the data directory that writes
  ``models/concerns/concern_model.joblib`` and ``models/skin_types/skin_type_model.joblib``
  through ``recommender.learn.artifacts`` (sha256, input hashes, library versions, seed
  and the grouped-CV metrics in each directory's manifest.json), plus METRICS.md tables
  and PNG plots (PR curve per concern, reliability diagram, skin-type ROC) for the model
  card. Same seed and data -> the same artifact bytes (``subsample`` makes that cheap to
  test).
- ``evaluate_all``: recomputes the metrics with the seed and subsample the manifest
  records and reports, per model, the largest difference from the manifest (the models
  are deterministic, so it should be 0 up to float noise).
- ``predict``: products (a DataFrame with ``ingredients`` and optionally ``category``, or
  ingredient texts plus optional categories) -> ``concern_<id>`` columns, ``skin_<type>``
  columns and ``gentleness``; NaN where no ingredient could be read. Models are loaded
  once per process and only through ``load_artifact`` (hash and version checked).

Run ``python -m recommender.learn.evaluate_models train|evaluate`` until the CLI wires
``skinrec train`` / ``skinrec evaluate``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recommender import config
from recommender.learn import concerns as C
from recommender.learn import skin_types as S
from recommender.learn.artifacts import load_artifact, read_manifest, save_artifact, sha256_file
from recommender.learn.features import (
    from_parsed_list,
    parse_fingerprint,
    parse_texts,
    transform_parsed_many,
)

CONCERN_DIR = "concerns"
SKIN_DIR = "skin_types"
CONCERN_FILE = "concern_model.joblib"
SKIN_FILE = "skin_type_model.joblib"
TOLERANCE = 1e-3


def _models_dir(models_dir) -> Path:
    return Path(models_dir) if models_dir is not None else config.MODELS_DIR


def _subsample(frame: pd.DataFrame, Y: pd.DataFrame, subsample, seed: int):
    """Deterministic row subsample: an int (rows) or a float in (0, 1) (fraction)."""
    if subsample is None:
        return frame, Y
    n = len(frame)
    k = int(round(subsample * n)) if isinstance(subsample, float) and subsample < 1 else int(subsample)
    k = max(2, min(k, n))
    rows = np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
    return frame.iloc[rows].reset_index(drop=True), Y.iloc[rows].reset_index(drop=True)


def _strip(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if not k.startswith("_")}


# ----------------------------------------------------------------------------- training


def train_concerns(data_dir=None, out_dir=None, seed: int = 0, subsample=None,
                   plots: bool = True) -> dict:
    t0 = time.perf_counter()
    out = _models_dir(out_dir) / CONCERN_DIR
    frame, Y = _subsample(*C.load_concern_data(data_dir), subsample, seed)
    metrics = C.evaluate(frame, Y, seed=seed, with_predictions=True)
    oof = metrics.pop("_oof")
    model = C.train(frame, Y, seed=seed)
    seconds = round(time.perf_counter() - t0, 1)
    entry = save_artifact(
        model, out / CONCERN_FILE, metrics=metrics, inputs=C.data_inputs(data_dir), seed=seed,
        extra={
            "model": "per-concern L2 logistic regression on IngredientFeaturizer features "
                     "(tokens and name words x0.3), Platt-calibrated on brand-grouped OOF",
            "labels": [f"concern_{c}" for c in C.CONCERN_IDS],
            "label_source": {c: f"Sephora highlight 'Good for: {t}'"
                             for c, t in C.CONCERNS.items()},
            "subsample": subsample,
            "parse_fingerprint": parse_fingerprint(),
            "training_seconds": seconds,
        },
    )
    write_concern_report(metrics, out, oof=oof if plots else None)
    return {"metrics": metrics, "sha256": entry["sha256"], "seconds": seconds,
            "path": str(out / CONCERN_FILE)}


def train_skin_types(data_dir=None, out_dir=None, seed: int = 0, subsample=None,
                     plots: bool = True) -> dict:
    t0 = time.perf_counter()
    out = _models_dir(out_dir) / SKIN_DIR
    frame, Y = _subsample(*S.load_skin_type_data(data_dir), subsample, seed)
    metrics = S.evaluate(frame, Y, seed=seed, with_predictions=True)
    oof = metrics.pop("_oof")
    model = S.train(frame, Y, seed=seed, cv_metrics=metrics)
    seconds = round(time.perf_counter() - t0, 1)
    entry = save_artifact(
        model, out / SKIN_FILE, metrics=metrics, inputs=S.data_inputs(data_dir), seed=seed,
        extra={
            "model": "per-type L2 logistic regression (as the concern model) where it beats "
                     "the knowledge index in brand-grouped CV; else the Platt-calibrated "
                     "irritant index",
            "labels": [f"skin_{t}" for t in S.SKIN_TYPES] + ["gentleness"],
            "output_source": dict(model.source_),
            "subsample": subsample,
            "parse_fingerprint": parse_fingerprint(),
            "training_seconds": seconds,
        },
    )
    write_skin_report(metrics, out, oof=oof if plots else None)
    return {"metrics": metrics, "sha256": entry["sha256"], "seconds": seconds,
            "path": str(out / SKIN_FILE)}


def train_all(data_dir=None, out_dir=None, seed: int = 0, subsample=None,
              plots: bool = True) -> dict:
    """Train both models, write artifacts + manifests + METRICS.md (+ plots); return metrics."""
    t0 = time.perf_counter()
    c = train_concerns(data_dir, out_dir, seed, subsample, plots)
    s = train_skin_types(data_dir, out_dir, seed, subsample, plots)
    clear_cache()
    return {"concerns": c["metrics"], "skin_types": s["metrics"],
            "sha256": {"concerns": c["sha256"], "skin_types": s["sha256"]},
            "seconds": round(time.perf_counter() - t0, 1)}


# ----------------------------------------------------------------------------- evaluation


def _max_diff(a, b, path: str = "") -> tuple[float, str]:
    """Largest absolute difference between numeric leaves of two metric trees."""
    if isinstance(a, dict) and isinstance(b, dict):
        worst = (0.0, "")
        for k in set(a) | set(b):
            if k not in a or k not in b:
                return math.inf, f"{path}/{k} (missing)"
            d = _max_diff(a[k], b[k], f"{path}/{k}")
            if d[0] > worst[0]:
                worst = d
        return worst
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return math.inf, f"{path} (length {len(a)} vs {len(b)})"
        worst = (0.0, "")
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _max_diff(x, y, f"{path}[{i}]")
            if d[0] > worst[0]:
                worst = d
        return worst
    if isinstance(a, bool) or isinstance(b, bool):
        return (0.0, "") if a == b else (math.inf, path)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)), path
    if a is None and b is None:
        return 0.0, ""
    return (0.0, "") if a == b else (math.inf, path)


def evaluate_all(data_dir=None, models_dir=None, parts: Sequence[str] = ("concerns", "skin_types"),
                 tolerance: float = TOLERANCE) -> dict:
    """Recompute each model's metrics with its manifest's seed and subsample; compare."""
    base = _models_dir(models_dir)
    result = {}
    for part in parts:
        directory, fname, mod, loader = {
            "concerns": (CONCERN_DIR, CONCERN_FILE, C, C.load_concern_data),
            "skin_types": (SKIN_DIR, SKIN_FILE, S, S.load_skin_type_data),
        }[part]
        entry = (read_manifest(base / directory).get("artifacts") or {}).get(fname)
        if not entry:
            raise FileNotFoundError(f"{base / directory} has no manifest entry for {fname}; "
                                    "run `skinrec train`")
        seed = int(entry.get("seed") or 0)
        frame, Y = _subsample(*loader(data_dir), entry.get("subsample"), seed)
        metrics = _strip(mod.evaluate(frame, Y, seed=seed))
        diff, where = _max_diff(metrics, entry.get("metrics") or {})
        result[part] = {"metrics": metrics, "max_abs_diff": diff, "worst": where,
                        "reproduced": diff <= tolerance,
                        "stale_inputs": stale_inputs(entry, mod.data_inputs(data_dir))}
    return result


def stale_inputs(entry: dict, current: dict) -> list[str]:
    """Inputs that changed since the artifact was trained (data files, KB, aliases, parser):
    when metrics do not reproduce, this says why (retrain with `skinrec train`)."""
    out = []
    recorded = entry.get("inputs") or {}
    for name, path in current.items():
        rec = (recorded.get(name) or {}).get("sha256")
        if rec is None or not Path(path).is_file() or sha256_file(path) != rec:
            out.append(name)
    if entry.get("parse_fingerprint") != parse_fingerprint():
        out.append("parse_fingerprint (KB files, aliases, class files or parser code)")
    return out


# ----------------------------------------------------------------------------- prediction


@functools.lru_cache(maxsize=4)
def _load(models_dir: str):
    base = Path(models_dir)
    cm, ce = load_artifact(base / CONCERN_DIR / CONCERN_FILE, with_entry=True)
    sm, se = load_artifact(base / SKIN_DIR / SKIN_FILE, with_entry=True)
    return cm, sm, {"concerns": ce["sha256"][:12], "skin_types": se["sha256"][:12]}


def load_models(models_dir=None):
    """(concern model, skin-type model, versions) from ``models_dir``, verified, cached."""
    return _load(str(_models_dir(models_dir).resolve()))


def clear_cache() -> None:
    """Forget loaded models (after a retrain in the same process)."""
    _load.cache_clear()


def model_versions(models_dir=None) -> dict[str, str]:
    """Short sha256 of each artifact: what produced a scored row."""
    return dict(load_models(models_dir)[2])


def _as_frame(products, categories=None) -> pd.DataFrame:
    if isinstance(products, pd.DataFrame):
        if "ingredients" not in products.columns:
            raise ValueError("products needs an 'ingredients' column")
        frame = products[["ingredients"]].copy()
        if categories is not None:
            frame["category"] = list(categories)
        elif "category" in products.columns:
            frame["category"] = products["category"].to_numpy()
        else:
            frame["category"] = ""
        return frame
    if isinstance(products, str):
        products = [products]
    texts = ["" if t is None else str(t) for t in products]
    if categories is None:
        cats = [""] * len(texts)
    elif isinstance(categories, str):
        cats = [categories] * len(texts)
    else:
        cats = ["" if c is None else str(c) for c in categories]
    if len(cats) != len(texts):
        raise ValueError(f"{len(texts)} ingredient lists but {len(cats)} categories")
    return pd.DataFrame({"ingredients": texts, "category": cats})


def predict(products, categories=None, *, parsed=None, models_dir=None) -> pd.DataFrame:
    """Products -> concern_<id>, skin_<type> and gentleness columns (index kept for frames).

    ``products``: a DataFrame with ``ingredients`` (and optionally ``category``), or one
    text or a sequence of texts. ``categories``: one category for all or one per product
    (a retailer's category string; mapped to a coarse category, unknown -> 'other').
    ``parsed``: the reader's ``ParsedList`` per product when the caller already read the
    lists (``score_frame``): then the texts are not read again. Prediction never touches
    the on-disk parse cache (that is for training data); the in-process cache is bounded.
    """
    frame = _as_frame(products, categories)
    cm, sm, _versions = load_models(models_dir)
    if parsed is not None:
        if len(parsed) != len(frame):
            raise ValueError(f"{len(frame)} products but {len(parsed)} parsed lists")
        entries = [from_parsed_list(p) for p in parsed]
    else:
        entries = parse_texts(frame["ingredients"].tolist(), disk_cache=False)
    cats = frame["category"].tolist()
    # Both models featurize the same products: their shared work is done once.
    Xc, Xs = transform_parsed_many([cm.featurizer_, sm.model_.featurizer_], entries, cats)
    concern = pd.DataFrame(cm.predict_proba_parsed(entries, cats, X=Xc),
                           columns=[f"concern_{c}" for c in cm.labels_], index=frame.index)
    out = pd.concat([concern, sm.frame_parsed(entries, cats, index=frame.index, X=Xs)], axis=1)
    if isinstance(products, pd.DataFrame):
        out.index = products.index
    return out


# ----------------------------------------------------------------------------- reports


def _fmt(v, nd=3) -> str:
    return "–" if v is None else f"{v:.{nd}f}"


def write_concern_report(metrics: dict, out: Path, oof: dict | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Concern model: brand-grouped cross-validation",
        "",
        f"Data: {metrics['n_products']} Sephora skincare products (sephora_2023) with at least "
        f"one \"Good for\" highlight, {metrics['n_brands']} brands; sets, minis, devices and "
        "supplements dropped. Within those products an absent concern counts as negative: "
        "Sephora shows at most ~6 highlights, so some negatives are products that had no room "
        "to show the concern (a known bias; the figures are measured against these labels).",
        "",
        f"CV: {metrics['cv']}; no brand is in two folds. Model and baselines on the same folds. "
        "Probabilities are Platt-calibrated on out-of-fold scores inside each training split; "
        "AUC/AP are pooled over the out-of-fold predictions.",
        "",
        "| concern | positives | prevalence | ROC-AUC | AP | baseline AUC | baseline AP | "
        "baseline+category AUC | Brier (prevalence-only) | ECE |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cid, m in metrics["per_label"].items():
        lines.append(
            f"| {cid} | {m['positives']} | {_fmt(m['prevalence'])} | **{_fmt(m['roc_auc'])}** | "
            f"{_fmt(m['average_precision'])} | {_fmt(m['baseline_roc_auc'])} | "
            f"{_fmt(m['baseline_average_precision'])} | {_fmt(m['baseline_category_roc_auc'])} | "
            f"{_fmt(m['brier'])} ({_fmt(m['brier_prevalence_only'])}) | {_fmt(m['ece'])} |")
    lines += [
        f"| **macro** | | | **{_fmt(metrics['macro_roc_auc'])}** | "
        f"{_fmt(metrics['macro_average_precision'])} | {_fmt(metrics['baseline_macro_roc_auc'])} | "
        f"{_fmt(metrics['baseline_macro_average_precision'])} | "
        f"{_fmt(metrics['baseline_category_macro_roc_auc'])} | {_fmt(metrics['macro_brier'])} | "
        f"{_fmt(metrics['macro_ece'])} |",
        "",
        f"Baseline: {metrics['baseline']}. Baseline+category: {metrics['baseline_category']}.",
        f"Better than the baseline on every label: {metrics['better_than_baseline_on_every_label']}. "
        "Target (stretch) macro ROC-AUC >= 0.78: "
        f"{'reached' if metrics['macro_roc_auc'] >= 0.78 else 'not reached'} "
        f"({_fmt(metrics['macro_roc_auc'])}).",
        "",
        "Calibration: ECE = expected calibration error over 10 equal-width bins; Brier score "
        "next to the Brier of always predicting the prevalence. Reliability tables per concern "
        "are in manifest.json (metrics.per_label.<id>.reliability).",
        "",
    ]
    if oof is not None and _plot_concerns(oof, metrics, out):
        lines += ["![PR curves](concerns_pr.png)", "", "![Reliability](concerns_calibration.png)",
                  ""]
    path = out / "METRICS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def write_skin_report(metrics: dict, out: Path, oof: dict | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rows = metrics["rows_by_source"]
    lines = [
        "# Skin-type model: brand-grouped cross-validation",
        "",
        f"Data: {metrics['n_products']} products, {metrics['n_brands']} brands: "
        f"{rows.get('cosmetics_2017', 0)} cosmetics_2017 rows with informative flags (rows "
        f"ticking all five or none, and placeholder ingredient fields, dropped) and "
        f"{rows.get('sephora_2023', 0)} Sephora skincare products with a \"Best for ... Skin\" "
        "highlight (absent type = negative; sensitive unknown, never named by Sephora).",
        "",
        f"CV: {metrics['cv']}. Knowledge baseline: {metrics['knowledge_baseline']}, "
        "higher = less suitable; same folds.",
        "",
        "| type | labelled | prevalence | model ROC-AUC | knowledge ROC-AUC | model AP | ECE | "
        "output used |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for t, m in metrics["per_type"].items():
        lines.append(
            f"| {t} | {m['n']} | {_fmt(m.get('prevalence'))} | {_fmt(m.get('roc_auc'))} | "
            f"{_fmt(m.get('knowledge_roc_auc'))} | {_fmt(m.get('average_precision'))} | "
            f"{_fmt(m.get('ece'))} | {m['output']} |")
    lines += ["", f"gentleness = {metrics['gentleness']}.", "",
              "By source (ROC-AUC model / knowledge):", ""]
    for t, m in metrics["per_type"].items():
        parts = [f"{src} {_fmt(v['roc_auc'])} / {_fmt(v['knowledge_roc_auc'])} (n={v['n']})"
                 for src, v in m.get("by_source", {}).items()]
        lines.append(f"- {t}: " + "; ".join(parts))
    lines += ["", "A type whose labels do not beat the knowledge index (or reach AUC 0.55) is "
              "served by the knowledge index, Platt-calibrated on that type's labels.", ""]
    if oof is not None and _plot_skin(oof, out):
        lines += ["![ROC](skin_types_roc.png)", ""]
    path = out / "METRICS.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plots are optional
        return None
    return plt


def _plot_concerns(oof: dict, metrics: dict, out: Path) -> bool:
    plt = _pyplot()
    if plt is None:
        return False
    from sklearn.metrics import precision_recall_curve

    P, B, Y = oof["P"], oof["B"], oof["Y"]
    ids = list(metrics["per_label"])
    fig, axes = plt.subplots(3, 3, figsize=(11, 10))
    for j, (cid, ax) in enumerate(zip(ids, axes.ravel(), strict=False)):
        y = Y[:, j].astype(int)
        for scores, label, style in ((P[:, j], "model", "-"), (B[:, j], "TF-IDF baseline", "--")):
            pr, rc, _ = precision_recall_curve(y, scores)
            ax.plot(rc, pr, style, label=label)
        ax.axhline(y.mean(), color="grey", lw=0.8, ls=":", label="prevalence")
        m = metrics["per_label"][cid]
        ax.set_title(f"{cid}\nAP {m['average_precision']:.2f} vs {m['baseline_average_precision']:.2f}",
                     fontsize=9)
        ax.set_xlabel("recall", fontsize=8)
        ax.set_ylabel("precision", fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle("Concern model: precision-recall, brand-grouped out-of-fold")
    fig.tight_layout()
    fig.savefig(out / "concerns_pr.png", dpi=80, metadata={"Software": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    for cid in ids:
        tab = metrics["per_label"][cid]["reliability"]
        ax.plot([r["mean_pred"] for r in tab], [r["frac_pos"] for r in tab], marker="o",
                ms=3, lw=1, label=f"{cid} (ECE {metrics['per_label'][cid]['ece']:.3f})")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("fraction positive")
    ax.set_title("Concern model: reliability (10 bins, out-of-fold)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "concerns_calibration.png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return True


def _plot_skin(oof: dict, out: Path) -> bool:
    plt = _pyplot()
    if plt is None:
        return False
    from sklearn.metrics import roc_curve

    P, K, Y = oof["P"], oof["K"], oof["Y"]
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.6))
    for j, (t, ax) in enumerate(zip(S.SKIN_TYPES, axes, strict=True)):
        rows = ~np.isnan(Y[:, j])
        y = Y[rows, j].astype(int)
        for scores, label, style in ((P[rows, j], "model", "-"),
                                     (K[rows].astype(float), "knowledge index", "--")):
            fpr, tpr, _ = roc_curve(y, scores)
            ax.plot(fpr, tpr, style, label=label)
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        ax.set_title(t, fontsize=9)
        ax.set_xlabel("false positive rate", fontsize=8)
    axes[0].set_ylabel("true positive rate", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle("Skin-type model vs knowledge index: ROC, brand-grouped out-of-fold")
    fig.tight_layout()
    fig.savefig(out / "skin_types_roc.png", dpi=80, metadata={"Software": None})
    plt.close(fig)
    return True


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import json

    ap = argparse.ArgumentParser(prog="python -m recommender.learn.evaluate_models")
    ap.add_argument("command", choices=("train", "evaluate"))
    ap.add_argument("--data-dir")
    ap.add_argument("--models-dir")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--subsample", type=float)
    args = ap.parse_args(argv)
    sub = args.subsample
    if sub is not None and sub >= 1:
        sub = int(sub)
    if args.command == "train":
        res = train_all(args.data_dir, args.models_dir, args.seed, sub)
        summary = {
            "seconds": res["seconds"], "sha256": res["sha256"],
            "concerns_macro_roc_auc": res["concerns"]["macro_roc_auc"],
            "baseline_macro_roc_auc": res["concerns"]["baseline_macro_roc_auc"],
            "skin_types": {t: (m.get("roc_auc"), m.get("knowledge_roc_auc"), m["output"])
                           for t, m in res["skin_types"]["per_type"].items()},
        }
        print(json.dumps(summary, indent=2))
        return 0
    res = evaluate_all(args.data_dir, args.models_dir)
    for part, r in res.items():
        print(f"{part}: reproduced={r['reproduced']} max_abs_diff={r['max_abs_diff']:.2e} "
              f"{r['worst']}" + (f" changed since training: {', '.join(r['stale_inputs'])}"
                                 if r["stale_inputs"] else ""))
    return 0 if all(r["reproduced"] for r in res.values()) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())


__all__ = ["train_all", "evaluate_all", "predict", "load_models", "model_versions",
           "train_concerns", "train_skin_types", "clear_cache"]
