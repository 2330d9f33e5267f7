"""Absorption after microneedling: intact-skin pathway + decaying channel pathway.

DESIGN.md "Absorption"; science/REPORT.md section 4. Which user need each rule answers:

- "How much more of this serum gets in today than on untreated skin?" Per ingredient the
  effective permeability coefficient is the sum of two parallel pathways (Tobin &
  Brogden 2023's parallel-pathway form, REPORT section 4):

      kp_eff(t) = Kp + f_open(t) * eps * D_aq(MW) / L          [cm/h]
      f_open(t) = exp(-ln2 * t / t_half)

  Kp: intact human skin, from the permeability model (``recommender.learn.permeability``).
  Flux is kp_eff x concentration; the concentration is unknown, so everything below is
  per unit concentration, and a product aggregates ingredients by INCI position.
- Constants (each a module constant, each with its source; the ones marked "design
  choice" have none):

  ============  ==========================  ==============================================
  T             305.15 K                    skin surface ~32 C (in-vitro Franz-cell norm)
  eta           0.7646 mPa s                water at 32 C (CRC Handbook viscosity table)
  r(MW)         0.000834 MW + 0.179 nm      Stokes radius fit for small molecules, REPORT
                                            section 4 (Bhakna/PMSA2024 StokesEinstein.m);
                                            above 1000 Da: r(1000) (MW/1000)^(1/3) (globular
                                            scaling, Erickson 2009; design choice)
  d             70 um                       channel diameter at the surface, Kalluri 2011
  N/A           250 channels/cm^2           design choice (order of magnitude of a pen or
                                            roller pass); eps = N pi (d/2)^2 / A = 0.0096
  L             150 um                      channel depth, not needle length: Kalluri 2011
                                            measured ~152 um for 370/770 um rollers
  t_half        23 h                        modelled half-life 20-26 h in humans (PMC8259462)
  occlusion     t_half x 2                  design choice: occlusion delays resealing
                                            (Kalluri 2011, Gupta 2011), no factor published
  depth         t_half x 0.5 / 1 / 1.5      the protocol's depth steps (<= 0.25 mm, else,
                                            >= 1.5 mm): design choice, REPORT section 2
  ============  ==========================  ==============================================

  Needle depth enters only through channel lifetime: the measured channel depth barely
  followed needle length (Kalluri 2011), so L stays fixed. Renkin hindrance is ~1 in
  70 um channels and is omitted. depth_mm <= 0 means untreated skin (no channel term).
- ``absorption_index`` = kp_eff / 1e-3 cm/h: 1 is the intact-skin permeability of a small
  hydrophilic molecule such as caffeine or niacinamide. "x vs intact" = kp_eff / Kp.
- ``unknown`` (None, never 0) when the ingredient has no structure and no MW, is not in the
  KB, or is inorganic (no carbon: pigments, oxides and salts are particles or ions, outside
  both terms). Large molecules (MW > 500, the 500 Da rule of Bos & Meinardi 2000; or
  peptides, growth factors and hyaluronic acid without a MW) get the intact term
  "negligible (outside the model's range)" and only the channel term; their MW is taken
  from a short table of named actives (REPORT section 4) or a class nominal, and
  ``mw_source`` says which.
- Product: declared ingredients only (may-contain counts for safety, not benefit); water
  is the vehicle and is left out. Weight of position p = 1/p (design choice: INCI order is
  descending concentration above 1 %, true concentrations are unknown; 1/p is a gentle,
  documented decay). The product index is the weighted *geometric* mean of the
  ingredients' indices (they span orders of magnitude; an arithmetic mean would be the
  most lipophilic fragrance component; a negligible term counts as 1e-6 cm/h there, below
  the lowest Kp in the data), ``coverage`` is the share of weight that had a known index. Results per ingredient are cached per process (batch scoring).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

LN2 = math.log(2.0)
K_B = 1.380649e-23            # J/K
TEMPERATURE_K = 305.15        # skin surface, 32 C
WATER_VISCOSITY_PA_S = 0.7646e-3  # water at 32 C
RADIUS_SLOPE_NM_PER_DA = 0.000834
RADIUS_INTERCEPT_NM = 0.179
RADIUS_LINEAR_MAX_DA = 1000.0
CHANNEL_DIAMETER_CM = 70e-4
CHANNEL_DENSITY_PER_CM2 = 250.0
EPSILON = CHANNEL_DENSITY_PER_CM2 * math.pi * (CHANNEL_DIAMETER_CM / 2) ** 2
CHANNEL_DEPTH_CM = 150e-4
T_HALF_H = 23.0
OCCLUSION_FACTOR = 2.0
KP_REF_CM_PER_H = 1e-3
# "negligible" as a number, for the product's geometric mean only: 1e-6 cm/h, below the
# lowest Kp measured in Cheruvu 2022 (10^-5.4 cm/h). Ingredients report None, not this.
NEGLIGIBLE_INDEX = 1e-6 / KP_REF_CM_PER_H
INTACT_MW_LIMIT = 500.0
NEGLIGIBLE = "negligible (outside the model's range)"
DEFAULT_CURVE_HOURS = tuple(float(h) for h in range(0, 73, 6))
VEHICLE = frozenset({"WATER", "AQUA"})

LARGE_CLASSES = ("peptide", "growth_factor", "hyaluronic_acid")
ACTIVE_CLASSES = (
    "retinoid", "aha", "bha", "pha", "vitamin_c", "niacinamide", "peptide", "growth_factor",
    "hyaluronic_acid", "ceramide", "panthenol", "centella", "benzoyl_peroxide",
)
# MW of named large actives the KB has no structure for (REPORT section 4).
NOMINAL_MW = {
    "PALMITOYL PENTAPEPTIDE-4": (802.07, "pal-KTTKS, REPORT section 4 (Wikipedia; formula)"),
    "ACETYL HEXAPEPTIDE-8": (889.0, "REPORT section 4 (from formula, unverified)"),
    "TRIPEPTIDE-1": (340.4, "GHK, REPORT section 4 (from formula, unverified)"),
    "SH-OLIGOPEPTIDE-1": (6200.0, "EGF, 53 aa; vendor figure 6.2 kDa, REPORT section 4"),
}
CLASS_NOMINAL_MW = {
    "growth_factor": (6200.0, "class nominal: EGF 6.2 kDa (REPORT section 4)"),
    "hyaluronic_acid": (1.0e6, "class nominal: cosmetic-grade HA 1,000-1,400 kDa (REPORT "
                               "section 4); the grade is not on the label"),
    "peptide": (800.0, "class nominal: a cosmetic signal peptide (pal-KTTKS 802 Da); "
                       "design choice"),
}
HYDROLYZED_HA_MW = (1.0e4, "class nominal: hydrolyzed HA ~10 kDa; design choice")


# ----------------------------------------------------------------------------- physics

def stokes_radius_nm(mw: float) -> float:
    """Hydrodynamic radius (nm) from MW (Da): linear fit to 1000 Da, then MW^(1/3)."""
    if mw <= RADIUS_LINEAR_MAX_DA:
        return RADIUS_SLOPE_NM_PER_DA * mw + RADIUS_INTERCEPT_NM
    r_max = RADIUS_SLOPE_NM_PER_DA * RADIUS_LINEAR_MAX_DA + RADIUS_INTERCEPT_NM
    return r_max * (mw / RADIUS_LINEAR_MAX_DA) ** (1.0 / 3.0)


def d_aq_cm2_per_h(mw: float) -> float:
    """Aqueous diffusivity (cm^2/h) by Stokes-Einstein at 32 C."""
    r_m = stokes_radius_nm(mw) * 1e-9
    d_m2_s = K_B * TEMPERATURE_K / (6.0 * math.pi * WATER_VISCOSITY_PA_S * r_m)
    return d_m2_s * 1e4 * 3600.0


def channel_kp_cm_per_h(mw: float) -> float:
    """eps * D_aq / L: the channel pathway's permeability (cm/h) with every channel open."""
    return EPSILON * d_aq_cm2_per_h(mw) / CHANNEL_DEPTH_CM


def depth_factor(depth_mm: float) -> float:
    """The protocol's depth steps applied to channel lifetime (design choice)."""
    if depth_mm <= 0.25:
        return 0.5
    if depth_mm >= 1.5:
        return 1.5
    return 1.0


def t_half_hours(depth_mm: float = 1.0, occluded: bool = False,
                 t_half_h: float = T_HALF_H) -> float:
    return t_half_h * depth_factor(depth_mm) * (OCCLUSION_FACTOR if occluded else 1.0)


def f_open(t_hours, t_half_h: float = T_HALF_H):
    """Fraction of channels still open t hours after treatment (1 at t=0, 1/2 at t_half)."""
    t = np.asarray(t_hours, dtype=float)
    if np.any(t < 0):
        raise ValueError("t_hours must be >= 0 (hours after the end of the treatment)")
    out = np.exp(-LN2 * t / t_half_h)
    return float(out) if out.ndim == 0 else out


# ------------------------------------------------------------------ per-ingredient terms

_TERMS: dict[str, dict] = {}


def _record_for(record_or_name) -> tuple[str | None, dict | None]:
    if record_or_name is None:
        return None, None
    if isinstance(record_or_name, str):
        from recommender.knowledge.kb import default_kb

        return record_or_name, default_kb().record(record_or_name)
    rec = dict(record_or_name)
    return rec.get("inci"), rec


def _is_organic(smiles: str) -> bool:
    """Whether the structure has carbon (Crippen and the Kp data are organic-only)."""
    from recommender.learn.permeability import smiles_descriptors

    d = smiles_descriptors(smiles)
    return bool(d and d["organic"])


def _nominal_mw(inci: str | None, classes: Sequence[str]) -> tuple[float, str] | None:
    key = " ".join(str(inci or "").upper().split())
    if key in NOMINAL_MW:
        return NOMINAL_MW[key]
    if "hyaluronic_acid" in classes and "HYDROLYZED" in key:
        return HYDROLYZED_HA_MW
    for c in ("growth_factor", "hyaluronic_acid", "peptide"):
        if c in classes:
            return CLASS_NOMINAL_MW[c]
    return None


def _unknown(inci, classes, reason) -> dict:
    return {"inci": inci, "classes": list(classes), "status": "unknown", "reason": reason,
            "mw": None, "mw_source": None, "intact_term": "unknown",
            "intact_kp_cm_per_h": None, "logkp_cm_per_h": None, "out_of_domain": None,
            "channel_kp_open_cm_per_h": None}


def _terms_many(items: list[tuple[str | None, dict | None, tuple[str, ...]]]) -> list[dict]:
    """Time-independent terms for several ingredients; one permeability call for all."""
    from recommender.learn.permeability import predict_prepared, prepare

    out: list[dict | None] = [None] * len(items)
    to_predict: list[tuple[int, dict, float, str]] = []
    for i, (inci, rec, classes) in enumerate(items):
        if rec is None:
            out[i] = _unknown(inci, classes, "not in the knowledge base")
            continue
        smiles = rec.get("smiles") or ""
        mw, logkow = rec.get("mw"), rec.get("logkow")
        if smiles and not _is_organic(smiles):
            out[i] = _unknown(inci, classes, "inorganic (no carbon): particles and ions are "
                                             "outside the model")
            continue
        mw_source = "kb"
        prepared = None
        if smiles or (mw is not None and logkow is not None):
            try:
                prepared = prepare(smiles or None, None if smiles else mw, logkow)
                mw = prepared["features"]["mw"]  # the permeating species (no counter-ion)
                mw_source = "structure" if smiles else "kb"
            except ValueError:
                prepared = None
        if mw is None:
            nominal = _nominal_mw(inci, classes)
            if nominal is None:
                out[i] = _unknown(inci, classes, "no structure or MW")
                continue
            mw, mw_source = nominal
        large = mw > INTACT_MW_LIMIT or (prepared is None and any(
            c in classes for c in LARGE_CLASSES))
        base = {"inci": inci, "classes": list(classes), "status": "ok", "reason": None,
                "mw": float(mw), "mw_source": mw_source,
                "channel_kp_open_cm_per_h": channel_kp_cm_per_h(float(mw))}
        if large:
            base.update({"intact_term": NEGLIGIBLE, "intact_kp_cm_per_h": None,
                         "logkp_cm_per_h": None, "out_of_domain": True,
                         "reason": f"MW {mw:.0f} Da > {INTACT_MW_LIMIT:.0f} Da: only the "
                                   f"channel pathway"})
            out[i] = base
        elif prepared is None:
            base.update({"intact_term": "unknown", "intact_kp_cm_per_h": None,
                         "logkp_cm_per_h": None, "out_of_domain": None,
                         "reason": "no logKow: intact term unknown"})
            out[i] = base
        else:
            out[i] = base
            to_predict.append((i, prepared, mw, mw_source))
    if to_predict:
        preds = predict_prepared([p for _, p, _, _ in to_predict])
        for (i, _p, _mw, _src), pred in zip(to_predict, preds, strict=True):
            out[i].update({"intact_term": "model",
                           "intact_kp_cm_per_h": pred["kp_cm_per_h"],
                           "logkp_cm_per_h": pred["logkp_cm_per_h"],
                           "out_of_domain": pred["out_of_domain"],
                           "domain_reasons": pred["domain_reasons"]})
    return out  # type: ignore[return-value]


def _cache_key(inci: str | None, classes: Sequence[str]) -> tuple | None:
    return None if inci is None else (inci, tuple(classes))


def prefetch(names: Iterable[str], classes: dict[str, Sequence[str]] | None = None) -> None:
    """Compute and cache the terms of many canonical names at once: one permeability call
    for all of them (batch scoring: call it once per chunk with every name in the chunk).
    ``classes``: name -> classes as the reader gave them (default: the KB record's)."""
    classes = classes or {}
    todo = []
    queued = set()
    for n in names:
        if n is None:
            continue
        given = classes.get(n)
        if given is not None:
            key = _cache_key(n, given)
            if key in _TERMS or key in queued:
                continue
            inci, rec = _record_for(n)
            cls = tuple(given)
        else:
            inci, rec = _record_for(n)
            cls = tuple((rec or {}).get("classes") or ())
            key = _cache_key(inci, cls)
            if key in _TERMS or key in queued:
                continue
        queued.add(key)
        todo.append((key, (inci, rec, cls)))
    if todo:
        for (key, _), terms in zip(todo, _terms_many([t for _, t in todo]), strict=True):
            _TERMS[key] = terms


def prefetch_parsed(parsed_lists: Iterable) -> None:
    """``prefetch`` for every declared mention of many ``ParsedList`` objects."""
    names: dict[str, Sequence[str]] = {}
    for parsed in parsed_lists:
        for m in getattr(parsed, "ingredients", ()):
            if m.inci and m.section == "declared":
                names.setdefault(m.inci, m.classes)
    prefetch(list(names), names)


def clear_cache() -> None:
    _TERMS.clear()


def _terms(record_or_name, classes: Sequence[str] | None) -> dict:
    if isinstance(record_or_name, str) and classes is not None:
        hit = _TERMS.get(_cache_key(record_or_name, classes))
        if hit is not None:
            return hit
    inci, rec = _record_for(record_or_name)
    cls = tuple(classes if classes is not None else ((rec or {}).get("classes") or ()))
    key = _cache_key(inci, cls)
    if key is not None and key in _TERMS and isinstance(record_or_name, str):
        return _TERMS[key]
    terms = _terms_many([(inci, rec, cls)])[0]
    if key is not None and isinstance(record_or_name, str):
        _TERMS[key] = terms
    return terms


def _at(terms: dict, t, t_half: float, treated: bool):
    """kp_eff, channel, f_open, index and x-vs-intact at time(s) t (scalars or arrays)."""
    if terms["status"] != "ok":
        return None
    f = f_open(t, t_half) if treated else (0.0 * np.asarray(t, float) if np.ndim(t) else 0.0)
    channel = terms["channel_kp_open_cm_per_h"] * np.asarray(f)
    intact = terms["intact_kp_cm_per_h"]
    if terms["intact_term"] == "unknown":
        return {"f_open": f, "channel": channel, "kp_eff": None, "index": None, "x": None}
    kp_eff = channel + (intact or 0.0)
    x = None if not intact else kp_eff / intact
    return {"f_open": f, "channel": channel, "kp_eff": kp_eff, "index": kp_eff / KP_REF_CM_PER_H,
            "x": x}


_SIGNIFICANT = {4: "%.4g", 6: "%.6g"}


def _num(v, digits: int = 6):
    """``v`` (a number or an array) rounded to ``digits`` significant digits, through the
    text ``f"{v:.{digits}g}"`` (printf's ``%g``: the same text, without building the format
    each call)."""
    if v is None:
        return None
    fmt = _SIGNIFICANT.get(digits) or f"%.{digits}g"
    if type(v) is float:
        return float(fmt % v)
    a = np.asarray(v, float)
    if a.ndim == 0:
        return float(fmt % float(a))
    return [float(fmt % x) for x in a]


def ingredient_absorption(record, t_hours: float, *, depth_mm: float = 1.0,
                          occluded: bool = False, classes: Sequence[str] | None = None,
                          curve_hours: Sequence[float] | None = DEFAULT_CURVE_HOURS) -> dict:
    """Absorption of one ingredient ``t_hours`` after treatment.

    ``record``: a KB record (``default_kb().record(inci)``) or a canonical name. Returns
    {"inci", "classes", "status": "ok"|"unknown", "reason", "mw", "mw_source",
    "intact_term": "model"|NEGLIGIBLE|"unknown", "intact_kp_cm_per_h", "logkp_cm_per_h",
    "out_of_domain", "channel_kp_cm_per_h" (at t), "f_open", "t_half_h",
    "kp_eff_cm_per_h", "absorption_index", "x_vs_intact", "x_vs_intact_note", "active",
    "curve": {"t_hours": [...], "absorption_index": [...]}}. Every unknown is None.
    """
    terms = _terms(record, classes)
    treated = depth_mm > 0
    th = t_half_hours(depth_mm, occluded) if treated else None
    out = {k: v for k, v in terms.items() if k != "channel_kp_open_cm_per_h"}
    out.update({"t_hours": float(t_hours), "depth_mm": float(depth_mm), "occluded": occluded,
                "t_half_h": th, "active": any(c in ACTIVE_CLASSES for c in terms["classes"])})
    now = _at(terms, float(t_hours), th or 1.0, treated)
    if now is None:
        out.update({"f_open": None, "channel_kp_cm_per_h": None, "kp_eff_cm_per_h": None,
                    "absorption_index": None, "x_vs_intact": None,
                    "x_vs_intact_note": terms["reason"], "curve": None})
        return out
    note = None
    if terms["intact_term"] == NEGLIGIBLE:
        note = "intact term negligible: reaches the skin only through open channels"
    elif terms["intact_term"] == "unknown":
        note = "intact term unknown"
    out.update({
        "f_open": _num(now["f_open"]), "channel_kp_cm_per_h": _num(now["channel"]),
        "kp_eff_cm_per_h": _num(now["kp_eff"]), "absorption_index": _num(now["index"]),
        "x_vs_intact": _num(now["x"], 4), "x_vs_intact_note": note,
        "intact_kp_cm_per_h": _num(terms["intact_kp_cm_per_h"]),
        "logkp_cm_per_h": _num(terms["logkp_cm_per_h"], 4),
        "channel_kp_open_cm_per_h": _num(terms["channel_kp_open_cm_per_h"]),
    })
    if curve_hours is not None:
        times = np.asarray(list(curve_hours), float)
        c = _at(terms, times, th or 1.0, treated)
        out["curve"] = {"t_hours": times.tolist(), "absorption_index": _num(c["index"]),
                        "x_vs_intact": _num(c["x"], 4)}
    return out


def position_weight(position: int) -> float:
    """Concentration proxy of the ingredient at 1-based ``position`` (1/p, design choice)."""
    return 1.0 / max(int(position), 1)


def product_absorption(parsed, t_hours: float, *, depth_mm: float = 1.0,
                       occluded: bool = False,
                       curve_hours: Sequence[float] | None = DEFAULT_CURVE_HOURS,
                       detail: bool = True) -> dict:
    """Absorption of one product (a ``ParsedList`` from ``reader.read_list``).

    Returns {"absorption_index" (None when no ingredient is known), "x_vs_intact",
    "coverage" (share of position weight with a known index), "t_hours", "t_half_h",
    "actives": [{"inci", "position", "classes", "absorption_index", "x_vs_intact",
    "intact_term", "x_vs_intact_note"}], "unknown": [names], "curve":
    {"t_hours", "absorption_index"} (None with ``curve_hours=None``), "ingredients":
    [per-ingredient summaries]}. ~0.2 ms per 30-ingredient product once its ingredients are cached
    (``prefetch_parsed`` fills the cache for a whole chunk in one model call).
    ``detail=False`` (batch scoring): the same numbers, with "actives", "unknown" and
    "ingredients" left empty.
    """
    mentions = [m for m in getattr(parsed, "ingredients", ()) if m.section == "declared"]
    missing = [m.inci for m in mentions
               if m.inci and _cache_key(m.inci, m.classes) not in _TERMS]
    if missing:
        prefetch(missing, {m.inci: m.classes for m in mentions if m.inci})
    treated = depth_mm > 0
    th = t_half_hours(depth_mm, occluded) if treated else None
    if t_hours < 0:
        raise ValueError("t_hours must be >= 0 (hours after the end of the treatment)")
    f_now = math.exp(-LN2 * t_hours / th) if treated else 0.0
    times = np.asarray(list(curve_hours), float) if curve_hours is not None else None
    f_curve = (np.exp(-LN2 * times / th) if treated else np.zeros(len(times))) \
        if times is not None else None
    log_neg = math.log10(NEGLIGIBLE_INDEX)
    logsum = w_known = w_total = w_ratio = ratio_logsum = log_intact_sum = 0.0
    curve_logsum = np.zeros(len(times)) if times is not None else None
    actives, unknown, rows = [], [], []
    seen: set[str] = set()
    for m in mentions:
        if m.inci in VEHICLE:
            continue
        w = 1.0 / max(m.position, 1)
        w_total += w
        if not m.inci:
            if detail:
                unknown.append(m.raw)
            continue
        terms = _TERMS.get(_cache_key(m.inci, m.classes)) or _terms(m.inci, m.classes)
        is_active = any(c in ACTIVE_CLASSES for c in terms["classes"])
        if terms["status"] != "ok" or terms["intact_term"] == "unknown":
            if not detail:
                continue
            unknown.append(m.raw)
            rows.append({"inci": m.inci, "position": m.position, "absorption_index": None,
                         "reason": terms["reason"] or "intact term unknown"})
            if is_active and m.inci not in seen:
                seen.add(m.inci)
                actives.append({"inci": m.inci, "position": m.position,
                                "classes": list(terms["classes"]), "absorption_index": None,
                                "x_vs_intact": None, "intact_term": terms["intact_term"],
                                "x_vs_intact_note": terms["reason"]})
            continue
        intact = terms["intact_kp_cm_per_h"] or 0.0
        channel = terms["channel_kp_open_cm_per_h"]
        idx = (intact + f_now * channel) / KP_REF_CM_PER_H
        log_idx = math.log10(idx) if idx > 0 else log_neg
        logsum += w * max(log_idx, log_neg)
        w_known += w
        if curve_logsum is not None:
            c_idx = (intact + f_curve * channel) / KP_REF_CM_PER_H
            curve_logsum += w * np.log10(np.maximum(c_idx, NEGLIGIBLE_INDEX))
        x = None
        if terms["intact_term"] == "model":
            x = idx * KP_REF_CM_PER_H / intact
            ratio_logsum += w * log_idx
            log_intact_sum += w * math.log10(intact / KP_REF_CM_PER_H)
            w_ratio += w
        if not detail:
            continue
        rows.append({"inci": m.inci, "position": m.position,
                     "absorption_index": _num(idx), "x_vs_intact": _num(x, 4),
                     "intact_term": terms["intact_term"]})
        if is_active and m.inci not in seen:
            seen.add(m.inci)
            actives.append({
                "inci": m.inci, "position": m.position, "classes": list(terms["classes"]),
                "absorption_index": _num(idx), "x_vs_intact": _num(x, 4),
                "intact_term": terms["intact_term"],
                "x_vs_intact_note": ("intact term negligible: only through open channels"
                                     if terms["intact_term"] == NEGLIGIBLE else None),
            })
    result = {"t_hours": float(t_hours), "depth_mm": float(depth_mm), "occluded": occluded,
              "t_half_h": th, "coverage": round(w_known / w_total, 4) if w_total else 0.0,
              "absorption_index": None, "x_vs_intact": None, "actives": actives,
              "unknown": unknown, "curve": None, "ingredients": rows}
    if w_known:
        result["absorption_index"] = _num(10 ** (logsum / w_known))
        if w_ratio:
            result["x_vs_intact"] = _num(10 ** ((ratio_logsum - log_intact_sum) / w_ratio), 4)
        if curve_logsum is not None:
            result["curve"] = {"t_hours": times.tolist(),
                               "absorption_index": _num(10 ** (curve_logsum / w_known))}
    return result

def product_absorption_many(parsed_lists: Sequence, t_hours: float, *, depth_mm: float = 1.0,
                            occluded: bool = False) -> list[tuple[float | None, float | None]]:
    """(absorption_index, x_vs_intact) of many products (batch scoring): the numbers
    :func:`product_absorption` gives with ``curve_hours=None, detail=False``; see
    :class:`AbsorptionPlan` (one permeability call for every ingredient of the batch not
    cached yet)."""
    if not len(parsed_lists):
        return []
    index, x = AbsorptionPlan(parsed_lists).at(t_hours, depth_mm=depth_mm, occluded=occluded)
    return [(None if v != v else v, None if r != r else r)
            for v, r in zip(index.tolist(), x.tolist(), strict=True)]


class AbsorptionPlan:
    """The absorption terms of many products, kept to answer for any time and depth.

    Which need it answers: batch scoring asks for a chunk's absorption once; the web app's
    prepared catalog asks for the ~35 products a request shows, at that request's time and
    depth, thousands of times over the same catalog. The plan holds each distinct (INCI,
    classes) ingredient's intact and channel permeability (one permeability call for all
    not cached yet) and each product's declared, non-vehicle ingredients as (ingredient,
    weight 1/p) pairs in label order; :meth:`at` evaluates :func:`product_absorption`'s
    product numbers (``detail=False``) for all products or some rows, summing each product's
    terms in label order (``np.bincount`` adds sequentially), rounded as it rounds them.
    """

    def __init__(self, parsed_lists: Sequence):
        keys: dict[tuple, int] = {}
        pair_key: list[int] = []
        pair_pos: list[int] = []
        pair_len: list[int] = []
        for p in parsed_lists:
            k0 = len(pair_key)
            for m in getattr(p, "ingredients", ()):
                inci = m.inci
                if not inci or m.section != "declared" or inci in VEHICLE:
                    continue
                cls = m.classes
                key = (inci, cls if type(cls) is tuple else tuple(cls))
                i = keys.get(key)
                if i is None:
                    i = keys[key] = len(keys)
                pair_key.append(i)
                pair_pos.append(m.position)
            pair_len.append(len(pair_key) - k0)
        missing = [k for k in keys if k not in _TERMS]
        if missing:
            items = []
            for inci, cls in missing:
                name, rec = _record_for(inci)
                items.append((name, rec, cls))
            for key, terms in zip(missing, _terms_many(items), strict=True):
                _TERMS[key] = terms
        n_keys = len(keys)
        self.known = np.zeros(n_keys, dtype=bool)     # has an index
        self.model = np.zeros(n_keys, dtype=bool)     # intact term from the model (counts for x)
        self.intact = np.zeros(n_keys)
        self.channel = np.zeros(n_keys)
        for key, i in keys.items():
            terms = _TERMS[key]
            if terms["status"] != "ok" or terms["intact_term"] == "unknown":
                continue
            self.known[i] = True
            self.intact[i] = terms["intact_kp_cm_per_h"] or 0.0
            self.channel[i] = terms["channel_kp_open_cm_per_h"]
            self.model[i] = terms["intact_term"] == "model"
        self.pair_key = np.asarray(pair_key, dtype=np.int64)
        self.pair_w = 1.0 / np.maximum(np.asarray(pair_pos, dtype=np.int64), 1)
        self.lengths = np.asarray(pair_len, dtype=np.int64)
        self._known: dict | None = None           # _known_pairs, taken on the first at()

    def __len__(self) -> int:
        return len(self.lengths)

    def _known_pairs(self) -> tuple:
        """Each product's known pairs (an index: every term :meth:`at` sums), in label order,
        with what does not depend on the time, taken once per plan: per pair its intact and
        channel permeability, weight, whether its intact term is modelled and the log of
        that term; per product the sums of weights and of weighted log intact terms.
        (np.bincount adds each product's terms in array order, so a sum taken here over the
        whole catalog is the sum over any rows' pairs.)"""
        got = self._known
        if got is None:
            n = len(self.lengths)
            row = np.repeat(np.arange(n, dtype=np.int64), self.lengths)
            sel = self.known[self.pair_key]
            kk, wk, r = self.pair_key[sel], self.pair_w[sel], row[sel]
            counts = np.bincount(r, minlength=n).astype(np.int64)
            m = self.model[kk]
            with np.errstate(divide="ignore", invalid="ignore"):
                log_intact = np.log10(self.intact[kk[m]] / KP_REF_CM_PER_H)
            got = self._known = {
                "intact": self.intact[kk], "channel": self.channel[kk], "w": wk, "model": m,
                "counts": counts, "starts": np.concatenate([[0], np.cumsum(counts)[:-1]]),
                "w_known": np.bincount(r, weights=wk, minlength=n),
                "w_ratio": np.bincount(r[m], weights=wk[m], minlength=n),
                "log_intact_sum": np.bincount(r[m], weights=wk[m] * log_intact, minlength=n),
            }
        return got

    def at(self, t_hours: float, *, depth_mm: float = 1.0, occluded: bool = False,
           rows: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(absorption_index, x_vs_intact) per product (``rows``: of those products only, in
        that order), NaN where unknown. Only the terms' open-channel part is computed per
        call (:meth:`_known_pairs` holds the rest): the web app's prepared catalog asks for
        the ~35 rows a request shows."""
        if t_hours < 0:
            raise ValueError("t_hours must be >= 0 (hours after the end of the treatment)")
        treated = depth_mm > 0
        f_now = math.exp(-LN2 * t_hours / t_half_hours(depth_mm, occluded)) if treated else 0.0
        kp = self._known_pairs()
        if rows is None:
            n = len(self.lengths)
            intact, channel, wk, m = kp["intact"], kp["channel"], kp["w"], kp["model"]
            r = np.repeat(np.arange(n, dtype=np.int64), kp["counts"])
            w_known, w_ratio, lis = kp["w_known"], kp["w_ratio"], kp["log_intact_sum"]
        else:
            rows = np.asarray(rows, dtype=np.int64)
            n = len(rows)
            lens = kp["counts"][rows]
            r = np.repeat(np.arange(n, dtype=np.int64), lens)
            # each chosen product's known pairs, in label order
            take = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(
                kp["starts"][rows] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
            intact, channel = kp["intact"][take], kp["channel"][take]
            wk, m = kp["w"][take], kp["model"][take]
            w_known, w_ratio = kp["w_known"][rows], kp["w_ratio"][rows]
            lis = kp["log_intact_sum"][rows]
        log_neg = math.log10(NEGLIGIBLE_INDEX)
        with np.errstate(divide="ignore", invalid="ignore"):
            idx = (intact + f_now * channel) / KP_REF_CM_PER_H
            log_idx = np.where(idx > 0, np.log10(np.where(idx > 0, idx, 1.0)), log_neg)
            logsum = np.bincount(r, weights=wk * np.maximum(log_idx, log_neg), minlength=n)
            ratio_logsum = np.bincount(r[m], weights=wk[m] * log_idx[m], minlength=n)
        index = [math.nan] * n
        x = [math.nan] * n
        ls, wkn, rl, lsi, wr = (logsum.tolist(), w_known.tolist(), ratio_logsum.tolist(),
                                lis.tolist(), w_ratio.tolist())
        for j in range(n):
            if wkn[j]:
                index[j] = _num(10 ** (ls[j] / wkn[j]))
                if wr[j]:
                    x[j] = _num(10 ** ((rl[j] - lsi[j]) / wr[j]), 4)
        return np.array(index, dtype=float), np.array(x, dtype=float)


TYPICAL_ACTIVES = ("NIACINAMIDE", "ASCORBIC ACID", "RETINOL", "PANTHENOL",
                   "PALMITOYL PENTAPEPTIDE-4")


def plot_actives(path, names: Sequence[str] = TYPICAL_ACTIVES, *, depth_mm: float = 1.0,
                 hours: float = 72.0):
    """PNG: absorption index over ``hours`` after treatment for typical actives (log axis),
    with each one's intact-skin level dashed. Needs matplotlib."""
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.linspace(0.0, hours, 73)
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for i, name in enumerate(names):
        res = ingredient_absorption(name, 0.0, depth_mm=depth_mm, curve_hours=times)
        color = f"C{i}"
        if res["curve"] is None or res["curve"]["absorption_index"] is None:
            continue
        label = f"{name.lower()} ({res['mw']:.0f} Da"
        label += ", channel only)" if res["intact_term"] == NEGLIGIBLE else (
            f", x{res['x_vs_intact']:.1f} at 0 h)")
        ax.plot(times, res["curve"]["absorption_index"], color=color, label=label)
        if res["intact_kp_cm_per_h"]:
            ax.axhline(res["intact_kp_cm_per_h"] / KP_REF_CM_PER_H, color=color, lw=0.8,
                       ls="--")
    ax.set_yscale("log")
    ax.set_xlabel("hours after microneedling")
    ax.set_ylabel("absorption index (kp_eff / 1e-3 cm/h)")
    ax.set_title(f"Intact pathway (dashed) + channel pathway, {depth_mm} mm, t½ "
                 f"{t_half_hours(depth_mm):.0f} h, not occluded", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path
