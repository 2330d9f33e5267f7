"""The one door from scoring to the learned models (concern fit, skin type, absorption).

Which real need it answers: the scoring path must run before, during and after the models
are trained. When a model's module and committed artifact are present, its real predictions
fill the columns and its version is reported; when not, the columns hold NaN and the
version reads ``"unavailable"`` (with the reason in :attr:`LearnedModels.problems`). It never
fills a column with a made-up number.

Columns it provides (DESIGN.md "Learned components"):

- ``concern_<id>`` for the nine concern ids (:data:`CONCERNS`), P(concern), and
  ``skin_<type>`` for dry, oily, combination, normal, sensitive, P(suitable), and
  ``gentleness`` (= P(suitable for sensitive skin)): ``recommender.learn.evaluate_models``
  (``load_models`` verifies each artifact against its manifest; ``predict``); the versions
  read ``concerns@<sha256[:12]>`` / ``skin_types@<sha256[:12]>``;
- ``absorption_index`` and ``absorption_x_vs_intact`` (the product's uptake relative to
  intact skin, >= 1 while channels are open): ``recommender.learn.absorption.
  product_absorption`` at the person's time and depth; available when the permeability
  artifact loads (its version is the absorption version).

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
        self._concern = self._skin = self._absorption = self._em = None
        self.concern_version = self.skin_type_version = self.absorption_version = UNAVAILABLE
        if not enabled:
            self.problems = {k: "disabled" for k in ("concern", "skin_type", "absorption")}
            return
        self._load_fit_models()
        self._absorption, self.absorption_version = self._load_absorption()

    # -- loading ---------------------------------------------------------------------------
    def _load_fit_models(self) -> None:
        """Concern and skin-type models: recommender.learn.evaluate_models (load_models,
        predict, model_versions), each artifact verified by its manifest when loaded."""
        try:
            em = importlib.import_module("recommender.learn.evaluate_models")
        except ImportError as exc:
            for key in ("concern", "skin_type"):
                self.problems[key] = f"models not available ({exc})"
            return
        try:
            cm, sm, versions = em.load_models()
            # A model that loads may still refuse to predict (features changed since it was
            # fitted): probe once here, so a run never switches from values to NaN midway.
            import pandas as pd

            em.predict(pd.DataFrame({"ingredients": ["Water, Glycerin, Niacinamide"],
                                     "category": ["Moisturizers"]}))
        except Exception as exc:  # noqa: BLE001 - missing/refused artifact: unavailable
            for key in ("concern", "skin_type"):
                self.problems[key] = f"models not loaded ({type(exc).__name__}: {exc})"
            return
        # Batch scoring sees each list once: caching parses to disk would only grow a file
        # that is rewritten after every chunk.
        for model in (cm, getattr(sm, "model_", sm)):
            feat = getattr(model, "featurizer_", None)
            if feat is not None and hasattr(feat, "disk_cache"):
                feat.disk_cache = False
        self._em = em
        self._concern, self._skin = cm, sm
        self.concern_version = f"concerns@{versions.get('concerns', 'unknown')}"
        self.skin_type_version = f"skin_types@{versions.get('skin_types', 'unknown')}"

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
            from recommender.knowledge.reader import default_reader

            absorption.product_absorption(default_reader().read("Water, Glycerin, Panthenol"),
                                          24.0, depth_mm=1.0, curve_hours=None)   # probe
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
        out["absorption_x_vs_intact"] = _nan(n)
        readable = np.fromiter((p.found for p in parsed), dtype=bool, count=n)
        if not readable.any():
            return out
        idx = np.flatnonzero(readable)
        sub_parsed = [parsed[i] for i in idx]
        fit = self.predict_fit([texts[i] for i in idx], [categories[i] for i in idx], sub_parsed)
        for c, v in fit.items():
            out[c][idx] = v
        vals, xs = self.predict_absorption(sub_parsed, t_hours=t_hours, depth_mm=depth_mm)
        out["absorption_index"][idx] = vals
        out["absorption_x_vs_intact"][idx] = xs
        return out

    def predict_fit(self, texts: Sequence[str], categories: Sequence[str],
                    parsed: Sequence) -> dict[str, np.ndarray]:
        """Concern, skin-type and gentleness columns for readable lists (person- and
        time-independent: a prepared catalog computes them once)."""
        out: dict[str, np.ndarray] = {}
        sub_texts, sub_cats, sub_parsed = list(texts), list(categories), list(parsed)
        if not sub_texts:
            return out
        if self._concern is not None or self._skin is not None:
            import pandas as pd

            frame = pd.DataFrame({"ingredients": sub_texts, "category": sub_cats})
            got = self._em.predict(frame, parsed=sub_parsed)  # the lists are not read twice
            for c in (*CONCERN_COLUMNS, *SKIN_COLUMNS, "gentleness"):
                if c in got.columns:
                    out[c] = got[c].to_numpy(dtype="float64")
        return out

    def predict_absorption(self, parsed: Sequence, *, t_hours: float,
                           depth_mm: float) -> tuple[np.ndarray, np.ndarray]:
        """(absorption_index, absorption_x_vs_intact) of readable lists at t and depth."""
        vals = np.full(len(parsed), np.nan)
        xs = np.full(len(parsed), np.nan)
        if self._absorption is not None:
            # one permeability call for the batch's new ingredients; each ingredient's index
            # at t computed once (the same numbers as product_absorption(detail=False))
            got = self._absorption.product_absorption_many(list(parsed), t_hours,
                                                           depth_mm=depth_mm)
            for j, (v, x) in enumerate(got):
                if isinstance(v, int | float) and math.isfinite(v):
                    vals[j] = float(v)
                if isinstance(x, int | float) and math.isfinite(x):
                    xs[j] = float(x)
        return vals, xs


@functools.lru_cache(maxsize=2)
def default_models(enabled: bool = True) -> LearnedModels:
    """One set of models per process (each worker loads them once)."""
    return LearnedModels(enabled=enabled)
