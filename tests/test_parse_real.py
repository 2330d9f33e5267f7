"""The parser on real label text from the shared catalogs, one test per real-world format.

Each example is loaded from the data directory by catalog and product id (never pasted).
"""

from __future__ import annotations

import pytest

from recommender.knowledge.reader import read_list


def names(parsed, section="declared"):
    return [m.inci for m in parsed.ingredients if m.section == section]


def by_inci(parsed, inci):
    hits = [m for m in parsed.ingredients if m.inci == inci]
    assert hits, f"{inci} not found in {[m.inci for m in parsed.ingredients]}"
    return hits[0]


def test_stringified_list_split_mid_ingredient(product):
    # Sephora cut "Pentylene" | "Glycol" into two pieces of its list literal
    p = read_list(product("sephora_2023", "P467602"))
    assert p.found
    assert "PENTYLENE GLYCOL" in names(p)
    assert not any(m.name.lower() in ("pentylene", "glycol") for m in p.ingredients)
    assert p.ingredients[0].inci == "AQUA" and p.ingredients[0].position == 1


def test_component_headings_make_one_result_with_components(product):
    p = read_list(product("sephora_2023", "P473671"))  # three eaux de parfum in one set
    assert p.components[:3] == ["Capri Eau de Parfum", "Invisible Post Eau de Parfum",
                                "Kashbah Eau de Parfum"]
    comps = {m.component for m in p.ingredients}
    assert comps == set(range(len(p.components)))
    # positions restart per component: each component starts with Alcohol Denat. at 1
    firsts = [m for m in p.ingredients if m.position == 1]
    assert len(firsts) == len(p.components)
    assert all(m.inci.startswith("ALCOHOL DENAT") for m in firsts)
    # the heading text is never read as an ingredient
    assert not any("Eau de Parfum" in m.raw for m in p.ingredients)


def test_genius_kit_heading(product):
    p = read_list(product("sephora_2023", "P500716"))
    assert p.components[0] == "GENIUS Liquid Collagen"
    assert "1,2-HEXANEDIOL" in names(p)


def test_missing_separator_after_bracket_is_split(product):
    # "Parfum (Fragrance) D-Limonene": the allergen must not vanish into the fragrance
    p = read_list(product("sephora_2023", "P473671"))
    first = [m.inci for m in p.ingredients if m.component == 0]
    assert first[:3] == ["ALCOHOL DENAT. SD ALCOHOL 39-C", "PARFUM", "LIMONENE"]


def test_store_prefix_before_ingredients_marker(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:57"))
    assert p.ingredients[0].inci == "AQUA"
    assert any("Division" in note for note in p.problems)


def test_drug_facts_panel_actives_then_inactives(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:201"))
    first = p.ingredients[:4]
    assert [m.inci for m in first[:3]] == [
        "BUTYL METHOXYDIBENZOYLMETHANE", "ETHYLHEXYL SALICYLATE", "OCTOCRYLENE"]
    assert first[0].percent == pytest.approx(3.0)
    assert first[1].percent == pytest.approx(5.0)
    assert first[2].percent == pytest.approx(2.7)
    assert first[3].inci == "AQUA"  # "2.70%Ingredients: Water" is cut at the marker
    assert [m.position for m in first] == [1, 2, 3, 4]


def test_drug_facts_purpose_column_glued_to_the_actives(product):
    # Sephora flattened the table: "Purpose Avobenzone 2.0%, Sunscreen Homosalate 5.0%, ..."
    # (each purpose printed before the next active); the four UV filters must be read
    p = read_list(product("sephora_2023", "P481164"))
    first = p.ingredients[:4]
    assert [m.inci for m in first] == ["BUTYL METHOXYDIBENZOYLMETHANE", "HOMOSALATE",
                                       "ETHYLHEXYL SALICYLATE", "OCTOCRYLENE"]
    assert [m.percent for m in first] == [2.0, 5.0, 5.0, 5.0]
    assert all("chemical_uv_filter" in m.classes for m in first)
    assert first[0].raw.startswith("Purpose")  # printed as it was, read without the column
    # the same table at the end of a list
    q = read_list(product("sephora_2023", "P443377"))
    assert by_inci(q, "BUTYL METHOXYDIBENZOYLMETHANE").raw.startswith("Purpose")


def test_origin_note_after_the_list_is_no_ingredient(product):
    # "..., Thyme Extract. Made in the USA.": a note about the product, set aside and reported
    p = read_list(product("sephora_2023", "P500156"))
    assert p.found
    assert not any("Made in" in m.raw for m in p.ingredients)
    assert any("'Made in the USA.'" in note for note in p.problems)
    assert p.ingredients[-1].raw == "Thyme Extract"


def test_may_contain_block(product):
    p = read_list(product("sephora_2023", "P503741"))
    may = [m for m in p.ingredients if m.section == "may_contain"]
    assert may and may[0].inci == "TITANIUM DIOXIDE"
    declared = p.declared()
    assert may[0].position == len(declared) + 1  # may-contain continues the numbering
    assert all(m.section == "declared" for m in p.ingredients[: len(declared)])


def test_plus_minus_block_with_semicolons(product):
    p = read_list(product("sephora_2023", "P398965"))
    may = [m for m in p.ingredients if m.section == "may_contain"]
    assert "TITANIUM DIOXIDE" in [m.inci for m in may]
    assert "PHENOXYETHANOL" in names(p)
    assert len(p.declared()) >= 14  # semicolons separate


def test_parenthesised_plus_minus(product):
    p = read_list(product("sephora_2023", "P503732"))
    may = [m.inci for m in p.ingredients if m.section == "may_contain"]
    assert may[:3] == ["CI 77491", "CI 77499", "CI 77492"]


def test_bracket_alias_water_aqua_eau(product):
    p = read_list(product("sephora_2023", "P439055"))
    water = by_inci(p, "AQUA")
    assert water.raw == "Water (Aqua, Eau)"
    assert set(water.alternatives) >= {"Aqua", "Eau"}
    assert water.recognized


def test_slash_aliases(product):
    p = read_list(product("sephora_2023", "P269707"))
    assert p.ingredients[0].raw == "Aqua/Water/Eau" and p.ingredients[0].inci == "AQUA"


def test_backslash_aliases(product):
    p = read_list(product("sephora_2023", "P398823"))
    assert "AQUA" in names(p)
    assert not any("ILN" in m.raw for m in p.ingredients)  # retailer code stripped


def test_slash_names_that_are_one_ingredient(product):
    p = read_list(product("sephora_2023", "P442859"))
    assert "STYRENE/ACRYLATES COPOLYMER" in names(p)
    assert "STYRENE" not in names(p)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:3"))
    assert "CAPRYLIC/CAPRIC TRIGLYCERIDE" in names(p)


def test_numeric_comma_kept(product):
    p = read_list(product("sephora_2023", "P421277"))
    assert "1,2-HEXANEDIOL" in names(p)
    assert not any(m.name in ("1", "2-Hexanediol") for m in p.ingredients)


def test_percentages_before_and_after(product):
    p = read_list(product("sephora_2023", "P311143"))
    octi = p.ingredients[0]
    assert octi.inci == "ETHYLHEXYL METHOXYCINNAMATE" and octi.percent == pytest.approx(7.5)
    assert by_inci(p, "ZINC OXIDE").percent == pytest.approx(17.1)
    p = read_list(product("sephora_2023", "P442542"))
    gly = by_inci(p, "GLYCOLIC ACID")
    assert gly.percent == pytest.approx(10.0) and gly.position == 1
    assert by_inci(p, "RETINOL").percent == pytest.approx(0.5)


def test_asterisk_footnotes(product):
    p = read_list(product("sephora_2023", "P476416"))
    assert "TOCOPHEROL" in names(p) and "SQUALANE" in names(p)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:24"))
    assert all(not m.raw.startswith("*") or m.inci for m in p.ingredients)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:1109"))  # ". *Pitera."
    assert not any("Pitera" in m.raw for m in p.ingredients)
    assert any("Pitera" in note for note in p.problems)


def test_bullet_between_digits_is_a_hyphen(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:1316"))
    assert "SODIUM C14-16 OLEFIN SULFONATE" in names(p)


def test_typographic_dashes(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:1330"))
    assert "CETEARETH-20" in names(p)
    p = read_list(product("sephora_2023", "P39950"))  # "Linalool – Geraniol": a spaced dash separates
    assert "LINALOOL" in names(p) and "GERANIOL" in names(p)


def test_ocr_ci_numbers(product):
    p = read_list(product("sephora_2023", "P433525"))  # "Titanium Dioxide (Cl 77891)"
    assert "TITANIUM DIOXIDE" in names(p) or "TITANIUM DIOXIDE" in names(p, "may_contain")
    p = read_list(product("sephora_2023", "P392516"))  # "Cl 19140 (...) Cl 42090 (...)" run together
    found = [m.inci for m in p.ingredients]
    assert "CI 19140" in found and "CI 42090" in found and "CI 77007" in found


@pytest.mark.parametrize("pid", ["cosmetics_2017:39", "cosmetics_2017:32", "cosmetics_2017:55"])
def test_placeholders_are_refused(product, pid):
    p = read_list(product("cosmetics_2017", pid))
    assert not p.found and p.status == "placeholder"
    assert p.problems and "no ingredient list" in p.problems[0]


def test_marketing_prose_is_not_read(product):
    p = read_list(product("cosmetics_2017", "cosmetics_2017:1103"))
    assert not p.found and p.status == "prose"
    p = read_list(product("cosmetics_2017", "cosmetics_2017:345"))  # benefit blurbs, then a kit
    assert p.found
    assert not any(m.name.lower().startswith(("tones", "hydrates", "protects")) for m in p.ingredients)
    assert any("prose" in note for note in p.problems)


def test_every_catalog_row_parses_without_crashing(catalogs):
    for name in ("sephora_2023", "cosmetics_2017", "lookfantastic_2020"):
        df = catalogs(name)
        for text in df["ingredients"]:
            p = read_list(text)
            assert p.status in ("ok", "empty", "placeholder", "prose")
            for i, m in enumerate(p.ingredients):
                assert m.position >= 1 and m.raw
                assert m.recognized == (m.match in ("exact", "alias"))
                if i and p.ingredients[i - 1].component == m.component \
                        and p.ingredients[i - 1].section == m.section:
                    assert m.position == p.ingredients[i - 1].position + 1


def test_list_printed_without_commas_is_cut_into_names(product):
    # Sephora P427529 prints its whole list without a separator: it was read as one name (and
    # a slash part of it as METHYL METHACRYLATE); every name must come out, in order
    p = read_list(product("sephora_2023", "P427529"))
    got = names(p)
    assert len(got) >= 20 and all(got)
    assert got[:4] == ["PROPYLENE GLYCOL", "DIMETHICONE", "GLYCERIN", "ASCORBIC ACID"]
    assert "ACRYLONITRILE/METHYL METHACRYLATE/VINYLIDENE CHLORIDE COPOLYMER" in got
    assert "METHYL METHACRYLATE" not in got
    assert "CITRUS LIMON PEEL OIL" in got and "LIMONENE" in got
    assert [m.position for m in p.ingredients] == list(range(1, len(p.ingredients) + 1))


def test_unrecognised_essential_oil_is_still_an_essential_oil(product):
    # cosmetics_2017:155 prints "Essential Oil**" among its names: no INCI entry, but it says
    # what it is (cosmetics_2017:90, a field holding only "* Essential Oil", is the footnote
    # of a lost list and reads as no list: tests/test_recognition_rules.py)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:155"))
    m = next(m for m in p.ingredients if m.raw.startswith("Essential Oil"))
    assert not m.recognized and "essential_oil" in m.classes


def test_and_between_two_names_separates(product):
    # "Organic Cane Sugar Alcohol And Distilled Water": two ingredients
    p = read_list(product("sephora_2023", "P431444"))
    assert [(m.position, m.inci) for m in p.ingredients[:2]] == [(1, "ALCOHOL"), (2, "AQUA")]
    # "Geraniol and Fragrance/Parfum": the allergen must not vanish into the fragrance
    p = read_list(product("sephora_2023", "P433973"))
    assert names(p)[-2:] == ["GERANIOL", "PARFUM"]
    assert "fragrance_allergen" in by_inci(p, "GERANIOL").classes


def test_name_cut_by_a_comma_after_its_bracket_is_joined(product):
    # cosmetics_2017:128: "Rosmarinus Officinalis (Rosemary), Leaf Extract", "Helianthus, Annuus
    # (Sunflower) Seed Oil", "Hydrolyzed Sodium, Hyaluronate"
    p = read_list(product("cosmetics_2017", "cosmetics_2017:128"))
    got = names(p)
    for inci in ("ROSMARINUS OFFICINALIS LEAF EXTRACT", "HELIANTHUS ANNUUS SEED OIL",
                 "HYDROLYZED SODIUM HYALURONATE"):
        assert inci in got
    assert not any(m.name in ("Leaf Extract", "Helianthus", "Hyaluronate") for m in p.ingredients)


def test_free_from_claims_are_not_ingredients(product):
    # cosmetics_2017:366 is a statement of what REN products do NOT contain (PABA, urea, ...)
    p = read_list(product("cosmetics_2017", "cosmetics_2017:366"))
    assert not p.found and p.status == "prose"
    assert any(note.startswith("free-from claim") for note in p.problems)
    # "Paraben-, Phthalate-, and Cruelty-Free." after a candle's materials
    p = read_list(product("sephora_2023", "P474322"))
    assert not any("araben" in m.raw or "ruelty" in m.raw for m in p.ingredients)


def test_script_style_and_svg_elements_are_set_aside_not_read(product):
    """A real list pasted from a page with its code: the <script>/<style>/<svg> content never
    joins a name ("Glycerin alert(1)") and the parser says what it set aside; the list reads
    as the bare list does."""
    label = ", ".join(m.raw for m in read_list(product("sephora_2023", "P467602")).ingredients)
    bare = read_list(label)
    assert bare.found and len(bare.ingredients) > 20
    first, rest = label.split(", ", 1)
    pasted = (f"<style>.inci{{color:red}}</style>{first}<script>alert('x')</script>, "
              f"<svg><text>Retinol</text></svg>{rest}<script src=x>")
    p = read_list(pasted)
    assert [m.inci for m in p.ingredients] == [m.inci for m in bare.ingredients]
    assert not any("alert" in m.raw or "color" in m.raw for m in p.ingredients)
    assert "RETINOL" not in names(p)          # the drawing's text is not an ingredient
    assert any("<script>" in n and "<style>" in n and "<svg>" in n and "set aside" in n
               for n in p.problems)
    assert not any("set aside" in n and "<script>" in n for n in bare.problems)
