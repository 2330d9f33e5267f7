"""score_columns' ``only`` (the prepared catalog asks for the columns its ranked items read),
``unrecognized`` and ``parsed`` (the prepared catalog's kept unrecognised names and readings)
and ``plain`` (lists instead of arrays) change nothing in the columns answered: compared
with the full answer on real products."""

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


def _same_plain(got: list, want: list) -> bool:
    """Equal lists whose values have the same Python types (NaN equal to NaN)."""
    return len(got) == len(want) and all(
        type(a) is type(b) and ((a == b) or (a != a and b != b))
        for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("kw", [{}, {"as_lists": True}])
def test_plain_columns_are_the_arrays_as_lists(rows, kw):
    """``plain=True``: each column is what its array's tolist() gives (floats, bools, ints,
    texts or lists), for every output column, with and without ``only``; the readings given
    as ``parsed`` answer as the reader's own."""
    from recommender.knowledge.reader import default_reader

    texts, names, cats = rows
    ctx = make_score_context(day=1.5, depth=0.5, concerns=["fine_lines_wrinkles"],
                             skin_type="dry", avoid="fragrance")
    full = score_columns(texts, names, cats, ctx, **kw)
    reader = default_reader()
    parsed = [reader.read(t) for t in texts]
    plain = score_columns(texts, names, cats, ctx, plain=True, parsed=parsed, **kw)
    assert list(plain) == list(full)
    kinds = set()
    for c, v in plain.items():
        assert isinstance(v, list), c
        assert _same_plain(v, full[c].tolist()), c
        kinds |= {type(x) for x in v}
    assert {float, bool, int, str} <= kinds
    want = Recommender(ctx).read_columns()
    part = score_columns(texts, names, cats, ctx, plain=True, only=want, **kw)
    assert list(part) == [c for c in OUTPUT_COLUMNS if c in want]
    for c, v in part.items():
        assert _same_plain(v, full[c].tolist()), c


def test_plain_column_converts_like_the_array():
    """The values a column list may hold (numpy scalars from the models' arrays, ints in a
    float column, NaN, lists, a version text) come back as the array's tolist() has them."""
    from recommender.scoring.frame import _column, _plain_column

    cases = [
        ([np.float64(1.5), 2, float("nan"), 0.1, np.float64("nan")], "float64"),
        (np.array([0.25, np.nan]), "float64"),
        ([np.bool_(True), False, True], "bool"),
        ([np.int64(3), 4, 0], "int64"),
        ([["a", "b"], [], "x"], object),
        ("skinrec 1.0", object),
    ]
    for values, dtype in cases:
        n = 3 if isinstance(values, str) else len(values)
        assert _same_plain(_plain_column(values, dtype, n), _column(values, dtype, n).tolist())
