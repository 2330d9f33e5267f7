"""Property tests (hypothesis): the verdict is monotone in list length, time and depth.

- Appending an ingredient at the end never makes a verdict less strict (inserting earlier
  may: positions move, e.g. a citric acid pushed past position 10 becomes a pH adjuster).
- Later in time is never stricter.
- Deeper needling is never less strict.
Each also holds for safe_from_day (None = never counts as +infinity).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from recommender.inci.model import Mention, ParsedList
from recommender.safety import Context, assess, default_protocol
from recommender.safety.protocol import SEVERITY_RANK

PROTOCOL = default_protocol()

# (INCI, classes) pool covering every rule, position condition and exemption
POOL = [
    ("WATER", ()),
    ("GLYCERIN", ("humectant",)),
    ("RETINOL", ("retinoid",)),
    ("TRETINOIN", ("retinoid",)),
    ("GLYCOLIC ACID", ("aha",)),
    ("CITRIC ACID", ("aha",)),
    ("LACTIC ACID", ("aha",)),
    ("SALICYLIC ACID", ("bha",)),
    ("GLUCONOLACTONE", ("pha",)),
    ("ASCORBIC ACID", ("vitamin_c",)),
    ("BENZOYL PEROXIDE", ("benzoyl_peroxide",)),
    ("PUMICE", ("physical_exfoliant",)),
    ("PARFUM", ("fragrance",)),
    ("LAVANDULA ANGUSTIFOLIA OIL", ("essential_oil", "fragrance_allergen")),
    ("LIMONENE", ("fragrance_allergen",)),
    ("ALCOHOL DENAT.", ("drying_alcohol",)),
    ("CI 77491", ("pigment",)),
    ("AVOBENZONE", ("chemical_uv_filter",)),
    ("ZINC OXIDE", ("mineral_uv_filter",)),
    ("NIACINAMIDE", ("niacinamide",)),
    ("DICLOFENAC SODIUM", ("nsaid",)),
]

entries = st.tuples(st.sampled_from(POOL), st.sampled_from(["declared", "may_contain"]),
                    st.integers(0, 2))
contexts = st.builds(
    lambda t, depth, modality, pregnant, avoid: Context.make(
        day=t, depth=depth, modality=modality, pregnant=pregnant, avoid=avoid),
    st.floats(0, 40, allow_nan=False),
    st.sampled_from([0.1, 0.25, 0.3, 0.5, 1.0, 1.25, 1.5, 2.0, 3.0]),
    st.sampled_from(["mn", "rf", "prp"]),
    st.booleans(),
    st.sampled_from([[], ["niacinamide"], ["fragrance"], ["PARFUM"]]),
)
names = st.sampled_from(["Serum", "Peel Pads", "Cream", None])


def build(items) -> ParsedList:
    """Mentions in order; per component, declared entries first, may-contain after them."""
    ncomp = max((c for _, _, c in items), default=0) + 1
    mentions = []
    for comp in range(ncomp):
        pos = 0
        for section in ("declared", "may_contain"):
            for (inci, classes), sec, c in items:
                if c == comp and sec == section:
                    pos += 1
                    mentions.append(Mention(raw=inci.title(), name=inci.title(), position=pos,
                                            section=sec, component=c, inci=inci, match="exact",
                                            classes=classes))
    return ParsedList(text="", ingredients=mentions, components=[None] * ncomp)


def rank(a) -> int:
    return SEVERITY_RANK[a.verdict]


def safe(a) -> float:
    return math.inf if a.safe_from_day is None else a.safe_from_day


@settings(max_examples=300, deadline=None)
@given(st.lists(entries, min_size=1, max_size=14), entries, contexts, names)
def test_appending_never_less_strict(items, extra, ctx, name):
    before = assess(build(items), ctx, PROTOCOL, name=name)
    # append at the very end: last component's may-contain block, or its declared list when the
    # last component has no may-contain entries (so no existing position moves)
    last = max(c for _, _, c in items)
    has_may = any(c == last and s == "may_contain" for _, s, c in items)
    section = "may_contain" if has_may else extra[1]
    after = assess(build([*items, (extra[0], section, last)]), ctx, PROTOCOL, name=name)
    assert rank(after) >= rank(before)
    assert safe(after) >= safe(before)


@settings(max_examples=300, deadline=None)
@given(st.lists(entries, min_size=1, max_size=14), contexts, st.floats(0, 40), names)
def test_later_never_stricter(items, ctx, dt, name):
    p = build(items)
    early = assess(p, ctx, PROTOCOL, name=name)
    late = assess(p, ctx.at(ctx.t + dt), PROTOCOL, name=name)
    assert rank(late) <= rank(early)
    assert late.safe_from_day == early.safe_from_day          # a property of the product
    assert early.verdict_at(ctx.t + dt) == late.verdict


@settings(max_examples=300, deadline=None)
@given(st.lists(entries, min_size=1, max_size=14), contexts, st.floats(0, 3), names)
def test_deeper_never_less_strict(items, ctx, dd, name):
    from dataclasses import replace

    p = build(items)
    shallow = assess(p, ctx, PROTOCOL, name=name)
    deep = assess(p, replace(ctx, depth_mm=ctx.depth_mm + dd), PROTOCOL, name=name)
    assert rank(deep) >= rank(shallow)
    assert safe(deep) >= safe(shallow)


@settings(max_examples=200, deadline=None)
@given(st.lists(entries, min_size=1, max_size=14), contexts, names)
def test_verdict_follows_open_flags(items, ctx, name):
    a = assess(build(items), ctx, PROTOCOL, name=name)
    open_sev = {f.severity for f in a.flags if f.open}
    expected = "avoid" if "avoid" in open_sev else "caution" if "caution" in open_sev \
        else "suitable"
    assert a.verdict == expected
    ends = [end for f in a.flags for sev, end in f.stages if sev == "avoid"]
    assert safe(a) == max(ends) and safe(a) >= 1
    for f in a.flags:
        assert f.open == (ctx.t < f.stages[-1][1])
        if f.scope == "ingredient":
            assert f.ingredient and f.position >= 1 and f.rule.id and f.rule.source
