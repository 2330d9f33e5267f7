"""Label formats the shared catalogs do not happen to contain (realistic examples written
here), and the canonicaliser's refusals. Real-catalog cases are in test_parse_real.py."""

from __future__ import annotations

import pytest

from recommender.inci.canonical import Canonicalizer
from recommender.knowledge.reader import default_reader, read_list


def incis(text):
    return [m.inci for m in read_list(text).ingredients]


def test_product_variation_headings():
    p = read_list("Product variation 1:\nWater, Glycerin, Retinol\nProduct variation 2:\nWater, Niacinamide")
    assert p.components == ["Product variation 1", "Product variation 2"]
    assert [(m.component, m.position, m.inci) for m in p.ingredients] == [
        (0, 1, "AQUA"), (0, 2, "GLYCERIN"), (0, 3, "RETINOL"), (1, 1, "AQUA"), (1, 2, "NIACINAMIDE")]


def test_plus_minus_percentage_and_leading_percentage():
    p = read_list("Glycerin +/- 0.5%, 10% Niacinamide, Zinc PCA (1%)")
    assert [(m.inci, m.percent) for m in p.ingredients] == [
        ("GLYCERIN", 0.5), ("NIACINAMIDE", 10.0), ("ZINC PCA", 1.0)]


def test_html_entities_and_tags():
    p = read_list("Water<br>Glycerin &amp; Aloe Barbadensis Leaf Juice, <b>Retinol</b>, Tocopherol&#46;")
    assert [m.inci for m in p.ingredients] == [
        "AQUA", "GLYCERIN", "ALOE BARBADENSIS LEAF JUICE", "RETINOL", "TOCOPHEROL"]
    assert not any("<" in m.raw or "&" in m.raw for m in p.ingredients)
    assert incis("D & C Red No. 7, FD&C Yellow No. 5") == ["CI 15850", "CI 19140"]


def test_unicode_spaces_dashes_and_fullwidth():
    text = "Water,\u00a0Glycerin,\u200b Ceteareth\u201320, Peg\u2011100 Stearate\uff0c Retinol"
    assert incis(text) == ["AQUA", "GLYCERIN", "CETEARETH-20", "PEG-100 STEARATE", "RETINOL"]


def test_bullets_and_semicolons_separate():
    assert incis("Water \u2022 Glycerin \u2022 Niacinamide; Panthenol") == [
        "AQUA", "GLYCERIN", "NIACINAMIDE", "PANTHENOL"]


def test_footnote_superscripts_and_stars():
    p = read_list("Glycerin\u00b9, Aloe Barbadensis Leaf Juice*, Squalane**. *Certified organic. **Plant origin")
    assert [m.inci for m in p.ingredients] == ["GLYCERIN", "ALOE BARBADENSIS LEAF JUICE", "SQUALANE"]
    assert p.problems


@pytest.mark.parametrize("ci", ["CI 77491", "Ci 77491", "Cl 77491", "C.I. 77491", "CI77491", "ci 77491."])
def test_ci_numbers_in_every_form(ci):
    assert incis(f"Mica, {ci}") == ["MICA", "CI 77491"]


def test_trailing_period_and_inci_marker():
    assert incis("INGREDIENTS: Water, Glycerin, Phenoxyethanol.") == ["AQUA", "GLYCERIN", "PHENOXYETHANOL"]


def test_us_drug_and_colour_names_and_common_names():
    p = read_list("Avobenzone 3%, Octinoxate 7.5%, Red 40, FD&C Yellow No. 5, Shea Butter, Vitamin E")
    assert [m.inci for m in p.ingredients] == [
        "BUTYL METHOXYDIBENZOYLMETHANE", "ETHYLHEXYL METHOXYCINNAMATE", "CI 16035", "CI 19140",
        "BUTYROSPERMUM PARKII BUTTER", "TOCOPHEROL"]
    assert all(m.match == "alias" and m.recognized for m in p.ingredients)


def test_unmatched_names_are_listed_not_dropped():
    p = read_list("Water, Zorbulite Complex, Glycerin")
    assert [m.raw for m in p.ingredients] == ["Water", "Zorbulite Complex", "Glycerin"]
    assert p.unrecognized == ["Zorbulite Complex"]
    assert p.ingredients[1].position == 2


# -- canonicaliser refusals ---------------------------------------------------------------


@pytest.fixture(scope="module")
def canon():
    return default_reader().canon


def test_fuzzy_reports_its_score_and_is_not_recognised():
    m = read_list("Water, Glycerine, Sodium Hyaluronnate").ingredients[2]
    assert m.inci == "SODIUM HYALURONATE" and m.match == "fuzzy" and not m.recognized
    assert 92 <= m.match_score < 100


@pytest.mark.parametrize("typo,wrong", [
    ("Ceramide NQ", "CERAMIDE NP"),            # letter codes must agree
    ("Palmitoyl Tetrapeptide-9", "PALMITOYL TETRAPEPTIDE-7"),  # numbers must agree
    ("PEG-81 Stearate", "PEG-8 STEARATE"),
])
def test_fuzzy_never_crosses_numbered_or_coded_variants(canon, typo, wrong):
    assert canon.fuzzy(typo).inci != wrong


def test_fuzzy_never_lands_on_a_restricted_name():
    names = ["HYDROQUINONE", "GLYCERIN"]
    c = Canonicalizer(names, {}, restricted={"HYDROQUINONE"})
    assert c.fuzzy("Hydroquinnone").inci is None
    assert c.fuzzy("Glycerine").inci == "GLYCERIN"


def test_loose_key_ambiguity_is_refused():
    c = Canonicalizer(["PEG-10 DIMETHICONE", "PEG 10 DIMETHICONE X"], {})
    assert c.lookup("peg 10 dimethicone").inci == "PEG-10 DIMETHICONE"
    c = Canonicalizer(["A-B", "AB"], {})
    assert c.lookup("A B").inci is None  # two names share the letters-only key: no guess


def test_and_inside_a_name_is_kept():
    # the only CosIng names holding " and ", and "D and C" colours, stay whole
    assert incis("Terpenes and Terpenoids, Water") == ["TERPENES AND TERPENOIDS", "AQUA"]
    assert [m.name for m in read_list("D and C Red No. 7, Water").ingredients] == [
        "D and C Red No. 7", "Water"]
    # neither side a name on its own: one ingredient, as printed
    p = read_list("Water, Ashwagandha Root And Leaf Extract")
    assert [m.name for m in p.ingredients] == ["Water", "Ashwagandha Root And Leaf Extract"]
    # "and" inside brackets is not a separator
    assert incis("Fragrance (Natural Mandarin And Lemon), Water") == ["PARFUM", "AQUA"]


def test_and_between_names_separates():
    assert incis("Glycerin and Niacinamide, Water") == ["GLYCERIN", "NIACINAMIDE", "AQUA"]
    p = read_list("Water, Lauroamphocarboxyglycinate and Sodium Trideceth Sulfate")
    assert [m.inci for m in p.ingredients] == ["AQUA", None, "SODIUM TRIDECETH SULFATE"]


def test_run_together_names_split_by_fewest_known_names():
    assert incis("Water Glycerin Caprylic/Capric Triglyceride Phenoxyethanol") == [
        "AQUA", "GLYCERIN", "CAPRYLIC/CAPRIC TRIGLYCERIDE", "PHENOXYETHANOL"]
    # brackets stay with the name before them; a name and its translation stay one mention
    assert incis("Parfum (Fragrance) D-Limonene") == ["PARFUM", "LIMONENE"]
    assert incis("Aqua - Water - Eau Glycerin Niacinamide") == ["AQUA", "GLYCERIN", "NIACINAMIDE"]
    # an unknown name that is not a run of known names is left whole
    p = read_list("Water, Mango Seed Butter Blend")
    assert [m.name for m in p.ingredients] == ["Water", "Mango Seed Butter Blend"]


def test_list_without_separators_keeps_unknown_words_as_printed():
    p = read_list("Water Glycerin Zorblax Fizzamide Niacinamide Panthenol Sodium Hyaluronate")
    assert [m.inci for m in p.ingredients] == [
        "AQUA", "GLYCERIN", None, "NIACINAMIDE", "PANTHENOL", "SODIUM HYALURONATE"]
    assert p.ingredients[2].name == "Zorblax Fizzamide"


@pytest.mark.parametrize("text,cls", [
    ("Essential Oil", "essential_oil"), ("Hyacinth Essential Oil", "essential_oil"),
    ("Huile Essentielle de Lavande Vraie", "essential_oil"),
    ("Cashmere Mist Fragrance", "fragrance"), ("Natural Cinnamon Flavor", "fragrance"),
    ("Miss Dior Eau de Parfum", "fragrance"), ("parfum of vanilla", "fragrance"),
    # names other retailers print for what must wait after needling
    ("Granactive Retinoid", "retinoid"), ("Bergamot Oil", "essential_oil"),
    ("Tangerine Leaf Oil", "essential_oil"), ("Apricot Seed Powder", "physical_exfoliant"),
    ("Jojoba Beads", "physical_exfoliant"), ("Microbeads", "physical_exfoliant"),
    ("PHA", "pha"), ("Polyhydroxy Acids", "pha"),
    # and what helps: the growth factors of post-needling serums
    ("Growth Factors", "growth_factor"), ("EGF", "growth_factor"),
])
def test_printed_name_says_what_it_is(text, cls):
    m = read_list(f"Water, {text}").ingredients[1]
    assert not m.recognized and cls in m.classes


@pytest.mark.parametrize("text", ["Fragrance-Free", "free from synthetic fragrance",
                                  "Flower flavonoids", "Essential Oil Free"])
def test_printed_name_saying_free_of_is_not_flagged(text):
    for m in read_list(f"Water, {text}").ingredients:
        assert "fragrance" not in m.classes and "essential_oil" not in m.classes


@pytest.mark.parametrize("text,cls", [
    ("Rose Hip Oil", "essential_oil"), ("Orange Seed Oil", "essential_oil"),  # carrier oils
    ("Oat Kernel Meal", "physical_exfoliant"),  # colloidal oatmeal soothes
    ("Plant Growth Factors", "growth_factor"),
])
def test_printed_name_traps_are_not_classed(text, cls):
    m = read_list(f"Water, {text}").ingredients[1]
    assert cls not in m.classes


@pytest.mark.parametrize("text,inci", [
    ("Pelargonium Graveolens Flower Essential Oil", "PELARGONIUM GRAVEOLENS FLOWER OIL"),
    ("Lavandula Angustifolia (Lavender) Essential Oil", "LAVANDULA ANGUSTIFOLIA OIL"),
])
def test_essential_oil_printed_as_such_reads_as_the_inci_oil(text, inci):
    m = read_list(text).ingredients[0]
    assert m.inci == inci and m.recognized and "essential_oil" in m.classes


def test_essential_oil_of_a_fixed_oil_plant_is_not_read_as_its_fixed_oil():
    # ROSA CANINA (rosehip) oils are carrier oils: "Rosa Canina Essential Oil" is not one
    m = read_list("Rosa Canina Essential Oil").ingredients[0]
    assert not m.recognized and "essential_oil" in m.classes


@pytest.mark.parametrize("text,inci", [
    ("Ammonium Acryloyldimethyltaurate/VP", "AMMONIUM ACRYLOYLDIMETHYLTAURATE/VP COPOLYMER"),
    ("Bis-PEG-18 Methyl Ether Dimethyl", "BIS-PEG-18 METHYL ETHER DIMETHYL SILANE"),
])
def test_name_cut_short_completed_when_one_name_continues_it(text, inci):
    m = read_list(f"Water, {text}").ingredients[1]
    assert (m.inci, m.match, m.match_via) == (inci, "alias", "prefix")


@pytest.mark.parametrize("text", [
    "Butyrospermum Parkii",     # butter, butter extract, unsaponifiables ...: which one is not printed
    "Lavandula Angustifolia",   # 22 names continue it
    "Acetyl Tripeptide-30",     # may end there: not evidently cut
    "Vetiveria Zizanioides",    # the only continuation adds three words: a guess
    "Diamond",                  # one word
])
def test_ambiguous_or_uncut_names_are_not_completed(text):
    m = read_list(f"Water, {text}").ingredients[1]
    assert m.match_via != "prefix" and not m.recognized


def test_free_from_sentence_is_set_aside_and_the_list_kept():
    p = read_list("Water, Glycerin, Niacinamide. Free from parabens, PABA and sulfates.")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "NIACINAMIDE"]
    assert any(note.startswith("free-from claim") for note in p.problems)


# drug-facts panels as other retailers print them (a flattened table, no colons), and the
# label's other sections after the list: what is no ingredient is set aside and reported


def test_drug_facts_table_without_colons():
    p = read_list("Drug Facts Active ingredients Purpose Avobenzone 3% Sunscreen Octocrylene 10% "
                  "Sunscreen Inactive ingredients Water, Glycerin")
    assert [m.inci for m in p.ingredients] == [
        "BUTYL METHOXYDIBENZOYLMETHANE", "OCTOCRYLENE", "AQUA", "GLYCERIN"]
    assert [m.percent for m in p.ingredients[:2]] == [3.0, 10.0]
    assert p.unrecognized == []
    assert any("Drug Facts" in note for note in p.problems)


def test_drug_facts_purpose_after_the_percentage():
    p = read_list("Active Ingredients (in each gram) Purpose Titanium Dioxide 5% Sunscreen "
                  "Zinc Oxide 10% Sunscreen Inactive Ingredients: Water, Dimethicone")
    assert [m.inci for m in p.ingredients] == ["TITANIUM DIOXIDE", "ZINC OXIDE", "AQUA",
                                               "DIMETHICONE"]
    q = read_list("Water, Salicylic Acid 2% Acne Treatment, Glycerin")
    assert [m.inci for m in q.ingredients] == ["AQUA", "SALICYLIC ACID", "GLYCERIN"]
    assert "bha" in q.ingredients[1].classes


def test_purpose_words_alone_are_no_ingredient_and_never_hide_a_name():
    p = read_list("Water, Purpose Sunscreen, Glycerin")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN"]
    assert any("drug-facts column" in note for note in p.problems)
    q = read_list("Water, Sunscreen Lotion, Glycerin")  # not an active: stays, reported
    assert q.unrecognized == ["Sunscreen Lotion"]


def test_directions_and_warnings_after_the_list_are_set_aside():
    p = read_list("Aqua/Water/Eau, Glycerin, Parfum/Fragrance, Linalool. Directions: Apply "
                  "morning and evening. Warnings: For external use only, Avoid contact with eyes.")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "PARFUM", "LINALOOL"]
    assert p.unrecognized == []
    assert any(note.startswith("label text set aside: 'Directions:") for note in p.problems)


def test_label_section_before_the_list_ends_at_the_ingredients_marker():
    p = read_list("How to use:\nSmooth over clean skin, avoiding the eye area.\n"
                  "Ingredients: Aqua, Glycerin, Niacinamide")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "NIACINAMIDE"]
    assert p.components == [None]  # "How to use:" is no kit heading
    only = read_list("Directions: Apply liberally 15 minutes before sun exposure.")
    assert not only.found and only.status != "ok"


def test_list_followed_by_a_disclaimer_is_still_read():
    # one line: the list, then the store's disclaimer; read as prose whole, it lost the list
    p = read_list("Water (Aqua), Glycerin, Niacinamide, Phenoxyethanol, Ethylhexylglycerin. "
                  "Ingredients subject to change. Refer to packaging for the most up-to-date list.")
    assert p.found
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "NIACINAMIDE",
                                               "PHENOXYETHANOL", "ETHYLHEXYLGLYCERIN"]
    assert p.unrecognized == []
    assert any(note.startswith("prose set aside: 'Refer to packaging") for note in p.problems)
    assert any("'Ingredients subject to change.'" in note for note in p.problems)
    # prose alone is still no list
    q = read_list("This ingredient list is subject to change, it is the most up-to-date list "
                  "and may differ from product packaging.")
    assert not q.found


def test_key_ingredients_before_the_full_list_are_not_read_twice():
    p = read_list("Key Ingredients: Retinol, Niacinamide. Full Ingredients: Water, Glycerin, "
                  "Retinol, Niacinamide")
    assert [(m.inci, m.position) for m in p.ingredients] == [
        ("AQUA", 1), ("GLYCERIN", 2), ("RETINOL", 3), ("NIACINAMIDE", 4)]
    q = read_list("Key Ingredients:\nRetinol: smooths lines, evens tone, and firms.\n"
                  "Water, Glycerin, Retinol, Niacinamide, Phenoxyethanol")
    assert [m.inci for m in q.ingredients][:3] == ["AQUA", "GLYCERIN", "RETINOL"]
    assert q.components == [None]


def test_numbered_list():
    p = read_list("1. Water 2. Glycerin 3. Niacinamide 4. Panthenol")
    assert [(m.inci, m.position) for m in p.ingredients] == [
        ("AQUA", 1), ("GLYCERIN", 2), ("NIACINAMIDE", 3), ("PANTHENOL", 4)]
    # a number inside a name is no numbering ("Vitamin B 3" is not "Vitamin B", "3")
    q = read_list("Water, Acid Red 33, Ceteareth-20")
    assert [m.raw for m in q.ingredients] == ["Water", "Acid Red 33", "Ceteareth-20"]


def test_vitamin_abbreviation_and_inci_marker():
    p = read_list("Ingredients (INCI): Aqua, Glycerin, Vit. E, Vit C, Vit B5")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "TOCOPHEROL",
                                               "ASCORBIC ACID", "PANTHENOL"]
    assert "vitamin_c" in p.ingredients[3].classes
    assert p.ingredients[2].match_via == "rule"  # a general rewrite, counted apart
    assert read_list("Vitis Vinifera Seed Oil").ingredients[0].inci == "VITIS VINIFERA SEED OIL"
