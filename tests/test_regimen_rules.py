"""The regimen's rules files (data/regimen/*.yaml): loaded, sourced, refused when malformed;
phases from the protocol; step assignment precedence. No data directory needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recommender.regimen.actives import ClassMention
from recommender.regimen.phases import make_phases
from recommender.regimen.rules import RULES_DIR, RegimenRulesError, default_rules, load_rules
from recommender.regimen.steps import allowed_slots, assign_step
from recommender.safety import default_protocol, load_protocol

CLINIC = Path(__file__).parent / "fixtures" / "protocols" / "clinic_retinoid_day5.yaml"


def test_every_rule_has_a_source_and_an_honest_evidence_level():
    r = default_rules()
    items = list(r.conflicts.rules) + list(r.stop_before) + list(r.conflicts.ignore)
    assert {c.id for c in r.conflicts.rules} >= {"retinoid_acid", "retinoid_benzoyl_peroxide",
                                                 "two_exfoliants"}
    for x in items:
        assert x.source and x.evidence
        if x.source.startswith("skinrec design choice"):
            assert x.evidence == "none", x.id
        else:
            assert "http" in x.source or "REPORT" in x.source, x.id


@pytest.mark.parametrize(("file", "old", "new", "field"), [
    ("conflicts.yaml", "classes_b: [benzoyl_peroxide]", "classes_b: [benzoyl_peroxides]",
     "classes_b"),
    ("conflicts.yaml", "severity: caution", "severity: avod", "severity"),
    ("conflicts.yaml", "    evidence: clinic\n    see_also:\n      - \"https://beautyinsider",
     "    see_also:\n      - \"https://beautyinsider", "evidence"),
    ("stop_before.yaml", "days: 14", "days: two weeks", "days"),
    ("steps.yaml", "fallback: moisturize", "fallback: tone", "fallback"),
    ("steps.yaml", "fill_order: [protect, treat, cleanse, moisturize]",
     "fill_order: [protect, treat, cleanse]", "fill_order"),
    ("phases.yaml", "boundaries: [1, 3, 7, 14]", "boundaries: [3, 1]", "boundaries"),
])
def test_malformed_rules_are_refused_naming_the_field(tmp_path, file, old, new, field):
    d = tmp_path / "regimen"
    shutil.copytree(RULES_DIR, d)
    text = (d / file).read_text(encoding="utf-8")
    assert old in text
    (d / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegimenRulesError, match=field):
        load_rules(d)


def test_default_phases_follow_the_report_template_and_scale_with_depth():
    rules = default_rules().phases
    proto = default_protocol()
    starts = [p["from_day"] for p in make_phases(proto, proto.factor(1.0, "mn"), rules, 28)]
    assert starts == [0, 1, 3, 7, 14]
    deep = [p["from_day"] for p in make_phases(proto, proto.factor(1.5, "mn"), rules, 28)]
    assert deep == [0, 1, 4.5, 10.5, 21]        # the first 24 hours are not scaled
    short = make_phases(proto, 1.0, rules, 10)
    assert [p["from_day"] for p in short] == [0, 1, 3, 7] and short[-1]["until_day"] == 10


def test_a_clinic_protocol_gets_phases_from_its_window_ends():
    clinic = load_protocol(CLINIC)
    phases = make_phases(clinic, clinic.factor(1.0, "mn"), default_rules().phases, 28)
    assert [p["from_day"] for p in phases] == [0, 1, 3, 5, 7]
    assert phases[3]["label"] == "Days 5-6"


@pytest.mark.parametrize(("name", "category", "step"), [
    ("Cactus Water Cleansing Lactic Acid Toner", "Cleansers", "treat"),
    ("Isle Glow Face Moisturizer SPF 45", "Sunscreen", "protect"),
    ("Detoxifying AHA/BHA Gel Cleanser", "Cleansers", "cleanse"),
    ("The True Cream Aqua Bomb", "Moisturizers", "moisturize"),
    ("Liquid Gold", "Treatments", "treat"),
    ("Liquid Gold", "", "moisturize"),
])
def test_step_from_name_then_category_then_fallback(name, category, step):
    assert assign_step(name, category, "", {}, default_rules().steps)[0] == step


def test_step_column_and_class_cues():
    rules = default_rules().steps
    assert assign_step("Toner", "", "moisturize", {}, rules) == (
        "moisturize", "the shelf's step column says moisturize")
    zinc = {"mineral_uv_filter": [ClassMention("mineral_uv_filter", "Zinc Oxide 20%", "ZINC OXIDE", 1)]}
    step, why = assign_step("Daily Veil", "", "", zinc, rules)
    assert step == "protect" and "Zinc Oxide 20% (position 1)" in why
    retinol = {"retinoid": [ClassMention("retinoid", "Retinol", "RETINOL", 8)]}
    assert allowed_slots(("am", "pm"), retinol, rules)[0] == ("pm",)
    late_c = {"vitamin_c": [ClassMention("vitamin_c", "Ascorbyl Glucoside", None, 25)]}
    assert allowed_slots(("am", "pm"), late_c, rules)[0] == ("am", "pm")
