"""The engine on real products from the shared catalogs, read by the lead's reader.

Each test pins one product by id; the docstring-like comment says what it answers. Positions
are those the parser gives (1-based per component, may-contain continuing the numbering).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recommender.safety import Context, assess, default_resolvers, load_protocol

pytestmark = pytest.mark.data

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"


@pytest.fixture(scope="module")
def read():
    reader = pytest.importorskip("recommender.knowledge.reader")
    return reader.read_list


@pytest.fixture(scope="module")
def check(catalogs, read):
    """check(catalog, product_id, day=..., ...) -> Assessment (name and category passed on)."""

    def run(catalog: str, product_id: str, protocol=None, **ctx):
        df = catalogs(catalog)
        row = df.loc[df["product_id"] == product_id]
        assert len(row) == 1, f"{catalog}:{product_id} not found"
        row = row.iloc[0]
        parsed = read(row["ingredients"])
        return assess(parsed, Context.make(**ctx), protocol, name=row["name"],
                      category=row["category"])

    return run


def rules(a, *, scope="ingredient"):
    return [(f.rule.id, f.inci, f.position) for f in a.flags if f.scope == scope]


def rule_ids(a):
    return {f.rule.id for f in a.flags}


# --- retinoid: Vitamin A Serum with 0.5% Retinol (Retinol at 8, Citric Acid last, at 18) -----


def test_retinol_serum(check):
    a = check("sephora_2023", "P442540", day=6.99)
    assert rules(a) == [("retinoid", "RETINOL", 8)]
    assert a.verdict == "avoid" and a.safe_from_day == 7
    assert a.flags[1].reason == \
        "Retinol (position 8) is a retinoid: avoid until day 7 after 1.0 mm needling"
    assert [(n.rule, n.position) for n in a.notes] == [("aha", 18)]   # pH adjuster
    assert check("sephora_2023", "P442540", day=7).verdict == "suitable"
    assert check("sephora_2023", "P442540", day=2, depth=1.5).safe_from_day == 10.5
    assert check("sephora_2023", "P442540", day=2, modality="rf").safe_from_day == 14


def test_retinol_serum_pregnant_never(check):
    a = check("sephora_2023", "P442540", day=60, pregnant=True)
    assert a.verdict == "avoid" and a.safe_from_day is None
    assert "pregnancy_retinoid" in rule_ids(a)


def test_retinol_serum_under_clinic_protocol(check):
    clinic = load_protocol(CLINIC)
    a = check("sephora_2023", "P442540", clinic, day=5)
    assert a.verdict == "suitable" and a.safe_from_day == 5
    assert check("sephora_2023", "P442540", day=5).verdict == "avoid"


def test_retinoid_cosmetics_2017(check):
    a = check("cosmetics_2017", "cosmetics_2017:1068", day=3)   # hydroxypinacolone retinoate
    assert rules(a) == [("retinoid", "HYDROXYPINACOLONE RETINOATE", 11)]
    assert a.verdict == "avoid" and a.safe_from_day == 7


# --- acids ---------------------------------------------------------------------------------


def test_glycolic_cleanser(check):
    a = check("sephora_2023", "P474822", day=3)
    assert rules(a) == [("aha", "GLYCOLIC ACID", 3)]
    assert a.verdict == "avoid" and a.safe_from_day == 7


def test_citric_acid_at_position_10_is_flagged(check):
    a = check("sephora_2023", "P502248", day=2)      # Take It All Off makeup remover
    assert rules(a) == [("aha", "CITRIC ACID", 10)]
    assert a.verdict == "avoid" and a.safe_from_day == 7


def test_citric_acid_at_position_11_is_a_ph_adjuster(check):
    a = check("sephora_2023", "P480152", day=1)      # The Shampoo
    assert rules(a) == []
    assert [(n.rule, n.exemption, n.inci, n.position) for n in a.notes] == \
        [("aha", "ph_adjuster", "CITRIC ACID", 11)]
    assert a.verdict == "suitable" and a.safe_from_day == 1


def test_salicylic_acid(check):
    a = check("sephora_2023", "P122718", day=6)
    assert rules(a) == [("bha", "SALICYLIC ACID", 8)] and a.verdict == "avoid"


def test_gluconolactone(check):
    a = check("sephora_2023", "P503303", day=6)
    assert ("pha", "GLUCONOLACTONE", 22) in rules(a) and a.verdict == "avoid"
    assert a.safe_from_day == 7


# --- other actives ---------------------------------------------------------------------------


def test_vitamin_c_derivative(check):
    a = check("sephora_2023", "P453818", day=6.5)
    assert rules(a) == [("vitamin_c", "ASCORBYL PALMITATE", 31)]
    assert a.verdict == "avoid" and a.safe_from_day == 7


def test_benzoyl_peroxide(check):
    a = check("sephora_2023", "P464241", day=2)
    assert rules(a) == [("benzoyl_peroxide", "BENZOYL PEROXIDE", 1)]
    assert a.flags[1].ingredient == "Benzoyl Peroxide 5.0%"      # as printed


def test_physical_exfoliant(check):
    a = check("sephora_2023", "P504076", day=2)
    assert rules(a) == [("physical_exfoliant", "PERLITE", 5)] and a.safe_from_day == 7


def test_niacinamide_caution(check):
    a = check("sephora_2023", "P482510", day=2.5)
    assert rules(a) == [("niacinamide", "NIACINAMIDE", 17)]
    assert a.verdict == "caution" and a.safe_from_day == 1
    assert check("sephora_2023", "P482510", day=3).verdict == "suitable"


# --- drying alcohol by position ---------------------------------------------------------------


def test_alcohol_at_position_5_avoid(check):
    a = check("sephora_2023", "P465326", day=2.9)     # Water Jelly primer
    assert rules(a) == [("drying_alcohol_top5", "ALCOHOL", 5)]
    assert a.verdict == "avoid" and a.safe_from_day == 3
    assert check("sephora_2023", "P465326", day=3).verdict == "suitable"


def test_alcohol_denat_at_position_6_caution(check):
    a = check("sephora_2023", "P473008", day=1)       # alcohol denat. 6, fragrance 18
    assert ("drying_alcohol", "ALCOHOL DENAT.", 6) in rules(a)
    assert ("fragrance", "PARFUM", 18) in rules(a)
    assert a.verdict == "avoid" and a.safe_from_day == 3   # the fragrance, not the alcohol
    assert check("sephora_2023", "P473008", day=3).verdict == "caution"


def test_spaced_slash_alias_is_one_position(check):
    # "Aqua / Water" is one ingredient: Alcohol Denat. printed fifth stays at position 5
    a = check("sephora_2023", "P393401", day=1)
    assert ("drying_alcohol_top5", "ALCOHOL DENAT.", 5) in rules(a)
    assert check("sephora_2023", "P393401", day=7).verdict == "suitable"


def test_alcohol_denat_first_cosmetics_2017(check):
    a = check("cosmetics_2017", "cosmetics_2017:658", day=2)   # clearing gel
    assert rules(a) == [("drying_alcohol_top5", "ALCOHOL DENAT.", 1)]


# --- fragrance, essential oils, allergens -------------------------------------------------


def test_fragrance_two_stages(check):
    assert check("sephora_2023", "P442545", day=2.99).verdict == "avoid"
    a = check("sephora_2023", "P442545", day=3)
    assert rules(a) == [("fragrance", "PARFUM", 13)]
    assert a.verdict == "caution" and a.safe_from_day == 3
    assert check("sephora_2023", "P442545", day=7).verdict == "suitable"


def test_essential_oils(check):
    a = check("sephora_2023", "P457232", day=2)       # peppermint, spearmint, rosemary oils
    eo = [r for r in rules(a) if r[0] == "essential_oil"]
    assert ("essential_oil", "MENTHA PIPERITA OIL", 22) in eo and len(eo) == 3
    assert a.verdict == "avoid" and a.safe_from_day == 3
    assert check("sephora_2023", "P457232", day=5).verdict == "caution"


def test_essential_oils_lookfantastic(check):
    a = check("lookfantastic_2020", "lookfantastic_2020:23", day=2)
    assert "essential_oil" in rule_ids(a) and a.safe_from_day == 3


def test_fragrance_allergen_only(check):
    a = check("sephora_2023", "P471744", day=6)
    assert rules(a) == [("fragrance_allergen", "BENZYL ALCOHOL", 8)]
    assert a.verdict == "caution" and a.safe_from_day == 1


# --- sunscreen ---------------------------------------------------------------------------------


def test_chemical_sunscreen_caution_14_days(check):
    a = check("sephora_2023", "P500880", day=13.9)
    assert [r[1] for r in rules(a)] == ["BUTYL METHOXYDIBENZOYLMETHANE", "HOMOSALATE",
                                        "ETHYLHEXYL SALICYLATE", "OCTOCRYLENE"]
    assert {r[0] for r in rules(a)} == {"chemical_uv_filter"}
    assert a.verdict == "caution" and a.safe_from_day == 1
    assert check("sephora_2023", "P500880", day=14).verdict == "suitable"
    assert check("sephora_2023", "P500880", day=20, modality="rf").verdict == "caution"


# --- pigments and may-contain ------------------------------------------------------------------


def test_may_contain_pigment(check):
    a = check("sephora_2023", "P503754", day=1.5)      # tinted moisturizer, may contain iron oxides
    (f,) = [f for f in a.flags if f.scope == "ingredient"]
    assert (f.rule.id, f.inci, f.section, f.position) == ("pigment", "IRON OXIDES",
                                                          "may_contain", 24)
    assert "may contain" in f.reason
    assert a.verdict == "avoid" and a.safe_from_day == 2
    assert check("sephora_2023", "P503754", day=2).verdict == "suitable"


# --- kits: strictest component, latest day ------------------------------------------------------


def test_kit_three_components(check):
    a = check("sephora_2023", "P500716", day=8)        # 10 Day Results Kit
    assert len(a.component_verdicts) == 3
    assert {f.component for f in a.flags if f.scope == "ingredient"} == {0, 1, 2}
    assert ("vitamin_c", "TETRAHEXYLDECYL ASCORBATE", 26) in \
        [(f.rule.id, f.inci, f.position) for f in a.flags if f.component == 1]
    assert ("retinoid", "RETINYL PALMITATE", 17) in \
        [(f.rule.id, f.inci, f.position) for f in a.flags if f.component == 2]
    assert a.safe_from_day == 7
    # day 8: the sunscreen component is still caution (chemical filters until 14)
    assert [c["verdict"] for c in a.component_verdicts] == ["caution", "suitable", "suitable"]
    assert a.verdict == "caution"
    assert [c["verdict"] for c in check("sephora_2023", "P500716", day=4).component_verdicts] == \
        ["caution", "avoid", "avoid"]


# --- peels (product level) -------------------------------------------------------------------------


def test_peel_by_name(check):
    a = check("sephora_2023", "P451745", day=10)       # 30% Glycolic Acid Peel Concentrate
    assert [f.rule.id for f in a.flags if f.scope == "product"] == ["first_24h", "peel"]
    assert a.verdict == "avoid" and a.safe_from_day == 14
    assert check("sephora_2023", "P451745", day=2, depth=1.5).safe_from_day == 21
    assert check("sephora_2023", "P451745", day=14).verdict == "suitable"


def test_peel_by_category(check):
    a = check("lookfantastic_2020", "lookfantastic_2020:569", day=8)   # category "Peel"
    assert "peel" in rule_ids(a) and a.verdict == "avoid" and a.safe_from_day == 14


# --- bland products, personal rules ----------------------------------------------------------------


def test_squalane_oil_is_post_procedure_friendly(check):
    a = check("sephora_2023", "P416564", day=1)
    assert rules(a) == [] and a.verdict == "suitable" and a.safe_from_day == 1  # badge: <= 1
    assert check("sephora_2023", "P416564", hours=23).verdict == "avoid"       # first 24 h


def test_avoid_list_vitamin_b3_through_canonicaliser(check):
    canonicalise, class_for_query = default_resolvers()
    if canonicalise is None:
        pytest.skip("the reader's canonicaliser is not available")
    a = check("sephora_2023", "P482510", day=30, avoid="vitamin b3",
              canonicalise=canonicalise, class_for_query=class_for_query)
    assert a.verdict == "avoid" and a.safe_from_day is None
    (f,) = [f for f in a.flags if f.rule.id == "avoid_list"]
    assert (f.inci, f.position) == ("NIACINAMIDE", 17)


def test_avoid_list_class_word(check):
    canonicalise, class_for_query = default_resolvers()
    a = check("sephora_2023", "P500880", day=30, avoid=["chemical uv filters"],
              canonicalise=canonicalise, class_for_query=class_for_query)
    assert a.verdict == "avoid" and a.safe_from_day is None


# --- whole catalogs: no crash, every flag explains itself ------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("catalog", ["cosmetics_2017", "lookfantastic_2020", "sephora_2023"])
def test_every_product_assessable(catalogs, read, catalog):
    df = catalogs(catalog)
    if catalog == "sephora_2023":
        df = df.iloc[::4]              # a quarter keeps the run short; all rows in the README run
    ctx = Context.make(day=1)
    for row in df.itertuples():
        a = assess(read(row.ingredients), ctx, name=row.name, category=row.category)
        assert a.safe_from_day is not None and a.safe_from_day >= 1
        for f in a.flags:
            assert f.rule.id and f.source and f.reason
            if f.scope == "ingredient":
                assert f.ingredient and f.position >= 1, row.product_id


def test_unrecognised_essential_oil_flag_says_how_its_class_is_known(check):
    # cosmetics_2017:155 prints "Essential Oil**" among its names: no INCI name, the class
    # comes from what the printed name says (data/classes printed_patterns), and the flag must
    # say so (cosmetics_2017:90, only "* Essential Oil", is a lost list's footnote: no list)
    a = check("cosmetics_2017", "cosmetics_2017:155", day=2)
    oil = [f for f in a.flags if f.scope == "ingredient" and f.klass == "essential_oil"
           and f.ingredient.startswith("Essential Oil")]
    assert oil, "the essential-oil rule must fire on an unrecognised '* Essential Oil'"
    assert oil[0].detail == "unrecognised name; class from what the printed name says " \
        "(a curated rule)"
    assert a.verdict == "avoid"


# --- retime: the same assessment at another day equals a fresh assess ------------------------


def test_retime_equals_assess_on_real_lists(catalogs, read):
    """Over 300 real lists (every verdict, kits among them) and days inside and past every
    window, retime(assess(t0), t) gives what assess(t) gives, field for field."""
    from dataclasses import replace

    from recommender.safety import retime

    df = catalogs("sephora_2023").sample(300, random_state=3)
    proto = load_protocol(CLINIC)
    seen_verdicts: set = set()
    for (_, row), protocol in zip(df.iterrows(), [None, proto] * 150, strict=True):
        parsed = read(row["ingredients"])
        base = Context.make(day=0.0, depth=1.5, avoid="fragrance")
        a0 = assess(parsed, base, protocol, name=row["name"], category=row["category"])
        for day in (0.5, 1.0, 3.0, 7.0, 13.9, 30.0):
            ctx = replace(base, t=day)
            fresh = assess(parsed, ctx, protocol, name=row["name"], category=row["category"])
            got = retime(a0, ctx)
            assert got.to_dict(include_parsed=True) == fresh.to_dict(include_parsed=True), \
                (row["product_id"], day)
            seen_verdicts.add(got.verdict)
    assert seen_verdicts == {"avoid", "caution", "suitable"}


def test_retime_to_a_depth_of_the_same_factor_equals_assess(catalogs, read):
    """Depths of one protocol factor (0.5 and 1.2 mm are both 'else' in the default
    protocol's bands) share an assessment: retime names the new depth in every flag and
    gives what a fresh assess gives; a depth of another factor is refused, not guessed."""
    from dataclasses import replace

    from recommender.safety import retime
    from recommender.safety.protocol import default_protocol

    proto = default_protocol()
    assert proto.factor(0.5, "mn") == proto.factor(1.2, "mn") != proto.factor(2.0, "mn")
    df = catalogs("sephora_2023").sample(150, random_state=5)
    flagged = 0
    for _, row in df.iterrows():
        parsed = read(row["ingredients"])
        a0 = assess(parsed, Context.make(day=0.0, depth=0.5), None, name=row["name"],
                    category=row["category"])
        for day in (0.0, 2.0, 9.0):
            ctx = Context.make(day=day, depth=1.2)
            fresh = assess(parsed, ctx, None, name=row["name"], category=row["category"])
            got = retime(a0, ctx)
            assert got.to_dict(include_parsed=True) == fresh.to_dict(include_parsed=True), \
                (row["product_id"], day)
            flagged += any("after 1.2 mm" in f.reason for f in got.flags)
        with pytest.raises(ValueError, match="assess again"):
            retime(a0, replace(a0.context, depth_mm=2.0))
    assert flagged > 0          # the new depth's text really reached the flags
