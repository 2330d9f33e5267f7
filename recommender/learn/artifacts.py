"""Save and load trained artifacts with a manifest that is checked on every load.

Which real need each rule answers:

- A committed model must be the one its metrics describe: ``save_artifact`` writes the
  joblib file, hashes the bytes on disk and records the sha256, the input data hashes,
  the library versions, the seed and the metrics in ``manifest.json`` next to it (one
  manifest per directory, one entry per artifact file, updated atomically).
- A pickle is code: ``load_artifact`` reads the file's bytes once, hashes *those bytes*
  and unpickles them only when the hash equals the manifest's entry. A file that is not
  in a manifest, or whose hash differs (edited, half-copied, retrained without
  committing the manifest), is refused with "run `skinrec train`". No pickle from a path
  a user supplies is ever loaded without this check.
- scikit-learn does not promise that a pickle from another minor version behaves the same:
  a different MAJOR.MINOR is refused (run `skinrec train`); a different patch release
  only warns (``ArtifactVersionWarning``).
- Reproducibility: the same inputs and seed give the same artifact bytes. joblib's
  pickles of scikit-learn estimators and numpy arrays are byte-stable across processes
  (checked in tests/test_permeability.py with two trainings and in tests/test_artifacts.py
  with two interpreters under different PYTHONHASHSEED); the one thing that would break
  it, a ``set`` or ``frozenset`` of strings inside the object (iteration order depends on
  the hash seed), must not be stored in an artifact: store sorted tuples instead.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import io
import json
import os
import platform
import tempfile
import warnings
from pathlib import Path
from typing import Any

import joblib

from recommender.hashing import sha256_file

__all__ = ["sha256_file"]  # re-exported: other modules import it from here

MANIFEST_FILE = "manifest.json"
RETRAIN_HINT = "run `skinrec train` to rebuild the models"
_COMPRESS = 3  # zlib level: deterministic for identical input bytes, ~3x smaller files


class ArtifactError(RuntimeError):
    """The artifact is missing, unlisted, altered, or built by another scikit-learn."""


class ArtifactVersionWarning(UserWarning):
    """The artifact was built by another patch release of scikit-learn (loaded anyway)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def library_versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "joblib": joblib.__version__,
    }


def _parse_version(v: str) -> tuple[int, int, int]:
    parts = []
    for p in str(v).split(".")[:3]:
        digits = "".join(ch for ch in p if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


def check_sklearn_version(built_with: str, *, name: str = "artifact") -> None:
    """Refuse another scikit-learn MAJOR.MINOR; warn on another patch release."""
    import sklearn

    have = _parse_version(sklearn.__version__)
    built = _parse_version(built_with)
    if have[:2] != built[:2]:
        raise ArtifactError(
            f"{name} was built with scikit-learn {built_with}, but scikit-learn "
            f"{sklearn.__version__} is installed; pickles are not portable across minor "
            f"versions: {RETRAIN_HINT} (or install scikit-learn {built[0]}.{built[1]}.x)."
        )
    if have != built:
        warnings.warn(
            f"{name} was built with scikit-learn {built_with}; scikit-learn "
            f"{sklearn.__version__} is installed (same minor series, loading it). If results "
            f"look off, {RETRAIN_HINT}.",
            ArtifactVersionWarning,
            stacklevel=3,
        )


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory + rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def read_manifest(directory: str | os.PathLike) -> dict:
    """The manifest of a model directory ({} when there is none)."""
    mpath = Path(directory) / MANIFEST_FILE
    if not mpath.is_file():
        return {}
    try:
        return json.loads(mpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{mpath} is not valid JSON ({exc}); {RETRAIN_HINT}.") from exc


def _input_entry(name: str, path: str | os.PathLike) -> dict:
    p = Path(path)
    entry: dict[str, Any] = {"file": p.name}
    try:
        from recommender import config

        entry["path"] = p.resolve().relative_to(config.data_dir().resolve()).as_posix()
        entry["root"] = "data_dir"
    except (ValueError, OSError):
        try:
            from recommender import config

            entry["path"] = p.resolve().relative_to(config.PROJECT_ROOT).as_posix()
            entry["root"] = "project"
        except (ValueError, OSError):
            entry["path"] = p.name
    entry["sha256"] = sha256_file(p)
    entry["bytes"] = p.stat().st_size
    return entry


def dumps_artifact(obj: Any) -> bytes:
    """The exact bytes ``save_artifact`` writes for ``obj``."""
    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=_COMPRESS)
    return buf.getvalue()


def save_artifact(
    obj: Any,
    path: str | os.PathLike,
    *,
    metrics: dict,
    inputs: dict[str, str | os.PathLike],
    seed: int | None = None,
    extra: dict | None = None,
) -> dict:
    """joblib-dump ``obj`` to ``path`` and record it in ``manifest.json`` beside it.

    Returns the manifest entry: {"file", "sha256", "bytes", "versions", "inputs",
    "metrics", "seed", "created_utc", ...extra}. Both files are written atomically
    (temporary file + rename), so a reader never sees half an artifact.
    """
    path = Path(path)
    data = dumps_artifact(obj)
    atomic_write_bytes(path, data)
    digest = sha256_file(path)  # the bytes on disk, which is what load_artifact checks
    entry: dict[str, Any] = {
        "file": path.name,
        "sha256": digest,
        "bytes": len(data),
        "versions": library_versions(),
        "inputs": {k: _input_entry(k, v) for k, v in sorted(inputs.items())},
        "metrics": metrics,
        "seed": seed,
        "created_utc": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
    }
    if extra:
        entry.update(extra)
    manifest = read_manifest(path.parent)
    manifest.setdefault("artifacts", {})[path.name] = entry
    manifest["artifacts"] = dict(sorted(manifest["artifacts"].items()))
    text = json.dumps(manifest, indent=2, sort_keys=False, default=_json_default) + "\n"
    atomic_write_bytes(path.parent / MANIFEST_FILE, text.encode("utf-8"))
    return entry


def _json_default(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(o, Path):
        return o.as_posix()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def manifest_entry(path: str | os.PathLike) -> dict:
    """The manifest entry for an artifact file; ArtifactError when there is none."""
    path = Path(path)
    entry = read_manifest(path.parent).get("artifacts", {}).get(path.name)
    if not entry:
        raise ArtifactError(
            f"{path} is not listed in {path.parent / MANIFEST_FILE}; refusing to unpickle "
            f"an unverified file: {RETRAIN_HINT}."
        )
    return entry


def load_artifact(path: str | os.PathLike, *, with_entry: bool = False) -> Any:
    """Load an artifact written by ``save_artifact`` after verifying it.

    Refuses (ArtifactError, message ends with "run `skinrec train` ...") when the file is
    missing, is not listed in the manifest beside it, its sha256 differs from the
    manifest, or it was built by another scikit-learn minor version; warns
    (ArtifactVersionWarning) on a patch difference. With ``with_entry=True`` returns
    (obj, manifest_entry).
    """
    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"model file {path} not found: {RETRAIN_HINT}.")
    entry = manifest_entry(path)
    data = path.read_bytes()  # hash and unpickle the same bytes (no swap in between)
    digest = sha256_bytes(data)
    if digest != entry.get("sha256"):
        raise ArtifactError(
            f"{path} does not match its manifest (sha256 {digest[:12]}... on disk, "
            f"{str(entry.get('sha256'))[:12]}... recorded): the file was changed or the "
            f"manifest is stale; {RETRAIN_HINT}."
        )
    built_with = entry.get("versions", {}).get("scikit-learn")
    if not built_with:
        raise ArtifactError(f"{path}: manifest does not record the scikit-learn version; "
                            f"{RETRAIN_HINT}.")
    check_sklearn_version(built_with, name=str(path.name))
    with warnings.catch_warnings():
        # The patch-level case was already reported once above, in our own words.
        try:
            from sklearn.exceptions import InconsistentVersionWarning

            warnings.simplefilter("ignore", InconsistentVersionWarning)
        except ImportError:  # pragma: no cover
            pass
        obj = joblib.load(io.BytesIO(data))
    return (obj, entry) if with_entry else obj


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
