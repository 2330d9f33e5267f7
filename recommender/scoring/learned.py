"""The one door from scoring to the learned models (concern fit, skin type, absorption).

Which real need it answers: the scoring path must run before, during and after the models
are trained. When a model's module and committed artifact are present, its real predictions
fill the columns and its version is reported; when not, the columns hold NaN and the
version reads ``"unavailable"`` (with the reason in :attr:`LearnedModels.problems`). It never
fills a column with a made-up number.

Columns it provides (DESIGN.md "Learned components"):

- ``concern_<id>`` for the nine concern ids (:data:`CONCERNS`), P(concern);
- ``skin_<type>`` for dry, oily, combination, normal, sensitive, P(suitable);
- ``gentleness`` (= P(suitable for sensitive skin));
- ``absorption_index`` (product absorption index at the person's time and depth);
- per-class uptake used by the benefit term (not a column).

Each worker process builds one :class:`LearnedModels` (``default_models()``, cached), so a
model is loaded once per process, never per chunk.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Sequence

import numpy as np

CONCERNS = (
    "acne", "dark_spots", "fine_lines_wrinkles", "firmness", "dullness_texture", "pores",
    "dryness", "redness", "dark_circles",
)
SKIN_TYPES = ("dry", "oily", "combination", "normal", "sensitive")
CONCERN_COLUMNS = tuple(f"concern_{c}" for c in CONCERNS)
SKIN_COLUMNS = tuple(f"skin_{s}" for s in SKIN_TYPES)
UNAVAILABLE = "unavailable"
VERSION_COLUMNS = ("concern_model_version", "skin_type_model_version",
                   "absorption_model_version")


def _nan(n: int) -> np.ndarray:
    return np.full(n, np.nan, dtype="float64")


class LearnedModels:
    """Loads what is available; :meth:`predict` returns every learned column for a batch."""

    def __init__(self, *, enabled: bool = True):
        self.problems: dict[str, str] = {}
        self._concern = self._skin = self._absorption = None
        self.concern_version = self.skin_type_version = self.absorption_version = UNAVAILABLE
        if not enabled:
            self.problems = {k: "disabled" for k in ("concern", "skin_type", "absorption")}
            return
        self._concern, self.concern_version = self._load("concern", "recommender.learn.concerns")
        self._skin, self.skin_type_version = self._load("skin_type", "recommender.learn.skin_types")
        self._absorption, self.absorption_version = self._load_absorption()

    # -- loading ---------------------------------------------------------------------------
    def _load(self, key: str, module_name: str):
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            self.problems[key] = f"{module_name} not available ({exc})"
            return None, UNAVAILABLE
        loader = getattr(module, "load_model", None) or getattr(module, "load", None)
        if not callable(loader):
            self.problems[key] = f"{module_name} has no load_model()"
            return None, UNAVAILABLE
        try:
            model = loader()
            version = _version_of(model, module)
        except Exception as exc:  # noqa: BLE001 - a missing/refused artifact: unavailable
            self.problems[key] = f"{module_name}: model not loaded ({type(exc).__name__}: {exc})"
            return None, UNAVAILABLE
        return model, version

    def _load_absorption(self):
        """Absorption is a formula over the permeability model: available when that loads."""
        try:
            absorption = importlib.import_module("recommender.learn.absorption")
            permeability = importlib.import_module("recommender.learn.permeability")
        except ImportError as exc:
            self.problems["absorption"] = f"absorption model not available ({exc})"
            return None, UNAVAILABLE
        try:
            permeability.load_model()          # checks the artifact (sha256, sklearn version)
            version = permeability.model_version()
        except Exception as exc:  # noqa: BLE001 - missing/refused artifact: unavailable
            self.problems["absorption"] = (f"permeability model not loaded "
                                           f"({type(exc).__name__}: {exc})")
            return None, UNAVAILABLE
        return absorption, str(version)

    @property
    def versions(self) -> dict[str, str]:
        return {
            "concern_model_version": self.concern_version,
            "skin_type_model_version": self.skin_type_version,
            "absorption_model_version": self.absorption_version,
        }

    @property
    def has_concerns(self) -> bool:
        return self._concern is not None

    @property
    def has_skin_types(self) -> bool:
        return self._skin is not None

    @property
    def has_absorption(self) -> bool:
        return self._absorption is not None

    # -- prediction ------------------------------------------------------------------------
    def predict(self, texts: Sequence[str], categories: Sequence[str], parsed: Sequence,
                *, t_hours: float, depth_mm: float) -> dict[str, np.ndarray]:
        """Every learned column for one batch (NaN where unavailable or unreadable)."""
        n = len(texts)
        out: dict[str, np.ndarray] = {c: _nan(n) for c in CONCERN_COLUMNS}
        out.update({c: _nan(n) for c in SKIN_COLUMNS})
        out["gentleness"] = _nan(n)
        out["absorption_index"] = _nan(n)
        readable = np.fromiter((p.found for p in parsed), dtype=bool, count=n)
        if not readable.any():
            return out
        idx = np.flatnonzero(readable)
        sub_texts = [texts[i] for i in idx]
        sub_cats = [categories[i] for i in idx]
        sub_parsed = [parsed[i] for i in idx]
        if self._concern is not None:
            got = _call_predict(self._concern, sub_texts, sub_cats, sub_parsed)
            for c, cid in zip(CONCERN_COLUMNS, CONCERNS, strict=True):
                col = _pick(got, (c, cid))
                if col is not None:
                    out[c][idx] = col
        if self._skin is not None:
            got = _call_predict(self._skin, sub_texts, sub_cats, sub_parsed)
            for c, sid in zip(SKIN_COLUMNS, SKIN_TYPES, strict=True):
                col = _pick(got, (c, sid, f"skin_type_{sid}"))
                if col is not None:
                    out[c][idx] = col
            g = _pick(got, ("gentleness",))
            out["gentleness"][idx] = g if g is not None else out["skin_sensitive"][idx]
        if self._absorption is not None:
            fn = self._absorption.product_absorption
            vals = np.empty(len(idx), dtype="float64")
            for j, p in enumerate(sub_parsed):
                res = fn(p, t_hours, depth_mm=depth_mm, curve_hours=None)
                v = res.get("absorption_index") if isinstance(res, dict) else res
                vals[j] = float(v) if isinstance(v, int | float) and math.isfinite(v) else np.nan
            out["absorption_index"][idx] = vals
        return out


def _version_of(model, module) -> str:
    for obj in (model, module):
        for attr in ("model_version", "version", "VERSION", "MODEL_VERSION", "__version__"):
            v = getattr(obj, attr, None)
            if callable(v):
                v = v()
            if isinstance(v, str) and v:
                return v
    return "unknown"


def _call_predict(model, texts, cats, parsed):
    import pandas as pd

    frame = pd.DataFrame({"ingredients": list(texts), "category": list(cats)})
    fn = getattr(model, "predict", None)
    if fn is None:
        raise TypeError(f"{model!r} has no predict()")
    return fn(frame)


def _pick(result, names: tuple[str, ...]):
    """A column of a predict() result (DataFrame or dict), as a float array, or None."""
    for name in names:
        try:
            col = result[name]
        except (KeyError, IndexError, TypeError):
            continue
        return np.asarray(col, dtype="float64")
    return None


@functools.lru_cache(maxsize=2)
def default_models(enabled: bool = True) -> LearnedModels:
    """One set of models per process (each worker loads them once)."""
    return LearnedModels(enabled=enabled)
