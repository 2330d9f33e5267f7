"""`skinrec train` and `skinrec evaluate`: every built artifact, in dependency order, and
the model card.

Answers the reproducibility contract of DESIGN.md: what is committed under models/ is
rebuilt by one command from the data directory (same inputs and seed, same bytes), and
`evaluate` recomputes every recorded metric and writes models/MODEL_CARD.md and
models/manifest.json (sha256 of every artifact, versions, headline metrics). The order
matters because each step reads the one before: knowledge base -> learned class fallback
(trained on the KB's curated classes) -> permeability model -> concern and skin-type
models (their features come from the parser, KB and classes).
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

from recommender import config
from recommender.hashing import sha256_file as _sha256

CARD = "MODEL_CARD.md"
TOP_MANIFEST = "manifest.json"


def _clear_caches() -> None:
    from recommender.knowledge import kb, learned_classes, reader

    kb.clear_cache()
    learned_classes._cached.cache_clear()
    reader.default_reader.cache_clear()


def train_everything(*, seed: int = 0, cv: bool = True,
                     say: Callable[[str], None] = print) -> dict:
    """Rebuild models/ from the data directory. Returns seconds per step."""
    from recommender.knowledge.build import build_kb
    from recommender.knowledge.learned_classes import train_and_save as train_fallback
    from recommender.learn import evaluate_models, permeability

    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    say("1/4 knowledge base (models/kb) ...")
    build_kb()
    _clear_caches()
    steps["knowledge_base"] = round(time.perf_counter() - t0, 1)

    t = time.perf_counter()
    say("2/4 learned class fallback (models/kb/class_fallback.joblib) ...")
    train_fallback(cv=cv)
    _clear_caches()
    steps["class_fallback"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    say("3/4 permeability model (models/permeability) ...")
    permeability.train_and_save(seed=seed)
    try:
        permeability.write_plots()
    except ImportError:
        say("   matplotlib not installed: plots skipped")
    steps["permeability"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    say("4/4 concern and skin-type models (models/concerns, models/skin_types) ...")
    evaluate_models.train_all(seed=seed)
    steps["concerns_skin_types"] = round(time.perf_counter() - t, 1)
    steps["total"] = round(time.perf_counter() - t0, 1)
    write_top_manifest(extra={"train_seconds": steps, "seed": seed})
    return steps


def write_top_manifest(extra: dict | None = None, metrics: dict | None = None) -> dict:
    """models/manifest.json: every artifact's sha256 and the library versions."""
    from importlib.metadata import version

    root = config.MODELS_DIR
    path = root / TOP_MANIFEST
    old = json.loads(path.read_text()) if path.is_file() else {}
    artifacts = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".joblib", ".csv") and p.parent != root:
            artifacts[str(p.relative_to(root))] = _sha256(p)
    versions = {"python": platform.python_version()}
    for pkg in ("scikit-learn", "pandas", "numpy", "joblib", "rdkit", "chemicals"):
        try:
            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - an optional package not installed
            versions[pkg] = None
    out = {
        "artifacts": artifacts,
        "versions": versions,
        "data_dir_layout": {"catalogs": list(config.CATALOGS), "inventory": config.COSING_INVENTORY,
                            "permeability": config.PERMEABILITY},
        "rebuild": "skinrec train (then skinrec evaluate)",
        **{k: v for k, v in old.items() if k in ("train_seconds", "seed", "metrics")},
        **(extra or {}),
    }
    if metrics is not None:
        out["metrics"] = metrics
    path.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out


def evaluate_everything(say: Callable[[str], None] = print) -> dict:
    """Recompute every recorded metric, write the model card; returns a summary with
    ``reproduced`` per model."""
    from recommender.knowledge import class_eval
    from recommender.learn import evaluate_models, permeability

    out: dict = {}
    say("permeability: recomputing grouped CV ...")
    perm = permeability.evaluate()
    out["permeability"] = {"reproduced": perm["max_abs_diff"] <= 1e-6,
                           "max_abs_diff": perm["max_abs_diff"]}
    say("concern and skin-type models: recomputing grouped CV ...")
    cs = evaluate_models.evaluate_all()
    for part, r in cs.items():
        out[part] = {"reproduced": r["reproduced"], "max_abs_diff": r["max_abs_diff"],
                     "stale_inputs": r["stale_inputs"]}
    say("ingredient classes: gold sample ...")
    classes = class_eval.evaluate()
    out["classes"] = {"micro": classes.get("overall", {}).get("micro")}
    card = write_model_card(perm["recorded"], cs, classes)
    headline = {
        "permeability_r2_compound": perm["recorded"]["compound"]["model"]["r2"]["mean"],
        "permeability_r2_measurement": perm["recorded"]["measurement"]["model"]["r2"]["mean"],
        "concerns_macro_roc_auc": _get(cs, "concerns", "metrics", "macro_roc_auc"),
        "concerns_baseline_macro_roc_auc": _get(cs, "concerns", "metrics", "baseline_macro_roc_auc"),
        "classes_micro": out["classes"]["micro"],
    }
    write_top_manifest(metrics=headline)
    out["model_card"] = str(card)
    return out


def _get(d, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def write_model_card(perm_metrics: dict, cs: dict, classes: dict) -> Path:
    from recommender.knowledge import class_eval
    from recommender.learn import permeability

    root = config.MODELS_DIR
    concerns_md = (root / "concerns" / "METRICS.md")
    skin_md = (root / "skin_types" / "METRICS.md")
    fallback = json.loads((config.KB_DIR / "class_fallback.json").read_text())
    lines = [
        "# skinrec model card",
        "",
        "Written by `skinrec evaluate` (rebuild every artifact with `skinrec train`). Not medical",
        "advice: these models describe products, they do not decide what is safe. Safety comes",
        "from the transparent protocol rules (`skinrec protocol`), never from a learned model.",
        "",
        "## Intended use",
        "",
        "- Concern fit (nine concern ids), skin-type suitability and gentleness of a skincare",
        "  product from its ingredient list and category, for ranking products that the safety",
        "  rules already allow; never product name or brand.",
        "- Permeability: log Kp (cm/h) through intact human skin from molecular descriptors, the",
        "  intact-skin term of the absorption index; with a decaying channel term after needling.",
        "- Learned class fallback: classes for ingredient names the knowledge base does not know,",
        "  with a probability; unsure names stay unclassed and marked uncertain.",
        "",
        "## Data, provenance and licenses",
        "",
        "| data | use | license |",
        "|---|---|---|",
        "| Sephora products 2023 (Kaggle, nadyinky) | concern labels (\"Good for\"), skin types | CC BY 4.0 (as quoted) |",
        "| Sephora cosmetics 2017 (DataCamp / Kaggle) | skin-type flags | not stated |",
        "| EU CosIng inventory and annexes | knowledge base, class training names | EC reuse with acknowledgement |",
        "| Cheruvu et al. 2022, Data in Brief 42:108242 | permeability | CC BY 4.0 |",
        "| `chemicals` (PyPI, MIT), `rdkit` | structures, logKow, descriptors, synonyms | MIT / BSD |",
        "",
        "## Concern model",
        "",
        concerns_md.read_text(encoding="utf-8").strip() if concerns_md.is_file() else "(not trained)",
        "",
        "Plots: `concerns/concerns_pr.png` (precision-recall per concern),",
        "`concerns/concerns_calibration.png` (reliability).",
        "",
        "## Skin-type model and gentleness",
        "",
        skin_md.read_text(encoding="utf-8").strip() if skin_md.is_file() else "(not trained)",
        "",
        "## Permeability model",
        "",
        permeability.format_metrics(perm_metrics),
        "",
        "Plots: `permeability/kp_predicted_vs_measured.png`,",
        "`permeability/absorption_72h_actives.png` (absorption over 72 h for five actives).",
        "The data stop near 500 Da: peptides, hyaluronic acid and growth factors are outside the",
        "model's range; their intact-skin term is reported as negligible and only the channel",
        "term applies.",
        "",
        "## Learned class fallback",
        "",
        "Grouped CV on CosIng names (grouped by first word; held-out names scored without",
        f"CosIng functions): micro precision {_get(fallback, 'cv', 'micro', 'precision')}, "
        f"recall {_get(fallback, 'cv', 'micro', 'recall')}.",
        "",
        "### Whole class pipeline on the hand-labelled gold sample",
        "",
        class_eval.format_report(classes),
        "",
        "## Reproduction",
        "",
    ]
    for part, r in cs.items():
        lines.append(f"- {part}: metrics reproduced: {r['reproduced']} (max abs diff "
                     f"{r['max_abs_diff']:.2g}); stale inputs: {r['stale_inputs'] or 'none'}")
    lines += [
        "",
        "## Limitations",
        "",
        "- Sephora shows at most ~6 highlights: an absent concern is weak evidence of \"no\".",
        "- Sensitive-skin labels do not beat a knowledge index; gentleness is that index.",
        "- Permeability is for intact skin from aqueous solutions; concentration is unknown, so",
        "  position in the list stands in for it.",
        "- Generalisation to other retailers and other permeability data is untested here.",
        "",
    ]
    path = root / CARD
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
