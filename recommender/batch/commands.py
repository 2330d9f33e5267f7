"""``skinrec score`` and ``skinrec recommend``: parse arguments, call the library, render.

Registered on the ``skinrec`` group at the end of recommender/cli.py, which imports ``score``
and ``recommend`` from here. The commands are built on first access (module ``__getattr__``)
because they reuse cli.py's option helpers: that way importing either module first works
without a circular-import failure. Exit codes as in
cli.py: 0 done (rejected rows are reported, not an error), 2 bad usage or an input with no
rows, 1 an internal failure (one line, no traceback). SIGTERM is handled like Ctrl-C: the
run stops, temporary files are removed, nothing half-written is left, exit code 130.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys

import click

from recommender import DISCLAIMER


def _parse_map(values: tuple[str, ...]) -> dict[str, str]:
    """("ingredients=clean_ingreds", "name=product_name,category=type") -> mapping."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            if "=" not in part:
                raise click.BadParameter(f"{part!r}: use FIELD=COLUMN, e.g. ingredients=clean_ingreds",
                                         param_hint="--map")
            k, v = part.split("=", 1)
            k, v = k.strip().lower(), v.strip()
            if k not in ("ingredients", "name", "category", "product_id", "price", "brand"):
                raise click.BadParameter(
                    f"unknown field {k!r}: use ingredients, name, category, product_id, price or brand",
                    param_hint="--map")
            out[k] = v
    return out


def _score_context(hours, day, depth, modality, avoid, pregnant, protocol_file, concerns,
                   skin_type, no_models, flag_detail="full"):
    from recommender.cli import _load_protocol
    from recommender.scoring import make_score_context

    if hours is not None and day is not None:
        raise click.UsageError("give --hours or --day, not both")
    protocol = _load_protocol(protocol_file) if protocol_file else None
    try:
        return make_score_context(hours=hours, day=day, depth=depth, modality=modality,
                                  avoid=avoid, pregnant=pregnant, concerns=concerns,
                                  skin_type=skin_type, protocol=protocol,
                                  use_models=not no_models, flag_detail=flag_detail)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


def _person_options(f):
    f = click.option("--no-models", is_flag=True, default=False,
                     help="Do not load the learned models (their columns stay empty).")(f)
    f = click.option("--skin-type", default=None,
                     help="Skin type(s): dry, oily, combination, normal, sensitive.")(f)
    f = click.option("--concerns", default=None,
                     help="Concerns, comma-separated: acne, dark_spots, fine_lines_wrinkles, "
                          "firmness, dullness_texture, pores, dryness, redness, dark_circles.")(f)
    return f


class _Terminated(KeyboardInterrupt):
    pass


def _on_sigterm(signum, frame):  # noqa: ARG001
    raise _Terminated()


def _handle_sigterm() -> None:
    # not possible outside the main thread (a test invoking the command in a thread)
    with contextlib.suppress(ValueError):
        signal.signal(signal.SIGTERM, _on_sigterm)


def _score(inp, out, fmt_out, fmt_in, maps, rejects, hours, day, depth, modality, avoid, pregnant,
          protocol_file, concerns, skin_type, no_models, flag_detail, workers, engine, scheduler,
          chunk_rows, progress, as_json):
    """Score a catalog file for post-needling use: every row to OUT or to the rejects file.

    IN is CSV, Parquet or JSONL (by extension or --input-format; '-' reads CSV or JSONL from
    standard input); OUT likewise. Every input
    column is kept; added: verdict, safe_from_day, post_needling_score, flags (JSON),
    concern_*, gentleness, absorption_index, n_ingredients, unrecognized, post_procedure_friendly,
    protocol and model versions. Not medical advice.
    """
    from recommender.batch.io import InputError
    from recommender.cli import EXIT_NO_LIST, NoListError
    from recommender.scoring import ColumnError

    columns = _parse_map(maps)
    ctx = _score_context(hours, day, depth, modality, avoid, pregnant, protocol_file, concerns,
                         skin_type, no_models, flag_detail)
    _handle_sigterm()
    try:
        if engine == "dask":
            from recommender.batch.dask_engine import run_dask

            summary = run_dask(inp, out, ctx, fmt_in=fmt_in, fmt_out=fmt_out, columns=columns,
                               partition_rows=chunk_rows, workers=workers, scheduler=scheduler)
        else:
            from recommender.batch.local import run_local

            summary = run_local(inp, out, ctx, fmt_in=fmt_in, fmt_out=fmt_out, columns=columns,
                                chunk_rows=chunk_rows, workers=workers, rejects=rejects,
                                progress=progress, log=lambda m: click.echo(m, err=True))
    except ColumnError as exc:
        raise click.UsageError(str(exc)) from None
    except InputError as exc:
        raise NoListError(str(exc)) from None
    except ImportError as exc:
        raise click.UsageError(f"{exc}; the dask engine needs `pip install skinrec[dask]`") from None
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        for line in summary.lines():
            click.echo(line, err=True)
    if summary.rows == 0:
        click.echo(f"skinrec: {inp}: no rows to score", err=True)
        sys.exit(EXIT_NO_LIST)
    if summary.scored == 0:
        click.echo(f"skinrec: {inp}: no row could be read (all {summary.rows} rejected)", err=True)
        sys.exit(EXIT_NO_LIST)


def _recommend(catalog, fmt_in, maps, hours, day, depth, modality, avoid, pregnant, protocol_file,
              concerns, skin_type, no_models, budget, k, strict, as_json):
    """What to use now, what later (from day N) and what to avoid, from a catalog."""
    from recommender.batch.io import InputError, detect_format, read_chunks
    from recommender.cli import EXIT_NO_LIST, NoListError
    from recommender.recommend import Recommender
    from recommender.scoring import ColumnError, score_frame

    columns = _parse_map(maps)
    ctx = _score_context(hours, day, depth, modality, avoid, pregnant, protocol_file, concerns,
                         skin_type, no_models)
    try:
        rec = Recommender(ctx, k=k, budget=budget, strict=strict, columns=columns)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    rejected = 0
    try:
        for frame in _catalog_frames(catalog, fmt_in, detect_format, read_chunks):
            if isinstance(frame, int):
                rejected += frame
                continue
            rec.add(score_frame(frame, ctx, columns=columns))
    except ColumnError as exc:
        raise click.UsageError(str(exc)) from None
    except (InputError, FileNotFoundError) as exc:
        raise NoListError(str(exc)) from None
    result = rec.result()
    result["counts"]["rejected"] = rejected
    if rejected:
        result["warnings"].append(f"{rejected} catalog row(s) could not be read and were left out "
                                  "(`skinrec score` writes them to a rejects file)")
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(render_recommendations(result))
    if result["counts"]["rows"] == 0:
        sys.exit(EXIT_NO_LIST)


def _catalog_frames(catalog, fmt_in, detect_format, read_chunks):
    from pathlib import Path

    from recommender import config

    if catalog in config.CATALOGS and not Path(catalog).exists():
        from recommender.catalogs import load_catalog

        df = load_catalog(catalog, keep_all=True)
        df = df.rename(columns={"price_usd": "price"}) if "price_usd" in df.columns and \
            "price" not in df.columns else df
        df["input_row"] = range(1, len(df) + 1)
        for start in range(0, len(df), 5000):
            yield df.iloc[start:start + 5000]
        return
    fmt = detect_format(catalog, fmt_in)
    for chunk in read_chunks(catalog, fmt):
        if chunk.rejects:
            yield len(chunk.rejects)
        yield chunk.frame


def render_recommendations(result: dict) -> str:
    ctx = result["context"]
    lines = [f"After {ctx['depth_mm']:g} mm {ctx['modality']}, day {ctx['day']:g}"
             + (f"; concerns: {', '.join(ctx['concerns'])}" if ctx["concerns"] else "")
             + (f"; skin: {', '.join(ctx['skin_types'])}" if ctx["skin_types"] else "")
             + f"  (protocol {ctx['protocol']['name']} {ctx['protocol']['version']})"]
    titles = {"use_now": "USE NOW", "later": "LATER", "avoid": "AVOID"}
    for name in ("use_now", "later", "avoid"):
        items = result[name]
        lines.append("")
        lines.append(f"{titles[name]} ({len(items)} of {result['counts'][name]})")
        for i, it in enumerate(items, 1):
            label = it["name"] or f"row {it['row']}"
            if it.get("brand"):
                label = f"{it['brand']} - {label}"
            score = "" if it["score"] is None else f"  score {it['score']:.0f}"
            when = f"  from day {it['safe_from_day']:g}" if name == "later" else ""
            lines.append(f"{i:>3}. {label} [{it['product_id']}]{score}{when}  ({it['verdict']})")
            for reason in it["reasons"][:3]:
                lines.append(f"       - {reason}")
    for w in result["warnings"]:
        lines.append(f"warning: {w}")
    lines.append("")
    lines.append(DISCLAIMER)
    return "\n".join(lines)


def _build() -> None:
    """Define ``score`` and ``recommend`` (click commands) with cli.py's option helpers."""
    if "score" in globals():
        return
    from recommender.cli import _context_options
    if "score" in globals():          # built while recommender.cli was importing us
        return

    f = _score
    f = click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")(f)
    f = click.option("--progress/--no-progress", default=None,
        help="Progress bar (default: only when standard error is a terminal).")(f)
    f = click.option("--chunk-rows", type=click.IntRange(min=1), default=2000, show_default=True,
        help="Rows per chunk (local) or per partition (dask).")(f)
    f = click.option("--scheduler", default=None,
        help="Dask scheduler address (default: a LocalCluster with --workers processes).")(f)
    f = click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True)(f)
    f = click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
        help="Worker processes (each loads the knowledge base once).")(f)
    f = click.option("--flags", "flag_detail", type=click.Choice(["full", "compact"]),
        default="full", show_default=True,
        help="flags column: every field (full) or scope, ingredient, inci, position, class, "
             "rule, severity, until_day, open (compact: ~5x smaller output).")(f)
    f = _person_options(f)
    f = _context_options(f)
    f = click.option("--rejects", default=None,
        help="Rejects file (default: OUT's name with .rejects.csv).")(f)
    f = click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
        help="Column mapping, e.g. --map ingredients=clean_ingreds,name=product_name.")(f)
    f = click.option("--input-format", "fmt_in", type=click.Choice(["csv", "parquet", "jsonl"]),
        default=None, help="Input format (default: from the input's extension).")(f)
    f = click.option("--format", "fmt_out", type=click.Choice(["csv", "parquet", "jsonl"]), default=None,
        help="Output format (default: from the output's extension).")(f)
    f = click.option("--output", "-o", "out", required=True, help="Output file (dask engine: a directory).")(f)
    f = click.argument("inp", metavar="IN")(f)
    score_cmd = click.command("score", help=_score.__doc__)(f)
    f = _recommend
    f = click.option("--json", "as_json", is_flag=True, help="The three lists as one JSON object.")(f)
    f = click.option("--strict", is_flag=True, help="Use now: 'suitable' only (no 'caution').")(f)
    f = click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True,
        help="Products per list.")(f)
    f = click.option("--budget", type=float, default=None, help="Highest price (needs a price column).")(f)
    f = _person_options(f)
    f = _context_options(f)
    f = click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
        help="Column mapping, e.g. --map ingredients=clean_ingreds,price=price_usd.")(f)
    f = click.option("--input-format", "fmt_in", type=click.Choice(["csv", "parquet", "jsonl"]), default=None)(f)
    f = click.option("--catalog", required=True,
        help="Catalog file (CSV, Parquet, JSONL) or a shared catalog name (sephora_2023, "
            "cosmetics_2017, lookfantastic_2020).")(f)
    recommend_cmd = click.command("recommend", help=_recommend.__doc__)(f)
    globals().update(score=score_cmd, recommend=recommend_cmd)


def __getattr__(name: str):
    if name in ("score", "recommend"):
        _build()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
