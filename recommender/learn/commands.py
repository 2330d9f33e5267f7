"""Click commands for the permeability model: ``kp`` and ``train-permeability``.

The lead registers them on the ``skinrec`` group (``cli.add_command(kp)``); they hold no
rule of their own: reading, calling ``recommender.learn.permeability`` and writing.

``skinrec kp IN.csv -o OUT.csv`` answers "what is log Kp of these compounds through intact
human skin?": compounds by a ``smiles`` column, or ``mw`` + ``logkow`` columns (a given
``logkow`` is used with a SMILES too; without one, Crippen's). Every input column comes
out, plus ``logkp_cm_per_h`` (log10 Kp, Kp in cm/h), ``kp_cm_per_h``, ``out_of_domain``,
``domain_reasons``, ``logkow_used``, ``logkow_source``, ``model_inputs`` (full: SMILES
descriptors; reduced: MW + logKow) and ``model_version``. Rows that cannot be predicted
(unparseable SMILES, missing or non-numeric numbers) go to a rejects file with their row
number (1-based, header excluded) and reason; the run never stops on a bad row. Both
files are written atomically (temporary file + rename).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click

OUTPUT_COLUMNS = ("logkp_cm_per_h", "kp_cm_per_h", "out_of_domain", "domain_reasons",
                  "logkow_used", "logkow_source", "model_inputs", "model_version")


def _atomic_write_text(path: Path, text: str) -> None:
    from recommender.learn.artifacts import atomic_write_bytes

    atomic_write_bytes(path, text.encode("utf-8"))


def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _find(columns: list[str], name: str) -> str | None:
    for c in columns:
        if c.strip().lower() == name:
            return c
    return None


def _cell(row: dict, col: str | None) -> str | None:
    if col is None:
        return None
    v = row.get(col)
    v = v.strip() if isinstance(v, str) else v
    return v or None


def run_kp(in_path: Path, out_path: Path, rejects_path: Path | None = None,
           model_path: Path | None = None) -> dict:
    """The work behind ``skinrec kp``; returns {"rows", "predicted", "rejected",
    "out_of_domain", "output", "rejects"}."""
    from recommender.learn import permeability as P

    rejects_path = rejects_path or out_path.with_name(out_path.stem + ".rejects.csv")
    try:
        with open(in_path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = list(reader.fieldnames or [])
            records = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise click.ClickException(f"{in_path}: not a readable UTF-8 CSV file ({exc})") from exc
    if not columns:
        raise click.ClickException(f"{in_path}: empty file (expected a header row)")
    c_smiles, c_mw, c_logkow = (_find(columns, n) for n in ("smiles", "mw", "logkow"))
    if c_smiles is None and (c_mw is None or c_logkow is None):
        raise click.ClickException(
            f"{in_path}: needs a 'smiles' column, or 'mw' and 'logkow' columns "
            f"(found: {', '.join(columns)})")
    model = P.load_model(model_path)
    version = P.model_version(model_path)
    prepared, kept, rejects = [], [], []
    for i, row in enumerate(records, start=1):
        if None in row:  # more cells than header names
            rejects.append([i, "more fields than the header has columns",
                            *[row.get(c, "") for c in columns]])
            continue
        smiles = _cell(row, c_smiles)
        mw, logkow = _cell(row, c_mw), _cell(row, c_logkow)
        try:
            prepared.append(P.prepare(smiles, mw, logkow))
            kept.append(row)
        except ValueError as exc:
            rejects.append([i, str(exc), *[row.get(c, "") or "" for c in columns]])
    preds = P.predict_prepared(prepared, model) if prepared else []
    out_rows = []
    for row, pred in zip(kept, preds, strict=True):
        out_rows.append([
            *[row.get(c, "") or "" for c in columns],
            f"{pred['logkp_cm_per_h']:.4f}", f"{pred['kp_cm_per_h']:.6g}",
            str(pred["out_of_domain"]).lower(), "; ".join(pred["domain_reasons"]),
            f"{pred['logkow']:.4g}", pred["logkow_source"], pred["model_inputs"], version,
        ])
    extra = [c for c in OUTPUT_COLUMNS if c not in columns]
    header = columns + extra
    if len(extra) < len(OUTPUT_COLUMNS):  # input already had some output names: suffix them
        header = columns + [c if c in extra else f"{c}_pred" for c in OUTPUT_COLUMNS]
    _atomic_write_text(out_path, _csv_text(header, out_rows))
    _atomic_write_text(rejects_path, _csv_text(["row", "reason", *columns], rejects))
    return {"rows": len(records), "predicted": len(out_rows), "rejected": len(rejects),
            "out_of_domain": sum(p["out_of_domain"] for p in preds),
            "output": str(out_path), "rejects": str(rejects_path), "model_version": version}


@click.command("kp")
@click.argument("in_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out_csv", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="Output CSV.")
@click.option("--rejects", "rejects_csv", type=click.Path(dir_okay=False, path_type=Path),
              help="Rejects CSV (default: OUT.rejects.csv beside the output).")
def kp(in_csv: Path, out_csv: Path, rejects_csv: Path | None) -> None:
    """Predict log Kp (cm/h, intact human skin) for compounds in IN_CSV.

    IN_CSV has a `smiles` column, or `mw` (Da) + `logkow` columns. OUT adds
    logkp_cm_per_h (log10 of Kp in cm/h), kp_cm_per_h, out_of_domain (MW > 600 Da or
    descriptors outside the training data), domain_reasons, logkow_used, logkow_source,
    model_inputs and model_version. Unreadable rows go to the rejects file with their row
    number and reason. Trained on Cheruvu et al. 2022 (aqueous vehicles, human skin).
    """
    from recommender.learn.artifacts import ArtifactError

    try:
        res = run_kp(in_csv, out_csv, rejects_csv)
    except ArtifactError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{res['predicted']} of {res['rows']} rows predicted (log Kp in cm/h, intact human "
        f"skin; {res['out_of_domain']} out of domain) -> {res['output']}; "
        f"{res['rejected']} rejected -> {res['rejects']} [{res['model_version']}]", err=True)
    if res["rows"] and not res["predicted"]:
        raise click.ClickException("no row could be predicted; see the rejects file")


@click.command("train-permeability")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=None, help="Model directory (default: models/permeability).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--data", "data_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Cheruvu 2022 CSV (default: from the data directory).")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Write the model-card PNGs (needs matplotlib).")
def train_permeability(out_dir: Path | None, seed: int, data_path: Path | None,
                       plots: bool) -> None:
    """Train the permeability model, cross-validate it, save artifact + manifest + metrics."""
    from recommender.learn import permeability as P

    out_dir = out_dir or P.MODEL_DIR
    metrics = P.train_and_save(out_dir, seed=seed, data_path=data_path)
    click.echo(P.format_metrics(metrics))
    if plots:
        try:
            written = P.write_plots(out_dir)
        except ImportError:
            click.echo("matplotlib not installed: plots skipped", err=True)
        else:
            for p in written:
                click.echo(f"wrote {p}", err=True)

