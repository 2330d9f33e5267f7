"""Combiner (score_columns' per-row score) gives what combine gives: the same value of the
same type (the type decides how the score rounds, formula.round_as), for every mix of
present, absent (None) and NaN terms, both number types, every verdict and other weights."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from recommender.scoring.formula import DEFAULT_WEIGHTS, Combiner, Weights, combine

TERMS = ("benefit", "gentleness", "low_risk", "concern_fit", "skin_fit")
WEIGHTS = [DEFAULT_WEIGHTS,
           Weights(concern_fit=0.0, skin_fit=0.5, gentleness=0.05, benefit=1.0, low_risk=0.0,
                   caution_factor=0.4)]


def _value(rng: random.Random):
    kind = rng.random()
    if kind < 0.1:
        return None
    if kind < 0.2:
        return math.nan if rng.random() < 0.5 else np.float64("nan")
    v = rng.choice([rng.random(), rng.uniform(-0.2, 1.2), 0.0, 1.0, 0.5, 0.125])
    return np.float64(v) if rng.random() < 0.5 else v


def _same(a, b) -> bool:
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("weights", WEIGHTS)
def test_combiner_is_combine(weights):
    rng = random.Random(6)
    comb = Combiner(weights)
    for _ in range(20_000):
        vals = [_value(rng) for _ in TERMS]
        verdict = rng.choice(["suitable", "caution", "avoid", "unknown"])
        # combine's callers leave absent terms out of the dict; None is skipped the same way
        terms = {k: v for k, v in zip(TERMS, vals, strict=True) if v is not None}
        want = combine(terms, verdict, weights)
        got = comb(*vals, verdict)
        assert _same(got, want), (vals, verdict, got, want)
