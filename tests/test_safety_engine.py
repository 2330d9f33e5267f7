"""The engine on hand-built ingredient lists: every rule, every boundary (DESIGN.md semantics)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from recommender.inci.model import Mention, ParsedList
from recommender.safety import Context, assess, load_protocol, parse_protocol
from recommender.safety.context import resolve_avoid_list

FIXTURES = Path(__file__).parent / "fixtures" / "protocols"
CLINIC = FIXTURES / "clinic_retinoid_day5.yaml"

# name -> (canonical INCI, classes), as the reader would attach them
KB = {
    "Water": ("WATER", ()),
    "Glycerin": ("GLYCERIN", ("humectant",)),
    "Sodium Hyaluronate": ("SODIUM HYALURONATE", ("hyaluronic_acid", "humectant")),
    "Panthenol": ("PANTHENOL", ("panthenol",)),
    "Retinol": ("RETINOL", ("retinoid",)),
    "Tretinoin": ("TRETINOIN", ("retinoid",)),
    "Adapalene": (None, ("retinoid",)),
    "Bakuchiol": ("BAKUCHIOL", ()),
    "Glycolic Acid": ("GLYCOLIC ACID", ("aha",)),
    "Citric Acid": ("CITRIC ACID", ("aha",)),
    "Lactic Acid": ("LACTIC ACID", ("aha",)),
    "Malic Acid": ("MALIC ACID", ("aha",)),
    "Tartaric Acid": ("TARTARIC ACID", ("aha",)),
    "Salicylic Acid": ("SALICYLIC ACID", ("bha",)),
    "Gluconolactone": ("GLUCONOLACTONE", ("pha",)),
    "Ascorbic Acid": ("ASCORBIC ACID", ("vitamin_c",)),
    "Benzoyl Peroxide": ("BENZOYL PEROXIDE", ("benzoyl_peroxide",)),
    "Juglans Regia Shell Powder": ("JUGLANS REGIA SHELL POWDER", ("physical_exfoliant",)),
    "Parfum": ("PARFUM", ("fragrance",)),
    "Lavandula Angustifolia Oil": ("LAVANDULA ANGUSTIFOLIA OIL", ("essential_oil",)),
    "Linalool": ("LINALOOL", ("fragrance_allergen",)),
    "Alcohol Denat.": ("ALCOHOL DENAT.", ("drying_alcohol",)),
    "Cetearyl Alcohol": ("CETEARYL ALCOHOL", ()),
    "CI 77491": ("CI 77491", ("pigment",)),
    "Avobenzone": ("BUTYL METHOXYDIBENZOYLMETHANE", ("chemical_uv_filter",)),
    "Zinc Oxide": ("ZINC OXIDE", ("mineral_uv_filter",)),
    "Niacinamide": ("NIACINAMIDE", ("niacinamide",)),
    "Diclofenac Sodium": ("DICLOFENAC SODIUM", ("nsaid",)),
}


def plist(*names: str, may_contain: tuple[str, ...] = (), components=None) -> ParsedList:
    """Build a ParsedList; ``components`` = list of (heading, [names]) for kits."""
    parts = components or [(None, list(names))]
    mentions: list[Mention] = []
    for ci, (_, comp_names) in enumerate(parts):
        pos = 0
        extra = may_contain if ci == len(parts) - 1 else ()
        for section, group in (("declared", comp_names), ("may_contain", extra)):
            for n in group:
                pos += 1
                inci, classes = KB.get(n, (n.upper(), ()))
                mentions.append(Mention(raw=n, name=n, position=pos, section=section,
                                        component=ci, inci=inci, match="exact" if inci else None,
                                        classes=classes))
    text = "; ".join(m.raw for m in mentions)
    return ParsedList(text=text, ingredients=mentions, components=[h for h, _ in parts])


def filler(k: int) -> list[str]:
    return [f"Filler {i}" for i in range(1, k + 1)]


def at(day=None, **kw) -> Context:
    return Context.make(day=day, **kw)


def flags(a, rule=None, *, open_only=False):
    return [f for f in a.flags if (rule is None or f.rule.id == rule) and (f.open or not open_only)]


def ingredient_flags(a):
    return [f for f in a.flags if f.scope == "ingredient"]


# --- the first 24 hours -----------------------------------------------------------------


def test_first_24h_product_level_avoid():
    p = plist("Water", "Glycerin")
    a = assess(p, Context.make(hours=23.9))
    assert a.verdict == "avoid"
    (f,) = a.flags
    assert f.scope == "product" and f.rule.id == "first_24h"
    d = f.to_dict()
    assert d["ingredient"] is None and d["position"] is None and d["severity"] == "avoid"
    assert d["until_day"] == 1.0 and d["open"] is True
    assert a.safe_from_day == 1.0


def test_first_24h_closes_exactly_at_day_1():
    p = plist("Water", "Glycerin")
    assert assess(p, Context.make(hours=24)).verdict == "suitable"
    assert assess(p, at(1)).verdict == "suitable"
    assert assess(p, at(0.9999)).verdict == "avoid"
    a = assess(p, at(1))
    assert a.safe_from_day == 1.0 and not a.flags[0].open


@pytest.mark.parametrize(("depth", "modality"), [(0.25, "mn"), (1.5, "mn"), (1.0, "rf"),
                                                 (2.0, "prp")])
def test_first_24h_is_not_scaled(depth, modality):
    a = assess(plist("Water"), at(1, depth=depth, modality=modality))
    assert flags(a, "first_24h")[0].until_day == 1.0
    assert a.verdict_at(0.99) == "avoid"
    assert a.safe_from_day == 1.0


def test_defaults_are_day_1_depth_1_mn():
    a = assess(plist("Retinol"))
    assert (a.context.t, a.context.depth_mm, a.context.modality) == (1.0, 1.0, "mn")
    assert a.factor == 1.0


# --- class rules: window ends and the exact boundary ----------------------------------------


@pytest.mark.parametrize(
    ("name", "rule", "severity", "end"),
    [
        ("Retinol", "retinoid", "avoid", 7),
        ("Tretinoin", "retinoid_rx", "avoid", 10),
        ("Adapalene", "retinoid_rx", "avoid", 10),
        ("Glycolic Acid", "aha", "avoid", 7),
        ("Salicylic Acid", "bha", "avoid", 7),
        ("Gluconolactone", "pha", "avoid", 7),
        ("Ascorbic Acid", "vitamin_c", "avoid", 7),
        ("Benzoyl Peroxide", "benzoyl_peroxide", "avoid", 7),
        ("Juglans Regia Shell Powder", "physical_exfoliant", "avoid", 7),
        ("Linalool", "fragrance_allergen", "caution", 7),
        ("CI 77491", "pigment", "avoid", 2),
        ("Avobenzone", "chemical_uv_filter", "caution", 14),
        ("Niacinamide", "niacinamide", "caution", 3),
        ("Diclofenac Sodium", "nsaid", "caution", 14),
    ],
)
def test_single_stage_rules(name, rule, severity, end):
    p = plist("Water", name)
    before = assess(p, at(end - 1e-9))
    (f,) = ingredient_flags(before)
    assert (f.rule.id, f.severity, f.until_day, f.open) == (rule, severity, end, True)
    assert before.verdict == severity
    after = assess(p, at(end))           # closed exactly at the window's end
    assert after.verdict == "suitable"
    (g,) = ingredient_flags(after)       # still listed, closed
    assert (g.rule.id, g.until_day, g.open) == (rule, end, False)
    assert before.safe_from_day == (end if severity == "avoid" else 1.0)


def test_retinoid_reason_reads_plainly():
    p = plist("Water", "Glycerin", "Panthenol", "Retinol")
    (f,) = ingredient_flags(assess(p, at(2)))
    assert f.reason == "Retinol (position 4) is a retinoid: avoid until day 7 after 1.0 mm needling"


def test_prescription_retinoid_gets_one_flag_only():
    a = assess(plist("Tretinoin"), at(8))
    assert [f.rule.id for f in ingredient_flags(a)] == ["retinoid_rx"]
    assert a.verdict == "avoid" and a.safe_from_day == 10
    assert ingredient_flags(a)[0].klass == "retinoid"


def test_bakuchiol_is_no_retinoid():
    assert assess(plist("Bakuchiol"), at(2)).verdict == "suitable"


@pytest.mark.parametrize("name", ["Parfum", "Lavandula Angustifolia Oil"])
def test_two_stage_rules(name):
    p = plist("Water", name)
    assert assess(p, at(2.999)).verdict == "avoid"
    mid = assess(p, at(3))
    assert mid.verdict == "caution"
    (f,) = ingredient_flags(mid)
    assert (f.severity, f.until_day, f.open) == ("caution", 7, True)
    assert [s for s in f.stages] == [("avoid", 3), ("caution", 7)]
    assert assess(p, at(6.999)).verdict == "caution"
    end = assess(p, at(7))
    assert end.verdict == "suitable" and ingredient_flags(end)[0].severity == "caution"
    assert mid.safe_from_day == 3
    early = ingredient_flags(assess(p, at(1)))[0]
    assert (early.severity, early.until_day) == ("avoid", 3)
    assert "avoid until day 3, then caution until day 7" in early.reason


def test_two_stage_both_ends_scaled():
    a = assess(plist("Parfum"), at(4.5, depth=1.5))
    (f,) = ingredient_flags(a)
    assert f.stages == (("avoid", 4.5), ("caution", 10.5))
    assert a.verdict == "caution" and a.safe_from_day == 4.5
    assert assess(plist("Parfum"), at(10.5, depth=1.5)).verdict == "suitable"
    assert assess(plist("Parfum"), at(4.4999, depth=1.5)).verdict == "avoid"


# --- pH adjusters: citric/lactic/malic/tartaric after position 10 ---------------------------


@pytest.mark.parametrize("acid", ["Citric Acid", "Lactic Acid", "Malic Acid", "Tartaric Acid"])
def test_ph_adjuster_at_position_10_is_flagged(acid):
    p = plist(*filler(9), acid)
    a = assess(p, at(2))
    (f,) = ingredient_flags(a)
    assert (f.rule.id, f.position, f.severity) == ("aha", 10, "avoid")
    assert a.verdict == "avoid" and a.safe_from_day == 7


@pytest.mark.parametrize("acid", ["Citric Acid", "Lactic Acid", "Malic Acid", "Tartaric Acid"])
def test_ph_adjuster_after_position_10_is_exempt(acid):
    p = plist(*filler(10), acid)
    a = assess(p, at(2))
    assert ingredient_flags(a) == []
    assert a.verdict == "suitable" and a.safe_from_day == 1
    (n,) = a.notes
    assert (n.rule, n.exemption, n.position, n.ingredient) == ("aha", "ph_adjuster", 11, acid)
    assert n.source == "skinrec design choice" and n.evidence == "none"


def test_glycolic_acid_late_is_still_flagged():
    a = assess(plist(*filler(20), "Glycolic Acid"), at(2))
    (f,) = ingredient_flags(a)
    assert (f.rule.id, f.position) == ("aha", 21)


def test_ph_adjuster_exemption_counts_may_contain_positions():
    # may-contain continues the numbering: position 3 here, so not exempt
    a = assess(plist("Water", "Glycerin", may_contain=("Citric Acid",)), at(2))
    (f,) = ingredient_flags(a)
    assert (f.position, f.section, f.rule.id) == (3, "may_contain", "aha")


# --- drying alcohol by position ----------------------------------------------------------


def test_drying_alcohol_position_5_avoid():
    a = assess(plist(*filler(4), "Alcohol Denat."), at(2.99))
    (f,) = ingredient_flags(a)
    assert (f.rule.id, f.severity, f.until_day, f.position) == ("drying_alcohol_top5", "avoid",
                                                                3, 5)
    assert a.verdict == "avoid" and a.safe_from_day == 3
    assert assess(plist(*filler(4), "Alcohol Denat."), at(3)).verdict == "suitable"


def test_drying_alcohol_position_6_caution():
    a = assess(plist(*filler(5), "Alcohol Denat."), at(2.99))
    (f,) = ingredient_flags(a)
    assert (f.rule.id, f.severity, f.until_day, f.position) == ("drying_alcohol", "caution", 3, 6)
    assert a.verdict == "caution" and a.safe_from_day == 1
    assert assess(plist(*filler(5), "Alcohol Denat."), at(3)).verdict == "suitable"


def test_fatty_alcohol_is_not_drying():
    assert assess(plist("Cetearyl Alcohol"), at(1)).verdict == "suitable"


# --- depth and modality factors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("depth", "end"),
    [(0.1, 3.5), (0.25, 3.5), (0.26, 7), (1.0, 7), (1.49, 7), (1.5, 10.5), (2.5, 10.5)],
)
def test_depth_factor_steps(depth, end):
    p = plist("Retinol")
    a = assess(p, at(2, depth=depth))
    assert a.safe_from_day == end
    assert assess(p, at(end - 1e-9, depth=depth)).verdict == "avoid"
    assert assess(p, at(end, depth=depth)).verdict == "suitable"
    assert f"after {depth:.1f} mm" in ingredient_flags(a)[0].reason or \
        f"after {depth:g} mm" in ingredient_flags(a)[0].reason


def test_shallow_pigment_window_equals_first_day():
    a = assess(plist("CI 77491"), at(0.9, depth=0.25))
    assert [f.until_day for f in a.flags] == [1.0, 1.0]
    assert a.safe_from_day == 1.0 and assess(plist("CI 77491"), at(1, depth=0.25)).verdict == \
        "suitable"


@pytest.mark.parametrize(("modality", "factor"), [("mn", 1), ("rf", 2), ("prp", 2)])
def test_modality_factor(modality, factor):
    p = plist("Retinol")
    a = assess(p, at(2, modality=modality))
    assert a.factor == factor
    assert a.safe_from_day == 7 * factor
    assert assess(p, at(7 * factor, modality=modality)).verdict_at(7 * factor) != "avoid"
    provider = flags(a, "provider_instructions")
    if modality == "mn":
        assert provider == []
    else:
        (f,) = provider
        assert f.scope == "product" and f.severity == "caution" and f.until_day == 7 * factor
        assert "Follow your provider's instructions" in f.reason


def test_modality_and_depth_multiply():
    a = assess(plist("Retinol"), at(2, depth=1.5, modality="rf"))
    assert a.factor == 3 and a.safe_from_day == 21


def test_rf_plain_product_is_caution_not_avoid():
    a = assess(plist("Water", "Glycerin"), at(2, modality="prp"))
    assert a.verdict == "caution" and a.safe_from_day == 1
    assert assess(plist("Water"), at(14, modality="prp")).verdict == "suitable"


def test_unknown_modality_refused():
    with pytest.raises(ValueError, match="unknown modality"):
        assess(plist("Water"), at(2, modality="laser"))


# --- peel products -------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "category"), [
    ("30% Glycolic Acid Peel Concentrate", "Treatments"),
    ("Superficial Peeling Formulation", "Serum"),
    ("Renewal Serum", "Peel"),
])
def test_peel_product_level(name, category):
    p = plist("Water", "Glycerin")
    a = assess(p, at(13.99), name=name, category=category)
    (f,) = flags(a, "peel")
    assert f.scope == "product" and f.severity == "avoid" and f.until_day == 14
    assert a.verdict == "avoid" and a.safe_from_day == 14
    assert "peel" in f.reason.lower()
    assert assess(p, at(14), name=name, category=category).verdict == "suitable"
    assert assess(p, at(2, depth=1.5), name=name, category=category).safe_from_day == 21


def test_not_a_peel():
    a = assess(plist("Water"), at(2), name="Hydrating Serum", category="Treatments")
    assert flags(a, "peel") == [] and a.verdict == "suitable"


# --- components (kits) --------------------------------------------------------------------


def test_kit_takes_strictest_component():
    p = plist(components=[("Cleanser:", ["Water", "Glycerin"]),
                          ("Night Serum:", ["Water", "Retinol"])])
    a = assess(p, at(3))
    assert a.verdict == "avoid" and a.safe_from_day == 7
    (f,) = ingredient_flags(a)
    assert (f.component, f.position) == (1, 2)
    assert f.to_dict()["component"] == 1
    assert "'Night Serum:'" in f.reason
    assert [(c["component"], c["verdict"], c["safe_from_day"]) for c in a.component_verdicts] == \
        [(0, "suitable", 1.0), (1, "avoid", 7.0)]


def test_kit_latest_safe_from_day():
    p = plist(components=[(None, ["Parfum"]), (None, ["Glycolic Acid"]), (None, ["Water"])])
    a = assess(p, at(5))
    assert a.verdict == "avoid" and a.safe_from_day == 7
    assert [c["verdict"] for c in a.component_verdicts] == ["caution", "avoid", "suitable"]
    assert "of component 2" in ingredient_flags(a)[1].reason


# --- may-contain ---------------------------------------------------------------------------


def test_may_contain_counts_with_same_severity():
    p = plist("Talc", "Mica", may_contain=("CI 77491", "Parfum"))
    a = assess(p, at(1.5))
    got = {(f.ingredient, f.section, f.position, f.severity) for f in ingredient_flags(a)}
    assert got == {("CI 77491", "may_contain", 3, "avoid"), ("Parfum", "may_contain", 4, "avoid")}
    assert a.verdict == "avoid" and a.safe_from_day == 3
    assert "may contain, position 3" in ingredient_flags(a)[0].reason


def test_protocol_may_ignore_may_contain():
    text = (FIXTURES / "malformed" / "base_ok.yaml").read_text().replace(
        "rules:", "may_contain: {counts_for_safety: false, source: clinic, evidence: none}\nrules:")
    proto = parse_protocol(text)
    p = plist("Water", may_contain=("Retinol",))
    assert assess(p, at(2), proto).verdict == "suitable"
    assert assess(plist("Retinol"), at(2), proto).verdict == "avoid"


# --- personal rules: pregnancy and the avoid-list -------------------------------------------


def test_pregnancy_retinoid_never_safe():
    p = plist("Water", "Retinol")
    a = assess(p, at(365, pregnant=True))
    assert a.verdict == "avoid" and a.safe_from_day is None and a.never_safe
    f = flags(a, "pregnancy_retinoid")[0]
    assert f.open and f.never and f.to_dict()["until_day"] is None
    assert "pregnan" in f.reason and "at any time" in f.reason
    assert assess(p, at(365)).verdict == "suitable"
    assert assess(plist("Water", "Bakuchiol"), at(2, pregnant=True)).verdict == "suitable"
    assert assess(plist("Glycolic Acid"), at(8, pregnant=True)).verdict == "suitable"


def fake_canonicalise(name: str) -> str | None:
    table = {"nicotinamide": "NIACINAMIDE", "niacinamide": "NIACINAMIDE",
             "vitamin b3": "NIACINAMIDE", "parfum": "PARFUM"}
    return table.get(name.strip().lower())


def fake_class_for_query(text: str) -> str | None:
    return {"retinoids": "retinoid", "vitamin c": "vitamin_c", "aha": "aha"}.get(text.lower())


@pytest.mark.parametrize("item", ["vitamin b3", "Nicotinamide", "niacinamide"])
def test_avoid_list_catches_through_canonicalisation(item):
    avoid = resolve_avoid_list([item], fake_canonicalise, fake_class_for_query)
    p = plist("Water", "Niacinamide")
    a = assess(p, at(100, avoid=avoid))
    assert a.verdict == "avoid" and a.safe_from_day is None
    (f,) = flags(a, "avoid_list")
    assert (f.ingredient, f.position, f.severity, f.open) == ("Niacinamide", 2, "avoid", True)
    assert repr(item) in f.reason and "avoid-list" in f.reason
    assert f.source == "personal avoid-list"


def test_avoid_list_by_class():
    ctx = Context.make(day=30, avoid="retinoids, vitamin c", class_for_query=fake_class_for_query)
    a = assess(plist("Water", "Retinol"), ctx)
    (f,) = flags(a, "avoid_list")
    assert f.klass == "retinoid" and a.verdict == "avoid" and a.safe_from_day is None
    assert assess(plist("Water", "Glycerin"), ctx).verdict == "suitable"


def test_avoid_list_class_id_without_resolvers():
    a = assess(plist("Alcohol Denat."), at(30, avoid=["drying alcohol"]))
    assert a.verdict == "avoid" and a.safe_from_day is None


def test_avoid_list_unresolved_item_matches_printed_name():
    avoid = resolve_avoid_list("Mystery Extract", fake_canonicalise, fake_class_for_query)
    assert avoid.unresolved == ("Mystery Extract",)
    a = assess(plist("Water", "mystery  extract"), at(30, avoid=avoid))
    assert a.verdict == "avoid"


def test_avoid_list_in_may_contain():
    avoid = resolve_avoid_list(["parfum"], fake_canonicalise)
    a = assess(plist("Water", may_contain=("Parfum",)), at(30, avoid=avoid))
    assert a.verdict == "avoid" and a.safe_from_day is None


def test_empty_avoid_list_changes_nothing():
    a = assess(plist("Water", "Niacinamide"), at(30, avoid=[]))
    assert a.verdict == "suitable"


# --- a clinic protocol changes the outcome ---------------------------------------------------


def test_clinic_protocol_retinoids_day_5():
    clinic = load_protocol(CLINIC)
    p = plist("Water", "Glycerin", "Retinol")
    default = assess(p, at(5))
    assert default.verdict == "avoid" and default.safe_from_day == 7
    own = assess(p, at(5), clinic)
    assert own.verdict == "suitable" and own.safe_from_day == 5
    assert own.to_dict()["protocol"] == {"name": "example-clinic", "version": "2026.03"}
    assert assess(p, at(4.99), clinic).verdict == "avoid"
    assert assess(p, at(2, depth=1.5), clinic).safe_from_day == 7.5
    # built-in personal rules still hold under a clinic file that does not mention them
    assert assess(p, at(30, pregnant=True), clinic).verdict == "avoid"


# --- unreadable lists ---------------------------------------------------------------------


@pytest.mark.parametrize("status", ["empty", "placeholder", "prose"])
def test_unreadable_list_is_caution_forever(status):
    p = ParsedList(text="No Info", ingredients=[], status=status)
    a = assess(p, at(100))
    assert a.verdict == "caution" and a.safe_from_day == 1
    (f,) = flags(a, "unreadable_list")
    assert f.scope == "product" and f.open and status in f.reason


# --- verdict_at, timeline and the output contract --------------------------------------------


def test_verdict_at_agrees_with_assess():
    p = plist("Alcohol Denat.", "Parfum", "Retinol", "Avobenzone", "Niacinamide")
    base = assess(p, at(1, depth=1.5))
    for t in [0, 0.5, 1, 2.9, 3, 4.49, 4.5, 6, 10.49, 10.5, 15, 20.99, 21, 30]:
        assert base.verdict_at(t) == assess(p, at(t, depth=1.5)).verdict, t


def test_timeline():
    a = assess(plist("Parfum", "Retinol", "Avobenzone"), at(1))
    assert a.timeline() == [
        {"from_day": 0.0, "verdict": "avoid"},
        {"from_day": 7.0, "verdict": "caution"},
        {"from_day": 14.0, "verdict": "suitable"},
    ]


def test_to_dict_contract():
    p = plist("Alcohol Denat.", "Water", "Retinol", "Parfum")
    d = assess(p, at(1.5, avoid=["niacinamide"])).to_dict(include_parsed=True)
    json.dumps(d, allow_nan=False)
    assert d["verdict"] == "avoid" and d["safe_from_day"] == 7.0
    assert d["protocol"] == {"name": "skinrec-default", "version": "1.0.0"}
    assert d["context"]["day"] == 1.5 and d["context"]["hours"] == 36
    assert d["context"]["depth_mm"] == 1.0 and d["context"]["modality"] == "mn"
    assert d["context"]["factor"] == 1.0
    assert d["component_verdicts"] == [{"component": 0, "heading": None, "verdict": "avoid",
                                        "safe_from_day": 7.0}]
    assert d["timeline"][0] == {"from_day": 0.0, "verdict": "avoid"}
    assert len(d["ingredients"]) == 4 and "unrecognized" in d
    keys = {"scope", "ingredient", "inci", "position", "component", "class", "rule", "severity",
            "until_day", "reason", "source", "evidence", "open"}
    for f in d["flags"]:
        assert keys <= set(f)
        assert f["severity"] in ("avoid", "caution")
        if f["scope"] == "ingredient":
            assert f["ingredient"] and f["position"] and f["rule"] and f["source"]
        else:
            assert f["ingredient"] is None and f["position"] is None
    rules = [f["rule"] for f in d["flags"]]
    assert rules == ["first_24h", "drying_alcohol_top5", "retinoid", "fragrance"]


def test_hours_and_days_agree():
    p = plist("Parfum")
    assert assess(p, Context.make(hours=36)).to_dict()["flags"] == \
        assess(p, Context.make(day=1.5)).to_dict()["flags"]


def test_closed_flags_are_listed_with_until_in_the_past():
    a = assess(plist("Retinol"), at(30))
    assert a.verdict == "suitable"
    assert [(f.rule.id, f.open) for f in a.flags] == [("first_24h", False), ("retinoid", False)]
    assert a.open_flags() == [] and a.reasons() == []
    assert math.isclose(a.safe_from_day, 7)


# --- the "post-procedure friendly" badge --------------------------------------------------------


def test_badge():
    from recommender.safety import post_procedure_friendly

    assert post_procedure_friendly(plist("Water", "Glycerin", "Niacinamide", "Avobenzone"))
    assert not post_procedure_friendly(plist("Water", "CI 77491"))          # avoid until 2
    assert not post_procedure_friendly(plist("Water"), name="Glycolic Peel")
    assert not post_procedure_friendly(ParsedList(text="", status="empty"))
    # the badge ignores the asker's depth, modality and personal rules
    a = assess(plist("Water", "Niacinamide"), at(5, depth=2.0, modality="rf", avoid=["niacinamide"]))
    assert post_procedure_friendly(a.parsed, assessment=a)
    # but follows the active protocol
    clinic = load_protocol(CLINIC)
    assert post_procedure_friendly(plist("Water", "Parfum"), clinic) is False
    assert post_procedure_friendly(plist("Water", "Avobenzone"), clinic) is True


def test_protocol_and_assessment_pickle():
    """Dask workers receive the protocol and send assessments back."""
    import pickle

    from recommender.safety import default_protocol

    proto = pickle.loads(pickle.dumps(default_protocol()))
    a = assess(plist("Retinol", "Parfum"), at(2), proto, name="Night Peel")
    b = pickle.loads(pickle.dumps(a))
    assert b.to_dict() == a.to_dict() and b.safe_from_day == 14
