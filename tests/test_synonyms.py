"""Generated synonym table (recommender/knowledge/synonyms.py, models/kb/synonyms.csv).

Real data: the table is rebuilt from the committed KB rows with the installed ``chemicals``
package (``data_dir`` fixture: skips without the data directory, fails under CI=true) and
compared with the committed models/kb/synonyms.csv. The filter tests at the bottom feed
hand-made ``chemicals`` records (the messy kinds PubChem really lists) and need no data.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from types import SimpleNamespace

import pytest

from recommender import config
from recommender.inci import fold
from recommender.knowledge import chem
from recommender.knowledge import synonyms as syn
from recommender.knowledge.kb import KnowledgeBase, KnowledgeBaseError


def _kb_rows() -> list[dict[str, str]]:
    with open(config.KB_DIR / "ingredients.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def rows(data_dir):
    return _kb_rows()


@pytest.fixture(scope="module")
def built(rows):
    stats: Counter = Counter()
    decisions: list = []
    table = syn.build_synonyms(rows, stats=stats, decisions=decisions)
    return table, stats, decisions


@pytest.fixture(scope="module")
def lookup(built):
    return {k: inci for k, inci, _cas in built[0]}


# ----------------------------------------------------------------- real label names


@pytest.mark.parametrize(
    "printed, inci",
    [
        ("Nicotinamide", "NIACINAMIDE"),
        ("3,7-dimethylocta-1,6-dien-3-ol", "LINALOOL"),        # linalool's IUPAC name
        ("3,7-Dimethyl-1,6-Octadien-3-Ol", "LINALOOL"),
        ("Ethanol", "ALCOHOL"),                                # CosIng: ALCOHOL (64-17-5)
        ("3,7-Dimethyl-1,6-Nonadien-3-Ol", "ETHYL LINALOOL"),  # sephora_2023 spelling
        ("D-Limonene", "LIMONENE"),
        ("Dipentene", "LIMONENE"),
        ("Tetradecanoic Acid", "MYRISTIC ACID"),     # a CAS-index heading that is its own name
        ("Piperonal", "HELIOTROPINE"),
        ("Butylated Hydroxytoluene", "BHT"),
    ],
)
def test_label_names_resolve(lookup, printed, inci):
    assert lookup.get(fold.key(printed)) == inci


@pytest.mark.parametrize("printed", ["Ethanone", "Propanol", "Cetone", "2-Propen-1-One"])
def test_bare_index_headings_are_not_synonyms(lookup, printed):
    """sephora_2023 prints CAS-index names, which the list splits at their comma:
    "Ethanone, 1-(...-2-naphthalenyl)" (OTNE, not acetaldehyde), "Propanol, oxybis-"
    (dipropylene glycol), "Aminomethyl, Propanol". PubChem lists 'ethanone' for
    acetaldehyde and 'propanol' for 1-propanol; a bare heading other records use is kept
    only when it is the record's own common or IUPAC name (tetradecanoic acid)."""
    assert fold.key(printed) not in lookup


def test_ethanol_goes_to_alcohol_not_alcohol_denat(rows, built):
    # ALCOHOL and ALCOHOL DENAT. share CAS 64-17-5; the record names 'alcohol', not the
    # denatured form, so its synonyms go to ALCOHOL only.
    assert {r["inci"] for r in rows if r["cas"] == "64-17-5"} >= {"ALCOHOL", "ALCOHOL DENAT."}
    assert "ALCOHOL DENAT." not in {inci for _k, inci, _c in built[0]}


@pytest.mark.parametrize(
    "printed",
    ["Lemon Oil", "Sweet Orange Oil", "Orange Oil", "Citrus Sinensis Oil", "Neroli",
     "Chamomile", "Limonene Polymer", "Alcohols", "Vitamin B", "Pol", "Denatured Alcohol",
     "Silicone", "Glycerin Solution",
     # grades and brands of inorganic substances (silica, titanium dioxide pigments)
     "Cab-O-Sil M-5", "Kronos", "Flamenco", "Bayertitan R-KB 2", "Titanium Oxide (JP16)",
     # class words and fragments in formaldehyde's and estradiol's records; a diluent
     "Aldehydes", "Keton", "17-Beta", "Diluent", "F-DC",
     # US colour names belong to the curated alias table (CI numbers carry the pigment class)
     "FD and C Blue No 1", "D&C Red No. 6"],
)
def test_other_materials_are_not_synonyms(lookup, printed):
    """Names in a PubChem record that denote another material (an oil, a plant, a polymer,
    a group, a solution, an abbreviation) never become synonyms of the substance."""
    assert fold.key(printed) not in lookup


# ----------------------------------------------------------------- table invariants


def test_no_synonym_is_a_canonical_name(rows, built):
    canonical = {fold.key(r["inci"]) for r in rows}
    canonical_loose = {fold.loose_key(r["inci"]) for r in rows}
    keys = [k for k, _i, _c in built[0]]
    assert not [k for k in keys if k in canonical][:5]
    assert not [k for k in keys if fold.loose_key(k) in canonical_loose][:5]


def test_no_synonym_maps_to_two_incis(built):
    table = built[0]
    keys = [k for k, _i, _c in table]
    assert len(keys) == len(set(keys))
    by_loose: dict[str, set[str]] = {}
    for k, inci, _c in table:
        by_loose.setdefault(fold.loose_key(k), set()).add(inci)
    assert not {lk: t for lk, t in by_loose.items() if len(t) > 1}


def test_only_defined_chemicals_contribute(rows, built):
    by_name = {r["inci"]: r for r in rows}
    for k, inci, cas in built[0]:
        assert chem.is_defined_name(inci), (k, inci)
        assert by_name[inci]["cas"] == cas and chem.valid_cas(cas), (k, inci, cas)
        assert not chem.is_mixture_cas(cas), (k, inci, cas)
    botanical = [r["inci"] for r in rows if r["cas"] and not chem.is_defined_name(r["inci"])]
    assert len(botanical) > 1000                          # they exist and have CAS numbers
    assert not set(botanical) & {inci for _k, inci, _c in built[0]}


def test_alias_table_wins(built):
    aliases = syn.read_alias_keys()
    for k, inci, _c in built[0]:
        target = aliases.get(k)
        assert target is None or target == inci, (k, inci, target)


def test_every_candidate_has_one_decision_and_counts_add_up(built):
    table, stats, decisions = built
    assert stats["kept"] == len(table) > 10_000
    dropped = sum(v for k, v in stats.items() if k.startswith("dropped:"))
    assert stats["candidates"] == dropped + stats["duplicate_key"] + len(table)
    assert len(decisions) == stats["candidates"]
    assert set(syn.NAME_FILTERS) | set(syn.TABLE_FILTERS) >= {
        k.split(":", 1)[1] for k in stats if k.startswith("dropped:")
    }


def test_build_is_deterministic_and_committed_table_is_current(rows, built, tmp_path):
    again = syn.build_synonyms(list(reversed(rows)))
    assert again == built[0]
    assert built[0] == sorted(built[0], key=lambda t: (t[0], t[1]))
    fresh = tmp_path / "synonyms.csv"
    syn.write_synonyms(fresh, built[0])
    committed = config.KB_DIR / "synonyms.csv"
    assert committed.read_bytes() == fresh.read_bytes(), (
        "committed models/kb/synonyms.csv is stale: run `skinrec build-kb` and commit models/kb"
    )


# ----------------------------------------------------------------- loader (committed KB)


def test_kb_loads_synonyms_verified_by_manifest(tmp_path):
    kb = KnowledgeBase.load(config.KB_DIR)
    entry = kb.manifest["artifacts"]["synonyms.csv"]
    assert entry["rows"] == len(kb.synonyms()) > 10_000
    assert entry["source"].startswith("chemicals ") and "PubChem" in entry["source"]
    assert kb.synonyms()["NICOTINAMIDE"] == "NIACINAMIDE"
    assert kb.manifest["counts"]["synonyms"]["kept"] == entry["rows"]

    copy = tmp_path / "kb"
    shutil.copytree(config.KB_DIR, copy)
    path = copy / "synonyms.csv"
    path.write_bytes(path.read_bytes().replace(b"NICOTINAMIDE,NIACINAMIDE", b"NICOTINAMIDE,RETINOL"))
    with pytest.raises(KnowledgeBaseError, match="skinrec build-kb"):
        KnowledgeBase.load(copy)
    path.unlink()
    with pytest.raises(KnowledgeBaseError, match="missing"):
        KnowledgeBase.load(copy)


# ----------------------------------------------------------------- filters (no data needed)


def _fake(monkeypatch, records: dict[str, tuple[str, list[str]]], resolve=None):
    """Stand-in ``chemicals`` records: cas -> (InChIKey, names)."""

    def meta(cas):
        if cas not in records:
            return None
        key, names = records[cas]
        return SimpleNamespace(CASs=cas, common_name=names[0], iupac_name=names[1],
                               synonyms=names, InChI_key=key)

    monkeypatch.setattr(syn, "_metadata", meta)
    monkeypatch.setattr(syn, "_resolve_name", lambda name: (resolve or {}).get(name))


def _decide(monkeypatch, kb_rows, records, resolve=None):
    _fake(monkeypatch, records, resolve)
    decisions: list = []
    table = syn.build_synonyms(kb_rows, aliases={}, decisions=decisions, aliases_path=None)
    return table, {(d[0], d[1]): d[3] for d in decisions}


NIA = ("DFPAKSUCGFBDDF-UHFFFAOYSA-N", [
    "nicotinamide", "pyridine-3-carboxamide", "niacinamide", "vitamin pp", "98-92-0",
    "nsc 27452", "unii-25x51i8rd4", "einecs 202-713-4", "ai3-18291", "c6h6n2o",
    "nicotinamide hydrochloride", "nicotinamide (usp)", "nicotinamide [inn]",
    "nicotinamide solution", "3-pyridinecarboxamide, hydrate", "pyridine-3-carboxamide, 1-",
    "vitamin b", "nam", "nicotinamide sodium salt", "nicotinic acid amide",
])


def test_each_filter_names_its_reason(monkeypatch):
    kb_rows = [{"inci": "NIACINAMIDE", "cas": "98-92-0"}, {"inci": "GLYCERIN", "cas": "56-81-5"}]
    table, why = _decide(monkeypatch, kb_rows, {"98-92-0": NIA})
    got = {k: inci for k, inci, _c in table}
    assert got == {
        "NICOTINAMIDE": "NIACINAMIDE", "PYRIDINE-3-CARBOXAMIDE": "NIACINAMIDE",
        "VITAMIN PP": "NIACINAMIDE", "NICOTINIC ACID AMIDE": "NIACINAMIDE",
    }
    expected = {
        "niacinamide": "canonical", "98-92-0": "code", "nsc 27452": "code",
        "unii-25x51i8rd4": "code", "einecs 202-713-4": "code", "ai3-18291": "code",
        "c6h6n2o": "code", "nicotinamide hydrochloride": "salt_ester",
        "nicotinamide sodium salt": "salt_ester", "nicotinamide (usp)": "form",
        "nicotinamide [inn]": "form", "nicotinamide solution": "form",
        "3-pyridinecarboxamide, hydrate": "inverted", "pyridine-3-carboxamide, 1-": "inverted",
        "vitamin b": "group", "nam": "acronym",
    }
    for name, reason in expected.items():
        assert why[(name, "NIACINAMIDE")] == reason, name


def test_botanicals_never_contribute_and_oils_are_not_synonyms(monkeypatch):
    limonene = ("XMGQYMWWDOXHJM-UHFFFAOYSA-N", [
        "dipentene", "1-methyl-4-prop-1-en-2-ylcyclohexene", "limonene", "sweet orange oil",
        "lemon extract", "citrus sinensis oil", "limonene polymer", "d-limonene",
    ])
    kb_rows = [
        {"inci": "LIMONENE", "cas": "138-86-3"},
        # a citrus oil whose CosIng CAS happened to resolve to limonene: must give nothing
        {"inci": "CITRUS SINENSIS PEEL OIL", "cas": "138-86-3"},
        {"inci": "CITRUS SINENSIS PEEL OIL EXPRESSED", "cas": "8028-48-6"},
    ]
    records = {"138-86-3": limonene, "8028-48-6": limonene}
    table, why = _decide(monkeypatch, kb_rows, records)
    assert {inci for _k, inci, _c in table} == {"LIMONENE"}
    assert {k for k, _i, _c in table} == {
        "DIPENTENE", "1-METHYL-4-PROP-1-EN-2-YLCYCLOHEXENE", "D-LIMONENE"}
    for name in ("sweet orange oil", "lemon extract", "citrus sinensis oil"):
        assert why[(name, "LIMONENE")] in ("form", "mixture"), name
    assert why[("limonene polymer", "LIMONENE")] in ("form", "mixture")


def test_salt_must_match_the_inci(monkeypatch):
    benzoate = ("WXMKPNITSTVMEF-UHFFFAOYSA-M", [
        "sodium benzoate", "sodium benzenecarboxylate", "benzoic acid", "benzoate of soda",
        "benzoic acid, sodium salt", "benzoic acid sodium salt", "potassium benzoate",
    ])
    table, why = _decide(
        monkeypatch, [{"inci": "SODIUM BENZOATE", "cas": "532-32-1"}], {"532-32-1": benzoate}
    )
    assert {k for k, _i, _c in table} == {"SODIUM BENZENECARBOXYLATE"}
    assert why[("benzoic acid", "SODIUM BENZOATE")] == "salt_ester"          # the free acid
    assert why[("potassium benzoate", "SODIUM BENZOATE")] == "salt_ester"    # another salt
    assert why[("benzoic acid sodium salt", "SODIUM BENZOATE")] == "salt_ester"
    assert why[("benzoic acid, sodium salt", "SODIUM BENZOATE")] == "inverted"


def test_ambiguous_and_redirected_records_give_nothing(monkeypatch):
    kb_rows = [
        {"inci": "ETHYLHEXANOL", "cas": "104-76-7"},
        {"inci": "ISOOCTANOL", "cas": "26952-21-6"},
        {"inci": "TERPENES AND TERPENOIDS", "cas": "65996-98-7"},
    ]
    records = {
        "104-76-7": ("YIWUKEYIRIRTPP-UHFFFAOYSA-N", ["2-ethylhexanol", "2-ethylhexan-1-ol",
                                                    "octyl alcohol", "2-ethyl-1-hexanol"]),
        "26952-21-6": ("QDTDKYHPHANITQ-UHFFFAOYSA-N", ["isooctanol", "isooctyl alcohol",
                                                      "octyl alcohol"]),
    }
    _fake(monkeypatch, records)
    table = syn.build_synonyms(kb_rows, aliases={}, aliases_path=None)
    got = {k: inci for k, inci, _c in table}
    assert "OCTYL ALCOHOL" not in got                     # two INCI names claim it
    assert got["2-ETHYLHEXAN-1-OL"] == "ETHYLHEXANOL"

    # chemicals answering for 65996-98-7 with another record (the number is only one of
    # its synonyms): the mixture must not inherit limonene's names
    def meta(cas):
        return SimpleNamespace(CASs="138-86-3", common_name="limonene", iupac_name="x",
                               synonyms=["dipentene"], InChI_key="XMGQ-UHFFFAOYSA-N")

    monkeypatch.setattr(syn, "_metadata", meta)
    stats: Counter = Counter()
    assert syn.build_synonyms(kb_rows[2:], aliases={}, stats=stats, aliases_path=None) == []
    assert stats["cas_redirected"] == 1


def test_alias_conflict_drops_and_agreement_keeps(monkeypatch):
    _fake(monkeypatch, {"98-92-0": NIA})
    kb_rows = [{"inci": "NIACINAMIDE", "cas": "98-92-0"}, {"inci": "NIACIN", "cas": "59-67-6"}]
    aliases = {"NICOTINAMIDE": "NIACINAMIDE", "VITAMIN PP": "NIACIN"}
    table = syn.build_synonyms(kb_rows, aliases=aliases, aliases_path=None)
    got = {k: inci for k, inci, _c in table}
    assert got["NICOTINAMIDE"] == "NIACINAMIDE"
    assert "VITAMIN PP" not in got


def test_other_compound_by_inchikey_skeleton(monkeypatch):
    records = {"78-70-6": ("CDOSHBSSFJOMGT-UHFFFAOYSA-N",
                           ["linalool", "3,7-dimethylocta-1,6-dien-3-ol", "(s)-linalol",
                            "geraniol-like"])}
    resolve = {
        "(s)-linalol": SimpleNamespace(InChI_key="CDOSHBSSFJOMGT-JTQLQIEISA-N"),  # stereo
        "geraniol-like": SimpleNamespace(InChI_key="GLZPCOQZEFWAFX-UHFFFAOYSA-N"),
    }
    table, why = _decide(monkeypatch, [{"inci": "LINALOOL", "cas": "78-70-6"}], records, resolve)
    assert why[("(s)-linalol", "LINALOOL")] == "kept"
    assert why[("geraniol-like", "LINALOOL")] == "other_compound"
