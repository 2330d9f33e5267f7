"""Reader.read_many (batch scoring's read: one learned-fallback call per chunk) gives, list
by list, exactly what Reader.read gives, on every row of a real catalog."""

from __future__ import annotations

import pytest

from recommender.knowledge.reader import default_reader

pytestmark = pytest.mark.data


def test_read_many_equals_read_on_every_row(catalogs):
    texts = [str(t) for t in catalogs("lookfantastic_2020")["ingredients"].fillna("")]
    base = default_reader()
    one = [[m.to_dict() for m in base.read(t).ingredients] for t in texts]
    many = [[m.to_dict() for m in p.ingredients] for p in base.read_many(texts)]
    assert many == one
    # the fallback and the printed-name rule did run on these lists
    assert any(m["class_confidence"] is not None for p in many for m in p)
