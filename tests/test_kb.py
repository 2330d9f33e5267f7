"""The ingredient knowledge base: reproducible build, annex curation, allergens, structures.

Real data: the KB is rebuilt from the data directory (``data_dir`` fixture: skips without
it, fails under CI=true) into a temporary directory and compared with the committed
models/kb, so a stale committed KB fails here.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil

import pytest

from recommender import config
from recommender.knowledge import annexes as ax
from recommender.knowledge import chem
from recommender.knowledge.build import COLUMNS, build_kb
from recommender.knowledge.kb import KnowledgeBase, KnowledgeBaseError, default_kb


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(data_dir, tmp_path_factory):
    """Two independent builds of the KB from the real data."""
    first = tmp_path_factory.mktemp("kb1")
    second = tmp_path_factory.mktemp("kb2")
    m1 = build_kb(data_dir, first)
    m2 = build_kb(data_dir, second)
    return first, second, m1, m2


@pytest.fixture(scope="module")
def kb(built):
    return KnowledgeBase.load(built[0])


@pytest.fixture(scope="module")
def rows(built):
    with open(built[0] / "ingredients.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ----------------------------------------------------------------- reproducibility


def test_rebuild_is_byte_identical(built):
    first, second, m1, m2 = built
    for name in ("ingredients.csv", "ci_index.csv", "manifest.json"):
        assert _sha(first / name) == _sha(second / name), name
    assert m1 == m2
    assert m1["artifacts"]["ingredients.csv"]["sha256"] == _sha(first / "ingredients.csv")


def test_committed_kb_is_current(built):
    first = built[0]
    for name in ("ingredients.csv", "ci_index.csv"):
        committed = config.KB_DIR / name
        assert committed.exists(), f"{committed} missing: run `skinrec build-kb` and commit it"
        assert _sha(committed) == _sha(first / name), (
            f"committed {committed} is stale: run `skinrec build-kb` and commit models/kb"
        )


def test_manifest_records_inputs_versions_and_counts(built):
    m = built[2]
    assert m["build_command"] == "skinrec build-kb"
    inputs = m["inputs"]
    assert "data:" + config.COSING_INVENTORY in inputs
    assert "data:" + config.EU_ALLERGENS in inputs
    assert "package:on_the_list/data/annex_IV.csv" in inputs
    assert any(k.endswith("annex_curation.yaml") for k in inputs)
    assert sum(k.startswith(f"data:{config.COSING_ANNEXES_DIR}/COSING_Annex_") for k in inputs) == 4
    assert all(re.fullmatch(r"[0-9a-f]{64}", v["sha256"]) for v in inputs.values())
    for pkg in ("python", "pandas", "chemicals", "rdkit", "on-the-list"):
        assert m["versions"][pkg], pkg
    assert m["counts"]["rows"] == m["artifacts"]["ingredients.csv"]["rows"]
    # no timestamps: the manifest itself is reproducible
    assert not re.search(r"20\d\d-\d\d-\d\dT", str(m))


def test_every_inventory_name_is_a_row(data_dir, kb):
    with open(data_dir / config.COSING_INVENTORY, encoding="utf-8", newline="") as fh:
        names = {" ".join(r["inci_name"].upper().split()) for r in csv.DictReader(fh)}
    missing = [n for n in names if n not in kb]
    assert not missing, missing[:10]
    assert len(kb) >= len(names)


# ----------------------------------------------------------------- annexes


@pytest.mark.parametrize(
    "name",
    [
        "PETROLATUM",                          # II/904: unless refining history known
        "ASCORBIC ACID",
        "CITRUS LIMON PEEL OIL",               # II/358 furocoumarins: natural content allowed
        "CITRUS AURANTIFOLIA PEEL OIL EXPRESSED",
        "CITRUS PARADISI PEEL OIL",
        "STYRENE/ACRYLATES COPOLYMER",         # II/1725: nano form only
        "COLLOIDAL SILVER",                    # II/1727: nano/massive only
        "PLATINUM",                            # II/1729: nano only
        "PONCEAU SX",                          # II/1341: CI 14700 in hair dye only
        "CI 14700",
        "HC BLUE NO. 5",                       # hair-dye-only family
        "MEA-BORATE",                          # also permitted by Annex III
    ],
)
def test_conditional_annex_ii_matches_are_not_prohibited(kb, name):
    rec = kb.record(name)
    assert rec is not None, name
    assert rec["prohibited"] is False


@pytest.mark.parametrize("name", ["PETROLATUM", "CITRUS LIMON PEEL OIL", "STYRENE/ACRYLATES COPOLYMER", "PONCEAU SX"])
def test_conditional_matches_stay_restricted_with_a_reason(kb, name):
    rec = kb.record(name)
    assert rec["restricted"] is True
    ii = [r for r in rec["annex_refs"] if r.startswith("II/")]
    assert ii and all(ref + ":" in rec["annex_conditions"] for ref in ii)


def test_every_citrus_peel_oil_is_not_prohibited(kb):
    peel = [n for n in kb.names() if re.fullmatch(r"CITRUS .*PEEL OIL.*", n)]
    assert len(peel) > 10
    assert not [n for n in peel if kb.record(n)["prohibited"]]


@pytest.mark.parametrize(
    "name, ref",
    [("HEXACHLOROPHENE", "II/371"), ("RETINOIC ACID", "II/375"), ("FORMALDEHYDE", "II/1577"),
     ("BUTYLPHENYL METHYLPROPIONAL", "II/1666"), ("HUMAN KERATINOCYTES", "II/416")],
)
def test_unconditional_annex_ii_is_prohibited(kb, name, ref):
    rec = kb.record(name)
    assert rec["prohibited"] is True and rec["restricted"] is True
    assert ref in rec["annex_refs"]
    assert ref + ":" not in rec["annex_conditions"]


def test_no_prohibition_rests_on_a_qualified_entry(data_dir, kb):
    """Cross-check against on-the-list's own reading: an entry whose wording carries a
    qualifier ("except", "unless", "when used", ...) or is nano-only never makes a ban."""
    from on_the_list.annexes import qualifier_in

    qualified = {
        ax.citation("II", e.reference)
        for e in ax.read_annexes(data_dir)["II"]
        if qualifier_in(e.chemical_name) or e.nano_only
    }
    assert len(qualified) > 100
    for name in kb.prohibited_names():
        rec = kb.record(name)
        banning = [
            r for r in rec["annex_refs"]
            if r.startswith("II/") and r + ":" not in rec["annex_conditions"]
        ]
        assert banning, name
        assert not set(banning) & qualified, (name, banning)


def test_restricted_covers_annex_ii_and_iii(kb):
    for name in ("SALICYLIC ACID", "HYDROQUINONE", "RETINOL", "PETROLATUM"):
        assert name in kb.restricted_names(), name
    for name in ("GLYCERIN", "NIACINAMIDE", "ASCORBIC ACID", "WATER"):
        assert name not in kb.restricted_names(), name
    for name in kb.prohibited_names():
        assert name in kb.restricted_names()


def test_preservatives_and_uv_filters(kb):
    assert kb.record("PHENOXYETHANOL")["preservative"] is True
    assert kb.record("CITRIC ACID")["preservative"] is False     # V/59 is the silver combination
    assert kb.record("BENZOPHENONE-3")["uv_filter"] is True
    assert kb.record("ZINC OXIDE")["uv_filter"] is True
    assert kb.record("GLYCERIN")["uv_filter"] is False


def test_curation_file_is_valid_and_every_decision_has_a_reason():
    cur = ax.load_curation()
    assert cur.rules and cur.entries
    for decisions in cur.entries.values():
        for _names, _pattern, d in decisions:
            assert d.reason and d.action in ("conditional", "not_a_match", "ignore")


def test_malformed_curation_is_refused(tmp_path):
    import yaml

    data = yaml.safe_load(ax.CURATION_FILE.read_text(encoding="utf-8"))
    data["entries"][0]["reason"] = ""
    bad = tmp_path / "c.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ax.CurationError, match=r"entries\[0\].*reason"):
        ax.load_curation(bad)
    data["entries"][0].update(reason="x", action="maybe")
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ax.CurationError, match="action"):
        ax.load_curation(bad)


# ----------------------------------------------------------------- allergens


def test_all_81_labelled_allergens_are_covered(data_dir, kb, rows):
    allergens = ax.read_allergens(data_dir / config.EU_ALLERGENS)
    assert len({a.ref for a in allergens}) == 81
    refs = {r["eu_allergen_ref"] for r in rows if r["eu_allergen"] == "True"}
    assert refs == {a.citation for a in allergens}
    for name in ("LIMONENE", "LINALOOL", "BENZYL ALCOHOL", "ROSA DAMASCENA FLOWER OIL",
                 "EUGENYL ACETATE"):
        rec = kb.record(name)
        assert rec["eu_allergen"] is True and rec["eu_allergen_ref"].startswith("III/"), name
        assert rec["restricted"] is True


def test_allergens_matched_by_name_not_botanical_cas(kb):
    # rosehip seed/fruit oil shares a genus with rose flower oil, and botanical CAS numbers
    # are shared by all parts of a plant: neither may make it an allergen
    for name in ("ROSA CANINA FRUIT OIL", "ROSA CANINA SEED OIL", "CITRUS LIMON FRUIT EXTRACT"):
        rec = kb.record(name)
        if rec is not None:
            assert rec["eu_allergen"] is False, name
    assert kb.record("GLYCERIN")["eu_allergen"] is False


# ----------------------------------------------------------------- structures


def test_defined_chemicals_have_descriptors(kb):
    nia = kb.record("NIACINAMIDE")
    assert nia["mw"] == pytest.approx(122.1, abs=0.1)
    assert nia["logkow_source"] == "experimental"
    assert nia["logkow"] == pytest.approx(-0.37, abs=0.01)
    assert nia["structure_source"] == "chemicals" and nia["smiles"]
    ret = kb.record("RETINOL")
    assert ret["mw"] == pytest.approx(286.5, abs=0.1)
    assert ret["hbd"] == 1


@pytest.mark.parametrize(
    "name",
    ["CENTELLA ASIATICA EXTRACT", "SODIUM HYALURONATE", "DIMETHICONE", "PEG-100 STEARATE",
     "ROSA CANINA FRUIT OIL", "CAPRYLIC/CAPRIC TRIGLYCERIDE", "LAURETH-7"],
)
def test_mixtures_have_no_structure(kb, name):
    rec = kb.record(name)
    assert rec is not None, name
    assert rec["mw"] is None and rec["smiles"] == "" and rec["structure_source"] == ""
    assert rec["logkow"] is None and rec["logkow_source"] == ""


def test_units_and_types_are_sane(rows):
    assert tuple(rows[0].keys()) == COLUMNS
    names = [r["inci"] for r in rows]
    assert names == sorted(names) and len(set(names)) == len(names)
    n_mw = n_exp = 0
    for r in rows:
        assert r["inci"] == " ".join(r["inci"].upper().split())
        for c in ("prohibited", "restricted", "eu_allergen", "preservative", "uv_filter"):
            assert r[c] in ("True", "False"), (r["inci"], c)
        if r["prohibited"] == "True" or r["eu_allergen"] == "True":
            assert r["restricted"] == "True", r["inci"]
        assert r["logkow_source"] in ("experimental", "crippen", "")
        assert (r["logkow"] == "") == (r["logkow_source"] == ""), r["inci"]
        assert (r["smiles"] == "") == (r["structure_source"] == "") == (r["mw"] == "")
        if r["mw"]:
            n_mw += 1
            assert 1.0 < float(r["mw"]) < 5000.0, r["inci"]         # g/mol, not kg/mol or Da*1000
            assert re.fullmatch(r"-?\d+\.\d{4}", r["mw"])
            assert int(r["hbd"]) >= 0 and int(r["hba"]) >= 0
            assert 0.0 <= float(r["tpsa"]) < 2000.0
        if r["logkow"]:
            assert -20.0 < float(r["logkow"]) < 40.0, r["inci"]         # log10 units
            n_exp += r["logkow_source"] == "experimental"
        if r["cas"]:
            assert chem.valid_cas(r["cas"]), r["inci"]
        assert all(f == f.upper() for f in r["functions"].split("|"))
    assert n_mw > 2000 and n_exp > 500


# ----------------------------------------------------------------- colour index


def test_ci_index(kb):
    ci = kb.ci_index()
    assert ci["77491"] == "IRON OXIDES"
    assert ci["77492"] == "IRON OXIDES" and ci["77499"] == "IRON OXIDES"
    assert ci["77891"] == "TITANIUM DIOXIDE"
    assert ci["77947"] == "ZINC OXIDE"
    assert ci["19140"] == "CI 19140"
    assert kb.canonical_for_ci("CI 77491") == "IRON OXIDES"
    assert all(target in kb for target in ci.values())
    assert "77491" in kb.record("IRON OXIDES")["colourant_ci"]
    assert kb.record("CI 14700")["colourant_ci"] == ("14700",)


# ----------------------------------------------------------------- classes column


def test_classes_column_comes_from_the_class_rules(kb):
    from recommender.knowledge.classes import load_class_rules

    rules = load_class_rules()
    for name in ("RETINOL", "NIACINAMIDE", "LIMONENE", "ALCOHOL DENAT.", "TITANIUM DIOXIDE",
                 "SODIUM HYALURONATE", "GLYCERIN", "CI 77491"):
        rec = kb.record(name)
        expected = rules.classify(name, rec["functions"], rec["eu_allergen"])
        assert kb.classes(name) == tuple(sorted(expected)), name
    assert "fragrance_allergen" in kb.classes("LIMONENE")    # the allergen flag reaches classify


# ----------------------------------------------------------------- loading


def test_tampered_kb_is_refused(built, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(built[0], copy)
    path = copy / "ingredients.csv"
    path.write_bytes(path.read_bytes().replace(b"NIACINAMIDE,", b"NIACINAMIDX,", 1))
    with pytest.raises(KnowledgeBaseError, match="skinrec build-kb"):
        KnowledgeBase.load(copy)
    (copy / "ci_index.csv").unlink()
    with pytest.raises(KnowledgeBaseError, match="missing"):
        KnowledgeBase.load(copy)


def test_compact_rows_read_back_as_the_csv_says(kb, rows):
    """Rows are kept as tuples with shared values: every record, class tuple, restricted and
    prohibited set reads exactly as the CSV row, typed."""
    typed = {"True": True, "False": False}
    for r in rows:
        rec = kb.record(r["inci"])
        assert set(rec) == set(r)
        assert rec["functions"] == (tuple(r["functions"].split("|")) if r["functions"] else ())
        assert rec["mw"] == (float(r["mw"]) if r["mw"] else None)
        assert rec["hbd"] == (int(r["hbd"]) if r["hbd"] else None)
        assert rec["eu_allergen"] is typed[r["eu_allergen"]]
        assert rec["cas"] == r["cas"] and rec["smiles"] == r["smiles"]
        assert kb.classes(r["inci"]) == (tuple(r["classes"].split("|")) if r["classes"] else ())
    assert kb.prohibited_names() == {r["inci"] for r in rows if r["prohibited"] == "True"}
    assert kb.restricted_names() == {r["inci"] for r in rows if r["restricted"] == "True"}
    assert kb.names() == sorted(r["inci"] for r in rows)


def test_a_ragged_kb_row_is_refused(built, tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(built[0], copy)
    path = copy / "ingredients.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = lines[5].rstrip("\r\n") + ",extra\n"
    lines.insert(3, "\n")             # a blank line is skipped, as csv.DictReader did
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match="line 7 has 24 fields, the header 23"):
        KnowledgeBase.load(copy, verify=False)


def test_default_kb_is_cached(built):
    assert default_kb(built[0]) is default_kb(built[0])
    assert default_kb(built[0]).record("nope, not an ingredient") is None


# ----------------------------------------------------------------- chem (no data needed)


@pytest.mark.parametrize(
    "name, defined",
    [("NIACINAMIDE", True), ("RETINYL PALMITATE", True), ("BENZOPHENONE-3", True),
     ("WATER", True), ("CENTELLA ASIATICA EXTRACT", False), ("ROSA CANINA FRUIT OIL", False),
     ("SODIUM HYALURONATE", False), ("PEG-8", False), ("CETEARETH-20", False),
     ("ACRYLATES/C10-30 ALKYL ACRYLATE CROSSPOLYMER", False), ("C12-15 ALKYL BENZOATE", False),
     ("LACTOBACILLUS FERMENT", False), ("ROSA DAMASCENA FLOWER WATER", False),
     ("WALNUT SHELL POWDER", False), ("DIMETHICONE", False)],
)
def test_is_defined_name(name, defined):
    assert chem.is_defined_name(name) is defined


def test_valid_cas_checks_the_check_digit():
    assert chem.valid_cas("98-92-0") == "98-92-0"
    assert chem.valid_cas("98-92-1") is None
    assert chem.valid_cas("not a cas") is None
    assert chem.is_mixture_cas("9067-32-7") and chem.is_mixture_cas("8008-56-8")
    assert not chem.is_mixture_cas("98-92-0")
