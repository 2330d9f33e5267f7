"""The ``skinrec`` command line: parse arguments, call the library, render. No rules here.

Exit codes (on-the-list's honesty: "nothing found" never stands for "nothing checked"):
0 every input was read and assessed; 2 bad usage or an input with no ingredient list
(empty, placeholder, binary, oversized, prose only); 1 an internal failure, reported in one
line without a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from recommender import DISCLAIMER, __version__

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_NO_LIST = 2


class NoListError(click.ClickException):
    """Input that holds no ingredient list: exit code 2, like a bad argument."""

    exit_code = EXIT_NO_LIST


class SkinrecGroup(click.Group):
    """Turns any unexpected exception into one clear line and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback to users
            click.echo(f"skinrec: error: {type(exc).__name__}: {exc}", err=True)
            sys.exit(EXIT_FAILURE)


@click.group(cls=SkinrecGroup)
@click.version_option(__version__, prog_name="skinrec")
def main() -> None:
    """Score skincare products for use after microneedling. Not medical advice."""


# ----------------------------------------------------------------------------- inputs


def read_text_file(path: str) -> tuple[str, list[str]]:
    """Read a file or stdin ('-') as text: UTF-8, else cp1252 with a warning; refuse binary."""
    try:
        data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {path}: {exc.strerror or exc}",
                                 param_hint="--file") from None
    warnings: list[str] = []
    if b"\x00" in data[:65536]:
        raise NoListError(
            f"{'standard input' if path == '-' else path} is binary data, not text: "
            "no ingredient list found"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        warnings.append(f"{path}: not valid UTF-8; read as cp1252 (Windows-1252)")
    return text, warnings


def _context_options(f):
    options = [
        click.option("--hours", type=float, default=None, help="Hours since the end of the treatment."),
        click.option("--day", type=float, default=None,
                     help="Days since the end of the treatment (1.5 = 36 h). Default 1."),
        click.option("--depth", type=float, default=None, help="Needle depth in mm. Default 1.0."),
        click.option("--modality", type=click.Choice(["mn", "rf", "prp"], case_sensitive=False),
                     default=None, help="mn (microneedling, default), rf or prp."),
        click.option("--avoid", default=None,
                     help="Your avoid-list: ingredient or class names, comma-separated."),
        click.option("--pregnant", is_flag=True, default=False, help="Retinoids: avoid at any time."),
        click.option("--protocol", "protocol_file", type=click.Path(dir_okay=False), default=None,
                     help="A clinic's own protocol file (YAML) instead of the default."),
    ]
    for opt in reversed(options):
        f = opt(f)
    return f


def _load_protocol(protocol_file):
    from recommender.safety import ProtocolError, default_protocol, load_protocol

    if protocol_file is None:
        return default_protocol()
    try:
        return load_protocol(protocol_file)
    except (ProtocolError, OSError) as exc:
        raise click.UsageError(f"protocol refused: {exc}") from None


def _make_context(hours, day, depth, modality, avoid, pregnant):
    from recommender.check import make_context

    if hours is not None and day is not None:
        raise click.UsageError("give --hours or --day, not both")
    try:
        return make_context(hours=hours, day=day, depth=depth, modality=modality,
                            avoid=avoid, pregnant=pregnant)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


# ----------------------------------------------------------------------------- check


@main.command()
@click.argument("texts", nargs=-1)
@click.option("--file", "-f", "file_", default=None,
              help="Read one ingredient list per line from a file ('-' for standard input).")
@_context_options
@click.option("--name", "product_name", default=None,
              help="Product name (a name saying 'peel' triggers the peel rule).")
@click.option("--category", default=None, help="Product category (e.g. 'Peels').")
@click.option("--no-models", is_flag=True,
              help="Skip the learned models (concern fit, gentleness, absorption): faster.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per list (JSON Lines).")
def check(texts, file_, hours, day, depth, modality, avoid, pregnant, protocol_file,
          product_name, category, no_models, as_json):
    """Check ingredient lists: what each ingredient is, and whether the product is safe now.

    One list per TEXT argument, or one per line of --file.
    """
    from recommender.check import check as run_check

    inputs: list[tuple[str, str]] = []
    for i, t in enumerate(texts, 1):
        inputs.append((f"argument {i}", t))
    if file_ is not None:
        text, warnings = read_text_file(file_)
        for w in warnings:
            click.echo(f"warning: {w}", err=True)
        lines = text.splitlines()
        blank = 0
        for n, line in enumerate(lines, 1):
            if line.strip():
                inputs.append((f"line {n}", line))
            else:
                blank += 1
        if blank and not as_json:
            click.echo(f"note: {blank} blank line(s) skipped", err=True)
    if not inputs:
        raise click.UsageError("no ingredient list given: pass TEXT or --file F (or --file - for stdin)")
    protocol = _load_protocol(protocol_file)
    ctx = _make_context(hours, day, depth, modality, avoid, pregnant)
    missing = 0
    for label, text in inputs:
        result = run_check(text, ctx, protocol, name=product_name, category=category,
                           with_models=not no_models)
        if not result.found:
            missing += 1
            reason = "; ".join(result.parsed.problems) or "no ingredient list found"
            click.echo(f"skinrec: {label}: {reason}", err=True)
        if as_json:
            obj = {"input": label, **result.to_dict()}
            click.echo(json.dumps(obj, ensure_ascii=False))
        else:
            click.echo(render_check(label, result, show_label=len(inputs) > 1))
    if not as_json:
        click.echo(DISCLAIMER)
    sys.exit(EXIT_NO_LIST if missing else EXIT_OK)


def render_check(label: str, result, *, show_label: bool) -> str:
    """A person-readable report: one line per ingredient, then flags and unrecognised names."""
    p = result.parsed
    lines: list[str] = []
    if show_label:
        lines.append(f"== {label}")
    if not result.found:
        lines.append("; ".join(p.problems) or f"no ingredient list found ({p.status})")
        return "\n".join(lines)
    a = result.assessment
    safe = "never (personal rule)" if a.safe_from_day is None else f"day {a.safe_from_day:g}"
    lines.append(f"verdict: {a.verdict.upper()}   safe from: {safe}   "
                 f"(protocol {a.protocol.name} {a.protocol.version})")
    multi = len(p.components) > 1
    comp = None
    for m in p.ingredients:
        if multi and m.component != comp:
            comp = m.component
            lines.append(f"  [{comp}] {p.components[comp] or '(no heading)'}")
        if m.inci is None:
            what = "? not recognised"
        elif m.match in ("exact", "alias"):
            what = m.inci + ("" if m.match == "exact" else "  (alias)")
        else:
            what = f"{m.inci}  ({m.match} {m.match_score:g})"
        cls = ", ".join(m.classes)
        if m.uncertain:
            cls = "class uncertain"
        sec = "  [may contain]" if m.section == "may_contain" else ""
        lines.append(f"  {m.position:>3}. {m.raw}{sec}  -> {what}" + (f"  [{cls}]" if cls else ""))
    if a.flags:
        lines.append("flags:")
        for f in a.flags:
            state = "open" if f.open else "closed"
            lines.append(f"  - [{f.severity}, {state}] {f.reason}  (source: {f.source}; evidence: {f.evidence})")
    if result.fit is not None:
        lines.extend(_render_fit(result.fit))
    unrec = p.unrecognized
    if unrec:
        lines.append(f"not recognised ({len(unrec)}): " + "; ".join(unrec))
    if p.problems:
        lines.append("set aside: " + "; ".join(p.problems))
    return "\n".join(lines)


def _render_fit(fit: dict) -> list[str]:
    """What the learned models say: never part of the safety verdict above."""
    out = []
    concerns = {k: v for k, v in (fit.get("concerns") or {}).items() if v is not None}
    if concerns:
        top = sorted(concerns.items(), key=lambda kv: -kv[1])[:3]
        out.append("fit (learned, not safety): " + ", ".join(f"{k} {v:.2f}" for k, v in top)
                   + (f"; gentleness {fit['gentleness']:.2f}" if fit.get("gentleness") is not None else ""))
    a = fit.get("absorption")
    if a and a.get("actives"):
        parts = []
        for act in a["actives"][:6]:
            x = act.get("x_vs_intact")
            if x is not None:
                parts.append(f"{act['inci']} x{x:g}")
            elif "negligible" in str(act.get("intact_term")):
                parts.append(f"{act['inci']} (through open channels only)")
            else:
                parts.append(f"{act['inci']} (unknown: no structure)")
        out.append(f"absorption at {a['t_hours']:g} h vs intact skin: " + ", ".join(parts))
    return out


# ----------------------------------------------------------------------------- protocol


@main.command()
@_context_options
def protocol(hours, day, depth, modality, avoid, pregnant, protocol_file):
    """Print the active protocol as a table (windows after the depth/modality factor)."""
    from recommender.safety.table import render_protocol

    proto = _load_protocol(protocol_file)
    ctx = _make_context(hours, day, depth, modality, avoid, pregnant)
    click.echo(render_protocol(proto, ctx))


# ----------------------------------------------------------------------------- knowledge base


@main.command("build-kb")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where to write the KB (default: models/kb).")
def build_kb_cmd(out_dir):
    """Rebuild the ingredient knowledge base from the data directory (reproducible)."""
    from recommender import config
    from recommender.knowledge.build import build_kb

    if not config.data_dir().is_dir():
        raise click.ClickException(f"data directory {config.data_dir()} not found. {config.DATA_HOWTO}")
    manifest = build_kb(out_dir=Path(out_dir) if out_dir else None)
    click.echo(json.dumps({k: manifest[k] for k in manifest if k != "inputs"}, indent=2, default=str))


@main.command()
@click.argument("source")
@click.option("--column", default=None, help="Ingredient column of a CSV file (default: ingredients).")
@click.option("--top", default=50, show_default=True, help="How many unrecognised names to list.")
@click.option("--json", "as_json", is_flag=True)
def coverage(source, column, top, as_json):
    """How much of a catalog's ingredient lists skinrec recognises, and what it does not.

    SOURCE is a shared catalog name (sephora_2023, cosmetics_2017, lookfantastic_2020)
    or a CSV file.
    """
    from recommender.coverage import coverage_report, format_coverage, load_source

    frame, col = load_source(source, column)
    report = coverage_report(frame[col].tolist(), top=top, name=source)
    click.echo(json.dumps(report, indent=2) if as_json else format_coverage(report))


# ----------------------------------------------------------------------------- demo


@main.command()
def demo():
    """The main job on the embedded defaults: check the example labels in data/examples."""
    from recommender import config

    path = config.AUTHORED_DATA_DIR / "examples" / "labels.txt"
    ctx = click.get_current_context()
    ctx.invoke(check, texts=(), file_=str(path), hours=None, day=None, depth=None, modality=None,
               avoid=None, pregnant=False, protocol_file=None, product_name=None, category=None,
               no_models=False, as_json=False)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True,
              help="gunicorn worker processes (each shares the catalog loaded before fork).")
@click.option("--catalog", default=None,
              help="Catalog to serve: a CSV file or a shared catalog name (sephora_2023). "
                   "Default: SKINREC_CATALOG, else the demo catalog in data/demo.")
@click.option("--protocol", "protocol_file", type=click.Path(dir_okay=False, exists=True),
              default=None, help="A clinic's protocol file (default: SKINREC_PROTOCOL, else "
                                 "the default protocol).")
@click.option("--timeout", type=click.IntRange(5, 3600), default=120, show_default=True,
              help="Seconds a request may take (catalog uploads) before its worker restarts.")
def serve(host, port, workers, catalog, protocol_file, timeout):
    """Serve the web app and the JSON API under gunicorn (web:create_app(), preloaded).

    The catalog, protocol and models load once, before the workers fork. Not medical advice.
    """
    import importlib.util
    import os

    from recommender import config

    if importlib.util.find_spec("gunicorn") is None:
        raise click.UsageError("gunicorn is not installed: pip install -e . (it is a dependency)")
    if catalog:
        os.environ["SKINREC_CATALOG"] = catalog
    if protocol_file:
        os.environ["SKINREC_PROTOCOL"] = str(Path(protocol_file).resolve())
    spec = config.web_catalog()
    if spec in config.CATALOGS and not Path(spec).exists():
        if not config.data_path(config.CATALOGS[spec][0]).is_file():
            raise click.ClickException(f"catalog {spec} not found in {config.data_dir()}. "
                                       f"{config.DATA_HOWTO}")
    elif not Path(spec).is_file():
        raise click.UsageError(f"catalog {spec!r} is neither a file nor a shared catalog name "
                               f"({', '.join(config.CATALOGS)})")
    _load_protocol(config.web_protocol())          # refuse a bad protocol file before forking
    try:
        config.web_max_upload_bytes()
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    bind = f"{host or config.WEB_HOST}:{port or config.WEB_PORT}"
    argv = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
            "--preload", "--config", "python:web.gunicorn_conf",
            "--timeout", str(timeout), "--access-logfile", "-",
            "--pythonpath", str(config.PROJECT_ROOT), "web:create_app()"]
    click.echo(f"skinrec: serving {config.web_catalog()} on http://{bind} "
               f"({workers} worker(s)); Ctrl-C stops", err=True)
    os.execv(sys.executable, argv)   # gunicorn replaces this process: its signals, its exit code


@main.command()
@click.option("--seed", default=0, show_default=True, help="Seed for every model.")
@click.option("--no-cv", is_flag=True, help="Skip the class fallback's cross-validation (faster).")
def train(seed, no_cv):
    """Rebuild every artifact under models/ from the data directory, in dependency order:
    knowledge base, class fallback, permeability, concern and skin-type models."""
    from recommender import config
    from recommender.learn.pipeline import train_everything

    if not config.data_dir().is_dir():
        raise click.ClickException(f"data directory {config.data_dir()} not found. {config.DATA_HOWTO}")
    steps = train_everything(seed=seed, cv=not no_cv, say=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(steps, indent=2))
    click.echo("done: commit models/ and run `skinrec evaluate` for the model card", err=True)


@main.command()
def evaluate():
    """Recompute every recorded metric and write models/MODEL_CARD.md; exit 1 when a
    recorded metric does not reproduce (retrain with `skinrec train`)."""
    from recommender.learn.pipeline import evaluate_everything

    out = evaluate_everything(say=lambda m: click.echo(m, err=True))
    click.echo(json.dumps(out, indent=2, default=str))
    bad = [k for k, v in out.items() if isinstance(v, dict) and v.get("reproduced") is False]
    if bad:
        click.echo(f"not reproduced: {', '.join(bad)} (run `skinrec train`)", err=True)
        sys.exit(EXIT_FAILURE)


# ----------------------------------------------------------------------------- regimen


class RegimenInputError(click.ClickException):
    """A shelf, date or saved plan the regimen cannot use: exit code 2, one clear line."""

    exit_code = EXIT_NO_LIST


def _write_atomic(path: str, data: bytes) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written file."""
    import os
    import tempfile

    target = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                   dir=str(target.parent if str(target.parent) else "."))
    except OSError as exc:
        raise RegimenInputError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)        # mkstemp makes 0600; a handout is an ordinary file
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise RegimenInputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@main.command()
@click.option("--shelf", "shelf_file", default=None,
              help="The clinic's shelf: CSV with product_id, name, ingredients[, category, step].")
@click.option("--products", default=None,
              help="Shelf from the shared catalogs: catalog:id,... (sephora_2023:P442540,...).")
@click.option("--treated", default=None, help="Treatment date, YYYY-MM-DD (day 0).")
@click.option("--depth", type=float, default=1.0, show_default=True, help="Needle depth in mm.")
@click.option("--modality", default="mn", show_default=True, help="mn, rf or prp.")
@click.option("--area", default="face", show_default=True, help="Treated area.")
@click.option("--concerns", default=None, help="Comma-separated concerns (steer the ranking).")
@click.option("--skin-type", default=None, help="Comma-separated skin types.")
@click.option("--avoid", default=None, help="The client's avoid-list: ingredients or classes.")
@click.option("--pregnant", is_flag=True, default=False, help="Retinoids: avoid at any time.")
@click.option("--protocol", "protocol_file", type=click.Path(dir_okay=False), default=None,
              help="A clinic's own protocol file (YAML) instead of the default.")
@click.option("--next-session", default=None,
              help="Next session date, YYYY-MM-DD (default: 28 days after treatment).")
@click.option("--clinic", default=None, help="Clinic name for the handout.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (the record).")
@click.option("--html", "html_out", default=None, help="Write the printable handout to this file.")
@click.option("--ics", "ics_out", default=None, help="Write the reintroduction calendar (.ics).")
@click.option("--load", "load_file", default=None,
              help="Re-render a saved plan (JSON from --json) instead of building one.")
def regimen(shelf_file, products, treated, depth, modality, area, concerns, skin_type, avoid,
            pregnant, protocol_file, next_session, clinic, as_json, html_out, ics_out,
            load_file):
    """A day-by-day post-treatment plan from the clinic's shelf (issue #7).

    Build: --shelf F or --products ids, and --treated DATE. Re-render a saved plan: --load F
    with --html / --ics / --json. Bad input: one clear line and exit code 2.
    """
    from recommender.regimen import (
        Client,
        Regimen,
        RegimenError,
        Treatment,
        build_regimen,
        read_shelf_csv,
        render_handout,
        shelf_from_catalog,
        to_ics,
    )
    from recommender.regimen.handout import render_text

    if load_file is not None:
        if shelf_file or products or treated:
            raise RegimenInputError("--load re-renders a saved plan: leave out --shelf, "
                                    "--products and --treated")
        text, _ = read_text_file(load_file)
        try:
            plan = Regimen.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise RegimenInputError(f"{load_file} is not JSON: {exc}") from None
        except RegimenError as exc:
            raise RegimenInputError(f"{load_file}: {exc}") from None
    else:
        if bool(shelf_file) == bool(products):
            raise RegimenInputError("give the shelf as --shelf FILE.csv or --products "
                                    "catalog:id,... (one of them)")
        if not treated:
            raise RegimenInputError("give the treatment date: --treated YYYY-MM-DD")
        try:
            if shelf_file:
                try:
                    data = sys.stdin.buffer.read() if shelf_file == "-" else \
                        Path(shelf_file).read_bytes()
                except OSError as exc:
                    raise RegimenInputError(f"cannot read {shelf_file}: "
                                            f"{exc.strerror or exc}") from None
                shelf = read_shelf_csv(data, source=shelf_file)
            else:
                shelf = shelf_from_catalog(products.split(","))
            proto = _load_protocol(protocol_file)
            plan = build_regimen(
                shelf, Treatment(date=treated, depth_mm=depth, modality=modality, area=area),
                Client(skin_types=skin_type, concerns=concerns, avoid=avoid, pregnant=pregnant),
                proto, next_session=next_session, clinic=clinic)
        except RegimenError as exc:
            raise RegimenInputError(str(exc)) from None
    try:
        page = render_handout(plan, clinic=clinic).encode("utf-8") if html_out else None
        ics = to_ics(plan) if ics_out else None
    except RegimenError as exc:
        raise RegimenInputError(str(exc)) from None
    if html_out:
        _write_atomic(html_out, page)
        click.echo(f"handout written to {html_out}", err=True)
    if ics_out:
        _write_atomic(ics_out, ics)
        click.echo(f"calendar written to {ics_out}", err=True)
    if as_json:
        click.echo(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1))
    elif not (html_out or ics_out):
        click.echo(render_text(plan))


from recommender.batch.commands import recommend, score  # noqa: E402
from recommender.learn.commands import kp, train_permeability  # noqa: E402

main.add_command(score)
main.add_command(recommend)
main.add_command(kp)
main.add_command(train_permeability)

if __name__ == "__main__":
    main()
