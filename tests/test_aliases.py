"""The alias table: label names -> canonical INCI names that exist in the CosIng inventory."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from recommender import config
from recommender.knowledge.classes import load_class_rules

KINDS = {"us_drug_name", "us_colour_name", "retired_inci", "common_name", "spelling", "translation"}


def fold(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip()


@pytest.fixture(scope="module")
def aliases() -> pd.DataFrame:
    return pd.read_csv(config.ALIASES_FILE, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def lookup(aliases) -> dict[str, str]:
    return {fold(a): i for a, i in zip(aliases["alias"], aliases["inci"], strict=True)}


@pytest.fixture(scope="module")
def inventory_names(data_dir) -> set[str]:
    inv = pd.read_csv(data_dir / config.COSING_INVENTORY, dtype=str)
    return set(inv["inci_name"])


def test_columns_and_kinds(aliases):
    assert list(aliases.columns) == ["alias", "inci", "kind", "source"]
    assert set(aliases["kind"]) <= KINDS
    assert (aliases[["alias", "inci", "kind", "source"]].map(str.strip) != "").all().all()
    assert len(aliases) >= 300


def test_targets_are_upper_case_canonical(aliases):
    for inci in aliases["inci"]:
        assert inci == inci.strip().upper() and "  " not in inci, inci


def test_no_alias_maps_two_ways_after_folding(aliases):
    seen: dict[str, str] = {}
    for alias, inci in zip(aliases["alias"], aliases["inci"], strict=True):
        key = fold(alias)
        assert seen.setdefault(key, inci) == inci, (alias, seen[key], inci)
    assert len(seen) == len(aliases), "duplicate aliases after folding"


def test_no_alias_is_only_a_case_variant_of_its_target(aliases):
    for alias, inci in zip(aliases["alias"], aliases["inci"], strict=True):
        assert fold(alias) != fold(inci), alias


def test_every_target_exists_in_the_inventory(aliases, inventory_names):
    missing = sorted(set(aliases["inci"]) - inventory_names)
    assert not missing


def test_aliases_do_not_shadow_inventory_names(aliases, inventory_names):
    """An alias equal to an inventory name would re-point it; only the declared EU/US pairs may."""
    allowed = {"water", "beeswax"}  # CosIng lists WATER and BEESWAX beside AQUA and CERA ALBA
    folded = {fold(n) for n in inventory_names}
    shadowing = {fold(a) for a in aliases["alias"] if fold(a) in folded}
    assert shadowing <= allowed, sorted(shadowing - allowed)


@pytest.mark.parametrize("alias,inci", [
    ("Avobenzone", "BUTYL METHOXYDIBENZOYLMETHANE"),
    ("Octinoxate", "ETHYLHEXYL METHOXYCINNAMATE"),
    ("Octisalate", "ETHYLHEXYL SALICYLATE"),
    ("Oxybenzone", "BENZOPHENONE-3"),
    ("Ensulizole", "PHENYLBENZIMIDAZOLE SULFONIC ACID"),
    ("Ecamsule", "TEREPHTHALYLIDENE DICAMPHOR SULFONIC ACID"),
    ("Bemotrizinol", "BIS-ETHYLHEXYLOXYPHENOL METHOXYPHENYL TRIAZINE"),
    ("Octyl Methoxycinnamate", "ETHYLHEXYL METHOXYCINNAMATE"),
    ("FD&C Red No. 40", "CI 16035"), ("Red 40", "CI 16035"), ("Red No. 40", "CI 16035"),
    ("Red 40 Lake", "CI 16035"), ("Yellow 5", "CI 19140"), ("Yellow 6", "CI 15985"),
    ("Blue 1", "CI 42090"), ("Red 4", "CI 14700"), ("Red 6", "CI 15850"), ("Red 7", "CI 15850"),
    ("Red 7 Calcium Lake", "CI 15850"), ("Red 21", "CI 45380"), ("Red 22", "CI 45380"),
    ("Red 27", "CI 45410"), ("Red 28", "CI 45410"), ("Red 30", "CI 73360"), ("Red 33", "CI 17200"),
    ("Red 36", "CI 12085"), ("Orange 5", "CI 45370"), ("Green 3", "CI 42053"),
    ("Green 5", "CI 61570"), ("Violet 2", "CI 60725"), ("Ext. Violet 2", "CI 60730"),
    ("Yellow 10", "CI 47005"), ("D&C Yellow No. 11", "CI 47000"),
    ("Water", "AQUA"), ("Eau", "AQUA"), ("Fragrance", "PARFUM"), ("Perfume", "PARFUM"),
    ("Shea Butter", "BUTYROSPERMUM PARKII BUTTER"), ("Mineral Oil", "PARAFFINUM LIQUIDUM"),
    ("Vitamin E", "TOCOPHEROL"), ("Vitamin C", "ASCORBIC ACID"), ("Vitamin B5", "PANTHENOL"),
    ("Vitamin B3", "NIACINAMIDE"), ("Beeswax", "CERA ALBA"), ("Carnauba Wax", "COPERNICIA CERIFERA CERA"),
    ("Candelilla Wax", "EUPHORBIA CERIFERA CERA"), ("Jojoba Oil", "SIMMONDSIA CHINENSIS SEED OIL"),
    ("Argan Oil", "ARGANIA SPINOSA KERNEL OIL"), ("Coconut Oil", "COCOS NUCIFERA OIL"),
    ("Castor Oil", "RICINUS COMMUNIS SEED OIL"), ("Olive Oil", "OLEA EUROPAEA FRUIT OIL"),
    ("Sweet Almond Oil", "PRUNUS AMYGDALUS DULCIS OIL"), ("Aloe Vera", "ALOE BARBADENSIS LEAF JUICE"),
    ("Witch Hazel Water", "HAMAMELIS VIRGINIANA WATER"), ("Petroleum Jelly", "PETROLATUM"),
    ("Green Tea Extract", "CAMELLIA SINENSIS LEAF EXTRACT"), ("Ethanol", "ALCOHOL"),
    ("Licorice Root Extract", "GLYCYRRHIZA GLABRA ROOT EXTRACT"),
])
def test_required_aliases(lookup, alias, inci):
    assert lookup.get(fold(alias)) == inci


def test_numbered_variants_are_never_merged(aliases):
    """Ceramide NP vs AP, Peptide-4 vs -7: an alias keeps every number it names."""
    rows = zip(aliases["alias"], aliases["inci"], aliases["kind"], strict=True)
    for alias, inci, kind in rows:
        if kind in ("us_colour_name", "retired_inci"):
            continue  # colour numbers map to CI numbers; retired names were renumbered by INCI
        for number in re.findall(r"-(\d+)\b", alias):
            assert re.search(rf"-{number}\b", inci), (alias, inci)
        for ceramide in re.findall(r"CERAMIDE ([A-Z]+)", alias.upper()):
            assert f"CERAMIDE {ceramide}" in inci, (alias, inci)


def test_aliases_carry_the_traps_through(lookup):
    """Aliased names land in the right class: the alias table and the classes agree."""
    rules = load_class_rules()
    assert rules.classify(lookup[fold("Octisalate")]) == ("chemical_uv_filter",)
    assert rules.classify(lookup[fold("Red 40")]) == ("pigment",)
    assert rules.classify(lookup[fold("Tretinoin")]) == ("retinoid",)
    assert "essential_oil" in rules.classify(lookup[fold("Tea Tree Oil")])
    assert "essential_oil" not in rules.classify(lookup[fold("Rosehip Oil")])
    assert "essential_oil" not in rules.classify(lookup[fold("Jojoba Oil")])
    assert rules.classify(lookup[fold("Denatured Alcohol")]) == ("drying_alcohol",)


@pytest.mark.parametrize("alias,inci", [
    # US (PCPC) spelling of a binomial vs the CosIng spelling
    ("Gardenia Tahitensis Flower Extract", "GARDENIA TAITENSIS FLOWER EXTRACT"),
    ("Phyllostachis Bambusoides Juice", "PHYLLOSTACHYS BAMBUSOIDES JUICE"),
    ("Sapindus Mukurossi Peel Extract", "SAPINDUS MUKOROSSI PEEL EXTRACT"),
    ("Schizandra Chinensis Fruit Extract", "SCHISANDRA CHINENSIS FRUIT EXTRACT"),
    ("Citrus Sinensis Peel Oil", "CITRUS AURANTIUM DULCIS PEEL OIL"),
    ("PVP/Hexadecene Copolymer", "VP/HEXADECENE COPOLYMER"),
    # no part printed, but CosIng has exactly one such oil
    ("Citrus Paradisi Oil", "CITRUS PARADISI PEEL OIL"),
    ("Borago Officinalis Oil", "BORAGO OFFICINALIS SEED OIL"),
    ("Simmondsia Chinensis Oil", "SIMMONDSIA CHINENSIS SEED OIL"),
    # chemical, pharmacopoeial and trade names of one substance
    ("Butylated Hydroxyanisole", "BHA"), ("Tetradecanoic Acid", "MYRISTIC ACID"),
    ("Piperonal", "HELIOTROPINE"), ("Terpineol Alpha", "TERPINEOL"),
    ("Hexyl Cinnamaldehyde", "HEXYL CINNAMAL"), ("Cetostearyl Alcohol", "CETEARYL ALCOHOL"),
    ("Edetate Disodium", "DISODIUM EDTA"), ("Pyrithione Zinc", "ZINC PYRITHIONE"),
    ("Polyvinylpyrrolidone", "PVP"), ("Mixed Tocopherols", "TOCOPHEROL"),
    ("Lilial", "BUTYLPHENYL METHYLPROPIONAL"), ("Gum Arabic", "ACACIA SENEGAL GUM"),
])
def test_curated_label_names(lookup, alias, inci):
    assert lookup.get(fold(alias)) == inci


@pytest.mark.parametrize("name", [
    # plant printed without its part where CosIng has several: which one is not printed
    "Lavandula Angustifolia", "Rosa Damascena", "Butyrospermum Parkii", "Hamamelis Virginiana",
    "Citrus Aurantium Dulcis", "Ginkgo Biloba Extract", "Citrus Aurantium Amara Oil",
    "Gaultheria Procumbens Oil", "Salvia Hispanica Oil", "Daucus Carota Sativa Oil",
    # unspecific words
    "Essential Oil", "Witch Hazel", "Propanol",
])
def test_ambiguous_names_are_not_aliased(lookup, name):
    assert fold(name) not in lookup


def test_new_aliases_keep_safety_classes():
    """A label name lands in the class its substance has (oil vs essential oil, alcohols)."""
    from recommender.knowledge.reader import read_list

    parsed = read_list("Citrus Paradisi (Grapefruit) Oil, Borago Officinalis (Borage) Oil, "
                       "Cetostearyl Alcohol, Cane Sugar Alcohol, Neroli Oil")
    got = {m.inci: m.classes for m in parsed.ingredients}
    assert "essential_oil" in got["CITRUS PARADISI PEEL OIL"]
    assert "essential_oil" not in got["BORAGO OFFICINALIS SEED OIL"]
    assert "drying_alcohol" not in got["CETEARYL ALCOHOL"]
    assert got["ALCOHOL"] == ("drying_alcohol",)
    assert "essential_oil" in got["CITRUS AURANTIUM AMARA FLOWER OIL"]
