"""score_columns' ``only`` (the prepared catalog asks for the columns its ranked items read)
and ``unrecognized`` (the prepared catalog's kept unrecognised names) change nothing in the
columns answered: compared with the full answer on real products."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender.recommend import Recommender
from recommender.scoring import make_score_context
from recommender.scoring.frame import OUTPUT_COLUMNS, score_columns


@pytest.fixture(scope="module")
def rows(catalogs):
    """200 real products of two catalogs (fixed rows, so failures reproduce)."""
    a = catalogs("sephora_2023").iloc[3000:3120]
    b = catalogs("cosmetics_2017").iloc[500:580]
    df = pd.concat([a, b], ignore_index=True)
    return ([str(v) if isinstance(v, str) else "" for v in df["ingredients"]],
            [str(v) for v in df["name"]], [None] * len(df))


def _same(x: np.ndarray, y: np.ndarray) -> bool:
    return x.dtype == y.dtype and all(
        (a == b) or (a != a and b != b) for a, b in zip(x.tolist(), y.tolist(), strict=True))


@pytest.mark.parametrize("kw", [{}, {"as_lists": True}])
def test_only_and_unrecognized_answer_the_same(rows, kw):
    from recommender.knowledge.reader import default_reader

    texts, names, cats = rows
    ctx = make_score_context(day=3.5, depth=1.0, concerns=["acne", "dryness"],
                             skin_type="oily")
    full = score_columns(texts, names, cats, ctx, **kw)
    assert list(full) == list(OUTPUT_COLUMNS)
    reader = default_reader()
    unrec = [tuple(reader.read(t).unrecognized) for t in texts]
    assert any(unrec)
    want = Recommender(ctx).read_columns()
    part = score_columns(texts, names, cats, ctx, only=want, unrecognized=unrec, **kw)
    assert list(part) == [c for c in OUTPUT_COLUMNS if c in want]
    assert {"verdict", "flags", "reasons_against", "post_needling_score"} <= set(part)
    for c, v in part.items():
        assert _same(v, full[c]), c
    every = score_columns(texts, names, cats, ctx, unrecognized=unrec, **kw)
    for c, v in every.items():
        assert _same(v, full[c]), c
