"""Ingredient classes: every trap of DESIGN.md, file validation, inventory membership."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from recommender import config
from recommender.knowledge.classes import (
    VOCABULARY,
    ClassFileError,
    ClassRules,
    load_class_rules,
    parse_class_file,
)


@pytest.fixture(scope="module")
def rules() -> ClassRules:
    return load_class_rules()


@pytest.fixture(scope="module")
def inventory(data_dir) -> pd.DataFrame:
    return pd.read_csv(data_dir / config.COSING_INVENTORY, dtype=str).fillna("")


def has(rules: ClassRules, name: str, cls: str, **kw) -> bool:
    return cls in rules.classify(name, **kw)


def test_vocabulary_is_exactly_the_design_list(rules):
    assert set(rules.ids) == set(VOCABULARY)
    assert len(VOCABULARY) == 23
    assert "peel" not in rules  # product-level rule, not an ingredient class
    assert "nsaid" in rules


def test_every_class_file_validates_and_cites_a_source(rules):
    for path in sorted(config.CLASSES_DIR.glob("*.yaml")):
        rule = parse_class_file(path)
        assert rule.id == path.stem
        src = rules.source(rule.id)
        assert src["source"] and src["evidence"]
        if "skinrec design choice" in src["source"].lower():
            assert src["evidence"] == "none"


# --- traps (DESIGN.md "Ingredient classes") -------------------------------------------------

@pytest.mark.parametrize("name", [
    "RETINOL", "RETINAL", "RETINYL PALMITATE", "RETINYL ACETATE", "RETINYL PROPIONATE",
    "HYDROXYPINACOLONE RETINOATE", "RETINOIC ACID", "TRETINOIN", "ADAPALENE", "TAZAROTENE",
])
def test_retinoids(rules, name):
    assert has(rules, name, "retinoid")


@pytest.mark.parametrize("name", ["BAKUCHIOL", "PHLORETIN", "HESPERETIN", "BETA-CAROTENE"])
def test_not_retinoids(rules, name):
    assert not has(rules, name, "retinoid")


@pytest.mark.parametrize("name", [
    "GLYCOLIC ACID", "LACTIC ACID", "MANDELIC ACID", "MALIC ACID", "TARTARIC ACID", "CITRIC ACID",
])
def test_aha(rules, name):
    assert rules.classify(name) == ("aha",)


@pytest.mark.parametrize("name", [
    "HYALURONIC ACID", "STEARIC ACID", "ASCORBIC ACID", "LINOLEIC ACID", "HYDROXYSTEARIC ACID",
    "SODIUM LACTATE", "SALICYLIC ACID",
])
def test_not_aha(rules, name):
    assert not has(rules, name, "aha")


@pytest.mark.parametrize("name", ["SALICYLIC ACID", "BETAINE SALICYLATE", "CAPRYLOYL SALICYLIC ACID"])
def test_bha(rules, name):
    assert has(rules, name, "bha")


@pytest.mark.parametrize("name", ["ETHYLHEXYL SALICYLATE", "HOMOSALATE", "TEA-SALICYLATE"])
def test_salicylate_uv_filters_are_not_bha(rules, name):
    classes = rules.classify(name)
    assert "bha" not in classes
    assert "chemical_uv_filter" in classes


@pytest.mark.parametrize("name", [
    "SALIX ALBA BARK EXTRACT", "BENZYL SALICYLATE", "METHYL SALICYLATE", "SODIUM SALICYLATE",
])
def test_other_salicylates_are_not_bha(rules, name):
    assert not has(rules, name, "bha")


@pytest.mark.parametrize("name", ["GLUCONOLACTONE", "LACTOBIONIC ACID", "MALTOBIONIC ACID"])
def test_pha(rules, name):
    assert has(rules, name, "pha")


@pytest.mark.parametrize("name", [
    "ASCORBIC ACID", "SODIUM ASCORBYL PHOSPHATE", "MAGNESIUM ASCORBYL PHOSPHATE",
    "ASCORBYL GLUCOSIDE", "3-O-ETHYL ASCORBIC ACID", "TETRAHEXYLDECYL ASCORBATE",
    "ASCORBYL PALMITATE", "ASCORBYL TETRAISOPALMITATE", "SODIUM ASCORBATE",
])
def test_vitamin_c_and_every_derivative(rules, name):
    assert has(rules, name, "vitamin_c")


def test_erythorbic_acid_is_not_vitamin_c(rules):
    assert not has(rules, "ERYTHORBIC ACID", "vitamin_c")


@pytest.mark.parametrize("name", [
    "ALCOHOL", "ALCOHOL DENAT.", "SD ALCOHOL 40-B", "SD ALCOHOL 3-A",
    "ALCOHOL DENAT. SD ALCOHOL 40-B", "ISOPROPYL ALCOHOL",
])
def test_drying_alcohols(rules, name):
    assert has(rules, name, "drying_alcohol")


@pytest.mark.parametrize("name", [
    "CETYL ALCOHOL", "CETEARYL ALCOHOL", "STEARYL ALCOHOL", "BEHENYL ALCOHOL", "BENZYL ALCOHOL",
    "LANOLIN ALCOHOL", "PHENETHYL ALCOHOL",
])
def test_fatty_and_benzyl_alcohols_are_not_drying(rules, name):
    assert not has(rules, name, "drying_alcohol")


@pytest.mark.parametrize("name", [
    "LAVANDULA ANGUSTIFOLIA OIL", "LAVANDULA ANGUSTIFOLIA FLOWER OIL",
    "MELALEUCA ALTERNIFOLIA LEAF OIL", "MENTHA PIPERITA OIL", "EUCALYPTUS GLOBULUS LEAF OIL",
    "ROSA DAMASCENA FLOWER OIL", "CITRUS LIMON PEEL OIL", "CITRUS AURANTIUM DULCIS PEEL OIL",
    "CITRUS AURANTIUM BERGAMIA FRUIT OIL", "CITRUS PARADISI PEEL OIL", "ROSMARINUS OFFICINALIS LEAF OIL",
    "CANANGA ODORATA FLOWER OIL", "POGOSTEMON CABLIN LEAF OIL", "ELETTARIA CARDAMOMUM SEED OIL",
    "MYRISTICA FRAGRANS KERNEL OIL", "CITRUS NOBILIS PEEL OIL EXPRESSED",
])
def test_essential_oils(rules, name):
    assert has(rules, name, "essential_oil")


@pytest.mark.parametrize("name", [
    "SIMMONDSIA CHINENSIS SEED OIL", "HELIANTHUS ANNUUS SEED OIL", "ARGANIA SPINOSA KERNEL OIL",
    "ROSA CANINA FRUIT OIL", "ROSA RUBIGINOSA SEED OIL", "ROSA MOSCHATA SEED OIL", "SQUALANE",
    "LAVANDULA ANGUSTIFOLIA FLOWER EXTRACT", "MELALEUCA ALTERNIFOLIA LEAF EXTRACT",
    "ROSA DAMASCENA FLOWER WATER", "OLEA EUROPAEA FRUIT OIL", "COCOS NUCIFERA OIL",
    "CITRUS LIMON SEED OIL", "PRUNUS AMYGDALUS DULCIS OIL", "PERSEA GRATISSIMA OIL",
    "HYDROGENATED PANAX GINSENG ROOT OIL", "CITRUS AURANTIUM DULCIS PEEL EXTRACT",
])
def test_carrier_oils_extracts_squalane_are_not_essential_oils(rules, name):
    assert not has(rules, name, "essential_oil")


@pytest.mark.parametrize("name", ["ZINC OXIDE", "TITANIUM DIOXIDE", "CI 77947", "CI 77891"])
def test_zinc_and_titanium_are_mineral_filters_never_pigments(rules, name):
    assert rules.classify(name) == ("mineral_uv_filter",)


@pytest.mark.parametrize("name", [
    "CI 77491", "CI 77492", "CI 77499", "CI 16035", "CI 19140", "CI 77007", "MICA",
    "IRON OXIDES", "RED 40", "FD&C RED NO. 40", "YELLOW 5 LAKE", "D&C RED NO. 7 CALCIUM LAKE",
    "ACID BLUE 9 ALUMINUM LAKE", "CI 77268:1",
])
def test_pigments(rules, name):
    assert has(rules, name, "pigment")
    assert not has(rules, name, "mineral_uv_filter")


@pytest.mark.parametrize("name", [
    "BUTYL METHOXYDIBENZOYLMETHANE", "ETHYLHEXYL METHOXYCINNAMATE", "OCTOCRYLENE", "HOMOSALATE",
    "ETHYLHEXYL SALICYLATE", "BENZOPHENONE-3", "BIS-ETHYLHEXYLOXYPHENOL METHOXYPHENYL TRIAZINE",
    "TEREPHTHALYLIDENE DICAMPHOR SULFONIC ACID", "DIETHYLAMINO HYDROXYBENZOYL HEXYL BENZOATE",
])
def test_chemical_uv_filters(rules, name):
    assert rules.classify(name) == ("chemical_uv_filter",)


@pytest.mark.parametrize("name", [
    "WALNUT SHELL POWDER", "JUGLANS REGIA SHELL POWDER", "PRUNUS ARMENIACA SEED POWDER",
    "PUMICE", "PERLITE", "OLEA EUROPAEA SEED POWDER",
])
def test_physical_exfoliants(rules, name):
    assert has(rules, name, "physical_exfoliant")


@pytest.mark.parametrize("name", ["SILICA", "KAOLIN", "ORYZA SATIVA SEED POWDER", "SUCROSE"])
def test_fillers_are_not_physical_exfoliants(rules, name):
    assert not has(rules, name, "physical_exfoliant")


@pytest.mark.parametrize("name,cls", [
    ("PARFUM", "fragrance"), ("AROMA", "fragrance"), ("BENZOYL PEROXIDE", "benzoyl_peroxide"),
    ("SODIUM HYALURONATE", "hyaluronic_acid"), ("HYDROLYZED HYALURONIC ACID", "hyaluronic_acid"),
    ("PALMITOYL PENTAPEPTIDE-4", "peptide"), ("ACETYL HEXAPEPTIDE-8", "peptide"),
    ("COPPER TRIPEPTIDE-1", "peptide"), ("PALMITOYL TRIPEPTIDE-1", "peptide"),
    ("SH-OLIGOPEPTIDE-1", "growth_factor"), ("RH-OLIGOPEPTIDE-1", "growth_factor"),
    ("SH-POLYPEPTIDE-1", "growth_factor"), ("HUMAN FIBROBLAST CONDITIONED MEDIA", "growth_factor"),
    ("CERAMIDE NP", "ceramide"), ("CERAMIDE AP", "ceramide"), ("CERAMIDE EOP", "ceramide"),
    ("PANTHENOL", "panthenol"), ("DEXPANTHENOL", "panthenol"),
    ("CENTELLA ASIATICA EXTRACT", "centella"), ("MADECASSOSIDE", "centella"),
    ("NIACINAMIDE", "niacinamide"), ("GLYCERIN", "humectant"), ("BUTYLENE GLYCOL", "humectant"),
    ("PROPANEDIOL", "humectant"), ("SODIUM PCA", "humectant"), ("UREA", "humectant"),
    ("SODIUM LACTATE", "humectant"), ("BETAINE", "humectant"), ("SORBITOL", "humectant"),
    ("SODIUM HYALURONATE", "humectant"), ("DICLOFENAC", "nsaid"),
    ("DICLOFENAC DIETHYLAMINE", "nsaid"), ("IBUPROFEN", "nsaid"),
])
def test_beneficial_and_other_classes(rules, name, cls):
    assert has(rules, name, cls)


@pytest.mark.parametrize("name,cls", [
    ("HYALURONIDASE", "hyaluronic_acid"), ("SH-OLIGOPEPTIDE-10", "growth_factor"),
    ("CENTELLA ASIATICA CALLUS CONDITIONED MEDIA", "growth_factor"),
    ("HYDROLYZED SOY PROTEIN", "peptide"), ("PHYTOSPHINGOSINE", "ceramide"),
    ("NIACIN", "niacinamide"), ("METHYL SALICYLATE", "nsaid"), ("CETYL ALCOHOL", "humectant"),
])
def test_beneficial_class_traps(rules, name, cls):
    assert not has(rules, name, cls)


def test_fragrance_allergen_follows_the_kb_flag_and_the_annex_names(rules):
    assert has(rules, "LINALOOL", "fragrance_allergen")
    assert has(rules, "BENZYL ALCOHOL", "fragrance_allergen")
    assert not has(rules, "SOME NEW NAME", "fragrance_allergen")
    assert has(rules, "SOME NEW NAME", "fragrance_allergen", eu_allergen=True)
    assert not has(rules, "GLYCERIN", "fragrance_allergen")


def test_functions_and_case_and_whitespace(rules):
    assert rules.classify("  retinyl   palmitate ") == ("retinoid",)
    assert rules.classify("GLYCERIN", ("Humectant", "Solvent")) == ("humectant",)
    assert rules.classify("GLYCERIN", "Humectant, Solvent") == ("humectant",)
    assert rules.classify("AQUA") == ()


def test_classify_is_sorted_and_deterministic(rules, tmp_path):
    names = ["ASCORBYL RETINOATE", "SODIUM RETINOYL HYALURONATE", "LAVANDULA ANGUSTIFOLIA OIL",
             "CITRUS LIMON PEEL OIL", "RETINOYL TRIPEPTIDE-1", "CI 77891"]
    first = [rules.classify(n) for n in names]
    for result in first:
        assert list(result) == sorted(result)
    again = load_class_rules()
    assert [again.classify(n) for n in names] == first
    assert [rules.classify(n) for n in names] == first  # cached path
    reversed_copy = tmp_path / "classes"
    shutil.copytree(config.CLASSES_DIR, reversed_copy)
    assert [load_class_rules(reversed_copy).classify(n) for n in names] == first
    assert rules.classify("LAVANDULA ANGUSTIFOLIA OIL") == ("essential_oil", "fragrance_allergen")


@pytest.mark.parametrize("text,cls", [
    ("retinoids", "retinoid"), ("Retinol", "retinoid"), ("AHA", "aha"), ("AHAs", "aha"),
    ("vitamin c", "vitamin_c"), ("Vitamin-C", "vitamin_c"), ("BHA", "bha"),
    ("essential oils", "essential_oil"), ("fragrance", "fragrance"), ("Parfum", "fragrance"),
    ("drying alcohol", "drying_alcohol"), ("chemical sunscreen", "chemical_uv_filter"),
    ("NSAIDs", "nsaid"), ("growth factors", "growth_factor"), ("niacinamide", "niacinamide"),
    ("hyaluronic acid", "hyaluronic_acid"), ("peptides", "peptide"), ("dyes", "pigment"),
])
def test_classes_for_query(rules, text, cls):
    assert rules.classes_for_query(text) == cls


@pytest.mark.parametrize("text", ["", "   ", "banana", "glycerin please"])
def test_classes_for_query_unknown(rules, text):
    assert rules.classes_for_query(text) is None


# --- validation ----------------------------------------------------------------------------

GOOD = """\
id: {id}
description: test class
source: skinrec design choice
evidence: none
members: [GLYCERIN]
patterns: ['^FOO\\b']
exceptions: []
"""


def _write(tmp_path: Path, cid: str, text: str) -> Path:
    p = tmp_path / f"{cid}.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_good_test_file_loads(tmp_path):
    _write(tmp_path, "thing", GOOD.format(id="thing"))
    r = load_class_rules(tmp_path)
    assert r.classify("FOO BAR") == ("thing",)
    assert r.members("thing") == {"GLYCERIN"}


@pytest.mark.parametrize("text,field", [
    (GOOD.format(id="thing").replace("source: skinrec design choice\n", ""), "source"),
    (GOOD.format(id="other"), "id"),
    (GOOD.format(id="thing").replace("'^FOO\\b'", "'^FOO('"), "patterns[0]"),
    (GOOD.format(id="thing").replace("[GLYCERIN]", "[glycerin]"), "members[0]"),
    (GOOD.format(id="thing").replace("[GLYCERIN]", "GLYCERIN"), "members"),
    (GOOD.format(id="thing").replace("evidence: none", "evidence: strong"), "evidence"),
    (GOOD.format(id="thing").replace("evidence: none", "evidence: clinic"), "evidence"),
    (GOOD.format(id="thing") + "memebers: []\n", "memebers"),
    (GOOD.format(id="thing").replace("exceptions: []", "exceptions: [GLYCERIN]"), "exceptions"),
    (GOOD.format(id="thing").replace("'^FOO\\b'", "'X?'"), "patterns[0]"),
    (GOOD.format(id="thing") + "extra_members: [TRETINOIN]\n", "extra_members_reason"),
    ("id: thing\n  bad: [\n", "<yaml>"),
])
def test_malformed_class_file_is_refused_naming_file_and_field(tmp_path, text, field):
    path = _write(tmp_path, "thing", text)
    with pytest.raises(ClassFileError) as exc:
        load_class_rules(tmp_path)
    assert exc.value.field == field
    assert str(path) in str(exc.value)
    assert f"'{field}'" in str(exc.value)


def test_empty_directory_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_class_rules(tmp_path)


# --- against the CosIng inventory ----------------------------------------------------------

def test_every_member_exists_in_the_inventory(rules, inventory):
    names = set(inventory["inci_name"])
    missing = {
        cid: sorted(m for m in rules.rule(cid).members if m not in names) for cid in rules.ids
    }
    assert not {k: v for k, v in missing.items() if v}
    # extra members are, by definition, the names the inventory lacks
    present = {cid: sorted(rules.rule(cid).extra_members & names) for cid in rules.ids}
    assert not {k: v for k, v in present.items() if v}


def test_fragrance_allergen_members_come_from_annex_iii(rules, data_dir):
    allergens = pd.read_csv(data_dir / config.EU_ALLERGENS, dtype=str).fillna("")
    text = " | ".join(allergens["identified_inci"].str.upper()) + " | " + " | ".join(
        allergens["inci_glossary_names"].str.upper()
    )
    for name in rules.members("fragrance_allergen"):
        assert name in text, name


def test_whole_inventory_counts(rules, inventory):
    """Classify all 28,712 names once: bounds catch a pattern gone wild or gone dead."""
    counts: dict[str, int] = {}
    for name, funcs in zip(inventory["inci_name"], inventory["function"], strict=True):
        for cid in rules.classify(name, tuple(f.strip() for f in funcs.split(",") if f.strip())):
            counts[cid] = counts.get(cid, 0) + 1
    bounds = {
        "retinoid": (30, 80), "aha": (6, 6), "bha": (3, 3), "pha": (4, 4), "vitamin_c": (80, 130),
        "essential_oil": (450, 800), "drying_alcohol": (50, 70), "pigment": (140, 200),
        "chemical_uv_filter": (35, 55), "mineral_uv_filter": (4, 4), "peptide": (1500, 2300),
        "growth_factor": (100, 250), "hyaluronic_acid": (40, 80), "ceramide": (20, 50),
        "fragrance_allergen": (100, 160), "physical_exfoliant": (50, 130), "humectant": (35, 60),
    }
    for cid, (lo, hi) in bounds.items():
        assert lo <= counts.get(cid, 0) <= hi, (cid, counts.get(cid, 0))
    for cid in rules.ids:
        assert counts.get(cid, 0) > 0, cid
