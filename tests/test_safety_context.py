"""Context: time in days (hours / 24), defaults, validation, the avoid-list resolver."""

from __future__ import annotations

import math

import pytest

from recommender.safety import Context, resolve_avoid_list, split_avoid_items
from recommender.safety.context import AvoidList, default_resolvers


def test_day_and_hours_are_the_same_clock():
    assert Context.make(day=1.5) == Context.make(hours=36)
    assert Context.make(hours=36).t == 1.5
    assert Context.make(day=2).hours == 48


def test_defaults():
    c = Context.make()
    assert (c.t, c.depth_mm, c.modality, c.pregnant) == (1.0, 1.0, "mn", False)
    assert not c.avoid
    assert Context() == c


def test_modality_normalised():
    assert Context.make(modality=" RF ").modality == "rf"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hours": 1, "day": 1},
        {"day": -0.1},
        {"hours": -1},
        {"day": math.nan},
        {"hours": math.inf},
        {"depth": 0},
        {"depth": -1},
        {"depth": math.nan},
        {"modality": ""},
        {"day": True},
    ],
)
def test_invalid_context_refused(kwargs):
    with pytest.raises(ValueError):
        Context.make(**kwargs)


def test_day_zero_allowed():
    assert Context.make(day=0).t == 0.0


def test_at_keeps_everything_else():
    c = Context.make(day=1, depth=1.5, modality="rf", pregnant=True, avoid=["retinoid"])
    d = c.at(9)
    assert d.t == 9 and (d.depth_mm, d.modality, d.pregnant, d.avoid) == (1.5, "rf", True,
                                                                         c.avoid)


def test_split_avoid_items():
    assert split_avoid_items("a, b,,c ") == ["a", "b", "c"]
    assert split_avoid_items(["Vitamin  C", "aha,bha", "aha"]) == ["Vitamin C", "aha", "bha"]
    assert split_avoid_items(None) == []


def test_resolver_uses_given_callables():
    avoid = resolve_avoid_list(
        "vitamin b3, retinoids, Mystery Extract",
        canonicalise=lambda s: "NIACINAMIDE" if s == "vitamin b3" else None,
        class_for_query=lambda s: "retinoid" if s == "retinoids" else None,
    )
    assert avoid.inci == {"NIACINAMIDE": "vitamin b3"}
    assert avoid.classes == {"retinoid": "retinoids"}
    assert avoid.unresolved == ("Mystery Extract",)
    assert avoid.names == {"mystery extract": "Mystery Extract"}
    assert avoid.to_dict()["unresolved"] == ["Mystery Extract"]


def test_resolver_without_callables_knows_class_ids():
    avoid = resolve_avoid_list(["Drying Alcohol", "retinoids", "vitamin_c", "bakuchiol"])
    assert set(avoid.classes) == {"drying_alcohol", "retinoid", "vitamin_c"}
    assert avoid.unresolved == ("bakuchiol",)


def test_resolver_item_can_be_class_and_ingredient():
    avoid = resolve_avoid_list(["niacinamide"], canonicalise=lambda s: "NIACINAMIDE")
    assert "niacinamide" in avoid.classes and "NIACINAMIDE" in avoid.inci


def test_context_resolves_raw_avoid_items():
    c = Context.make(avoid="retinoids", class_for_query=lambda s: "retinoid")
    assert isinstance(c.avoid, AvoidList) and set(c.avoid.classes) == {"retinoid"}


def test_default_resolvers_with_knowledge_modules():
    canonicalise, class_for_query = default_resolvers()
    if class_for_query is None:
        pytest.skip("recommender.knowledge.classes not available")
    assert class_for_query("Retinoids") == "retinoid"
    assert class_for_query("vitamin C") == "vitamin_c"


def test_resolved_items_are_remembered_per_resolvers():
    """Each typed item is resolved once per pair of resolvers (the web app resolves the same
    items on every request): asked again, the same answer; other resolvers are asked anew,
    never answered from the first pair's."""
    calls = []

    def canon(s):
        calls.append(s)
        return "NIACINAMIDE" if s == "vitamin b3" else None

    first = resolve_avoid_list("vitamin b3, Mystery Extract", canonicalise=canon)
    again = resolve_avoid_list(["Mystery Extract", "vitamin b3"], canonicalise=canon)
    assert calls == ["vitamin b3", "Mystery Extract"]
    assert first.inci == again.inci == {"NIACINAMIDE": "vitamin b3"}
    assert first.unresolved == again.unresolved == ("Mystery Extract",)
    other = resolve_avoid_list("vitamin b3", canonicalise=lambda s: None)
    assert other.inci == {} and other.unresolved == ("vitamin b3",)
    assert resolve_avoid_list("vitamin b3").unresolved == ("vitamin b3",)
