"""Learned class fallback: ingredient classes for names the knowledge base does not know.

Which real input or need each part answers:

- Labels print names no table holds: typos ("Cltronellol", "Rosamarinus Officinalis Leaf
  Oil"), truncations from scrapers, trade spellings ("Iron Oxide Ci 77499", "Tangerine Leaf
  Oil"), new peptides ("Acetyl Decapeptide-99"). The curated class rules only see canonical
  names, so such a mention would silently carry no class: a retinoid or an essential oil
  would read as harmless. The fallback reads the printed name itself.
- Model: character n-grams (``char_wb`` 2-5) and word 1-2 grams (TF-IDF) of the upper-case
  name, plus the CosIng function terms as one-hot features when they are known (a fuzzy
  match's target), into one logistic regression per class (one-vs-rest, lbfgs, deterministic). Training names: every
  canonical name of the knowledge base (the CosIng inventory plus the few curated rows);
  labels: the curated class rules (``recommender.knowledge.classes``) on those names. The
  function features are blanked on a seeded half of the training rows, because the names
  the fallback really meets (unrecognised ones) never have functions.
- Classes left out: ``fragrance_allergen`` (a regulatory list, not a name pattern: a model
  would guess it from "-OL" endings) and every class with fewer than ``MIN_POSITIVES``
  positive training names (too few to learn; the curated rules still cover them).
- It refuses rather than guesses: a class is given only when its probability reaches
  ``config.LEARNED_CLASS_MIN_PROB`` (0.80); when the top probability lies in [0.5, 0.80) the
  name is left unclassed and marked ``uncertain`` so outputs can say so.
- It is applied only to mentions that did not match the KB exactly or through the alias
  table (``apply_fallback``): unrecognised names get the learned classes; fuzzy matches keep
  the curated classes of their target and gain any learned class on top (the fuzzy target
  is the same substance by construction, so its curated classes are never dropped; e.g.
  "Cltronellol" -> CITRONELLOL keeps fragrance_allergen, which the model does not learn).
- Quality is measured with cross-validation grouped by the first word of the name, so the
  dozens of ``RETINYL ...`` or ``PALMITOYL ...`` variants never sit on both sides of a split;
  per-class precision and recall go into the manifest (``class_fallback.json``).
- The artifact (``models/kb/class_fallback.joblib``) is loaded only after its sha256 matches
  the manifest and the installed scikit-learn has the minor version that trained it (a
  pickled estimator from another minor version may load and silently predict differently);
  a patch difference only warns.

Train: ``python -m recommender.knowledge.learned_classes train`` (about 15 s for the fit).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import joblib
import numpy as np
import sklearn
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion
from threadpoolctl import threadpool_limits

from recommender import config
from recommender.config import MEMO_ENTRIES
from recommender.hashing import sha256_file as _sha256

MODEL_FILE = "class_fallback.joblib"
MANIFEST_FILE = "class_fallback.json"
TRAIN_COMMAND = "python -m recommender.knowledge.learned_classes train"
REBUILD_HINT = "Run `skinrec build-kb` (or `" + TRAIN_COMMAND + "`) to retrain the class fallback."

SEED = 20261129
EXCLUDED_CLASSES: tuple[str, ...] = ("fragrance_allergen",)
MIN_POSITIVES = 5
UNCERTAIN_FLOOR = 0.5          # top probability in [0.5, min_prob): unclassed and uncertain
FUNCTION_DROPOUT = 0.5         # share of training rows whose function features are blanked
NGRAM_RANGE = (2, 5)
C = 10.0   # C=30 gains ~2 points of grouped-CV recall for ~5x the fit time
CV_FOLDS = 5
SCHEMA_VERSION = 1


class FallbackModelError(RuntimeError):
    """The fallback artifact is missing, altered, or was trained by another scikit-learn."""


class LearnedPrediction(NamedTuple):
    classes: tuple[str, ...]   # sorted class ids with probability >= min_prob
    prob: float                # the top class probability (also when no class is given)
    uncertain: bool            # no class given although the top probability was >= 0.5


def fold_name(name: object) -> str:
    """The form the model reads: upper case, single spaces (as canonical INCI names are)."""
    return " ".join(str(name).upper().split())


def first_word(name: str) -> str:
    """CV group of a name: its first word ('RETINYL PALMITATE' -> 'RETINYL')."""
    parts = fold_name(name).replace("/", " ").split()
    return parts[0] if parts else ""


@dataclass
class FallbackModel:
    """The fitted vectorisers and classifier, plus what the manifest says about them."""

    classes: tuple[str, ...]
    name_vectorizer: FeatureUnion
    function_vectorizer: DictVectorizer
    classifier: OneVsRestClassifier
    min_prob: float = config.LEARNED_CLASS_MIN_PROB
    info: dict = field(default_factory=dict)

    _weights: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _bias: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One (n_features, n_classes) matrix instead of 17 estimator calls: a label has a few
        # unmatched names, and OneVsRestClassifier's per-call overhead (~ms) would dominate.
        estimators = getattr(self.classifier, "estimators_", [])
        if estimators and all(hasattr(e, "coef_") for e in estimators):
            self._weights = np.ascontiguousarray(
                np.vstack([e.coef_.ravel() for e in estimators]).T)
            self._bias = np.array([float(e.intercept_[0]) for e in estimators])

    def _features(self, names: Sequence[str], functions: Sequence[Iterable[str]] | None):
        xn = self.name_vectorizer.transform([fold_name(n) for n in names])
        if functions is None:
            functions = [()] * len(names)
        xf = self.function_vectorizer.transform([_function_dict(f) for f in functions])
        return sparse.hstack([xn, xf], format="csr")

    def predict_proba(
        self, names: Sequence[str], functions: Sequence[Iterable[str]] | None = None
    ) -> np.ndarray:
        """(n_names, n_classes) probabilities, columns in ``self.classes`` order."""
        names = list(names)
        if not names:
            return np.zeros((0, len(self.classes)))
        x = self._features(names, functions)
        if self._weights is None:
            return self.classifier.predict_proba(x)
        return expit(np.asarray(x @ self._weights) + self._bias)

    def predict(
        self, names: Sequence[str], functions: Sequence[Iterable[str]] | None = None
    ) -> list[LearnedPrediction]:
        """One ``(classes, top probability, uncertain)`` per name (see ``decide``); cached."""
        names = list(names)
        funcs = [()] * len(names) if functions is None else [
            tuple(sorted(_function_dict(f))) for f in functions]
        keys = [(fold_name(n), f) for n, f in zip(names, funcs, strict=True)]
        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if todo:
            proba = self.predict_proba([k[0] for k in todo], [[f[3:] for f in k[1]] for k in todo])
            if len(self._cache) + len(todo) > _CACHE_MAX:
                self._cache.clear()
            for key, row in zip(todo, proba, strict=True):
                self._cache[key] = decide(row, self.classes, self.min_prob)
        return [self._cache[k] for k in keys]


_CACHE_MAX = MEMO_ENTRIES


def decide(row: Sequence[float], classes: Sequence[str], min_prob: float) -> LearnedPrediction:
    """The refusal rule: classes at >= ``min_prob``; unsure in [0.5, min_prob) -> uncertain."""
    row = np.asarray(row, dtype=float)
    if row.size == 0:
        return LearnedPrediction((), 0.0, False)
    top = float(row.max())
    chosen = tuple(sorted(c for c, p in zip(classes, row, strict=True) if p >= min_prob))
    uncertain = not chosen and UNCERTAIN_FLOOR <= top < min_prob
    return LearnedPrediction(chosen, top, uncertain)


def _function_dict(functions: Iterable[str] | str | None) -> dict[str, float]:
    if not functions:
        return {}
    if isinstance(functions, str):
        functions = functions.split("|")
    return {"fn=" + fold_name(f): 1.0 for f in functions if f and str(f).strip()}


# ---------------------------------------------------------------------------- training
@dataclass
class TrainingSet:
    names: list[str]
    functions: list[tuple[str, ...]]
    labels: list[tuple[str, ...]]
    classes: tuple[str, ...]
    positives: dict[str, int]
    dropped: dict[str, int]      # classes left out and why (positives count)

    def y(self) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.zeros((len(self.names), len(self.classes)), dtype=np.int8)
        for r, labels in enumerate(self.labels):
            for c in labels:
                if c in index:
                    out[r, index[c]] = 1
        return out


def training_set(kb, rules, names: Iterable[str] | None = None) -> TrainingSet:
    """Names of ``kb`` (or the given subset) with their curated classes as labels."""
    names = sorted({fold_name(n) for n in (kb.names() if names is None else names)})
    functions, labels = [], []
    for name in names:
        rec = kb.record(name) or {}
        funcs = tuple(rec.get("functions") or ())
        functions.append(funcs)
        labels.append(tuple(rules.classify(name, funcs, bool(rec.get("eu_allergen")))))
    counts: dict[str, int] = {}
    for labs in labels:
        for c in labs:
            counts[c] = counts.get(c, 0) + 1
    classes = tuple(
        c for c in sorted(counts) if c not in EXCLUDED_CLASSES and counts[c] >= MIN_POSITIVES
    )
    dropped = {c: counts.get(c, 0) for c in rules.ids if c not in classes}
    return TrainingSet(
        names=names, functions=functions, labels=labels, classes=classes,
        positives={c: counts[c] for c in classes}, dropped=dropped,
    )


def _fit(names: Sequence[str], functions: Sequence[tuple[str, ...]], y: np.ndarray,
         classes: tuple[str, ...], seed: int) -> FallbackModel:
    if y.shape[1] == 0:
        raise ValueError("no class has enough positive training names to learn")
    name_vec = FeatureUnion([
        ("char", TfidfVectorizer(
            analyzer="char_wb", ngram_range=NGRAM_RANGE, lowercase=False, sublinear_tf=True,
            min_df=2, dtype=np.float32,
        )),
        # word pairs: char_wb never crosses a word boundary, and "PEEL OIL", "SHELL POWDER",
        # "ALCOHOL DENAT" are pairs (grouped CV: essential_oil recall 0.28 -> 0.60 with them)
        ("word", TfidfVectorizer(
            analyzer="word", ngram_range=(1, 2), token_pattern=r"[A-Z0-9]+", lowercase=False,
            sublinear_tf=True, min_df=2, dtype=np.float32,
        )),
    ])
    xn = name_vec.fit_transform([fold_name(n) for n in names])
    rng = np.random.default_rng(seed)
    keep = rng.random(len(names)) >= FUNCTION_DROPOUT
    func_vec = DictVectorizer(dtype=np.float32, sort=True)
    xf = func_vec.fit_transform(
        [_function_dict(f) if k else {} for f, k in zip(functions, keep, strict=True)]
    )
    x = sparse.hstack([xn, xf], format="csr")
    clf = OneVsRestClassifier(
        LogisticRegression(C=C, solver="lbfgs", max_iter=300, tol=1e-4, random_state=seed),
        n_jobs=None,
    )
    # one BLAS thread: deterministic, and 2.5x less CPU than letting OpenBLAS threads spin on
    # a shared machine (same iterations, same result)
    with warnings.catch_warnings(), threadpool_limits(1):
        # lbfgs may stop at max_iter on a rare class; the CV figures say how good it is
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*lbfgs failed to converge.*")
        clf.fit(x, y)
    return FallbackModel(classes=classes, name_vectorizer=name_vec, function_vectorizer=func_vec,
                         classifier=clf)


def train_fallback(kb, rules, *, names: Iterable[str] | None = None, seed: int = SEED
                   ) -> FallbackModel:
    """Fit the fallback on every name of ``kb`` (or ``names``), labels from ``rules``.

    ``kb`` needs ``names()`` and ``record(name)`` (with 'functions' and 'eu_allergen');
    ``rules`` needs ``classify(name, functions, eu_allergen)`` and ``ids``.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    ts = training_set(kb, rules, names)
    y = ts.y()
    model = _fit(ts.names, ts.functions, y, ts.classes, seed)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    model.info = {
        "seed": seed,
        "n_names": len(ts.names),
        "classes": list(ts.classes),
        "positives": ts.positives,
        "excluded_classes": {
            c: ("regulatory list, not a name pattern" if c in EXCLUDED_CLASSES
                else f"fewer than {MIN_POSITIVES} positive names")
            + f" ({n} positives)"
            for c, n in sorted(ts.dropped.items())
        },
        "train_seconds": round(seconds, 1),
        "train_cpu_seconds": round(cpu, 1),
        "train_accuracy_at_threshold": _metrics(y, model.classifier.predict_proba(
            model._features(ts.names, ts.functions)), ts.classes, model.min_prob)["micro"],
    }
    return model


def _metrics(y: np.ndarray, proba: np.ndarray, classes: Sequence[str], min_prob: float) -> dict:
    """Per-class and micro/macro precision/recall of the thresholded decision."""
    pred = np.zeros_like(y)
    decisions = [decide(row, classes, min_prob) for row in proba]
    index = {c: i for i, c in enumerate(classes)}
    for r, d in enumerate(decisions):
        for c in d.classes:
            pred[r, index[c]] = 1
    per = {}
    for i, c in enumerate(classes):
        tp = int(((pred[:, i] == 1) & (y[:, i] == 1)).sum())
        fp = int(((pred[:, i] == 1) & (y[:, i] == 0)).sum())
        fn = int(((pred[:, i] == 0) & (y[:, i] == 1)).sum())
        per[c] = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                  "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}
    tp = sum(v["tp"] for v in per.values())
    fp = sum(v["fp"] for v in per.values())
    fn = sum(v["fn"] for v in per.values())
    with_support = [v for v in per.values() if v["support"]]
    return {
        "per_class": per,
        "micro": {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                  "tp": tp, "fp": fp, "fn": fn},
        "macro": {
            "precision": _mean([v["precision"] or 0.0 for v in with_support]),
            "recall": _mean([v["recall"] for v in with_support]),
        },
        "uncertain_share": round(sum(d.uncertain for d in decisions) / max(len(decisions), 1), 4),
        "n": len(decisions),
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def cross_validate(kb, rules, *, names: Iterable[str] | None = None, seed: int = SEED,
                   folds: int = CV_FOLDS) -> dict:
    """Grouped k-fold CV (groups: first word of the name): per-class P/R at the threshold."""
    t0, c0 = time.perf_counter(), time.process_time()
    ts = training_set(kb, rules, names)
    y = ts.y()
    groups = [first_word(n) for n in ts.names]
    proba = np.zeros(y.shape, dtype=float)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(ts.names, y, groups):
        cols = [j for j in range(y.shape[1]) if y[train_idx, j].any()]
        model = _fit([ts.names[i] for i in train_idx], [ts.functions[i] for i in train_idx],
                     y[np.ix_(train_idx, cols)], tuple(ts.classes[j] for j in cols), seed)
        # held-out names are scored without functions: unrecognised names never have them
        p = model.predict_proba([ts.names[i] for i in test_idx])
        proba[np.ix_(test_idx, cols)] = p
    out = _metrics(y, proba, ts.classes, config.LEARNED_CLASS_MIN_PROB)
    out.update({
        "scheme": f"GroupKFold({folds}) grouped by the first word of the name; held-out names "
                  "scored without CosIng functions (as unrecognised names are)",
        "threshold": config.LEARNED_CLASS_MIN_PROB,
        "seconds": round(time.perf_counter() - t0, 1),
        "cpu_seconds": round(time.process_time() - c0, 1),
    })
    return out


# ---------------------------------------------------------------------------- save / load
def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def save_fallback(model: FallbackModel, directory: Path | str | None = None, *,
                  cv: dict | None = None, inputs: dict | None = None) -> Path:
    """Write the artifact and its manifest (``class_fallback.json``) into ``directory``."""
    directory = Path(directory) if directory is not None else config.KB_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    payload = {
        "schema": SCHEMA_VERSION,
        "classes": list(model.classes),
        "name_vectorizer": model.name_vectorizer,
        "function_vectorizer": model.function_vectorizer,
        "classifier": model.classifier,
    }
    for _, vec in model.name_vectorizer.transformer_list:
        if hasattr(vec, "stop_words_"):  # only needed for introspection; large
            del vec.stop_words_
    joblib.dump(payload, path, compress=3)
    manifest = {
        "schema": SCHEMA_VERSION,
        "what": "learned ingredient-class fallback for names outside the knowledge base",
        "train_command": TRAIN_COMMAND,
        "artifacts": {MODEL_FILE: {"sha256": _sha256(path), "bytes": path.stat().st_size}},
        "sklearn_version": sklearn.__version__,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": _version("scipy"), "joblib": joblib.__version__,
                     "scikit-learn": sklearn.__version__},
        "model": {
            "features": f"TF-IDF char_wb {NGRAM_RANGE[0]}-{NGRAM_RANGE[1]} + word 1-2 grams on "
                        "the upper-case name + one-hot CosIng functions (blanked on a seeded "
                        f"{FUNCTION_DROPOUT:.0%} of training rows)",
            "estimator": f"one-vs-rest LogisticRegression(lbfgs, C={C})",
            "min_prob": model.min_prob,
            "uncertain_floor": UNCERTAIN_FLOOR,
        },
        "training": model.info,
        "inputs": inputs or {},
        "cv": cv or {},
    }
    (directory / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


def _version(package: str) -> str:
    try:
        from importlib import metadata

        return metadata.version(package)
    except Exception:  # pragma: no cover - informational only
        return ""


def load_fallback(directory: Path | str | None = None) -> FallbackModel:
    """Load the artifact after checking its sha256 and the scikit-learn version."""
    directory = Path(directory) if directory is not None else config.KB_DIR
    path = directory / MODEL_FILE
    manifest_path = directory / MANIFEST_FILE
    for p in (path, manifest_path):
        if not p.exists():
            raise FallbackModelError(f"{p} is missing. {REBUILD_HINT}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FallbackModelError(f"{manifest_path} is not valid JSON ({exc}). {REBUILD_HINT}") from exc
    trained_with = str(manifest.get("sklearn_version") or "")
    installed = sklearn.__version__
    if not trained_with:
        raise FallbackModelError(f"{manifest_path} does not say which scikit-learn trained "
                                 f"{MODEL_FILE}. {REBUILD_HINT}")
    if _minor(trained_with) != _minor(installed):
        raise FallbackModelError(
            f"{path} was trained with scikit-learn {trained_with}, but {installed} is installed; "
            f"a model pickled by another minor version is not loaded. {REBUILD_HINT}"
        )
    if trained_with != installed:
        warnings.warn(
            f"{path} was trained with scikit-learn {trained_with}, {installed} is installed "
            "(patch difference: loading it).", stacklevel=2,
        )
    expected = ((manifest.get("artifacts") or {}).get(MODEL_FILE) or {}).get("sha256")
    actual = _sha256(path)
    if expected != actual:
        raise FallbackModelError(
            f"{path} does not match {manifest_path} (sha256 {actual[:12]}... vs "
            f"{str(expected)[:12]}...): the artifact was changed or is stale. {REBUILD_HINT}"
        )
    payload = joblib.load(path)
    training = manifest.get("training") or {}
    return FallbackModel(
        classes=tuple(payload["classes"]),
        name_vectorizer=payload["name_vectorizer"],
        function_vectorizer=payload["function_vectorizer"],
        classifier=payload["classifier"],
        min_prob=config.LEARNED_CLASS_MIN_PROB,
        info=training,
    )


@functools.lru_cache(maxsize=2)
def _cached(directory: str) -> FallbackModel:
    return load_fallback(directory)


def default_fallback(directory: Path | str | None = None) -> FallbackModel:
    """The committed fallback (``config.KB_DIR``), loaded once per process."""
    directory = Path(directory) if directory is not None else config.KB_DIR
    return _cached(str(directory.resolve()))


# ---------------------------------------------------------------------------- applying
_KNOWN = ("exact", "alias")


def apply_fallback(parsed, model: FallbackModel, kb=None) -> None:
    """Classify, in place, the mentions of ``parsed`` the KB did not match exactly or by alias.

    Unrecognised mentions (``match`` None) get the learned classes; fuzzy matches keep the
    curated classes of their target and gain any learned class. Every mention handled gets
    ``class_confidence`` (the top class probability) and ``uncertain`` (True when the model
    was unsure and the mention is left without any class). ``match`` is not changed.
    ``kb`` (optional): supplies the CosIng functions of a fuzzy match's target as features.
    """
    apply_fallback_many((parsed,), model, kb)


def apply_fallback_many(parsed_lists: Iterable, model: FallbackModel, kb=None) -> None:
    """``apply_fallback`` over many parsed lists with one model call (batch scoring)."""
    todo = [m for parsed in parsed_lists for m in parsed.ingredients
            if m.match not in _KNOWN and fold_name(m.name)]
    if not todo:
        return
    functions = None
    if kb is not None:
        functions = []
        for m in todo:
            rec = kb.record(m.inci) if m.inci else None
            functions.append(tuple((rec or {}).get("functions") or ()))
    preds = model.predict([m.name for m in todo], functions)
    for m, pred in zip(todo, preds, strict=True):
        curated = tuple(m.classes) if m.match == "fuzzy" else ()
        m.classes = tuple(sorted(set(curated) | set(pred.classes)))
        m.class_confidence = round(pred.prob, 4)
        m.uncertain = bool(pred.uncertain and not m.classes)


# ---------------------------------------------------------------------------- command
def _inputs(kb, rules_dir: Path) -> dict:
    out = {}
    kb_manifest = getattr(kb, "manifest", None) or {}
    sha = ((kb_manifest.get("artifacts") or {}).get("ingredients.csv") or {}).get("sha256")
    if sha:
        out["kb:ingredients.csv"] = sha
    for p in sorted(Path(rules_dir).glob("*.yaml")):
        out[f"classes:{p.name}"] = _sha256(p)
    return out


def train_and_save(directory: Path | str | None = None, *, cv: bool = True) -> dict:
    """Train on the default KB and class rules, cross-validate, write artifact + manifest."""
    from recommender.knowledge.classes import load_class_rules
    from recommender.knowledge.kb import default_kb

    kb = default_kb()
    rules = load_class_rules()
    model = train_fallback(kb, rules)
    cv_metrics = cross_validate(kb, rules) if cv else {}
    path = save_fallback(model, directory, cv=cv_metrics, inputs=_inputs(kb, config.CLASSES_DIR))
    _cached.cache_clear()
    return {"path": str(path), "training": model.info, "cv": cv_metrics}


def input_hashes(kb=None) -> dict:
    """What the committed artifact should have been trained on (to detect a stale artifact)."""
    from recommender.knowledge.kb import default_kb

    return _inputs(kb if kb is not None else default_kb(), config.CLASSES_DIR)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.knowledge.learned_classes",
        description="Train or query the learned ingredient-class fallback.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("train", help=f"train and write {MODEL_FILE} + {MANIFEST_FILE}")
    tr.add_argument("--out", type=Path, default=None, help="directory (default models/kb)")
    tr.add_argument("--no-cv", action="store_true", help="skip the grouped cross-validation")
    pr = sub.add_parser("predict", help="classify names given as arguments")
    pr.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    if args.command == "train":
        result = train_and_save(args.out, cv=not args.no_cv)
        info = result["training"]
        print(f"wrote {result['path']}: {info['n_names']} names, classes {info['classes']}, "
              f"fit {info['train_seconds']} s")
        if result["cv"]:
            micro = result["cv"]["micro"]
            print(f"grouped CV at p>={config.LEARNED_CLASS_MIN_PROB}: micro precision "
                  f"{micro['precision']}, recall {micro['recall']} ({result['cv']['seconds']} s)")
        return 0
    try:
        model = default_fallback()
    except FallbackModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for name, pred in zip(args.names, model.predict(args.names), strict=True):
        print(f"{name}\t{','.join(pred.classes) or '-'}\t{pred.prob:.3f}"
              + ("\tuncertain" if pred.uncertain else ""))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
