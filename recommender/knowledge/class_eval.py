"""Per-class precision and recall of the whole reading pipeline on the hand-labelled sample.

Which real input or need each part answers:

- The gold sample (``tests/fixtures/class_labels.csv``, 500 names drawn at random from the
  three catalogs and labelled by hand before any classifier output was seen; see its
  README) is text exactly as labels print it: typos, truncations, kit headings, joined
  names. So each name goes through the full pipeline a label goes through (``read_list``:
  parse, canonicalise, curated classes, learned fallback for names the KB does not match),
  not through the class rules alone.
- A printed name may become several mentions ("Cupcake: Mica", "Titanium Dioxide 3.55%:
  Sunscreen", joined names): the predicted classes of a name are the union over the
  mentions the parser emits for it, as the gold labels of a joined name are the union of
  its ingredients' classes.
- The sample has two strata (``uniform``: what the system really meets; ``enriched``:
  over-sampled class-bearing names); figures are given per stratum and overall, never
  pooled into prevalence estimates.
- Per class: precision, recall, support, TP/FP/FN; micro (pooled over classes) and macro
  (mean over classes with at least one gold positive; precision counts as 0 for such a
  class when nothing was predicted). Every disagreement is listed with the mentions that
  produced it, so a reader can tell a rule bug from a labelling call.

``python -m recommender.knowledge.class_eval`` prints the markdown report.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from recommender import config
from recommender.knowledge.classes import VOCABULARY

DEFAULT_LABELS = config.PROJECT_ROOT / "tests" / "fixtures" / "class_labels.csv"
_KNOWN = ("exact", "alias")


def _shown_path(path) -> str:
    """The labels file as the reports name it: relative to the repository when inside it
    (the committed model card must not carry one machine's checkout path)."""
    from pathlib import Path

    p = Path(path).resolve()
    root = Path(__file__).resolve().parents[2]
    try:
        return p.relative_to(root).as_posix()
    except ValueError:
        return str(path)

def read_labels(path: Path | str = DEFAULT_LABELS) -> list[dict]:
    """Rows of the gold sample: name, catalog, stratum, classes (tuple), note."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = []
        for row in csv.DictReader(fh):
            classes = tuple(sorted({c.strip() for c in (row.get("classes") or "").split(";")
                                    if c.strip()}))
            rows.append({**row, "classes": classes})
    return rows


def _needs_fallback(parsed) -> bool:
    """True when the reader left unmatched mentions untouched by the learned fallback."""
    return any(
        m.match not in _KNOWN and m.class_confidence is None and not m.uncertain
        for m in parsed.ingredients
    )


def predict_name(name: str, reader, fallback=None, kb=None
                 ) -> tuple[tuple[str, ...], list[dict], bool]:
    """Classes predicted for one printed name (union over its mentions), the mentions, and
    whether the fallback was applied here (False when the reader had already applied it)."""
    parsed = reader.read(name)
    applied = False
    if fallback is not None and _needs_fallback(parsed):
        from recommender.knowledge.learned_classes import apply_fallback

        apply_fallback(parsed, fallback, kb=kb)
        applied = True
    classes: set[str] = set()
    mentions = []
    for m in parsed.ingredients:
        classes.update(m.classes)
        mentions.append({"name": m.name, "inci": m.inci, "match": m.match,
                         "classes": list(m.classes), "confidence": m.class_confidence,
                         "uncertain": m.uncertain})
    return tuple(sorted(classes)), mentions, applied


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(items: list[tuple[tuple[str, ...], tuple[str, ...]]],
          classes: tuple[str, ...] = VOCABULARY) -> dict:
    """Per-class and micro/macro figures from (gold, predicted) class tuples."""
    per = {}
    for c in classes:
        tp = sum(1 for g, p in items if c in g and c in p)
        fp = sum(1 for g, p in items if c not in g and c in p)
        fn = sum(1 for g, p in items if c in g and c not in p)
        per[c] = {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                  "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}
    tp = sum(v["tp"] for v in per.values())
    fp = sum(v["fp"] for v in per.values())
    fn = sum(v["fn"] for v in per.values())
    supported = [v for v in per.values() if v["support"]]
    macro_p = [v["precision"] or 0.0 for v in supported]
    macro_r = [v["recall"] for v in supported]
    return {
        "n": len(items),
        "per_class": per,
        "micro": {"precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn),
                  "tp": tp, "fp": fp, "fn": fn},
        "macro": {
            "precision": round(sum(macro_p) / len(macro_p), 4) if macro_p else None,
            "recall": round(sum(macro_r) / len(macro_r), 4) if macro_r else None,
            "classes": len(supported),
        },
        "exact_match": _ratio(sum(1 for g, p in items if set(g) == set(p)), len(items)),
    }


def evaluate(labels_csv: Path | str = DEFAULT_LABELS, reader=None, fallback="default") -> dict:
    """Run every gold name through the pipeline; metrics per stratum and overall.

    ``reader``: an object with ``read(text) -> ParsedList`` (default: the project's default
    reader). ``fallback``: the learned fallback model applied to mentions the reader left
    unmatched and untouched; "default" loads the committed one (skipped with a note when it
    cannot be loaded), None disables it.
    """
    from recommender.knowledge.reader import default_reader

    reader = reader if reader is not None else default_reader()
    notes = []
    if isinstance(fallback, str) and fallback == "default":
        from recommender.knowledge.learned_classes import FallbackModelError, default_fallback

        try:
            fallback = default_fallback()
        except FallbackModelError as exc:
            notes.append(f"learned fallback not applied: {exc}")
            fallback = None
    kb = getattr(reader, "kb", None)
    rows = read_labels(labels_csv)
    results = []
    for row in rows:
        predicted, mentions, applied = predict_name(row["name"], reader, fallback, kb)
        results.append({"applied_here": applied, "name": row["name"], "stratum": row["stratum"],
                        "catalog": row["catalog"], "gold": row["classes"],
                        "predicted": predicted, "mentions": mentions,
                        "note": row.get("note", "")})
    strata = sorted({r["stratum"] for r in results})
    metrics = {
        "labels": _shown_path(labels_csv),
        "n": len(results),
        "fallback": fallback is not None,
        "notes": notes,
        "overall": score([(r["gold"], r["predicted"]) for r in results]),
        "strata": {s: score([(r["gold"], r["predicted"]) for r in results if r["stratum"] == s])
                   for s in strata},
        "learned": {
            "mentions_classified": sum(
                1 for r in results for m in r["mentions"]
                if m["match"] not in _KNOWN and m["confidence"] is not None and m["classes"]),
            "mentions_uncertain": sum(1 for r in results for m in r["mentions"] if m["uncertain"]),
            "mentions_unmatched": sum(
                1 for r in results for m in r["mentions"] if m["match"] not in _KNOWN),
            # names where class_eval applied the fallback because the reader had not
            "names_applied_by_class_eval": sum(1 for r in results if r["applied_here"]),
        },
        "disagreements": [
            {"name": r["name"], "stratum": r["stratum"], "gold": list(r["gold"]),
             "predicted": list(r["predicted"]),
             "missing": sorted(set(r["gold"]) - set(r["predicted"])),
             "extra": sorted(set(r["predicted"]) - set(r["gold"])),
             "mentions": r["mentions"], "note": r["note"]}
            for r in results if set(r["gold"]) != set(r["predicted"])
        ],
    }
    return metrics


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(m: dict, title: str) -> list[str]:
    lines = [f"### {title} (n = {m['n']} names)", "",
             "| class | precision | recall | support | TP | FP | FN |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for c, v in m["per_class"].items():
        if not (v["support"] or v["fp"]):
            continue
        lines.append(f"| {c} | {_fmt(v['precision'])} | {_fmt(v['recall'])} | {v['support']} "
                     f"| {v['tp']} | {v['fp']} | {v['fn']} |")
    mi, ma = m["micro"], m["macro"]
    lines.append(f"| **micro** | {_fmt(mi['precision'])} | {_fmt(mi['recall'])} "
                 f"| {mi['tp'] + mi['fn']} | {mi['tp']} | {mi['fp']} | {mi['fn']} |")
    lines.append(f"| **macro** ({ma['classes']} classes with support) | {_fmt(ma['precision'])} "
                 f"| {_fmt(ma['recall'])} | | | | |")
    silent = [c for c, v in m["per_class"].items() if not (v["support"] or v["fp"])]
    lines += ["", f"Names whose predicted class set equals the gold set: {_fmt(m['exact_match'])}."]
    if silent:
        lines.append(f"No gold positive and no prediction: {', '.join(silent)}.")
    return lines + [""]


def format_report(metrics: dict) -> str:
    """The metrics as markdown: overall and per-stratum tables, then every disagreement."""
    lines = ["## Ingredient classes on the hand-labelled sample", "",
             f"Labels: `{metrics['labels']}` ({metrics['n']} names). Pipeline: `read_list` "
             f"(parse, canonicalise, curated classes){' + learned fallback' if metrics['fallback'] else ''}; "
             "a name's classes are the union over the mentions the parser emits for it.", ""]
    for note in metrics.get("notes", []):
        lines += [f"> {note}", ""]
    learned = metrics["learned"]
    lines += [f"Mentions not matched exactly or by alias: {learned['mentions_unmatched']}; "
              f"classed by the learned fallback: {learned['mentions_classified']}; "
              f"left unclassed as uncertain: {learned['mentions_uncertain']} (fallback applied "
              f"by class_eval on {learned['names_applied_by_class_eval']} names, where the "
              "reader had not applied it).", ""]
    lines += _table(metrics["overall"], "Overall")
    for stratum, m in metrics["strata"].items():
        lines += _table(m, f"Stratum `{stratum}`")
    lines += [f"### Disagreements ({len(metrics['disagreements'])})", "",
              "| name | stratum | gold | predicted | mentions (inci, match) |",
              "|---|---|---|---|---|"]
    for d in metrics["disagreements"]:
        mentions = "; ".join(
            f"{m['inci'] or m['name']} ({m['match'] or 'none'}"
            + (f", p={m['confidence']:.2f}" if m["confidence"] is not None else "") + ")"
            for m in d["mentions"]) or "(no mention)"
        name = " ".join(d["name"].split()).replace("|", "\\|")
        lines.append(f"| {name} | {d['stratum']} | {', '.join(d['gold']) or '–'} "
                     f"| {', '.join(d['predicted']) or '–'} | {mentions.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m recommender.knowledge.class_eval",
        description="Per-class precision/recall of the reading pipeline on the gold sample.",
    )
    parser.add_argument("--labels", type=Path, default=DEFAULT_LABELS)
    parser.add_argument("--no-fallback", action="store_true",
                        help="curated classes only (do not apply the learned fallback)")
    args = parser.parse_args(argv)
    metrics = evaluate(args.labels, fallback=None if args.no_fallback else "default")
    sys.stdout.write(format_report(metrics))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
