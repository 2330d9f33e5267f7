"""``rescale``: a kept assessment after a treatment of another depth equals a fresh one.

The prepared catalog keeps one assessment per (protocol, modality, pregnancy[, avoid-list],
product) and rescales it for every depth and day a request asks about; these tests check,
on real lists under the default and a clinic protocol, with and without pregnancy and an
avoid-list, that rescale(assess(depth d0, day t0), depth d, day t) gives what assess(depth
d, day t) gives, field for field, for depths of other factors and of the same one.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from recommender.safety import Context, assess, load_protocol, rescale

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"


@pytest.fixture(scope="module")
def read():
    reader = pytest.importorskip("recommender.knowledge.reader")
    return reader.default_reader().read


@pytest.mark.parametrize("base", [
    dict(depth=0.5),
    dict(depth=2.0, modality="rf"),
    dict(depth=1.0, pregnant=True, avoid="fragrance, Limonene"),
    dict(depth=0.25, modality="prp", avoid="niacinamide"),
])
def test_rescale_equals_assess_on_real_lists(catalogs, read, base):
    df = catalogs("sephora_2023").sample(120, random_state=7)
    clinic = load_protocol(CLINIC)
    changed = 0
    for (_, row), protocol in zip(df.iterrows(), [None, clinic] * 60, strict=True):
        parsed = read(row["ingredients"])
        c0 = Context.make(day=0.0, **base)
        a0 = assess(parsed, c0, protocol, name=row["name"], category=row["category"])
        for depth in (0.25, 0.5, 1.2, 1.5, 2.0, 3.0):
            for day in (0.0, 1.0, 2.5, 6.0, 13.0, 40.0):
                ctx = replace(c0, depth_mm=depth, t=day)
                fresh = assess(parsed, ctx, protocol, name=row["name"],
                               category=row["category"])
                got = rescale(a0, ctx)
                assert got.to_dict(include_parsed=True) == fresh.to_dict(include_parsed=True), \
                    (row["product_id"], depth, day)
                changed += got.factor != a0.factor and any(
                    f.stages != g.stages for f, g in zip(got.flags, a0.flags, strict=True))
    assert changed > 100            # windows really were rescaled


def test_rescale_refuses_another_modality_or_pregnancy(catalogs, read):
    row = catalogs("sephora_2023").iloc[0]
    a0 = assess(read(row["ingredients"]), Context.make(day=1.0, depth=1.0))
    for ctx in (replace(a0.context, modality="rf"), replace(a0.context, pregnant=True)):
        with pytest.raises(ValueError, match="assess again"):
            rescale(a0, ctx)
