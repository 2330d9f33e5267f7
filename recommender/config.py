"""Every path and tunable in one place (cookiecutter-data-science's config.py habit).

The data directory answers one need: the public datasets are never committed, so
the code reads them from ``SKINREC_DATA_DIR`` when set, else ``../shared/data``
beside the checkout when it exists, else ``data/raw`` inside it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = PROJECT_ROOT / "recommender"
AUTHORED_DATA_DIR = PROJECT_ROOT / "data"          # small data the project wrote itself
MODELS_DIR = Path(os.environ.get("SKINREC_MODELS_DIR", PROJECT_ROOT / "models"))
KB_DIR = MODELS_DIR / "kb"

ALIASES_FILE = AUTHORED_DATA_DIR / "aliases.csv"
CLASSES_DIR = AUTHORED_DATA_DIR / "classes"
PROTOCOLS_DIR = AUTHORED_DATA_DIR / "protocols"

DATA_HOWTO = (
    "The public datasets are not part of the repository. Point SKINREC_DATA_DIR at a folder "
    "laid out as shared/data (catalogs/, ingredients/, permeability/); each dataset's "
    "SOURCE.txt and README.md 'Data' section say where to download it."
)


def data_dir() -> Path:
    """The directory holding the public datasets (read-only input)."""
    env = os.environ.get("SKINREC_DATA_DIR")
    if env:
        return Path(env)
    shared = PROJECT_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return PROJECT_ROOT / "data" / "raw"


# Relative locations of each dataset inside the data directory.
CATALOGS = {
    "sephora_2023": ("catalogs/sephora_2023/product_info.csv", "product_id", "ingredients"),
    "cosmetics_2017": ("catalogs/cosmetics_2017/cosmetics.csv", None, "Ingredients"),
    "lookfantastic_2020": (
        "catalogs/lookfantastic_2020/skincare_products_clean.csv",
        None,
        "clean_ingreds",
    ),
}
COSING_INVENTORY = "ingredients/cosing_inventory/cosing.csv"
COSING_ANNEXES_DIR = "ingredients/cosing_annexes_2026"
EU_ALLERGENS = "ingredients/cosing_annexes_2026/derived_eu_labelled_fragrance_allergens.csv"
COMEDOGENICITY = "ingredients/comedogenicity/comedogenic_ratings.csv"
PERMEABILITY = "permeability/cheruvu2022/cheruvu2022_human_skin_kp.csv"


def data_path(relative: str) -> Path:
    return data_dir() / relative


# Canonicalisation: fuzzy matching is allowed only at or above this similarity (0-100).
# The most entries one per-process memo of printed names or tokens (the parser's, the
# canonicaliser's, the class rules', the featuriser's) keeps before it is emptied: ~0.5-1 KB
# an entry, so a worker's memos stay within a few hundred MB over any catalog size, while a
# catalog's common names are back in them within a chunk. SKINREC_MEMO_ENTRIES overrides it
# for a machine with memory to spare: on a generated 100k-row catalog with 2 workers, 250,000
# took 8 % less CPU at the same peak memory (1,282 vs 1,273 MB summed RSS, README); the
# default stays 100,000 because an adversarial catalog (every token new) fills every memo.
def _memo_entries() -> int:
    raw = os.environ.get("SKINREC_MEMO_ENTRIES") or "100000"
    try:
        n = int(raw.replace("_", ""))
    except ValueError:
        n = 0
    if n < 1000:
        # read at import: a warning and the default, never a traceback in every command
        import sys

        print(f"skinrec: SKINREC_MEMO_ENTRIES must be a whole number >= 1000, got {raw!r}; "
              "using 100000", file=sys.stderr)
        n = 100_000
    return n


MEMO_ENTRIES = _memo_entries()

FUZZY_MIN_SCORE = 92.0
# Learned class fallback: a class is assigned only at or above this probability.
LEARNED_CLASS_MIN_PROB = 0.80

# ----------------------------------------------------------------------------- web app
# The web app (web/, `skinrec serve`) reads these once, in its app factory.
DEMO_CATALOG = AUTHORED_DATA_DIR / "demo" / "catalog.csv"   # invented products, marked demo
WEB_HOST = "127.0.0.1"
WEB_PORT = 8000
WEB_MAX_UPLOAD_MB = 5.0          # largest request body (uploaded catalog, JSON) in MB
WEB_UPLOAD_TTL_S = 3600          # scored uploads are kept this long for download, then removed


def web_catalog() -> str:
    """SKINREC_CATALOG: a CSV path or a shared catalog name (sephora_2023 ...); default demo."""
    return os.environ.get("SKINREC_CATALOG") or str(DEMO_CATALOG)


def web_protocol() -> str | None:
    """SKINREC_PROTOCOL: a clinic's protocol file (YAML); unset: the default protocol."""
    return os.environ.get("SKINREC_PROTOCOL") or None


def web_max_upload_bytes() -> int:
    """SKINREC_MAX_UPLOAD_MB (default 5): larger requests get 413."""
    raw = os.environ.get("SKINREC_MAX_UPLOAD_MB") or WEB_MAX_UPLOAD_MB
    try:
        mb = float(raw)
    except ValueError:
        mb = float("nan")
    if not mb > 0 or mb == float("inf"):
        raise ValueError(f"SKINREC_MAX_UPLOAD_MB must be a positive number of megabytes, "
                         f"got {raw!r}")
    return int(mb * 1024 * 1024)
