"""Read the built ingredient knowledge base (models/kb/) for lookups at run time.

Which real input or user need each rule answers:

- The parser needs the list of every canonical name (``names``), the names it must never
  fuzzy-match onto (``restricted_names``: anything Annex II or III names, so a typo never
  turns into a prohibited or restricted substance) and the colour-index table
  (``ci_index``: "CI 77491" on a label -> IRON OXIDES, "CI 77891" -> TITANIUM DIOXIDE).
- Safety and scoring need one record per canonical name (``record``) and its classes.
- Batch scoring loads the KB in every worker: loading is one pass of the csv module
  (~28,700 rows, well under a second) and ``default_kb()`` caches it per process.
- Every batch worker, forkserver and web worker holds the KB: a row is kept as a tuple of
  its fields (the column names once, per KB) with repeated short values ("False",
  "SKIN CONDITIONING") shared, ~10 MB instead of ~41 MB as one dict per row;
  ``record`` builds the typed dict of one row when asked.
- A KB that does not match its manifest (edited by hand, half-copied, built by another
  version) is refused with a message saying to run ``skinrec build-kb``: silently scoring
  against a stale table is worse than stopping.
"""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path

from recommender import config
from recommender.hashing import sha256_file as _sha256

INGREDIENTS_FILE = "ingredients.csv"
CI_INDEX_FILE = "ci_index.csv"
SYNONYMS_FILE = "synonyms.csv"
MANIFEST_FILE = "manifest.json"

_BOOL_COLUMNS = ("prohibited", "restricted", "eu_allergen", "preservative", "uv_filter")
_FLOAT_COLUMNS = ("mw", "logkow", "tpsa")
_INT_COLUMNS = ("hbd", "hba")
_LIST_COLUMNS = ("functions", "annex_refs", "classes", "colourant_ci")


class KnowledgeBaseError(RuntimeError):
    """The KB on disk is missing, incomplete or does not match its manifest."""


def _rebuild_hint(directory: Path) -> str:
    return f"Run `skinrec build-kb` to rebuild the knowledge base in {directory}."


def canonical_key(name: str) -> str:
    """The lookup form of a canonical name: upper case, single spaces."""
    return " ".join(str(name).upper().split())


def _convert(row: dict[str, str]) -> dict:
    out: dict = row
    for c in _BOOL_COLUMNS:
        out[c] = row.get(c) == "True"
    for c in _FLOAT_COLUMNS:
        v = row.get(c, "")
        out[c] = float(v) if v != "" else None
    for c in _INT_COLUMNS:
        v = row.get(c, "")
        out[c] = int(v) if v != "" else None
    for c in _LIST_COLUMNS:
        v = row.get(c, "")
        out[c] = tuple(v.split("|")) if v else ()
    return out


class KnowledgeBase:
    """The ingredient KB: one record per canonical INCI name (see ``build.COLUMNS``)."""

    def __init__(self, columns: tuple[str, ...], rows: dict[str, tuple[str, ...]],
                 ci: dict[str, str], manifest: dict, directory: Path):
        """``rows``: canonical name -> the row's fields in the order of ``columns``."""
        self._columns = columns
        self._rows = rows
        self._ci = ci
        self.manifest = manifest
        self.directory = directory
        self._names = sorted(rows)
        col = {c: i for i, c in enumerate(columns)}

        def where(c: str, value: str) -> frozenset[str]:
            i = col.get(c)
            return frozenset() if i is None else frozenset(
                n for n, r in rows.items() if r[i] == value)

        self._restricted = where("restricted", "True")
        self._prohibited = where("prohibited", "True")
        i = col.get("classes")
        self._classes = {} if i is None else {
            n: tuple(r[i].split("|")) for n, r in rows.items() if r[i]}
        self._synonyms_path: Path | None = None
        self._synonyms: dict[str, str] | None = None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, directory: Path | str | None = None, *, verify: bool = True) -> KnowledgeBase:
        """Read ``directory`` (default ``config.KB_DIR``); check artifact hashes when ``verify``."""
        directory = Path(directory) if directory is not None else config.KB_DIR
        manifest_path = directory / MANIFEST_FILE
        ing_path = directory / INGREDIENTS_FILE
        ci_path = directory / CI_INDEX_FILE
        for p in (manifest_path, ing_path, ci_path):
            if not p.exists():
                raise KnowledgeBaseError(f"{p} is missing. {_rebuild_hint(directory)}")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise KnowledgeBaseError(
                f"{manifest_path} is not valid JSON ({exc}). {_rebuild_hint(directory)}"
            ) from exc
        artifacts = manifest.get("artifacts") or {}
        syn_path = directory / SYNONYMS_FILE if SYNONYMS_FILE in artifacts else None
        if syn_path is not None and not syn_path.exists():
            raise KnowledgeBaseError(f"{syn_path} is missing. {_rebuild_hint(directory)}")
        if verify:
            checked = [(INGREDIENTS_FILE, ing_path), (CI_INDEX_FILE, ci_path)]
            if syn_path is not None:
                checked.append((SYNONYMS_FILE, syn_path))
            for fname, path in checked:
                expected = (artifacts.get(fname) or {}).get("sha256")
                if not expected:
                    raise KnowledgeBaseError(
                        f"{manifest_path} has no sha256 for {fname}. {_rebuild_hint(directory)}"
                    )
                actual = _sha256(path)
                if actual != expected:
                    raise KnowledgeBaseError(
                        f"{path} does not match {manifest_path} (sha256 {actual[:12]}... vs "
                        f"{expected[:12]}...): the knowledge base was changed or is stale. "
                        + _rebuild_hint(directory)
                    )
        with open(ing_path, encoding="utf-8", newline="") as fh:
            columns, rows = _read_rows(fh)
        with open(ci_path, encoding="utf-8", newline="") as fh:
            ci = {r["ci"]: r["inci"] for r in csv.DictReader(fh)}
        expected_rows = ((manifest.get("artifacts") or {}).get(INGREDIENTS_FILE) or {}).get("rows")
        if verify and expected_rows is not None and expected_rows != len(rows):
            raise KnowledgeBaseError(
                f"{ing_path} has {len(rows)} rows, manifest says {expected_rows}. "
                + _rebuild_hint(directory)
            )
        kb = cls(columns, rows, ci, manifest, directory)
        kb._synonyms_path = syn_path
        return kb

    # ------------------------------------------------------------------ lookups
    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, inci: object) -> bool:
        return isinstance(inci, str) and canonical_key(inci) in self._rows

    def record(self, inci: str) -> dict | None:
        """The record of one canonical name (typed: bools, floats/ints or None, tuples), or None."""
        row = self._rows.get(canonical_key(inci))
        return _convert(dict(zip(self._columns, row, strict=True))) if row is not None else None

    def names(self) -> list[str]:
        """Every canonical name, sorted (the parser's name table)."""
        return list(self._names)

    def restricted_names(self) -> set[str]:
        """Names any Annex II or III entry names: never a fuzzy-match target."""
        return set(self._restricted)

    def prohibited_names(self) -> set[str]:
        """Names an unconditional Annex II entry names."""
        return set(self._prohibited)

    def classes(self, inci: str) -> tuple[str, ...]:
        """Class ids of a canonical name (() when unknown or unclassed)."""
        return self._classes.get(canonical_key(inci), ())

    def synonyms(self) -> dict[str, str]:
        """Generated synonym (in ``fold.key`` form, e.g. 'NICOTINAMIDE') -> canonical INCI,
        from synonyms.csv (PubChem synonyms via ``chemicals``; see knowledge/synonyms.py).
        Empty when the KB has none. Checked against the manifest hash at load."""
        if self._synonyms is None:
            out: dict[str, str] = {}
            if self._synonyms_path is not None:
                with open(self._synonyms_path, encoding="utf-8", newline="") as fh:
                    out = {r["synonym"]: r["inci"] for r in csv.DictReader(fh)}
            self._synonyms = out
        return dict(self._synonyms)

    def ci_index(self) -> dict[str, str]:
        """Colour-index number ('77491') -> the canonical INCI name to use ('IRON OXIDES')."""
        return dict(self._ci)

    def canonical_for_ci(self, ci: str) -> str | None:
        """'CI 77491', 'ci77491' or '77491' -> canonical name, or None."""
        digits = str(ci).upper().replace("C.I.", "").replace("CI", "").strip()
        return self._ci.get(digits)


def _read_rows(fh) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """(column names, canonical name -> tuple of the row's fields in that order) from
    ingredients.csv; short values that repeat across rows are one shared string (see the
    module doc). A row with more or fewer fields than the header is refused."""
    reader = csv.reader(fh)
    columns = tuple(next(reader, ()))
    if not columns or columns[0] != "inci":
        raise KnowledgeBaseError(f"{getattr(fh, 'name', 'ingredients.csv')} does not start "
                                 "with an 'inci' column")
    width = len(columns)
    pool: dict[str, str] = {}
    share = pool.setdefault
    rows: dict[str, tuple[str, ...]] = {}
    for r in reader:
        if not r:
            continue                      # a blank line (csv.DictReader skipped them too)
        if len(r) != width:
            raise KnowledgeBaseError(f"{getattr(fh, 'name', 'ingredients.csv')} line "
                                     f"{reader.line_num} has {len(r)} fields, the header {width}")
        rows[r[0]] = tuple([share(v, v) if len(v) <= 40 else v for v in r])
    return columns, rows


@functools.lru_cache(maxsize=4)
def _cached(directory: str) -> KnowledgeBase:
    return KnowledgeBase.load(Path(directory))


def default_kb(directory: Path | str | None = None) -> KnowledgeBase:
    """The KB in ``directory`` (default ``config.KB_DIR``), loaded once per process."""
    directory = Path(directory) if directory is not None else config.KB_DIR
    return _cached(str(directory.resolve()))


def clear_cache() -> None:
    """Forget cached KBs (after a rebuild in the same process)."""
    _cached.cache_clear()
