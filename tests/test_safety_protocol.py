"""The protocol file: the default encodes DESIGN.md's table, malformed files are refused."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recommender.safety import (
    Context,
    ProtocolError,
    default_protocol,
    load_protocol,
    parse_protocol,
    protocol_table,
)
from recommender.safety.protocol import DESIGN_CHOICE, EVIDENCE_LEVELS, KNOWN_CLASSES, NEVER

FIXTURES = Path(__file__).parent / "fixtures" / "protocols"
MALFORMED = FIXTURES / "malformed"


def _stages(rule_id: str) -> list[tuple[str, float]]:
    return [(s.severity, s.until) for s in default_protocol().rule(rule_id).stages]


# --- the default protocol is DESIGN.md's table, as data --------------------------------


def test_default_protocol_identity():
    p = default_protocol()
    assert p.name == "skinrec-default"
    assert p.version and isinstance(p.version, str)
    assert "medical advice" in p.disclaimer.lower()
    assert p.added == ()  # the default file carries every built-in rule itself


@pytest.mark.parametrize(
    ("rule_id", "stages"),
    [
        ("first_24h", [("avoid", 1)]),
        ("retinoid", [("avoid", 7)]),
        ("retinoid_rx", [("avoid", 10)]),
        ("aha", [("avoid", 7)]),
        ("bha", [("avoid", 7)]),
        ("pha", [("avoid", 7)]),
        ("vitamin_c", [("avoid", 7)]),
        ("benzoyl_peroxide", [("avoid", 7)]),
        ("physical_exfoliant", [("avoid", 7)]),
        ("fragrance", [("avoid", 3), ("caution", 7)]),
        ("essential_oil", [("avoid", 3), ("caution", 7)]),
        ("fragrance_allergen", [("caution", 7)]),
        ("drying_alcohol_top5", [("avoid", 3)]),
        ("drying_alcohol", [("caution", 3)]),
        ("pigment", [("avoid", 2)]),
        ("chemical_uv_filter", [("caution", 14)]),
        ("niacinamide", [("caution", 3)]),
        ("peel", [("avoid", 14)]),
        ("nsaid", [("caution", 14)]),
        ("provider_instructions", [("caution", 7)]),
        ("pregnancy_retinoid", [("avoid", NEVER)]),
        ("avoid_list", [("avoid", NEVER)]),
    ],
)
def test_default_windows_match_design(rule_id, stages):
    assert _stages(rule_id) == stages


def test_default_targets():
    p = default_protocol()
    assert p.rule("first_24h").product == "all" and p.rule("first_24h").scaled is False
    assert all(r.scaled for r in p.rules if r.id != "first_24h")
    assert p.rule("peel").product == "peel"
    assert p.rule("provider_instructions").modalities == ("rf", "prp")
    assert p.rule("pregnancy_retinoid").when == "pregnant"
    rx = {"TRETINOIN", "ADAPALENE", "TAZAROTENE"}
    assert rx <= p.rule("retinoid_rx").inci
    assert rx <= p.rule("retinoid").except_inci
    top5, low = p.rule("drying_alcohol_top5"), p.rule("drying_alcohol")
    assert (top5.position_min, top5.position_max) == (None, 5)
    assert (low.position_min, low.position_max) == (6, None)
    (ph,) = p.rule("aha").exemptions
    assert ph.inci == {"CITRIC ACID", "LACTIC ACID", "MALIC ACID", "TARTARIC ACID"}
    assert ph.position_min == 11  # "after position 10"
    assert p.may_contain_counts is True


def test_factors():
    p = default_protocol()
    assert p.depth_factor(0.1) == 0.5
    assert p.depth_factor(0.25) == 0.5
    assert p.depth_factor(0.2501) == 1
    assert p.depth_factor(1.0) == 1
    assert p.depth_factor(1.4999) == 1
    assert p.depth_factor(1.5) == 1.5
    assert p.depth_factor(3.0) == 1.5
    assert {m: p.modality_factor(m) for m in ("mn", "rf", "prp")} == {"mn": 1, "rf": 2, "prp": 2}
    assert p.factor(1.5, "rf") == 3
    with pytest.raises(ValueError, match="unknown modality 'laser'"):
        p.factor(1.0, "laser")


def test_every_rule_has_source_and_evidence():
    p = default_protocol()
    for r in p.rules:
        assert r.source.strip(), r.id
        assert r.evidence in EVIDENCE_LEVELS, r.id
        for c in r.classes:
            assert c in KNOWN_CLASSES
        for ex in r.exemptions:
            assert ex.source and ex.evidence in EVIDENCE_LEVELS


@pytest.mark.parametrize("rule_id", ["drying_alcohol_top5", "drying_alcohol", "pigment", "pha",
                                     "provider_instructions"])
def test_unsourced_rules_say_design_choice(rule_id):
    r = default_protocol().rule(rule_id)
    assert (r.source, r.evidence) == (DESIGN_CHOICE, "none")


def test_unsourced_parts_say_design_choice():
    p = default_protocol()
    assert (p.factors_source, p.factors_evidence) == (DESIGN_CHOICE, "none")
    assert (p.may_contain_source, p.may_contain_evidence) == (DESIGN_CHOICE, "none")
    (ph,) = p.rule("aha").exemptions
    assert (ph.source, ph.evidence) == (DESIGN_CHOICE, "none")


def test_sourced_rules_cite_report_urls():
    p = default_protocol()
    report = (Path(__file__).resolve().parents[2] / "shared" / "science" / "REPORT.md")
    text = report.read_text() if report.exists() else None
    for r in p.rules:
        if r.evidence == "none":
            continue
        assert "http" in r.source, r.id
        if text is not None and r.evidence != "regulation":
            host = r.source.split("://", 1)[1].split("/", 1)[0].removeprefix("www.")
            assert host in text, f"{r.id}: {host} is not a source of science/REPORT.md"


def test_class_vocabulary_agrees_with_knowledge_module():
    classes = pytest.importorskip("recommender.knowledge.classes")
    assert set(classes.VOCABULARY) == set(KNOWN_CLASSES)


# --- a clinic's own protocol -------------------------------------------------------------


def test_clinic_protocol_loads():
    p = load_protocol(FIXTURES / "clinic_retinoid_day5.yaml")
    assert p.name == "example-clinic" and p.version == "2026.03"
    assert _stages_of(p, "retinoid") == [("avoid", 5)]
    # rules a person relies on are added when a clinic file lacks them
    assert set(p.added) == {"avoid_list", "pregnancy_retinoid", "unreadable_list"}
    assert p.rule("avoid_list").builtin


def _stages_of(p, rule_id):
    return [(s.severity, s.until) for s in p.rule(rule_id).stages]


def test_load_protocol_none_is_default():
    assert load_protocol(None) is default_protocol()


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        load_protocol(FIXTURES / "no_such_protocol.yaml")


# --- malformed files: refused with the line and the field at fault ---------------------


@pytest.mark.parametrize(
    ("fixture", "line", "field", "words"),
    [
        ("yaml_error.yaml", 16, None, "not valid YAML"),
        ("missing_source.yaml", 13, "rules[0] (retinoid).source", "missing required field"),
        ("unknown_class.yaml", 14, "rules[0] (retinoid).applies_to.classes[0]",
         "unknown class 'retinoids'"),
        ("bad_number.yaml", 15, "rules[0] (retinoid).stages[0].until", "'seven'"),
        ("unknown_severity.yaml", 15, "rules[0] (retinoid).stages[0].severity",
         "unknown severity 'avod'"),
        ("misspelt_field.yaml", 15, "rules[0] (retinoid).stages[0].untill",
         "unknown field 'untill'"),
        ("negative_factor.yaml", 9, "factors.modality.mn.factor", "positive"),
    ],
)
def test_malformed_fixture_refused(fixture, line, field, words):
    path = MALFORMED / fixture
    with pytest.raises(ProtocolError) as err:
        load_protocol(path)
    e = err.value
    assert e.line == line
    assert e.field == field
    assert words in str(e)
    assert str(path) in str(e) and f"line {line}" in str(e)
    if field:
        assert f"field '{field}'" in str(e)


def test_base_of_malformed_fixtures_is_valid():
    assert load_protocol(MALFORMED / "base_ok.yaml").name == "broken-example"


BASE = (MALFORMED / "base_ok.yaml").read_text()


def _broken(old: str, new: str) -> str:
    assert old in BASE
    return BASE.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "words"),
    [
        ('version: "0.1"', "version: 0.1", 3, "version", "quote it"),
        ("evidence: clinic", "evidence: anecdote", 17, "rules[0] (retinoid).evidence",
         "unknown evidence level"),
        ("  - id: retinoid", "  - id: Retinoid!", 13, "rules[0].id", "lower-case"),
        ("[{severity: avoid, until: 7}]",
         "[{severity: caution, until: 7}, {severity: avoid, until: 9}]", 15,
         "rules[0] (retinoid).stages[1].severity", "strictest stage first"),
        ("[{severity: avoid, until: 7}]",
         "[{severity: avoid, until: 7}, {severity: caution, until: 7}]", 15,
         "rules[0] (retinoid).stages[1].until", "must end after"),
        ("until: 7", "until: 0", 15, "rules[0] (retinoid).stages[0].until", "positive"),
        ("until: 7", "until: true", 15, "rules[0] (retinoid).stages[0].until", "yes/no"),
        ("until: 7", "until: .inf", 15, "rules[0] (retinoid).stages[0].until", "finite"),
        ("{classes: [retinoid]}", "{}", 14, "rules[0] (retinoid).applies_to", "needs 'classes'"),
        ("{classes: [retinoid]}", "{product: spa}", 14,
         "rules[0] (retinoid).applies_to.product", "unknown product rule"),
        ("{classes: [retinoid]}", "{product: modality, modalities: [laser]}", 14,
         "rules[0] (retinoid).applies_to.modalities[0]", "unknown modality 'laser'"),
        ("{classes: [retinoid]}", "{classes: [retinoid], position_min: 0}", 14,
         "rules[0] (retinoid).applies_to.position_min", "whole number"),
        ("{classes: [retinoid]}", "{product: peel, pattern: '(peel'}", 14,
         "rules[0] (retinoid).applies_to.pattern", "regular expression"),
        ("    evidence: clinic", "    evidence: clinic\n    when: breastfeeding", 18,
         "rules[0] (retinoid).when", "unknown condition"),
        ("  depth: {default: 1}", "  depth: {default: 1, bands: [{max_mm: 0.3, factor: 2}]}",
         7, "factors.depth.bands", "deeper needling"),
        ("  depth: {default: 1}", "  depth: {default: 1, bands: [{factor: 2}]}",
         7, "factors.depth.bands[0]", "exactly one of"),
        ("name: broken-example", "name: broken-example\nname: again", 3, "name",
         "appears twice"),
        ("disclaimer: Not medical advice.\n", "", 2, "disclaimer", "missing required field"),
        ("rules:\n", "schema: 2\nrules:\n", 12, "schema", "unsupported schema"),
    ],
)
def test_malformed_text_refused(old, new, line, field, words):
    with pytest.raises(ProtocolError) as err:
        parse_protocol(_broken(old, new), "clinic.yaml")
    assert (err.value.line, err.value.field) == (line, field), str(err.value)
    assert words in str(err.value)


def test_duplicate_rule_id_refused():
    text = BASE + BASE[BASE.index("  - id: retinoid"):]
    with pytest.raises(ProtocolError) as err:
        parse_protocol(text)
    assert err.value.field == "rules[1].id" and "already used" in str(err.value)
    assert err.value.line == 18


def test_reserved_builtin_id_refused():
    text = _broken("  - id: retinoid", "  - id: avoid_list")
    with pytest.raises(ProtocolError, match="reserved"):
        parse_protocol(text)


def test_single_stage_mapping_accepted():
    p = parse_protocol(_broken("[{severity: avoid, until: 7}]", "{severity: avoid, until: 7}"))
    assert _stages_of(p, "retinoid") == [("avoid", 7)]


def test_never_window_parses():
    p = parse_protocol(_broken("until: 7", "until: never"))
    assert math.isinf(p.rule("retinoid").stages[0].until)


def test_protocol_errors_are_value_errors():
    assert issubclass(ProtocolError, ValueError)


# --- the table --------------------------------------------------------------------------


def test_table_lists_every_rule_with_source():
    p = default_protocol()
    text = protocol_table(p)
    assert p.name in text and p.version in text
    for r in p.rules:
        assert r.id in text
    assert "except ph_adjuster" in text
    assert "avoid until 3, then caution until 7" in text
    assert "avoid until 1 (not scaled)" in text
    assert "skinrec design choice" in text and "PMC3725617" in text
    assert "Not medical advice" in text


def test_table_with_context_scales_windows():
    text = protocol_table(default_protocol(), Context.make(depth=1.5, modality="rf"))
    assert "f = 3" in text
    assert "avoid until 21" in text  # retinoid 7 x 1.5 x 2
    assert "avoid until 9, then caution until 21" in text  # fragrance
    assert "avoid until 1 (not scaled)" in text


def test_table_of_clinic_protocol_mentions_added_rules():
    text = protocol_table(load_protocol(FIXTURES / "clinic_retinoid_day5.yaml"))
    assert "example-clinic" in text and "added" in text and "avoid_list" in text


def test_protocol_to_dict_is_json():
    import json

    d = default_protocol().to_dict()
    json.dumps(d)
    assert [r["id"] for r in d["rules"]][:2] == ["first_24h", "retinoid"]
    assert d["rules"][-2]["stages"] == [{"severity": "avoid", "until": None}]
