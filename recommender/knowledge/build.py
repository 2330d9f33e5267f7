"""Build the ingredient knowledge base (``skinrec build-kb``): models/kb/ingredients.csv.

Which real input or user need each rule answers:

- One row per canonical ingredient, because the parser needs one name table and every
  later stage (classes, safety windows, absorption) needs one record per name: every EU
  CosIng inventory name as CosIng spells it (28,705 distinct; 7 duplicated names merged),
  plus names that labels print but the 2020 inventory lacks: Annex IV colour-index names,
  the curated common colourant name IRON OXIDES (labels print "Iron Oxides (CI 77491)"),
  EU-allergen names of Reg. (EU) 2023/1545 ("POGOSTEMON CABLIN OIL") and the class files'
  ``extra_members`` (drug substances such as TRETINOIN printed on products brought to a
  clinic). Column ``source`` says where each row came from.
- Regulatory columns come from the annexes by name (see ``annexes``): ``prohibited`` only
  for an unconditional Annex II match, ``restricted`` for any Annex II or III listing (the
  parser refuses fuzzy matches onto such names), ``annex_conditions`` says why an Annex II
  match is not a ban. ``eu_allergen`` marks the 81 labelled fragrance allergens.
- Structure columns come from ``chem`` (defined chemicals only; '' means unknown, never 0).
- ``classes`` comes from ``recommender.knowledge.classes`` (curated class files), so the
  vocabulary every output uses is computed once, here.
- ``synonyms.csv``: names labels print for a defined chemical that CosIng spells otherwise
  ("Nicotinamide", "3,7-Dimethyl-1,6-Octadien-3-Ol"), generated from the ``chemicals``
  package's PubChem synonyms by CAS (see ``synonyms``; drop counts per filter in the
  manifest's counts.synonyms).
- Reproducible: rows sorted by name, floats written with 4 decimals, '|'-joined lists in a
  fixed order, no dates or timings in any artifact; the manifest records the sha256 of every
  artifact and input, package versions and counts, and is itself byte-stable.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import platform
import re
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

from recommender import config
from recommender.hashing import sha256_file as _sha256
from recommender.knowledge import annexes as ax
from recommender.knowledge import chem
from recommender.knowledge import synonyms as syn
from recommender.knowledge.kb import CI_INDEX_FILE, INGREDIENTS_FILE, MANIFEST_FILE, SYNONYMS_FILE

log = logging.getLogger(__name__)

COLUMNS = (
    "inci", "source", "cas", "ec", "functions", "annex_refs", "prohibited", "annex_conditions",
    "restricted", "eu_allergen", "eu_allergen_ref", "preservative", "uv_filter", "colourant_ci",
    "mw", "logkow", "logkow_source", "hbd", "hba", "tpsa", "smiles", "structure_source",
    "classes",
)
CI_COLUMNS = ("ci", "inci", "rule")
BUILD_COMMAND = "skinrec build-kb"
SCHEMA_VERSION = 1
_PACKAGES = ("pandas", "chemicals", "rdkit", "on-the-list", "pyyaml", "numpy")


class ClassesUnavailableError(RuntimeError):
    """The class vocabulary (recommender.knowledge.classes + data/classes) cannot be loaded."""


def _canon(name: str) -> str:
    return " ".join(str(name).upper().split())


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    out = f"{round(float(value), 4):.4f}"
    return "0.0000" if out == "-0.0000" else out


def _flag(value: bool) -> str:
    return "True" if value else "False"


# --------------------------------------------------------------------------- inputs


def read_inventory(path: Path) -> dict[str, dict]:
    """CosIng inventory: name -> {cas, ec, functions}; duplicate names merged."""
    rows: dict[str, dict] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            name = _canon(rec["inci_name"])
            if not name:
                continue
            funcs = {
                _canon(f) for f in (rec.get("function") or "").split(",")
                if f.strip() and _canon(f) != "NOT REPORTED"
            }
            cas = chem.valid_cas(rec.get("cas_number") or "") or ""
            ec = " ".join((rec.get("einecs_number") or "").split())
            row = rows.get(name)
            if row is None:
                rows[name] = {"cas": cas, "ec": ec, "functions": funcs, "source": "cosing"}
            else:
                row["functions"] |= funcs
                row["cas"] = row["cas"] or cas
                row["ec"] = row["ec"] or ec
    return rows


def _load_classes(require: bool):
    try:
        from recommender.knowledge.classes import load_class_rules
    except ImportError as exc:
        if require:
            raise ClassesUnavailableError(
                "recommender.knowledge.classes is not importable; the KB 'classes' column "
                f"cannot be built ({exc})"
            ) from exc
        return None
    try:
        return load_class_rules()
    except (FileNotFoundError, ValueError) as exc:
        if require:
            raise ClassesUnavailableError(
                f"class files in {config.CLASSES_DIR} could not be loaded: {exc}"
            ) from exc
        return None


def _package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in _PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = ""
    return out


def _rel(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.name


# --------------------------------------------------------------------------- build


def _ci_index(
    rows: dict[str, dict], annexes: dict, curation: ax.Curation
) -> dict[str, tuple[str, str]]:
    """CI number -> (canonical INCI, rule). Curated common names first, then an Annex IV
    entry whose own chemical name is one of its INCI names (CI 77891 -> TITANIUM DIOXIDE),
    else the 'CI nnnnn' row itself."""
    index: dict[str, tuple[str, str]] = {}
    for item in curation.ci_common_names:
        for ci in item["ci"]:
            index[ci] = (item["name"], "curated")
    keys = {ax.name_key(n): n for n in rows}
    for entry in annexes["IV"]:
        names = ax.entry_names(entry)
        ci = next((ax.ci_number(n) for n in names if ax.ci_number(n)), None)
        if ci is None or ci in index:
            continue
        chem_parts = {ax.name_key(p) for p in re.split(r"[/;]", entry.chemical_name)}
        named = sorted(
            keys[k] for n in names
            if not ax.ci_number(n) and (k := ax.name_key(n)) in chem_parts and k in keys
        )
        if len(named) == 1:
            index[ci] = (named[0], "annex_iv_chemical_name")
    for name in rows:
        ci = ax.ci_number(name)
        if ci and ci not in index:
            index[ci] = (name, "self")
    return index


def build_kb(
    data_dir: Path | None = None,
    out_dir: Path | None = None,
    *,
    require_classes: bool = True,
) -> dict:
    """Build models/kb/{ingredients.csv, ci_index.csv, synonyms.csv, manifest.json}; return
    the manifest.

    ``data_dir``: the public datasets (default ``config.data_dir()``); read only.
    ``out_dir``: where to write (default ``config.KB_DIR``).
    ``require_classes``: raise :class:`ClassesUnavailableError` when the class vocabulary
    cannot be loaded (default); False writes an empty ``classes`` column (development only).
    """
    t0 = time.perf_counter()
    data_dir = Path(data_dir) if data_dir is not None else config.data_dir()
    out_dir = Path(out_dir) if out_dir is not None else config.KB_DIR
    inv_path = data_dir / config.COSING_INVENTORY
    allergen_path = data_dir / config.EU_ALLERGENS
    for p in (inv_path, allergen_path):
        if not p.exists():
            raise FileNotFoundError(f"{p} not found. {config.DATA_HOWTO}")
    timings: dict[str, float] = {}

    rows = read_inventory(inv_path)
    n_inventory = len(rows)
    annexes = ax.read_annexes(data_dir)
    curation = ax.load_curation()
    timings["read"] = time.perf_counter() - t0

    # Names labels print that the inventory lacks.
    ci_by_entry: dict[str, str] = {}
    for entry in annexes["IV"]:
        for n in ax.entry_names(entry):
            ci = ax.ci_number(n)
            if ci:
                ci_by_entry.setdefault(f"CI {ci}", entry.reference)
    inv_keys = {ax.name_key(n) for n in rows}
    for ci_name in sorted(ci_by_entry):
        if ax.name_key(ci_name) not in inv_keys:
            rows[ci_name] = {"cas": "", "ec": "", "functions": {"COLORANT"}, "source": "annex_iv"}
    for item in curation.ci_common_names:
        if item["name"] not in rows:
            rows[item["name"]] = {
                "cas": "", "ec": "", "functions": {"COLORANT"}, "source": "curation"
            }

    allergens = ax.read_allergens(allergen_path)
    amatch = ax.match_allergens(
        allergens, {n: r["cas"] for n, r in rows.items()}, chem.is_defined_name
    )
    for name in amatch.added:
        rows.setdefault(name, {
            "cas": chem.valid_cas(amatch.added_cas.get(name, "")) or "", "ec": "",
            "functions": set(), "source": "eu_allergens",
        })

    class_rules = _load_classes(require_classes)
    n_extra = 0
    if class_rules is not None:
        for cid in class_rules.ids:
            for name in sorted(class_rules.rule(cid).extra_members):
                if name not in rows:
                    rows[name] = {
                        "cas": "", "ec": "", "functions": set(), "source": f"classes:{cid}"
                    }
                    n_extra += 1

    matches = ax.match_annexes(rows, annexes, curation)
    timings["annexes"] = time.perf_counter() - t0 - sum(timings.values())

    # Descriptors
    t_chem = time.perf_counter()
    desc = {n: chem.describe_ingredient(n, r["cas"]) for n, r in rows.items()}
    timings["chem"] = time.perf_counter() - t_chem

    ci_index = _ci_index(rows, annexes, curation)
    ci_of_row: dict[str, set[str]] = {}
    for n in rows:
        ci = ax.ci_number(n)
        if ci:
            ci_of_row.setdefault(n, set()).add(ci)
    for ci, (n, _rule) in ci_index.items():
        ci_of_row.setdefault(n, set()).add(ci)

    # Rows
    t_rows = time.perf_counter()
    out_rows = []
    counts: Counter = Counter()
    for name in sorted(rows):
        r = rows[name]
        listings = matches.listings(name)
        allergen_ref = amatch.by_name.get(name, "")
        refs = [x.citation for x in listings]
        if allergen_ref and allergen_ref not in refs:
            # matched by CAS (defined chemical) or added from the allergen list: the
            # allergen entry is an Annex III entry, so it is cited and restricts the name.
            refs = sorted([*refs, allergen_ref], key=ax.citation_sort_key)
        ii = [x for x in listings if x.annex == "II"]
        prohibited = any(x.status == "prohibited" for x in ii)
        conditions = "; ".join(f"{x.citation}: {x.reason}" for x in ii if x.status == "conditional")
        restricted = any(c.startswith(("II/", "III/")) for c in refs)
        ci_nums = set(ci_of_row.get(name, set()))
        ci_nums |= {x.ci for x in listings if x.annex == "IV" and x.ci}
        functions = tuple(sorted(r["functions"]))
        d = desc.get(name)
        classes: tuple[str, ...] = ()
        if class_rules is not None:
            classes = tuple(class_rules.classify(name, functions, bool(allergen_ref)))
        row = {
            "inci": name,
            "source": r["source"],
            "cas": r["cas"],
            "ec": r["ec"],
            "functions": "|".join(functions),
            "annex_refs": "|".join(dict.fromkeys(refs)),
            "prohibited": _flag(prohibited),
            "annex_conditions": conditions,
            "restricted": _flag(restricted),
            "eu_allergen": _flag(bool(allergen_ref)),
            "eu_allergen_ref": allergen_ref,
            "preservative": _flag(any(x.annex == "V" for x in listings)),
            "uv_filter": _flag(any(x.annex == "VI" for x in listings)),
            "colourant_ci": "|".join(sorted(ci_nums)),
            "mw": _fmt(d.mw) if d else "",
            "logkow": _fmt(d.logkow) if d else "",
            "logkow_source": d.logkow_source if d else "",
            "hbd": str(d.hbd) if d else "",
            "hba": str(d.hba) if d else "",
            "tpsa": _fmt(d.tpsa) if d else "",
            "smiles": d.smiles if d else "",
            "structure_source": d.structure_source if d else "",
            "classes": "|".join(sorted(classes)),
        }
        out_rows.append(row)
        counts["rows"] += 1
        counts[f"source:{r['source'].split(':')[0]}"] += 1
        counts["with_cas"] += bool(r["cas"])
        counts["with_structure"] += bool(d)
        counts["with_mw"] += bool(d)
        counts["logkow_experimental"] += bool(d and d.logkow_source == "experimental")
        counts["logkow_crippen"] += bool(d and d.logkow_source == "crippen")
        counts["with_annex_ref"] += bool(refs)
        counts["annex_ii_any"] += bool(ii)
        counts["prohibited"] += prohibited
        counts["annex_ii_conditional_only"] += bool(ii) and not prohibited
        counts["restricted"] += restricted
        counts["eu_allergen"] += bool(allergen_ref)
        counts["preservative"] += row["preservative"] == "True"
        counts["uv_filter"] += row["uv_filter"] == "True"
        counts["colourant"] += bool(ci_nums)
        counts["with_classes"] += bool(classes)
        for c in classes:
            counts[f"class:{c}"] += 1
        for x in listings:
            counts[f"annex_matches:{x.annex}"] += 1
    timings["rows"] = time.perf_counter() - t_rows

    # Write artifacts
    out_dir.mkdir(parents=True, exist_ok=True)
    ing_path = out_dir / INGREDIENTS_FILE
    _write_csv(ing_path, COLUMNS, out_rows)
    ci_rows = [
        {"ci": ci, "inci": n, "rule": rule}
        for ci, (n, rule) in sorted(ci_index.items(), key=lambda kv: kv[0])
    ]
    ci_path = out_dir / CI_INDEX_FILE
    _write_csv(ci_path, CI_COLUMNS, ci_rows)

    # Generated synonyms (PubChem names via chemicals) for the defined chemicals.
    t_syn = time.perf_counter()
    syn_stats: Counter = Counter()
    syn_table = syn.build_synonyms(out_rows, stats=syn_stats)
    syn_path = out_dir / SYNONYMS_FILE
    syn.write_synonyms(syn_path, syn_table)
    timings["synonyms"] = time.perf_counter() - t_syn

    inputs = {
        f"data:{config.COSING_INVENTORY}": inv_path,
        f"data:{config.EU_ALLERGENS}": allergen_path,
    }
    for annex, path in ax.annex_paths(data_dir).items():
        if annex == "IV":
            inputs["package:on_the_list/data/annex_IV.csv"] = path
        else:
            inputs[f"data:{config.COSING_ANNEXES_DIR}/{path.name}"] = path
    inputs[f"project:{_rel(Path(curation.path), config.PROJECT_ROOT)}"] = Path(curation.path)
    if Path(config.ALIASES_FILE).exists():   # the synonym table defers to the alias table
        inputs[f"project:{_rel(Path(config.ALIASES_FILE), config.PROJECT_ROOT)}"] = Path(
            config.ALIASES_FILE
        )
    if class_rules is not None:
        for p in sorted(Path(config.CLASSES_DIR).glob("*.yaml")):
            inputs[f"project:{_rel(p, config.PROJECT_ROOT)}"] = p
    code = {
        f"recommender/knowledge/{m}.py": config.PACKAGE_DIR / "knowledge" / f"{m}.py"
        for m in ("build", "annexes", "chem", "classes", "synonyms")
    }

    manifest = {
        "schema": SCHEMA_VERSION,
        "what": "skinrec ingredient knowledge base (one row per canonical INCI name)",
        "build_command": BUILD_COMMAND,
        "artifacts": {
            INGREDIENTS_FILE: {
                "sha256": _sha256(ing_path), "bytes": ing_path.stat().st_size,
                "rows": len(out_rows), "columns": list(COLUMNS),
            },
            CI_INDEX_FILE: {
                "sha256": _sha256(ci_path), "bytes": ci_path.stat().st_size,
                "rows": len(ci_rows), "columns": list(CI_COLUMNS),
            },
            SYNONYMS_FILE: {
                "sha256": _sha256(syn_path), "bytes": syn_path.stat().st_size,
                "rows": len(syn_table), "columns": list(syn.COLUMNS),
                "source": syn.source_label(),
            },
        },
        "inputs": {
            k: {"sha256": _sha256(p), "bytes": p.stat().st_size} for k, p in sorted(inputs.items())
        },
        "code": {k: _sha256(p) for k, p in sorted(code.items()) if p.exists()},
        "versions": _package_versions(),
        "counts": {
            "inventory_names": n_inventory,
            "classes_extra_members_added": n_extra,
            "allergen_refs": len(allergens),
            "allergen_refs_covered": len(amatch.refs_covered),
            "allergen_matches_by": dict(sorted(amatch.via.items())),
            "annex_entries": {a: len(v) for a, v in annexes.items()},
            "annex_entries_matched": dict(sorted(matches.entries_matched.items())),
            **dict(sorted(counts.items())),
            "synonyms": dict(sorted(syn_stats.items())),
        },
        "curation": {
            "file": _rel(Path(curation.path), config.PROJECT_ROOT),
            "matches_decided": dict(sorted(matches.decided.items())),
            "dropped_matches": [
                {"entry": c, "inci": n, "reason": why} for c, n, why in sorted(matches.dropped)
            ],
        },
        "classes_built": class_rules is not None,
    }
    (out_dir / MANIFEST_FILE).write_text(
        json.dumps(manifest, indent=2, sort_keys=False, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    timings["total"] = time.perf_counter() - t0
    log.info(
        "KB built: %d rows in %.1f s (%s) -> %s",
        len(out_rows), timings["total"],
        ", ".join(f"{k} {v:.1f}s" for k, v in timings.items() if k != "total"), out_dir,
    )
    return manifest


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(buf.getvalue().encode("utf-8"))
    tmp.replace(path)


def main() -> None:  # pragma: no cover - convenience: python -m recommender.knowledge.build
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    m = build_kb()
    print(json.dumps(m["counts"], indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
