"""Absorption after microneedling: channel lifetime, pathway balance over time, unknowns,
large molecules, products."""

from __future__ import annotations

import pytest

from recommender.learn import absorption as A


@pytest.fixture(scope="module")
def kb():
    from recommender.knowledge.kb import default_kb

    return default_kb()


def test_f_open_halves_at_t_half():
    assert A.f_open(0.0) == 1.0
    assert A.f_open(A.T_HALF_H, A.T_HALF_H) == pytest.approx(0.5)
    assert A.f_open(2 * A.T_HALF_H, A.T_HALF_H) == pytest.approx(0.25)
    assert 20 <= A.T_HALF_H <= 26  # REPORT section 4: modelled half-life 20-26 h
    assert A.t_half_hours(1.0, occluded=True) > A.t_half_hours(1.0)
    assert A.t_half_hours(0.25) < A.t_half_hours(1.0) < A.t_half_hours(1.5)
    with pytest.raises(ValueError):
        A.f_open(-1.0)


def test_stokes_einstein_diffusivity():
    # small solutes in water at 32 C: ~1e-5 cm^2/s; falls with MW, roughly as MW^-1/3 later
    d_s = A.d_aq_cm2_per_h(122.1) / 3600
    assert 0.5e-5 < d_s < 2e-5
    assert A.stokes_radius_nm(122.1) == pytest.approx(0.000834 * 122.1 + 0.179)
    mws = [50, 200, 500, 1000, 5000, 1e6]
    ds = [A.d_aq_cm2_per_h(m) for m in mws]
    assert all(a > b for a, b in zip(ds, ds[1:], strict=False))
    assert A.stokes_radius_nm(1000.0) == pytest.approx(A.stokes_radius_nm(1000.0001), rel=1e-4)
    assert 0.005 < A.EPSILON < 0.02
    depth_um = A.CHANNEL_DEPTH_CM * 1e4
    assert depth_um == pytest.approx(150.0)  # channel depth, not needle length


def test_channel_term_dominates_day0_and_fades_by_72h(kb):
    nia = kb.record("NIACINAMIDE")
    d0 = A.ingredient_absorption(nia, 0.0, depth_mm=1.0)
    d3 = A.ingredient_absorption(nia, 72.0, depth_mm=1.0)
    assert d0["status"] == "ok" and d0["intact_term"] == "model"
    assert d0["channel_kp_cm_per_h"] > 5 * d0["intact_kp_cm_per_h"]
    assert d3["channel_kp_cm_per_h"] < 0.15 * d0["channel_kp_cm_per_h"]
    assert d0["x_vs_intact"] > d3["x_vs_intact"] > 1
    assert d0["x_vs_intact"] > 1  # "xN vs intact skin" on day 0
    curve = d0["curve"]["absorption_index"]
    assert all(a > b for a, b in zip(curve, curve[1:], strict=False))
    intact_index = d0["intact_kp_cm_per_h"] / A.KP_REF_CM_PER_H
    assert curve[-1] > intact_index  # never below the intact pathway
    assert d0["absorption_index"] == pytest.approx(
        (d0["intact_kp_cm_per_h"] + d0["channel_kp_cm_per_h"]) / A.KP_REF_CM_PER_H, rel=1e-4)


def test_untreated_skin_is_intact_only(kb):
    r = A.ingredient_absorption(kb.record("NIACINAMIDE"), 0.0, depth_mm=0.0)
    assert r["x_vs_intact"] == 1.0 and r["channel_kp_cm_per_h"] == 0.0


def test_occlusion_keeps_channels_open_longer(kb):
    nia = kb.record("NIACINAMIDE")
    open_ = A.ingredient_absorption(nia, 48.0)
    occl = A.ingredient_absorption(nia, 48.0, occluded=True)
    assert occl["absorption_index"] > open_["absorption_index"]


def test_lipophilic_small_molecule_gains_less(kb):
    nia = A.ingredient_absorption(kb.record("NIACINAMIDE"), 0.0)
    ret = A.ingredient_absorption(kb.record("RETINOL"), 0.0)
    assert ret["intact_kp_cm_per_h"] > nia["intact_kp_cm_per_h"]
    assert 1 < ret["x_vs_intact"] < nia["x_vs_intact"]


@pytest.mark.parametrize("name", ["ROSA DAMASCENA FLOWER OIL", "PARFUM", "NOT AN INGREDIENT"])
def test_unknown_never_zero(name):
    r = A.ingredient_absorption(name, 0.0)
    assert r["status"] == "unknown"
    assert r["absorption_index"] is None and r["x_vs_intact"] is None
    assert r["mw"] is None and r["curve"] is None and r["reason"]


def test_inorganic_is_unknown():
    r = A.ingredient_absorption("ZINC OXIDE", 0.0)
    assert r["status"] == "unknown" and r["absorption_index"] is None


@pytest.mark.parametrize("name", ["PALMITOYL PENTAPEPTIDE-4", "SODIUM HYALURONATE",
                                  "HYALURONIC ACID", "SH-OLIGOPEPTIDE-1",
                                  "ACETYL HEXAPEPTIDE-8"])
def test_large_molecules_channel_only(name):
    r = A.ingredient_absorption(name, 0.0)
    assert r["intact_term"] == A.NEGLIGIBLE == "negligible (outside the model's range)"
    assert r["intact_kp_cm_per_h"] is None and r["x_vs_intact"] is None
    assert r["absorption_index"] > 0 and r["mw"] > 500 and r["mw_source"]
    later = A.ingredient_absorption(name, 72.0)
    assert later["absorption_index"] < 0.15 * r["absorption_index"]
    assert A.ingredient_absorption(name, 0.0, depth_mm=0.0)["absorption_index"] == 0.0


def test_peptide_mw_from_report():
    r = A.ingredient_absorption("PALMITOYL PENTAPEPTIDE-4", 0.0)
    assert r["mw"] == pytest.approx(802.07)
    nia = A.ingredient_absorption("NIACINAMIDE", 0.0)
    assert r["channel_kp_cm_per_h"] < nia["channel_kp_cm_per_h"]  # bigger, slower


def test_product_absorption():
    from recommender.knowledge.reader import read_list

    parsed = read_list("Aqua, Glycerin, Niacinamide, Sodium Hyaluronate, Palmitoyl "
                       "Pentapeptide-4, Phenoxyethanol, Parfum, Mica, Tocopherol")
    day0 = A.product_absorption(parsed, 0.0, depth_mm=1.0)
    day3 = A.product_absorption(parsed, 72.0, depth_mm=1.0)
    intact = A.product_absorption(parsed, 0.0, depth_mm=0.0)
    assert day0["absorption_index"] > day3["absorption_index"] > intact["absorption_index"] > 0
    assert day0["x_vs_intact"] > 1 and intact["x_vs_intact"] == pytest.approx(1.0)
    assert 0 < day0["coverage"] < 1
    assert set(day0["unknown"]) >= {"Parfum", "Mica"}
    assert all(i["inci"] not in ("WATER", "AQUA") for i in day0["ingredients"])
    actives = {a["inci"]: a for a in day0["actives"]}
    assert set(actives) == {"NIACINAMIDE", "SODIUM HYALURONATE", "PALMITOYL PENTAPEPTIDE-4"}
    assert actives["NIACINAMIDE"]["x_vs_intact"] > 1
    assert actives["SODIUM HYALURONATE"]["intact_term"] == A.NEGLIGIBLE
    curve = day0["curve"]["absorption_index"]
    assert len(curve) == len(A.DEFAULT_CURVE_HOURS)
    assert curve[0] == pytest.approx(day0["absorption_index"])
    assert all(a > b for a, b in zip(curve, curve[1:], strict=False))


def test_position_weights_favour_early_ingredients():
    from recommender.knowledge.reader import read_list

    early = A.product_absorption(read_list("Retinol, Glycerin, Sucrose"), 24.0)
    late = A.product_absorption(read_list("Sucrose, Glycerin, Retinol"), 24.0)
    assert early["absorption_index"] > late["absorption_index"]
    assert A.position_weight(1) == 1.0 and A.position_weight(4) == 0.25


def test_product_with_nothing_known():
    from recommender.knowledge.reader import read_list

    r = A.product_absorption(read_list("Parfum, Mica"), 0.0)
    assert r["absorption_index"] is None and r["coverage"] == 0.0
