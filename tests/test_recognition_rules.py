"""General recognition rules (``recommender.inci.rules``), heading and not-a-name detection, and
the fuzzy matcher's refusals. Real examples are loaded from the data directory by catalog and
product id; the refusals are realistic hand-written names."""

from __future__ import annotations

import pytest

from recommender.inci import rules
from recommender.inci.canonical import Canonicalizer
from recommender.knowledge.reader import default_reader, read_list


def mention(parsed, raw_part):
    hits = [m for m in parsed.ingredients if raw_part.lower() in m.raw.lower()]
    assert hits, f"{raw_part!r} not among {[m.raw for m in parsed.ingredients]}"
    return hits[0]


@pytest.fixture(scope="module")
def canon():
    return default_reader().canon


# -- botanicals: the plant part printed inside the brackets, the Latin name in the brackets --

@pytest.mark.parametrize("catalog,pid,raw,inci", [
    ("sephora_2023", "P502377", "Thymus Vulgaris (Thyme Leaf Oil)", "THYMUS VULGARIS LEAF OIL"),
    ("sephora_2023", "P502377", "Elettaria Cardamomum (Cardamom Seed Oil)",
     "ELETTARIA CARDAMOMUM SEED OIL"),
    ("sephora_2023", "P476417", "Matricaria Recutita (Blue Chamomile Flower) Oil",
     "MATRICARIA RECUTITA FLOWER OIL"),
    ("sephora_2023", "P475059", "Queensland Nut (Macadamia Ternifolia) Seed Oil",
     "MACADAMIA TERNIFOLIA SEED OIL"),
    ("sephora_2023", "P469121", "Camellia Sinensis Green Tea Leaf Extract",
     "CAMELLIA SINENSIS LEAF EXTRACT"),
])
def test_botanical_part_or_latin_name_in_another_place(product, catalog, pid, raw, inci):
    m = mention(read_list(product(catalog, pid)), raw)
    assert (m.inci, m.match_via) == (inci, "rule") and m.recognized


def test_no_part_printed_no_reading(canon):
    # the common name may itself say which part (petitgrain: leaves and twigs; neroli: flowers),
    # and "Ginkgo Biloba Extract" does not say leaf or seed: never guessed
    assert canon.lookup("Petitgrain (Citrus Reticulata) Oil").inci is None
    assert canon.lookup("Neroli (Citrus Aurantium Amara) Oil").inci is None
    assert canon.lookup("Ginkgo Biloba Extract").inci is None
    assert canon.lookup("Cedrus Atlantica (Atlas Cedarwood Oil)").inci is None


def test_common_name_is_dropped_only_where_the_latin_name_ends(canon):
    # "Dulcis" continues the Latin name; a second Latin name is two names, not a common name
    assert canon.lookup("Citrus Aurantium Dulcis Peel Oil").inci == "CITRUS AURANTIUM DULCIS PEEL OIL"
    assert canon.lookup("Lavandula Angustifolia Rosmarinus Officinalis Extract").inci is None
    assert canon.lookup("Prunus Amygdalus Dulcis Parfum").inci is None


def test_essential_oil_in_brackets_reaches_only_a_volatile_oil(canon):
    m = canon.lookup("Citrus Limon (Cold-Pressed Lemon Peel Essential Oil)")
    assert m.inci == "CITRUS LIMON PEEL OIL" and m.via == "rule"


def test_rules_never_read_names_joined_by_the_repair_pass(product):
    # lookfantastic's pre-split lists: "lavandula angustifolia" (cut by the scraper) next to
    # "pelargonium graveolens extract" must not become LAVANDULA ANGUSTIFOLIA EXTRACT
    p = read_list("['lavandula angustifolia', 'pelargonium graveolens extract', 'parfum']")
    assert [m.inci for m in p.ingredients] == [None, "PELARGONIUM GRAVEOLENS EXTRACT", "PARFUM"]


# -- grades, purposes, claims and "as" forms around a name -----------------------------------

WORDS_AROUND_A_NAME = [
    ("sephora_2023", "P464243", "Stearic Acid USP", "STEARIC ACID"),
    ("sephora_2023", "P457232", "Phthalates Free Fragrance", "PARFUM"),
    ("sephora_2023", "P480623", "Food-Grade Paraffin", "PARAFFIN"),
    ("sephora_2023", "P444047", "Vitamin B3 as Niacinamide", "NIACINAMIDE"),
    ("sephora_2023", "P503667", "Indole Pure", "INDOLE"),
    ("sephora_2023", "P501695", "Benzyl Salicylate. 78% Vol.", "BENZYL SALICYLATE"),
]


def test_drug_facts_purpose_after_the_name(canon):
    assert canon.lookup("Avobenzone Sunscreen").inci == "BUTYL METHOXYDIBENZOYLMETHANE"
    assert canon.lookup("Salicylic Acid 2.0 Percent").inci == "SALICYLIC ACID"
    assert canon.lookup("Extract of Aloe Barbadensis Leaf").inci == "ALOE BARBADENSIS LEAF EXTRACT"


# -- not an ingredient: claims, formula codes, headings holding commas -----------------------

def test_claims_are_set_aside_not_counted(product):
    p = read_list(product("sephora_2023", "P480623"))  # "Pure, FDA Approved, Naturally Derived, ..."
    assert not any(m.raw in ("Pure", "FDA Approved", "Naturally Derived") for m in p.ingredients)
    assert sum(n.startswith("claim set aside") for n in p.problems) == 3
    assert rules.not_a_name("Natural Flavors") is None and rules.not_a_name("Pure") == "claim"


def test_article_parts_and_facts_rows_are_set_aside(product):
    p = read_list(product("sephora_2023", "P474322"))  # a candle: "... 100% Cotton Wick."
    assert not any("wick" in m.raw.lower() for m in p.ingredients)
    assert any(n.startswith("part of an article") for n in p.problems)
    p = read_list(product("sephora_2023", "P481175"))  # a supplement-facts panel
    assert not any(m.raw.startswith(("Serving Size", "Total Carbohydrate")) for m in p.ingredients)
    assert rules.not_a_name("Sponge") is None  # SPONGE is an INCI name (a sea sponge)
    assert rules.not_a_name("Percent alcohol: 79% vol.") == "alcohol strength"
    assert rules.not_a_name("Alcohol") is None


def test_formula_codes_are_set_aside(product):
    p = read_list(product("sephora_2023", "P12495"))  # Lancome list ending "Il28-1."
    assert not any("28-1" in m.raw for m in p.ingredients)
    assert any(n.startswith("formula or batch code") for n in p.problems)
    for code in ("F.I.L. C179346/1", "N 04932/N", "Formula : 947976 21 Code F.I.L N70013647/1"):
        assert rules.not_a_name(code) == "formula or batch code"
    for name in ("C12-15 Alkyl Benzoate", "CI 77491", "PEG-100 Stearate", "C12-15"):
        assert rules.not_a_name(name) is None


@pytest.mark.parametrize("pid,heading", [
    ("P450846", "A4, D3"),                           # palette shades
    ("P469140", "Gold Lust Repair, Restore Shampoo"),  # "&" read as a separator before
])
def test_headings_holding_commas_start_components(product, pid, heading):
    p = read_list(product("sephora_2023", pid))
    assert heading in p.components
    assert not any(m.raw.rstrip().endswith(":") for m in p.ingredients)


def test_a_list_line_ending_in_a_marker_is_not_a_heading():
    for marker in ("Allergens:", "May Contain:", "Contains:"):
        p = read_list(f"Water, Glycerin, Linalool, {marker}\nPhenoxyethanol")
        assert [m.inci for m in p.ingredients][:3] == ["AQUA", "GLYCERIN", "LINALOOL"]
        assert p.components == [None]


def test_a_long_shade_list_heading(product):
    # a foundation's shades, one heading of 30 names ending "... 40N Tan:"
    p = read_list(product("sephora_2023", "P433206"))
    assert not any(m.raw in ("61H Espresso", "20N Light", "40N Tan:") for m in p.ingredients)


# -- fuzzy never changes the substance -------------------------------------------------------

@pytest.mark.parametrize("printed,wrong", [
    ("Dioctyl Adipate", "DICETYL ADIPATE"),                 # another alkyl chain
    ("Cyclohexanemethanol", "CYCLOHEXANE DIMETHANOL"),      # a multiplier added
    ("Bronze Powder", "BRONZITE POWDER"),                   # another word, not a typo
    ("Nephelium Lappaceum Seed Extract", "NEPHELIUM LAPPACEUM PEEL EXTRACT"),  # another part
    ("Neopentyl Glycol Dicaprylate", "NEOPENTYL GLYCOL DICAPRATE"),  # C8 is not C10
    ("Sodium Sulfonate", "SODIUM SULFATE"),
])
def test_fuzzy_refuses_another_substance(canon, printed, wrong):
    assert canon.fuzzy(printed).inci != wrong


@pytest.mark.parametrize("typo,inci", [
    ("Phenoyxethanol", "PHENOXYETHANOL"),
    ("Agrania Spinosa Kernel Oil", "ARGANIA SPINOSA KERNEL OIL"),
    ("Pentaerythrityl Etraethylhexanoate", "PENTAERYTHRITYL TETRAETHYLHEXANOATE"),
])
def test_fuzzy_still_reads_typos(canon, typo, inci):
    m = canon.fuzzy(typo)
    assert m.inci == inci and m.kind == "fuzzy"


def test_rewrites_take_only_one_substance():
    # "Extract of Foo USP" reads as FOO USP EXTRACT or, grade dropped, FOO EXTRACT: two
    # substances, so neither
    c = Canonicalizer(["FOO EXTRACT", "FOO USP EXTRACT"], {})
    assert c.lookup("Extract of Foo USP").inci is None
    c = Canonicalizer(["FOO EXTRACT"], {})
    assert c.lookup("Extract of Foo USP").inci == "FOO EXTRACT"


# -- singular/plural, key-ingredient blurbs, CAS index names printed inverted -----------------

@pytest.mark.parametrize("catalog,pid,raw,inci", [
    ("sephora_2023", "P483156", "Collagen Amino Acid", "COLLAGEN AMINO ACIDS"),
    ("cosmetics_2017", "cosmetics_2017:1077", "Iron Oxide", "IRON OXIDES"),
    ("cosmetics_2017", "cosmetics_2017:584", "Salicylic Acid: Reduces", "SALICYLIC ACID"),
])
def test_number_variants_and_blurbs(product, catalog, pid, raw, inci):
    m = mention(read_list(product(catalog, pid)), raw)
    assert m.inci == inci and m.recognized


def test_blurb_keeps_its_class(product):
    # the key-ingredient blurb names a BHA: dropping it as prose would lose the flag
    m = mention(read_list(product("cosmetics_2017", "cosmetics_2017:584")), "Salicylic Acid:")
    assert "bha" in m.classes


def test_cas_index_name_printed_inverted(product):
    p = read_list(product("sephora_2023", "P467146"))  # "1,6-Nonadien-3-ol, 3,7-dimethyl (freesia note...)"
    m = mention(p, "1,6-Nonadien-3-ol")
    assert m.inci == "ETHYL LINALOOL" and m.recognized
    # never the acid when the next piece names its ester
    p = read_list("Water, propanoic acid, 2-methyl-, 1,1-dimethyl-2-phenylethyl ester, Glycerin")
    assert "ISOBUTYRIC ACID" not in [m.inci for m in p.ingredients]
    p = read_list("Water, Propanoic Acid, 2-Methyl, 1,1-Dimethyl-2-Phenylethyl Ester")
    assert "ISOBUTYRIC ACID" not in [m.inci for m in p.ingredients]


@pytest.mark.parametrize("printed,inci", [
    ("Red Raspberry Seed Oil (Rubus Idaeus)", "RUBUS IDAEUS SEED OIL"),
    ("Aloe Leaf Juice (Aloe Barbadensis)", "ALOE BARBADENSIS LEAF JUICE"),
    ("Lavender Flower (Lavandula Angustifolia) Essential Oil", "LAVANDULA ANGUSTIFOLIA FLOWER OIL"),
    ("Tangerine (Citrus Tangerina) Oil", None),        # no part printed
    ("Neroli Oil (Citrus Aurantium Amara)", None),     # neroli names the flower, not printed
])
def test_common_name_first_latin_name_in_brackets(canon, printed, inci):
    assert canon.lookup(printed).inci == inci


@pytest.mark.parametrize("catalog,pid", [
    ("cosmetics_2017", "cosmetics_2017:260"),  # only blurbs: "-Aloe Vera: Calms and conditions skin."
    ("sephora_2023", "P501718"),               # a candle: "... Paraffin-Free. 100% Braided Cotton Wick."
    ("sephora_2023", "P481160"),               # a brush: "Vegan Bristles, 25% PCR Handle."
])
def test_no_ingredient_list_is_not_read_as_one(product, catalog, pid):
    # a partial list made of marketing blurbs or an article's materials must not pass for the
    # product's ingredient list (it would look safe)
    p = read_list(product(catalog, pid))
    assert not p.found and p.status == "prose" and not p.ingredients


# -- CAS index names cut at their commas ------------------------------------------------------

def test_cas_index_name_cut_at_its_commas_is_one_ingredient(product):
    # "Benzaldehyde, 4-hydroxy-3-methoxy (gourmand note/safe synthetic)" is vanillin: neither
    # BENZALDEHYDE nor, merged with the next name's parent, VANILLIC ACID
    p = read_list(product("sephora_2023", "P467146"))
    assert mention(p, "4-hydroxy-3-methoxy").inci == "VANILLIN"
    assert mention(p, "3-ethoxy-4-hydroxy").inci == "ETHYL VANILLIN"
    got = [m.inci for m in p.ingredients]
    assert "VANILLIC ACID" not in got and "BENZALDEHYDE" not in got
    # an ester is never its acid or alcohol: isopropyl myristate is not MYRISTIC ACID
    m = mention(p, "Tetradecanoic acid")
    assert "1-methylethyl ester" in m.raw and m.inci is None
    assert "MYRISTIC ACID" not in got and "PROPYL ALCOHOL" not in got
    # the pieces are no mentions of their own, and the list's last name stays apart
    assert not any(m.raw.startswith(("2-hydroxy", "methyl ester", ".alpha.")) for m in p.ingredients)
    assert p.ingredients[-1].inci == "AQUA" and p.ingredients[-1].raw.lower().startswith("aqua")


def test_cas_stereo_descriptor_names_the_isomer(product):
    # "3-Buten-2-one, 4-(2,6,6-trimethyl-1-cyclohexen-1-yl)-, (E) (violet note)" = BETA-IONONE
    p = read_list(product("sephora_2023", "P477239"))
    assert mention(p, "3-Buten-2-one").inci == "BETA-IONONE"
    assert mention(p, "Benzoic acid, 2-hydroxy-, hexyl ester").inci is None


def test_cas_piece_shapes():
    for piece, kind in [("3,7-dimethyl (freesia note)", "substituent"), ("2-hydroxy-", "substituent"),
                        (".alpha.", "substituent"), ("(E)- (pear note)", "substituent"),
                        ("dodecahydro-3a,6,6,9a-tetramethyl", "substituent"),
                        ("methyl ester (floral note)", "ester"), ("propanoate", "ester")]:
        assert rules.cas_piece(piece) == kind, piece
    for name in ("1,2-Hexanediol", "Ceteareth-20", "Glycerin", "PEG-40", "Polyquaternium-10",
                 "2-Oleamido-1,3-Octadecanediol", "Sodium Acetate", "(Rosemary)", "(CI 77491)"):
        assert rules.cas_piece(name) is None, name


# -- blurbs, store headers, footnotes, markers ------------------------------------------------

def test_a_blurb_line_is_one_blurb_not_a_heading_and_a_list(product):
    # "-Camphor: Rapidly soaks up oily-shine, sloughs off dead cells, and sweeps away debris."
    p = read_list(product("cosmetics_2017", "cosmetics_2017:839"))
    assert mention(p, "-Camphor:").inci == "CAMPHOR"
    assert not any(m.raw.startswith(("and sweeps", "sloughs off")) for m in p.ingredients)
    assert "Camphor" not in p.components
    # a field of such blurbs only, one-word sentences included, is no list
    for pid in ("cosmetics_2017:965", "cosmetics_2017:1031"):
        q = read_list(product("cosmetics_2017", pid))
        assert not q.found and q.status == "prose"
    # a drug-facts line is no blurb ("-Titanium Dioxide 3.55%: Sunscreen.")
    q = read_list(product("cosmetics_2017", "cosmetics_2017:234"))
    assert q.found and "TITANIUM DIOXIDE" in [m.inci for m in q.ingredients]
    # a kit heading followed by its list still is one
    q = read_list("Lip Balm: Ricinus Communis Seed Oil, Cera Alba, Tocopherol, Parfum.")
    assert q.components == ["Lip Balm"] and len(q.ingredients) == 4


def test_retailer_product_headers_start_components(product):
    # "... Titanium Dioxide (Ci 77891) Rds Product Name: Spf30 Face Cream Division: Cl
    # (Clinique)Water, ...": store text between the parts of a set
    p = read_list(product("cosmetics_2017", "cosmetics_2017:373"))
    assert {"Spf30 Face Cream", "Spf50 Body Cream"} <= set(p.components)
    assert not any("rds product" in m.raw.lower() for m in p.ingredients)
    assert mention(p, "Titanium Dioxide (Ci 77891)").inci == "TITANIUM DIOXIDE"
    assert sum(n.startswith("store text set aside") for n in p.problems) == 2
    p = read_list(product("sephora_2023", "P387426"))  # "... Rds Product Name Contour Palette Division."
    assert not any("rds product" in m.raw.lower() for m in p.ingredients)


def test_a_field_holding_only_a_footnote_is_no_list(product):
    # "* Essential Oil", "* Hadasei-3": the footnote of a list the scrape lost; read as a list
    # it would pass for the product's whole list
    for pid in ("cosmetics_2017:90", "cosmetics_2017:310"):
        p = read_list(product("cosmetics_2017", pid))
        assert not p.found and p.status == "placeholder" and "footnote" in p.problems[-1]
    assert read_list("*Simmondsia Chinensis Seed Oil").found  # a one-ingredient oil is read


def test_footnote_glued_to_the_end_of_the_list(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:227"))  # "Coumarin.*Plant Origin."
    assert p.ingredients[-1].inci == "COUMARIN"
    p = read_list(product("cosmetics_2017", "cosmetics_2017:139"))  # "Phenoxyethanol *Hadasei-3."
    assert p.ingredients[-1].inci == "PHENOXYETHANOL"
    assert any("Hadasei-3" in n for n in p.problems)
    p = read_list(product("sephora_2023", "P468627"))  # "Limonene *antistatic agent/agent antistatique."
    assert p.ingredients[-1].inci == "LIMONENE"
    # two names missing a separator are not a footnote
    p = read_list("Water, Glycerin *Aloe Barbadensis Leaf Juice")
    assert [m.inci for m in p.ingredients][-1] == "ALOE BARBADENSIS LEAF JUICE"


def test_allergens_marker_separates(product):
    # "..., Terpineol Allergens: Citronellol, Geraniol, ...": the named allergens are read
    p = read_list(product("sephora_2023", "P431441"))
    got = [m.inci for m in p.ingredients]
    assert "TERPINEOL" in got and "CITRONELLOL" in got
    assert not any("llergens" in m.raw for m in p.ingredients)
    p = read_list(product("sephora_2023", "P451243"))  # a last piece "Allergens: Linalool."
    assert p.ingredients[-1].inci == "LINALOOL"
    assert "fragrance_allergen" in p.ingredients[-1].classes


@pytest.mark.parametrize("catalog,pid,raw,inci", [
    ("sephora_2023", "P421997", "Hedera Helix Extract - Ivy", "HEDERA HELIX EXTRACT"),
    ("sephora_2023", "P503633", "Chamomile- Anthemis", "ANTHEMIS NOBILIS FLOWER OIL"),
])
def test_one_ingredient_printed_twice_across_a_dash(product, catalog, pid, raw, inci):
    m = mention(read_list(product(catalog, pid)), raw)
    assert m.inci == inci and m.recognized


def test_dash_between_two_names_is_not_one_reading(canon):
    p = read_list("Water - Glycerin - Phenoxyethanol")
    assert [m.inci for m in p.ingredients] == ["AQUA", "GLYCERIN", "PHENOXYETHANOL"]


# -- label typography: one glyph for I and l, O and 0; the L- form of an amino acid ----------

LABEL_TYPOGRAPHY = [
    ("sephora_2023", "P454344", "lsohexadecane", "ISOHEXADECANE"),
    ("cosmetics_2017", "cosmetics_2017:1241", "llex Paraguariensis", "ILEX PARAGUARIENSIS LEAF EXTRACT"),
    ("sephora_2023", "P476428", "3-0-Ethyl Ascorbic Acid", "3-O-ETHYL ASCORBIC ACID"),
    ("cosmetics_2017", "cosmetics_2017:759", "L-Lysine HCI", "LYSINE HCL"),
    ("cosmetics_2017", "cosmetics_2017:1333", "(Organic Shea Butter)", "BUTYROSPERMUM PARKII BUTTER"),
]


# -- one test for the printed-name tables above -------------------------------------------

@pytest.mark.parametrize("catalog,pid,raw,inci", WORDS_AROUND_A_NAME + LABEL_TYPOGRAPHY)
def test_printed_name_reads_as_its_inci(product, catalog, pid, raw, inci):
    """Words around a name and label typography: the printed name in a real product reads
    as the INCI name, recognised (exact or alias-table match)."""
    m = mention(read_list(product(catalog, pid)), raw)
    assert m.inci == inci and m.recognized


def test_typography_rules_stay_narrow(canon):
    # "3-0-Ethyl Ascorbic Acid (Vitamin C)" was ASCORBIC ACID through its bracket: another
    # substance; a D- form is never read as the L- name
    assert canon.lookup("3-0-Ethyl Ascorbic Acid").inci == "3-O-ETHYL ASCORBIC ACID"
    assert not any(c == "LYSINE" for c, _ in rules.rewrites("D-LYSINE"))
    assert not any(c.startswith("I") for c, _ in rules.rewrites("LYSINE"))


def test_name_cut_before_its_common_name_bracket_is_one_mention(product):
    # "Vaccinium Myrtillus, (Bilberry) Extract": one ingredient (not in CosIng: listed once)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:644"))
    m = mention(p, "Vaccinium Myrtillus")
    assert m.raw == "Vaccinium Myrtillus (Bilberry) Extract" and m.inci is None
    assert not any(x.raw.startswith("(Bilberry)") for x in p.ingredients)
