"""post_needling_score: one documented formula, its weights in one place (``Weights``).

Which real question each term answers ("what can I put on my needled skin now, and what
suits me?"):

- ``concern_fit``: does it address what the person asked for ("dark spots, dry skin")?
  The mean of the concern model's P(concern) over the requested concerns.
- ``skin_fit``: does it suit their skin type? The mean of the skin-type model's P(suitable)
  over the requested skin types.
- ``gentleness``: the skin-type model's P(suitable for sensitive skin): needled skin is
  sensitive skin, whatever the person's type.
- ``benefit``: beneficial actives that needled skin takes up well (hyaluronic acid,
  peptides, growth factors, ceramides, panthenol, centella, niacinamide, humectants),
  weighted by where they sit in the list (INCI order is concentration order above 1 %):
  ``1 - prod(1 - value[class] * w(best position of the class))`` over the classes present,
  ``w(p) = 1/sqrt(p)``; the may-contain section never counts (DESIGN.md). Absorption: when
  the absorption model is available, the term is multiplied by the delivery factor
  ``floor + (1 - floor) * (1 - 1/x)``, ``x`` = the product's uptake relative to intact skin
  at t (recommender.learn.absorption; ``1 - 1/x`` is the share that goes through the open
  channels), ``floor`` = ``absorption_floor`` (what the actives still do on the surface once
  the channels have closed). Without the model the factor is 1 (and the absorption columns
  are NaN).
- ``low_risk`` = 1 - absorbed risk, where
  ``risk = 1 - prod(1 - severity * w(position) * openness)`` over the ingredient flags of
  the safety engine (product-level flags such as the first 24 hours are timing, handled by
  the gate), ``severity`` 1.0 for a rule with an avoid stage and 0.5 for caution only,
  ``openness`` 1 while the flag's window is open at t and ``closed_flag_weight`` once it
  has closed (a fragrance is still an irritant on day 10, only less of one). A product
  with nothing flagged has low_risk 1.

    raw   = sum(w_k * term_k) / sum(w_k)      over the terms that are available (each in [0, 1])
    score = 100 * gate(verdict at t) * raw    rounded to 0.1

``gate``: avoid -> 0 (a product with an open avoid window scores 0 now), caution ->
``caution_factor``, suitable -> 1. A term is unavailable (dropped, the other weights
renormalised) when the person did not ask for it (no concerns / no skin type given) or when
its model has not been trained (the ``*_model_version`` columns say "unavailable"): the
score never stands on made-up numbers. ``score_when_safe`` is the same formula with the
verdict and the risk at the day the product becomes usable (max(t, safe_from_day)); the
other terms keep their value at t (the absorption factor is not recomputed for that day).
It ranks the "later" products; NaN for a product that is never safe for this person and
for an unreadable list.

Reasons for and against are short sentences built from the same terms, so an explanation
never disagrees with the number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

BENEFIT_LABELS = {
    "hyaluronic_acid": "hyaluronic acid",
    "peptide": "a peptide",
    "growth_factor": "a growth factor",
    "ceramide": "a ceramide",
    "panthenol": "panthenol",
    "centella": "centella",
    "niacinamide": "niacinamide",
    "humectant": "a humectant",
}


@dataclass(frozen=True)
class Weights:
    """Every number of the score formula (the one config place; see the module docstring)."""

    concern_fit: float = 0.30
    skin_fit: float = 0.15
    gentleness: float = 0.15
    benefit: float = 0.20
    low_risk: float = 0.20
    caution_factor: float = 0.75
    closed_flag_weight: float = 0.25
    absorption_floor: float = 0.6
    severity_avoid: float = 1.0
    severity_caution: float = 0.5
    # value of each beneficial class on needled skin (humectants are in nearly every product)
    benefit_values: dict = field(default_factory=lambda: {
        "hyaluronic_acid": 1.0,
        "growth_factor": 1.0,
        "peptide": 0.9,
        "ceramide": 0.8,
        "panthenol": 0.8,
        "centella": 0.8,
        "niacinamide": 0.5,
        "humectant": 0.35,
    })
    # thresholds for the reasons
    good_probability: float = 0.5
    poor_probability: float = 0.2
    gentle_threshold: float = 0.7
    max_reasons: int = 5

    def to_dict(self) -> dict:
        return {k: (dict(v) if isinstance(v, dict) else v) for k, v in self.__dict__.items()}


DEFAULT_WEIGHTS = Weights()


def position_weight(position: int | None) -> float:
    """w(p) = 1/sqrt(p) for a 1-based position (1.0 when unknown)."""
    if not position or position < 1:
        return 1.0
    return 1.0 / math.sqrt(position)


def benefit_term(best: dict[str, int], weights: Weights = DEFAULT_WEIGHTS,
                 uptake: dict[str, float] | None = None) -> float:
    """``best``: beneficial class -> its best (lowest) declared position. In [0, 1]."""
    keep = 1.0
    values = weights.benefit_values
    for cls, pos in best.items():
        v = values.get(cls, 0.0) * position_weight(pos)
        if uptake is not None:
            v *= uptake.get(cls, 1.0)
        keep *= 1.0 - min(v, 1.0)
    return 1.0 - keep


def benefit_positions(mentions, classes) -> tuple[dict[str, int], dict[str, str]]:
    """(class -> best declared position, class -> the name printed there) for the classes in
    ``classes``: what :func:`benefit_term` weighs. The may-contain section never counts."""
    best: dict[str, int] = {}
    where: dict[str, str] = {}
    for m in mentions:
        if m.section != "declared" or not m.classes:
            continue
        for c in m.classes:
            if c in classes and (c not in best or m.position < best[c]):
                best[c] = m.position
                where[c] = m.raw
    return best, where


def delivery(x_vs_intact: float, weights: Weights = DEFAULT_WEIGHTS) -> float:
    """Absorption factor of the benefit term (1 when the absorption model gave nothing)."""
    if x_vs_intact != x_vs_intact or x_vs_intact is None or x_vs_intact < 1.0:
        return 1.0
    f = weights.absorption_floor
    return f + (1.0 - f) * (1.0 - 1.0 / x_vs_intact)


def gate(verdict: str, weights: Weights = DEFAULT_WEIGHTS) -> float:
    if verdict == "avoid":
        return 0.0
    if verdict == "caution":
        return weights.caution_factor
    return 1.0


_TENS = (1.0, 10.0, 100.0, 1000.0, 10000.0)


def round_as(v, ndigits: int) -> float:
    """``round(v, ndigits)`` for 0 <= ndigits <= 4, to the value its type rounds to: Python's
    correctly rounded ``round`` for a float, numpy's ``rint(v * 10**n) / 10**n`` for a numpy
    float64 (the scores take one or the other, depending on which terms are known) but
    without numpy's scalar path (~5 us a call, ~0.5 here; the same value, checked on 1.2M
    values). Returns a float."""
    if type(v) is not np.float64:
        return round(v, ndigits)
    y = float(v) * _TENS[ndigits]
    if not 0.0 <= y < 4503599627370496.0:          # 2**52: rint is the identity above
        return float(round(v, ndigits))
    return round(y) / _TENS[ndigits]


def combine(terms: dict[str, float], verdict: str, weights: Weights = DEFAULT_WEIGHTS) -> float:
    """The score 0-100 from its terms (NaN terms dropped and the rest renormalised).

    ``terms`` keys: concern_fit, skin_fit, gentleness, benefit, low_risk (each in [0, 1]).
    """
    num = den = 0.0
    for key, value in terms.items():
        if value is None or value != value:        # NaN: unavailable
            continue
        w = getattr(weights, key)
        num += w * value
        den += w
    raw = num / den if den > 0 else 0.0
    raw = 0.0 if raw < 0.0 else 1.0 if raw > 1.0 else raw
    return round_as(100.0 * gate(verdict, weights) * raw, 1)


class Combiner:
    """:func:`combine` for one weights and the five terms in its order (benefit, gentleness,
    low_risk, concern_fit, skin_fit), without a terms dict or a getattr per term.

    Which need it answers: score_columns scores every shown row twice (now, and on the day
    it becomes usable); building the dict and looking the weights up was ~10 us a row. The
    same arithmetic in the same order, so the same value and type (tests/test_formula_combiner.py
    compares it with ``combine``). A term given as None is absent (as a missing key)."""

    __slots__ = ("wb", "wg", "wl", "wc", "ws", "gates")

    def __init__(self, weights: Weights = DEFAULT_WEIGHTS):
        self.wb, self.wg, self.wl = weights.benefit, weights.gentleness, weights.low_risk
        self.wc, self.ws = weights.concern_fit, weights.skin_fit
        self.gates = {v: gate(v, weights) for v in ("avoid", "caution", "suitable")}

    def __call__(self, benefit, gentleness, low_risk, concern_fit, skin_fit,
                 verdict: str) -> float:
        g = self.gates.get(verdict)
        if g is None:
            g = 1.0                                  # gate: any other verdict passes
        elif g == 0.0:
            # the weighted mean is finite and in [0, 1] (NaN terms are dropped, the mean is
            # clipped): 100 x 0 x raw is 0.0 whatever the terms, and rounds to 0.0 either way
            # (an avoid verdict now: about two thirds of a recommend answer's rows)
            return 0.0
        num = den = 0.0
        if benefit is not None and benefit == benefit:
            num += self.wb * benefit
            den += self.wb
        if gentleness is not None and gentleness == gentleness:
            num += self.wg * gentleness
            den += self.wg
        if low_risk is not None and low_risk == low_risk:
            num += self.wl * low_risk
            den += self.wl
        if concern_fit is not None and concern_fit == concern_fit:
            num += self.wc * concern_fit
            den += self.wc
        if skin_fit is not None and skin_fit == skin_fit:
            num += self.ws * skin_fit
            den += self.ws
        raw = num / den if den > 0 else 0.0
        raw = 0.0 if raw < 0.0 else 1.0 if raw > 1.0 else raw
        return round_as(100.0 * g * raw, 1)


def describe() -> str:
    """The formula and the default weights, for the README and `skinrec score --explain`."""
    w = DEFAULT_WEIGHTS
    vals = ", ".join(f"{k} {v:g}" for k, v in w.benefit_values.items())
    return (
        "post_needling_score = 100 * gate(verdict) * weighted mean of the available terms: "
        f"concern_fit {w.concern_fit:g}, skin_fit {w.skin_fit:g}, gentleness "
        f"{w.gentleness:g}, benefit {w.benefit:g}, low_risk (= 1 - risk) {w.low_risk:g}\n"
        f"gate: avoid 0, caution {w.caution_factor:g}, suitable 1\n"
        f"benefit = (1 - prod(1 - value[class] / sqrt(position))) * delivery; values: {vals}\n"
        f"delivery = {w.absorption_floor:g} + {1 - w.absorption_floor:g} * (1 - 1/x_vs_intact) "
        "(1 without the absorption model)\n"
        f"risk = 1 - prod(1 - severity / sqrt(position) * openness); severity avoid "
        f"{w.severity_avoid:g}, caution {w.severity_caution:g}; openness 1 open, "
        f"{w.closed_flag_weight:g} closed"
    )
