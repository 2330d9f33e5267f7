"""log Kp (cm/h) through intact human skin from molecular descriptors (DESIGN.md, learned 3).

Which real input or user need each rule answers:

- The absorption estimate needs the intact-skin permeability coefficient of each defined
  ingredient (``predict_for_record``: a KB record with its SMILES, MW and logKow), and
  ``skinrec kp`` answers it for a user's compounds (``predict_prepared``: SMILES, or MW
  + logKow only). Units are cm/h everywhere (``UNIT``); Potts & Guy's published equation is
  in cm/s (intercept -6.3) and becomes -2.74 in cm/h: ``potts_guy_logkp`` converts
  explicitly and a test pins both forms.
- Training data: Cheruvu et al. 2022 (Data in Brief 42:108242, CC BY 4.0): 476
  measurements from aqueous vehicles, human skin. Several measurements per compound
  (corticosterone 62, estradiol 32, water 31): the model is fitted on one row per
  compound (the mean log Kp), so a compound studied often does not outweigh one studied
  once. Compounds are identified by normalised CAS number *and* by structure: the CAS
  column has 30 numbers under several spellings/names, two Excel-mangled numbers
  ("1/4/2871" is 2871-01-4, HC Red No. 3), stray bytes ("64\ufffd17-5") and four blanks;
  rows sharing a normalised CAS or an InChIKey skeleton (first block) form one group
  (union-find), so no compound is ever on both sides of a CV split.
- Descriptors only, never experimental conditions (temperature, skin thickness, integrity
  test, reference): a recommender knows the molecule, not the experiment. Descriptors are
  computed with RDKit on the largest organic fragment (the permeating species: salts lose
  their counter-ion, hydrates their water); logKow is the dataset's curated value when
  training and the caller's value (KB: measured, else Crippen) when predicting; Crippen
  on the neutralised parent is also a feature of its own. Melting point and solubility
  are in the data but not in the KB, so they are not used.
- Model: extremely randomised trees (100 trees, min 2 compounds per leaf, half the
  features per split) on 19 descriptors, one of them the Potts-Guy estimate (trees can
  then split along the known linear trend instead of rebuilding it from steps). Chosen
  among a handful of candidates (random forest, gradient boosting, histogram boosting
  with monotone constraints, extra trees + ridge, extra trees with other leaf sizes) on
  fold seeds 100-101; the reported figures use seeds 0-4 of the same grouped 5-fold
  scheme, so they carry a small selection bias. A second model (extra trees on MW, logKow
  and Potts-Guy, all features per split) serves inputs without a structure.
- Result (models/permeability/metrics.json): R^2 per compound 0.71 +- 0.02 (linear refit
  0.47, Potts-Guy published -0.01), per measurement 0.52 +- 0.01 (linear refit 0.39).
- Metrics at two levels: per compound (each compound once, its mean log Kp; the model's
  job) and per measurement (every row, each compound predicted once; replicate scatter
  caps R^2 near 0.84 and corticosterone's 62 rows, 0.8-1.9 log units above the related
  corticoids (cortexone, hydrocortisone, aldosterone, cortisone), cost ~0.16 of it).
- Applicability domain: the data stop at 504 Da. A prediction is ``out_of_domain`` when
  MW > 600 or a descriptor lies outside the training range widened by 10 % of that
  range; the value is still returned (the caller decides), with the reasons.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from recommender import config

UNIT = "cm/h"
LOG10_SECONDS_PER_HOUR = math.log10(3600.0)  # 3.5563: log Kp[cm/h] = log Kp[cm/s] + this
POTTS_GUY = {"intercept_cm_per_s": -6.3, "logkow": 0.71, "mw": -0.0061}  # Pharm Res 9:663
MW_LIMIT = 600.0              # beyond this the model is never trusted (data stop at 504 Da)
DOMAIN_MARGIN = 0.10          # training range widened by this fraction of the range
MODEL_DIR = config.MODELS_DIR / "permeability"
MODEL_FILE = "permeability.joblib"
MODEL_NAME = "kp-extratrees"
SEEDS = (0, 1, 2, 3, 4)
N_SPLITS = 5

DESCRIPTORS = (
    "mw", "logkow", "hbd", "hba", "tpsa", "rotb", "arom_rings", "rings", "fsp3", "charge",
    "abs_charge", "heavy_atoms", "halogens", "n_nitrogen", "n_oxygen", "crippen", "mol_mr",
    "labute_asa",
)
FEATURES = (*DESCRIPTORS, "potts_guy")
REDUCED_FEATURES = ("mw", "logkow", "potts_guy")
DOMAIN_FEATURES = ("logkow", "hbd", "hba", "tpsa", "rotb")  # MW has its own fixed limit
_ET_PARAMS = {"n_estimators": 100, "min_samples_leaf": 2, "max_features": 0.5}
_ET_REDUCED_PARAMS = {"n_estimators": 100, "min_samples_leaf": 2, "max_features": 1.0}


def potts_guy_logkp(logkow, mw, unit: str = "cm/h"):
    """Potts & Guy 1992 with published coefficients: log10 Kp in ``unit`` (cm/s or cm/h).

    Published in cm/s: -6.3 + 0.71 logKow - 0.0061 MW; in cm/h the intercept is
    -6.3 + log10(3600) = -2.744 (often rounded to -2.7 or -2.72).
    """
    logkow = np.asarray(logkow, dtype=float)
    mw = np.asarray(mw, dtype=float)
    cm_s = POTTS_GUY["intercept_cm_per_s"] + POTTS_GUY["logkow"] * logkow + POTTS_GUY["mw"] * mw
    if unit == "cm/s":
        return cm_s
    if unit == "cm/h":
        return cm_s + LOG10_SECONDS_PER_HOUR
    raise ValueError(f"unit must be 'cm/s' or 'cm/h', not {unit!r}")


# ---------------------------------------------------------------------------- descriptors

@functools.lru_cache(maxsize=1)
def _rdkit():
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Crippen, Descriptors, Lipinski, rdMolDescriptors
    from rdkit.Chem.MolStandardize import rdMolStandardize

    RDLogger.DisableLog("rdApp.*")
    chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
    return Chem, Crippen, Descriptors, Lipinski, rdMolDescriptors, chooser, rdMolStandardize


@functools.lru_cache(maxsize=65536)
def smiles_descriptors(smiles: str) -> dict | None:
    """RDKit descriptors of the permeating species of one SMILES (None if unparsable).

    ``logkow`` is not set here (it comes from the data or the caller); ``crippen`` is
    Crippen's logP of the neutralised largest organic fragment.
    """
    Chem, Crippen, D, Lipinski, R, chooser, std = _rdkit()
    if not isinstance(smiles, str) or not smiles.strip():
        return None
    mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None or mol.GetNumAtoms() == 0:
        return None
    try:
        frag = chooser.choose(mol)
    except Exception:  # standardiser failure: use the molecule as given
        frag = mol
    try:
        neutral = std.Uncharger().uncharge(frag)
    except Exception:
        neutral = frag
    atoms = list(frag.GetAtoms())
    return {
        "organic": any(a.GetAtomicNum() == 6 for a in atoms),
        "mw": float(D.MolWt(frag)),
        "hbd": int(Lipinski.NumHDonors(frag)),
        "hba": int(Lipinski.NumHAcceptors(frag)),
        "tpsa": float(R.CalcTPSA(frag)),
        "rotb": int(R.CalcNumRotatableBonds(frag)),
        "arom_rings": int(R.CalcNumAromaticRings(frag)),
        "rings": int(R.CalcNumRings(frag)),
        "fsp3": float(R.CalcFractionCSP3(frag)),
        "charge": int(sum(a.GetFormalCharge() for a in atoms)),
        "abs_charge": int(sum(abs(a.GetFormalCharge()) for a in atoms)),
        "heavy_atoms": int(frag.GetNumHeavyAtoms()),
        "halogens": int(sum(a.GetSymbol() in ("F", "Cl", "Br", "I") for a in atoms)),
        "n_nitrogen": int(sum(a.GetSymbol() == "N" for a in atoms)),
        "n_oxygen": int(sum(a.GetSymbol() == "O" for a in atoms)),
        "crippen": float(Crippen.MolLogP(neutral)),
        "mol_mr": float(Crippen.MolMR(frag)),
        "labute_asa": float(R.CalcLabuteASA(frag)),
    }


def inchikey_skeleton(smiles: str) -> str | None:
    """First InChIKey block (connectivity, no stereo) of the permeating species."""
    Chem, *_rest, chooser, _std = _rdkit()
    mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    if mol is None:
        return None
    with contextlib.suppress(Exception):
        mol = chooser.choose(mol)
    key = Chem.MolToInchiKey(mol)
    return key.split("-")[0] if key else None


def add_potts_guy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["potts_guy"] = potts_guy_logkp(frame["logkow"], frame["mw"], unit="cm/h")
    return frame


# ---------------------------------------------------------------------------------- data

_DATE_CAS = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def normalise_cas(raw: object) -> str:
    """A CAS number in canonical form, '' when there is none.

    Repairs what the file holds: Excel dates ("1/4/2871" -> 2871-01-4, read m/d/yyyy from
    "2871-01-4"), stray non-digit bytes ("64\ufffd17-5" -> 64-17-5), spaces. The check
    digit is not enforced (a wrong digit still names one compound in this file).
    """
    if not isinstance(raw, str):
        return ""
    m = _DATE_CAS.match(raw)
    if m:
        return f"{m.group(3)}-{int(m.group(1)):02d}-{m.group(2)}"
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 5:
        return ""
    return f"{int(digits[:-3])}-{digits[-3:-1]}-{digits[-1]}"


def _union_groups(cas: list[str], skeletons: list[str]) -> list[str]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # deterministic representative

    for c, k in zip(cas, skeletons, strict=True):
        find(f"ik:{k}")
        if c:
            union(f"cas:{c}", f"ik:{k}")
    # name each group by its smallest CAS (readable), else its skeleton
    members: dict[str, list[str]] = {}
    for node in list(parent):
        members.setdefault(find(node), []).append(node)
    label = {}
    for root, nodes in members.items():
        cas_nodes = sorted(n[4:] for n in nodes if n.startswith("cas:"))
        label[root] = cas_nodes[0] if cas_nodes else min(nodes)
    return [label[find(f"ik:{k}")] for k in skeletons]


def load_measurements(path: str | Path | None = None) -> pd.DataFrame:
    """One row per measurement: name, cas (normalised), group, smiles, logkow, logkp."""
    path = Path(path) if path is not None else config.data_path(config.PERMEABILITY)
    if not path.is_file():
        raise FileNotFoundError(f"permeability data not found at {path}. {config.DATA_HOWTO}")
    raw = pd.read_csv(path)
    need = {"Compound", "SMILES", "CAS No", "logKowb", "logkpl"}
    missing = need - set(raw.columns)
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    out = pd.DataFrame({
        "row": np.arange(1, len(raw) + 1),
        "name": raw["Compound"].astype("string").str.strip(),
        "cas": [normalise_cas(c) for c in raw["CAS No"]],
        "smiles": raw["SMILES"].astype("string").str.strip(),
        "logkow": pd.to_numeric(raw["logKowb"], errors="coerce"),
        "logkp": pd.to_numeric(raw["logkpl"], errors="coerce"),  # log10 cm/h (paper, note l)
    })
    out = out.dropna(subset=["smiles", "logkow", "logkp"]).reset_index(drop=True)
    skeletons = [inchikey_skeleton(s) for s in out["smiles"]]
    keep = [k is not None for k in skeletons]
    out = out.loc[keep].reset_index(drop=True)
    out["group"] = _union_groups(list(out["cas"]), [k for k in skeletons if k is not None])
    return out


def compound_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per compound group: descriptors, mean curated logKow, mean log Kp, n."""
    records = []
    for group, g in rows.groupby("group", sort=True):
        smiles = g["smiles"].iloc[0]
        desc = smiles_descriptors(smiles)
        if desc is None:
            continue
        records.append({
            "group": group, "name": g["name"].iloc[0], "smiles": smiles,
            **{k: v for k, v in desc.items() if k != "organic"},
            "logkow": float(g["logkow"].mean()), "logkp": float(g["logkp"].mean()),
            "n": len(g),
        })
    table = pd.DataFrame.from_records(records)
    return add_potts_guy(table).set_index("group", drop=False)


# ---------------------------------------------------------------------------------- model

@dataclass
class PermeabilityModel:
    """Both regressors, their feature lists and the applicability domain. Pickled as is."""

    full: object
    reduced: object
    features: tuple[str, ...]
    reduced_features: tuple[str, ...]
    domain: dict[str, tuple[float, float]]
    mw_limit: float = MW_LIMIT
    unit: str = UNIT
    name: str = MODEL_NAME
    n_compounds: int = 0
    seed: int = 0
    info: dict = field(default_factory=dict)


def _regressor(seed: int, reduced: bool = False):
    from sklearn.ensemble import ExtraTreesRegressor

    params = _ET_REDUCED_PARAMS if reduced else _ET_PARAMS
    return ExtraTreesRegressor(**params, random_state=seed, n_jobs=1)


def _domain(table: pd.DataFrame) -> dict[str, tuple[float, float]]:
    out = {}
    for c in DOMAIN_FEATURES:
        lo, hi = float(table[c].min()), float(table[c].max())
        pad = DOMAIN_MARGIN * (hi - lo)
        out[c] = (round(lo - pad, 6), round(hi + pad, 6))
    return out


def fit(table: pd.DataFrame, seed: int = 0) -> PermeabilityModel:
    """Fit both regressors on a compound table (``compound_table``)."""
    y = table["logkp"].to_numpy(float)
    full = _regressor(seed).fit(table[list(FEATURES)].to_numpy(float), y)
    reduced = _regressor(seed, reduced=True).fit(table[list(REDUCED_FEATURES)].to_numpy(float), y)
    return PermeabilityModel(
        full=full, reduced=reduced, features=FEATURES, reduced_features=REDUCED_FEATURES,
        domain=_domain(table), n_compounds=len(table), seed=seed,
    )


def grouped_folds(groups, seed: int, n_splits: int = N_SPLITS) -> list[tuple[np.ndarray, np.ndarray]]:
    """5-fold splits with every compound group wholly on one side (shuffled by ``seed``)."""
    from sklearn.model_selection import GroupKFold

    groups = np.asarray(groups)
    dummy = np.zeros(len(groups))
    return list(GroupKFold(n_splits, shuffle=True, random_state=seed).split(dummy, groups=groups))


def _r2_rmse(y, p) -> tuple[float, float]:
    y = np.asarray(y, float)
    p = np.asarray(p, float)
    ss_res = float(((y - p) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return 1.0 - ss_res / ss_tot, math.sqrt(ss_res / len(y))


def _summary(values: list[float]) -> dict:
    a = np.asarray(values, float)
    return {"mean": round(float(a.mean()), 4), "sd": round(float(a.std(ddof=1)) if len(a) > 1
                                                              else 0.0, 4),
            "per_seed": [round(float(v), 4) for v in a]}


def cross_validate(rows: pd.DataFrame, table: pd.DataFrame | None = None,
                   seeds=SEEDS, n_splits: int = N_SPLITS) -> dict:
    """Grouped CV of the model and both baselines on the same folds.

    Returns {"compound": {model: {"r2": {...}, "rmse": {...}}}, "measurement": {...},
    "oof": {seed: out-of-fold predictions per compound (first seed only)}, ...}.
    """
    from sklearn.linear_model import LinearRegression

    table = compound_table(rows) if table is None else table
    y = table["logkp"].to_numpy(float)
    groups = table["group"].to_numpy()
    row_idx = table.index.get_indexer(rows["group"])
    ok = row_idx >= 0
    row_y = rows["logkp"].to_numpy(float)[ok]
    row_idx = row_idx[ok]
    names = ("model", "model_mw_logkow", "potts_guy", "linear_refit")
    res = {lvl: {n: {"r2": [], "rmse": []} for n in names} for lvl in ("compound", "measurement")}
    oof_first = None
    Xf = table[list(FEATURES)].to_numpy(float)
    Xr = table[list(REDUCED_FEATURES)].to_numpy(float)
    Xl = table[["logkow", "mw"]].to_numpy(float)
    pg = table["potts_guy"].to_numpy(float)
    for seed in seeds:
        preds = {n: np.full(len(y), np.nan) for n in names}
        for tr, te in grouped_folds(groups, seed, n_splits):
            preds["model"][te] = _regressor(seed).fit(Xf[tr], y[tr]).predict(Xf[te])
            preds["model_mw_logkow"][te] = _regressor(seed, True).fit(Xr[tr], y[tr]).predict(Xr[te])
            preds["linear_refit"][te] = LinearRegression().fit(Xl[tr], y[tr]).predict(Xl[te])
            preds["potts_guy"][te] = pg[te]
        for n in names:
            r2, rmse = _r2_rmse(y, preds[n])
            res["compound"][n]["r2"].append(r2)
            res["compound"][n]["rmse"].append(rmse)
            r2, rmse = _r2_rmse(row_y, preds[n][row_idx])
            res["measurement"][n]["r2"].append(r2)
            res["measurement"][n]["rmse"].append(rmse)
        if oof_first is None:
            oof_first = {n: preds[n].copy() for n in names}
    out: dict = {
        lvl: {n: {k: _summary(v) for k, v in d.items()} for n, d in res[lvl].items()}
        for lvl in res
    }
    out["seeds"] = list(seeds)
    out["n_splits"] = n_splits
    out["n_compounds"] = len(table)
    out["n_measurements"] = int(ok.sum())
    out["ceiling_measurement_r2"] = round(
        _r2_rmse(row_y, y[row_idx])[0], 4)  # predicting every compound's own mean
    out["oof"] = {"seed": int(seeds[0]), "group": list(groups), "y": y.tolist(),
                  **{n: oof_first[n].tolist() for n in names}}
    return out


def train(data_path: str | Path | None = None, *, seed: int = 0, subsample: int | None = None,
          evaluate: bool = True, seeds=SEEDS) -> tuple[PermeabilityModel, dict]:
    """Load the data, cross-validate (optional) and fit the final model on all compounds.

    ``subsample``: keep this many compound groups (chosen with ``seed``), for tests.
    """
    t0 = time.perf_counter()
    rows = load_measurements(data_path)
    if subsample is not None:
        keep = pd.Series(sorted(rows["group"].unique())).sample(
            n=min(subsample, rows["group"].nunique()), random_state=seed)
        rows = rows[rows["group"].isin(set(keep))].reset_index(drop=True)
    table = compound_table(rows)
    metrics = cross_validate(rows, table, seeds=seeds) if evaluate else {}
    model = fit(table, seed=seed)
    model.info = {
        "training_rows": int(len(rows)), "training_compounds": int(len(table)),
        "mw_range": [round(float(table["mw"].min()), 2), round(float(table["mw"].max()), 2)],
        "logkow_range": [round(float(table["logkow"].min()), 2),
                         round(float(table["logkow"].max()), 2)],
        "et_params": dict(_ET_PARAMS), "et_reduced_params": dict(_ET_REDUCED_PARAMS),
    }
    metrics["train_seconds"] = round(time.perf_counter() - t0, 2)
    return model, metrics


# ----------------------------------------------------------------------------- prediction

def default_model_path() -> Path:
    return MODEL_DIR / MODEL_FILE


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[PermeabilityModel, str]:
    from recommender.learn.artifacts import load_artifact

    _rdkit()  # predictions need RDKit: fail here (ImportError), not mid-batch
    model, entry = load_artifact(path, with_entry=True)
    if not isinstance(model, PermeabilityModel):
        raise TypeError(f"{path} does not hold a PermeabilityModel")
    return model, f"{model.name}@{entry['sha256'][:12]}"


def load_model(path: str | Path | None = None) -> PermeabilityModel:
    """The committed model (verified against its manifest; cached per process)."""
    return _load(str(Path(path or default_model_path()).resolve()))[0]


def model_version(path: str | Path | None = None) -> str:
    """'kp-extratrees@<first 12 hex of the artifact sha256>'."""
    return _load(str(Path(path or default_model_path()).resolve()))[1]


def _finite(v) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _domain_reasons(model: PermeabilityModel, feats: dict) -> list[str]:
    reasons = []
    if feats["mw"] > model.mw_limit:
        reasons.append(f"MW {feats['mw']:.0f} > {model.mw_limit:.0f} Da (data stop near 500 Da)")
    for c, (lo, hi) in model.domain.items():
        v = feats.get(c)
        if v is not None and not (lo <= v <= hi):
            reasons.append(f"{c} {v:.3g} outside the training range [{lo:.3g}, {hi:.3g}]")
    return reasons


def prepare(smiles: str | None = None, mw: float | None = None,
            logkow: float | None = None) -> dict:
    """Features for one compound; raises ValueError saying why it cannot be predicted.

    With a SMILES: every descriptor from RDKit, logKow = the given value, else Crippen
    (``logkow_source``). Without: MW and logKow are both required (reduced model).
    """
    smiles = smiles.strip() if isinstance(smiles, str) else None
    mw_v, logkow_v = _finite(mw), _finite(logkow)
    if mw is not None and mw_v is None and not smiles:
        raise ValueError(f"mw is not a number: {mw!r}")
    if logkow is not None and logkow_v is None:
        raise ValueError(f"logkow is not a number: {logkow!r}")
    if smiles:
        desc = smiles_descriptors(smiles)
        if desc is None:
            raise ValueError(f"unparseable SMILES: {smiles!r}")
        if logkow_v is None and not desc["organic"]:
            raise ValueError("no logkow given and no carbon in the structure: Crippen's "
                             "logP does not apply to inorganic species")
        feats = {k: v for k, v in desc.items() if k != "organic"}
        feats["logkow"], source = (logkow_v, "given") if logkow_v is not None else (
            desc["crippen"], "crippen")
        feats["potts_guy"] = float(potts_guy_logkp(feats["logkow"], feats["mw"]))
        return {"kind": "full", "features": feats, "logkow_source": source}
    if mw_v is None or logkow_v is None:
        missing = [n for n, v in (("mw", mw_v), ("logkow", logkow_v)) if v is None]
        raise ValueError("no SMILES and missing " + " and ".join(missing))
    if mw_v <= 0:
        raise ValueError(f"mw must be positive: {mw_v}")
    feats = {"mw": mw_v, "logkow": logkow_v,
             "potts_guy": float(potts_guy_logkp(logkow_v, mw_v))}
    return {"kind": "reduced", "features": feats, "logkow_source": "given"}


def predict_prepared(prepared: list[dict], model: PermeabilityModel | None = None) -> list[dict]:
    """Batch prediction for the output of ``prepare`` (one model call per kind)."""
    model = model or load_model()
    out: list[dict] = [{} for _ in prepared]
    for kind, est, cols in (("full", model.full, model.features),
                            ("reduced", model.reduced, model.reduced_features)):
        idx = [i for i, p in enumerate(prepared) if p["kind"] == kind]
        if not idx:
            continue
        X = np.array([[prepared[i]["features"][c] for c in cols] for i in idx], dtype=float)
        for i, y in zip(idx, est.predict(X), strict=True):
            feats = prepared[i]["features"]
            reasons = _domain_reasons(model, feats)
            out[i] = {
                "logkp_cm_per_h": float(y),
                "kp_cm_per_h": float(10.0 ** y),
                "out_of_domain": bool(reasons),
                "domain_reasons": reasons,
                "model_inputs": kind,
                "mw": feats["mw"],
                "logkow": feats["logkow"],
                "logkow_source": prepared[i]["logkow_source"],
            }
    return out


def predict_logkp(smiles: str | None = None, mw: float | None = None,
                  logkow: float | None = None, *, model: PermeabilityModel | None = None
                  ) -> dict:
    """log10 Kp (cm/h, intact human skin) of one compound, with its domain flag.

    Returns {"logkp_cm_per_h", "kp_cm_per_h", "out_of_domain", "domain_reasons",
    "model_inputs" ("full" | "reduced"), "mw", "logkow", "logkow_source"}; raises
    ValueError for an unparseable SMILES or missing numbers.
    """
    return predict_prepared([prepare(smiles, mw, logkow)], model)[0]


def predict_for_record(record: dict | None, *, model: PermeabilityModel | None = None
                       ) -> dict | None:
    """Prediction for a KB record (``default_kb().record(inci)``); None when it has no
    structure and no MW + logKow (the caller reports ``unknown``, never 0)."""
    if not record:
        return None
    smiles = record.get("smiles") or None
    try:
        return predict_logkp(smiles, record.get("mw"), record.get("logkow"), model=model)
    except ValueError:
        if smiles:  # a structure RDKit rejects: fall back on the numbers when present
            try:
                return predict_logkp(None, record.get("mw"), record.get("logkow"), model=model)
            except ValueError:
                return None
        return None


def train_and_save(out_dir: str | Path | None = None, *, seed: int = 0,
                   data_path: str | Path | None = None) -> dict:
    """Train on the full data, save the artifact + manifest + metrics json. Returns metrics."""
    import json

    from recommender.learn.artifacts import atomic_write_bytes, save_artifact

    out_dir = Path(out_dir) if out_dir is not None else MODEL_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    data = Path(data_path) if data_path is not None else config.data_path(config.PERMEABILITY)
    model, metrics = train(data, seed=seed)
    summary = {k: v for k, v in metrics.items() if k != "oof"}
    entry = save_artifact(model, out_dir / MODEL_FILE, metrics=summary,
                          inputs={"cheruvu2022": data}, seed=seed,
                          extra={"unit": UNIT, "model": MODEL_NAME,
                                 "features": list(FEATURES),
                                 "reduced_features": list(REDUCED_FEATURES)})
    summary["model_version"] = f"{MODEL_NAME}@{entry['sha256'][:12]}"
    atomic_write_bytes(out_dir / "metrics.json",
                       (json.dumps(summary, indent=2) + "\n").encode())
    atomic_write_bytes(out_dir / "oof_predictions.json",
                        (json.dumps(metrics["oof"]) + "\n").encode())
    _load.cache_clear()
    return metrics


# ------------------------------------------------------------------- evaluation, report

_LABELS = {"model": "skinrec (extra trees, descriptors)",
           "model_mw_logkow": "skinrec, MW + logKow only",
           "potts_guy": "Potts & Guy 1992 (published)",
           "linear_refit": "linear refit (logKow + MW)"}


def format_metrics(metrics: dict) -> str:
    """Markdown table: R^2 and RMSE (log10 cm/h), mean +- sd over the CV seeds."""
    lines = [
        f"Grouped {metrics['n_splits']}-fold CV by compound (CAS + structure), seeds "
        f"{metrics['seeds']}; {metrics['n_compounds']} compounds, "
        f"{metrics['n_measurements']} measurements; log Kp in cm/h.",
        "",
        "| model | R² per compound | RMSE per compound | R² per measurement | "
        "RMSE per measurement |",
        "|---|---|---|---|---|",
    ]
    for name, label in _LABELS.items():
        c, m = metrics["compound"][name], metrics["measurement"][name]
        lines.append(
            f"| {label} | {c['r2']['mean']:.3f} ± {c['r2']['sd']:.3f} | "
            f"{c['rmse']['mean']:.3f} ± {c['rmse']['sd']:.3f} | "
            f"{m['r2']['mean']:.3f} ± {m['r2']['sd']:.3f} | "
            f"{m['rmse']['mean']:.3f} ± {m['rmse']['sd']:.3f} |")
    lines.append("")
    lines.append(f"Ceiling per measurement (each compound's own mean): R² "
                 f"{metrics['ceiling_measurement_r2']:.3f}. Training + CV: "
                 f"{metrics.get('train_seconds', float('nan')):.1f} s.")
    return "\n".join(lines)


def evaluate(model_dir: str | Path | None = None, data_path: str | Path | None = None) -> dict:
    """Recompute the CV metrics and compare them with the manifest's.

    Returns {"recorded", "recomputed", "max_abs_diff"} (differences over every mean R^2
    and RMSE).
    """
    from recommender.learn.artifacts import manifest_entry

    model_dir = Path(model_dir) if model_dir is not None else MODEL_DIR
    recorded = manifest_entry(model_dir / MODEL_FILE)["metrics"]
    rows = load_measurements(data_path)
    recomputed = cross_validate(rows, seeds=tuple(recorded["seeds"]),
                                n_splits=recorded["n_splits"])
    recomputed.pop("oof")
    diff = 0.0
    for lvl in ("compound", "measurement"):
        for name, d in recorded[lvl].items():
            for k in ("r2", "rmse"):
                diff = max(diff, abs(d[k]["mean"] - recomputed[lvl][name][k]["mean"]))
    return {"recorded": recorded, "recomputed": recomputed, "max_abs_diff": diff}


def write_plots(model_dir: str | Path | None = None) -> list[Path]:
    """Model-card PNGs: predicted vs measured log Kp under grouped CV (first seed), and
    the absorption of five typical actives over 72 h. Needs matplotlib."""
    import json

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model_dir = Path(model_dir) if model_dir is not None else MODEL_DIR
    oof = json.loads((model_dir / "oof_predictions.json").read_text())
    y = np.asarray(oof["y"], float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), sharex=True, sharey=True)
    lo, hi = min(y.min(), -6.0), max(y.max(), 0.5)
    for ax, name in zip(axes, ("model", "linear_refit", "potts_guy"), strict=True):
        p = np.asarray(oof[name], float)
        r2, rmse = _r2_rmse(y, p)
        ax.scatter(y, p, s=14, alpha=0.7, edgecolor="none")
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1)
        ax.set_title(f"{_LABELS[name]}\nR² {r2:.2f}, RMSE {rmse:.2f}", fontsize=9)
        ax.set_xlabel("measured log Kp (cm/h), compound mean")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
    axes[0].set_ylabel("predicted log Kp (cm/h), out of fold")
    fig.suptitle(f"Cheruvu 2022, {len(y)} compounds, 5-fold CV grouped by compound "
                 f"(seed {oof['seed']})", fontsize=10)
    fig.tight_layout()
    out1 = model_dir / "kp_predicted_vs_measured.png"
    fig.savefig(out1, dpi=110, metadata={"Software": None})
    plt.close(fig)
    from recommender.learn.absorption import plot_actives

    out2 = plot_actives(model_dir / "absorption_72h_actives.png")
    return [out1, out2]
