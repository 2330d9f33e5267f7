"""Ingredient lists -> model features (a scikit-learn transformer), with a parse cache.

Which real input or need each piece answers:

- Labels print the same ingredient many ways ("Water (Aqua, Eau)", "Aqua/Water",
  "aqua"): every list goes through the project's reader (``read_list``), so the model sees
  canonical INCI names, not spellings. A name the reader cannot place is kept as a
  folded token ("?lavandula angustifolia") so nothing is silently dropped.
- An INCI list is ordered by concentration (above 1 %), so an active in position 3 says
  more than the same active in position 30: every ingredient-level feature is weighted by
  its position, 1/sqrt(position) by default (``weighting='step'``: 1.0 in the first five,
  0.3 after; ``'binary'``: 1.0). Kits restart the numbering in each component; a name
  present in several components keeps its highest weight. The may-contain section never
  counts (DESIGN.md: it counts for safety, not for benefit).
- Token memorisation does not carry to another retailer's catalog; the project's
  knowledge does. Besides the canonical names (tokens seen in at least ``min_df``
  training products) the transformer emits, per product:
  * ingredient classes (the 23 curated classes of DESIGN.md): count of distinct members
    and the weight of the best-placed member;
  * CosIng functions (HUMECTANT, ANTI-SEBUM, BLEACHING, SOOTHING, ...) as a position-weighted
    share of the list;
  * ``FEATURE_GROUPS``: a few families of concern actives that are not safety classes
    (brighteners such as tranexamic acid, arbutin, kojic and azelaic acid; caffeine;
    sulfur and zinc salts; clays; soothing agents; firming agents such as adenosine and
    bakuchiol), matched on the canonical name; these are model features only, not part
    of the class vocabulary;
  * knowledge-base aggregates: number of ingredients, share unrecognised, EU allergens,
    humectant and emollient shares, mean weighted logKow and MW;
  * a coarse product category (``coarse_category``: 'Moisturizers > Face Oils' -> oil,
    'Eye cream' -> eye, 'Sun protect' -> sunscreen ...), one-hot. The product name and
    brand are never read.
- Parsing 8,000 lists takes ~20 s: results are cached per process (dict keyed by the
  text) and on disk (JSON, keyed by the sha1 of the text, in ``SKINREC_CACHE_DIR`` or
  ``~/.cache/skinrec``), invalidated by a fingerprint of the KB files, the alias table,
  the class files and the parser source (``parse_fingerprint``, recorded in the model
  manifests: a model trained on another fingerprint reads labels differently). The cache never enters a model artifact.

Inputs accepted by ``fit``/``transform`` (``X``):

- a DataFrame with an ``ingredients`` column (text as printed) and optionally ``category``;
- a 1-D sequence of ingredient texts (no category);
- a sequence of pre-parsed lists (each a list of names in label order: positions are the
  list order; names are canonicalised one by one);
- a 2-D array: each row one product, each cell one ingredient name in label order
  (empty/NaN cells skipped). This is the form ``check_estimator`` feeds (numbers become
  names nobody shares, so only the aggregate features carry information).

scikit-learn's ``check_estimator`` is run in tests/test_features.py; the checks that
cannot hold for a variable-length list input (``n_features_in_`` consistency, for
example) are listed there with the reason.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import math
import operator
import os
import re
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from recommender import config
from recommender.config import MEMO_ENTRIES

# ----------------------------------------------------------------------------- parsing

# One parsed product: tuple of (name, position, component, classes) over declared mentions.
Entry = tuple[str, int, int, tuple[str, ...]]
Parsed = tuple[Entry, ...]

_CACHE_VERSION = "1"
_MEM_CACHE: dict[str, Parsed] = {}
# The in-process cache serves training (a few thousand texts read several times); over a
# million-row catalog it is cleared whenever it grows past this many texts.
MEM_CACHE_LIMIT = 50_000
# The per-name caches hold one entry per distinct name: canonical names are bounded by the
# knowledge base, folded unknown names ("?...") only by the catalog, so each cache is
# cleared when it grows past this many names (a million-row run stays bounded).
NAME_CACHE_LIMIT = MEMO_ENTRIES
_NAME_CACHE: dict[str, tuple[str, tuple[str, ...]]] = {}


def _fold_unknown(name: str) -> str:
    return "?" + " ".join(re.sub(r"[^a-z0-9]+", " ", str(name).lower()).split())


def _sha256_path(p: Path, h) -> None:
    if p.is_file():
        h.update(p.name.encode())
        h.update(p.read_bytes())


@functools.lru_cache(maxsize=1)
def parse_fingerprint() -> str:
    """Hash of everything a parse depends on: KB manifest, aliases, class files, parser code."""
    h = hashlib.sha256(_CACHE_VERSION.encode())
    for p in sorted(config.KB_DIR.glob("*")):      # ingredients, synonyms, class fallback ...
        _sha256_path(p, h)
    _sha256_path(config.ALIASES_FILE, h)
    for p in sorted(config.CLASSES_DIR.glob("*.yaml")):
        _sha256_path(p, h)
    for p in sorted((config.PACKAGE_DIR / "inci").glob("*.py")):
        _sha256_path(p, h)
    for name in ("reader.py", "classes.py", "learned_classes.py"):
        _sha256_path(config.PACKAGE_DIR / "knowledge" / name, h)
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    env = os.environ.get("SKINREC_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "skinrec"


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


def _parse_one(text: str) -> Parsed:
    from recommender.knowledge.reader import read_list

    return from_parsed_list(read_list(text))


def from_parsed_list(parsed) -> Parsed:
    """A reader ``ParsedList`` -> the featurizer's parsed product (declared mentions only).

    Callers that already read the lists (``score_frame``) pass these to ``predict(...,
    parsed=...)`` instead of having every text read twice.
    """
    out = []
    for m in parsed.ingredients:
        if m.section != "declared":
            continue
        name = m.inci if m.inci else _fold_unknown(m.name or m.raw)
        if name == "?":
            continue
        out.append((name, int(m.position), int(m.component), tuple(m.classes)))
    return tuple(out)


class _DiskCache:
    """JSON-on-disk parse cache for one fingerprint (loaded lazily, saved on demand)."""

    def __init__(self, directory: Path | None):
        self.path = (directory / f"parse-{parse_fingerprint()}.json.gz") if directory else None
        self.data: dict[str, list] | None = None
        self.dirty = False

    def load(self) -> dict[str, list]:
        if self.data is None:
            self.data = {}
            if self.path is not None and self.path.is_file():
                try:
                    with gzip.open(self.path, "rt", encoding="utf-8") as fh:
                        self.data = json.load(fh)
                except (OSError, ValueError):
                    self.data = {}
        return self.data

    def save(self) -> None:
        if not (self.dirty and self.path is not None and self.data is not None):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            with gzip.open(tmp, "wt", encoding="utf-8") as fh:
                json.dump(self.data, fh, separators=(",", ":"))
            os.replace(tmp, self.path)
            self.dirty = False
            # keep the three newest fingerprints (the parser and KB change during development)
            old = sorted(self.path.parent.glob("parse-*.json.gz"),
                         key=lambda p: p.stat().st_mtime, reverse=True)[3:]
            for p in old:
                p.unlink(missing_ok=True)
        except OSError:
            pass


def parse_texts(texts: Iterable[object], *, disk_cache: bool = True) -> list[Parsed]:
    """Ingredient fields -> parsed products (declared mentions only), cached."""
    texts = ["" if t is None or (isinstance(t, float) and math.isnan(t)) else str(t)
             for t in texts]
    disk = _DiskCache(cache_dir() if disk_cache else None)
    if len(_MEM_CACHE) + len(texts) > MEM_CACHE_LIMIT:
        _MEM_CACHE.clear()
    out: list[Parsed] = []
    for t in texts:
        hit = _MEM_CACHE.get(t)
        if hit is None:
            store = disk.load() if disk_cache else {}
            k = _text_key(t)
            raw = store.get(k)
            if raw is not None:
                hit = tuple((e[0], int(e[1]), int(e[2]), tuple(e[3])) for e in raw)
            else:
                hit = _parse_one(t)
                if disk_cache:
                    store[k] = [[e[0], e[1], e[2], list(e[3])] for e in hit]
                    disk.dirty = True
            _MEM_CACHE[t] = hit
        out.append(hit)
    disk.save()
    return out


def _canonical_name(name: str) -> tuple[str, tuple[str, ...]]:
    """One pre-parsed name -> (canonical INCI or folded token, classes), as the text path
    would read it (alias table, then fuzzy match)."""
    hit = _NAME_CACHE.get(name)
    if hit is None:
        from recommender.knowledge.reader import default_reader

        mentions = [m for m in default_reader().read(name).ingredients if m.section == "declared"]
        if len(mentions) == 1 and mentions[0].inci:
            hit = (mentions[0].inci, tuple(mentions[0].classes))
        else:
            hit = (_fold_unknown(name), ())
        if len(_NAME_CACHE) >= NAME_CACHE_LIMIT:
            _NAME_CACHE.clear()
        _NAME_CACHE[name] = hit
    return hit


def parse_names(lists: Iterable[Sequence[object]]) -> list[Parsed]:
    """Pre-parsed lists (names in label order) -> parsed products."""
    out = []
    for names in lists:
        entries = []
        pos = 0
        for n in names:
            if n is None or (isinstance(n, float) and math.isnan(n)):
                continue
            s = str(n).strip()
            if not s:
                continue
            pos += 1
            name, classes = _canonical_name(s)
            if name == "?":
                continue
            entries.append((name, pos, 0, classes))
        out.append(tuple(entries))
    return out


# ----------------------------------------------------------------------------- categories

# Checked in order: the first keyword found in the folded category text wins.
_CATEGORY_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("eye", ("eye",)),
    ("lip", ("lip",)),
    ("sunscreen", ("sunscreen", "sun protect", "spf", "sun care")),
    ("self_tanner", ("tanner", "tanning", "self tan")),
    ("body", ("body", "bath", "hand", "foot")),
    ("exfoliant", ("peel", "exfolia", "scrub")),
    ("toner", ("toner", "mist", "essence")),
    ("mask", ("mask",)),
    ("oil", ("oil",)),
    ("cleanser", ("cleans", "wash", "wipe", "remover", "blotting")),
    ("treatment", ("serum", "treatment", "ampoule")),
    ("moisturizer", ("moistur", "cream", "lotion", "balm", "gel")),
)
COARSE_CATEGORIES: tuple[str, ...] = tuple(c for c, _ in _CATEGORY_RULES) + ("other",)


def coarse_category(text: object) -> str:
    """A retailer's category string -> one coarse category id ('other' when none fits).

    Sephora's "secondary > tertiary" ("Moisturizers > Face Oils" -> oil, "Cleansers >
    Toners" -> toner), cosmetics_2017 labels ("Eye cream" -> eye, "Sun protect" ->
    sunscreen) and lookfantastic types ("Moisturiser", "Peel", "Bath Oil" -> body) all map.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return "other"
    folded = " ".join(re.sub(r"[^a-z]+", " ", str(text).lower()).split())
    for cat, words in _CATEGORY_RULES:
        if any(w in folded for w in words):
            return cat
    return "other"


# ----------------------------------------------------------------------------- knowledge

# Families of concern actives that are not safety classes (model features only). Patterns
# are regexes over the canonical (upper-case CosIng) name. Sources: the actives named in
# DESIGN.md / issue #4 for each concern and standard cosmetic-dermatology reviews
# (e.g. Draelos, "Cosmetic Dermatology: Products and Procedures", 2nd ed., 2015).
FEATURE_GROUPS: dict[str, tuple[str, ...]] = {
    "brightening": (
        r"TRANEXAM", r"\bARBUTIN\b", r"KOJIC", r"AZELAIC", r"HYDROQUINONE", r"RESORCINOL\b",
        r"GLABRIDIN", r"GLYCYRRHIZA GLABRA ROOT", r"UNDECYLENOYL PHENYLALANINE",
        r"DIOIC ACID", r"ELLAGIC", r"THIAMIDOL", r"CYSTEAMINE", r"LICORICE",
    ),
    "caffeine": (r"^CAFFEINE$", r"COFFEA ARABICA SEED EXTRACT"),
    "acne_active": (
        r"^SULFUR$", r"^ZINC (PCA|GLUCONATE|SULFATE|OXIDE)$", r"AZELAIC",
        r"MELALEUCA ALTERNIFOLIA", r"WILLOW BARK", r"^BENZOYL PEROXIDE$",
    ),
    "clay": (r"KAOLIN", r"BENTONITE", r"\bCLAY\b", r"CHARCOAL", r"ILLITE", r"MONTMORILLONITE"),
    "soothing": (
        r"^ALLANTOIN$", r"BISABOLOL", r"MADECASSOSIDE", r"ASIATICOSIDE",
        r"AVENA SATIVA KERNEL", r"GLYCYRRHIZATE", r"AZULENE", r"ALOE BARBADENSIS",
        r"CHAMOMILLA RECUTITA", r"\bBETA-GLUCAN\b", r"CENTELLA",
    ),
    "firming": (
        r"^ADENOSINE$", r"BAKUCHIOL", r"COLLAGEN", r"ELASTIN", r"\bDMAE\b", r"ECTOIN",
        r"PEPTIDE", r"^ACETYL HEXAPEPTIDE", r"MATRIXYL", r"PALMITOYL",
    ),
    "barrier_lipid": (
        r"CERAMIDE", r"CHOLESTEROL", r"PHYTOSPHINGOSINE", r"SPHINGO", r"LINOLEIC ACID",
        r"^SQUALANE$", r"BUTYROSPERMUM PARKII",
    ),
    "occlusive": (r"^PETROLATUM$", r"^DIMETHICONE$", r"^PARAFFINUM LIQUIDUM$", r"CERA ALBA",
                  r"^LANOLIN$", r"MINERAL OIL"),
    "antioxidant": (r"TOCOPHER", r"FERULIC", r"RESVERATROL", r"ASTAXANTHIN",
                    r"CAMELLIA SINENSIS", r"UBIQUINONE", r"GLUTATHIONE"),
    "enzyme": (r"^PAPAIN$", r"^BROMELAIN$", r"SUBTILISIN", r"PROTEASE"),
    "surfactant_strong": (r"LAURYL SULFATE", r"LAURETH SULFATE", r"COCO-SULFATE"),
}
_GROUP_RES = {g: tuple(re.compile(p) for p in ps) for g, ps in FEATURE_GROUPS.items()}

# CosIng functions whose position-weighted share is a feature.
FUNCTIONS: tuple[str, ...] = (
    "ABRASIVE", "ABSORBENT", "ANTI-SEBORRHEIC", "ANTI-SEBUM", "ANTIMICROBIAL", "ANTIOXIDANT",
    "ASTRINGENT", "BLEACHING", "BUFFERING", "CHELATING", "CLEANSING", "COLORANT",
    "EMULSION STABILISING", "EXFOLIATING", "FILM FORMING", "FOAMING", "FRAGRANCE", "HUMECTANT",
    "KERATOLYTIC", "MOISTURISING", "OPACIFYING", "PERFUMING", "PRESERVATIVE", "REFRESHING",
    "SKIN CONDITIONING", "SKIN CONDITIONING - EMOLLIENT", "SKIN CONDITIONING - HUMECTANT",
    "SKIN CONDITIONING - OCCLUSIVE", "SKIN PROTECTING", "SMOOTHING", "SOLVENT", "SOOTHING",
    "SURFACTANT - CLEANSING", "SURFACTANT - EMULSIFYING", "SURFACTANT - FOAM BOOSTING",
    "TANNING", "TONIC", "UV ABSORBER", "UV FILTER", "VISCOSITY CONTROLLING",
)
_FUNC_INDEX = {f: i for i, f in enumerate(FUNCTIONS)}

AGGREGATES: tuple[str, ...] = (
    "log_n_ingredients", "share_unrecognised", "n_eu_allergens", "humectant_share",
    "emollient_share", "logkow_weighted", "logkow_known_share", "mw_weighted_log",
    "n_components", "water_first",
)


def layout_hash() -> str:
    """Hash of the feature layout defined in code (functions, active families, aggregates,
    category rules). A fitted featurizer records it; transforming with another layout would
    misalign the model's coefficients, so it is refused (retrain instead)."""
    text = json.dumps([FUNCTIONS, FEATURE_GROUPS, AGGREGATES, _CATEGORY_RULES,
                       _WORD_RE.pattern, _CACHE_VERSION], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class FeatureLayoutError(RuntimeError):
    """A fitted featurizer meets feature code that has changed since it was fitted."""


def _class_vocabulary() -> tuple[str, ...]:
    from recommender.knowledge.classes import VOCABULARY

    return tuple(VOCABULARY)


_INFO_CACHE: dict[str, tuple] = {}


def _name_info(name: str) -> tuple:
    """(function index tuple, eu_allergen, logkow, mw, groups tuple) for one canonical name."""
    hit = _INFO_CACHE.get(name)
    if hit is None:
        if name.startswith("?"):
            hit = ((), False, None, None, ())
        else:
            from recommender.knowledge.kb import default_kb

            rec = default_kb().record(name) or {}
            funcs = tuple(sorted({_FUNC_INDEX[f] for f in rec.get("functions") or ()
                                  if f in _FUNC_INDEX}))
            groups = tuple(g for g, res in _GROUP_RES.items() if any(r.search(name) for r in res))
            hit = (funcs, bool(rec.get("eu_allergen")), rec.get("logkow"), rec.get("mw"), groups)
        if len(_INFO_CACHE) >= NAME_CACHE_LIMIT:
            _INFO_CACHE.clear()
        _INFO_CACHE[name] = hit
    return hit


def position_weight(position: int, weighting: str) -> float:
    if weighting == "sqrt":
        return 1.0 / math.sqrt(max(position, 1))
    if weighting == "step":
        return 1.0 if position <= 5 else 0.3
    if weighting == "binary":
        return 1.0
    raise ValueError(f"unknown weighting {weighting!r}; use 'sqrt', 'step' or 'binary'")


_WORD_RE = re.compile(r"[A-Z][A-Z0-9]{2,}")
_WORD_CACHE: dict[str, tuple[str, ...]] = {}


def _words(name: str) -> tuple[str, ...]:
    """Distinct words (3+ characters) of a canonical or folded name, upper case."""
    hit = _WORD_CACHE.get(name)
    if hit is None:
        hit = tuple(sorted(set(_WORD_RE.findall(name.upper()))))
        if len(_WORD_CACHE) >= NAME_CACHE_LIMIT:
            _WORD_CACHE.clear()
        _WORD_CACHE[name] = hit
    return hit


def _product_weights(parsed: Parsed, weighting: str) -> dict[str, float]:
    """name -> its highest position weight in the product."""
    w: dict[str, float] = {}
    for name, pos, _comp, _cls in parsed:
        v = position_weight(pos, weighting)
        if v > w.get(name, 0.0):
            w[name] = v
    return w


# ----------------------------------------------------------------------------- transformer


class IngredientFeaturizer(TransformerMixin, BaseEstimator):
    """Ingredient lists (+ category) -> sparse feature matrix.

    Parameters
    ----------
    weighting : 'sqrt' | 'step' | 'binary'
        Position weight of an ingredient: 1/sqrt(position); 1.0 in positions 1-5 and 0.3
        after; or 1.0 everywhere.
    min_df : int
        A canonical name becomes a token feature when it appears in at least ``min_df``
        training products.
    words : bool, word_min_df : int
        Words of the canonical names ("PALMITOYL", "HYALURONATE", "RETINYL") as features
        (highest position weight of any name containing the word), kept when in at least
        ``word_min_df`` training products: they carry to names never seen in training.
    tokens, classes, functions, groups, aggregates, category : bool
        Which feature blocks to emit (see the module docstring).
    disk_cache : bool
        Use the on-disk parse cache (the in-process cache is always on).
    """

    def __init__(self, weighting: str = "sqrt", min_df: int = 3, tokens: bool = True,
                 words: bool = True, word_min_df: int = 5,
                 classes: bool = True, functions: bool = True, groups: bool = True,
                 aggregates: bool = True, category: bool = True, disk_cache: bool = True):
        self.weighting = weighting
        self.min_df = min_df
        self.tokens = tokens
        self.words = words
        self.word_min_df = word_min_df
        self.classes = classes
        self.functions = functions
        self.groups = groups
        self.aggregates = aggregates
        self.category = category
        self.disk_cache = disk_cache

    # -- input handling
    def _inputs(self, X) -> tuple[list[Parsed], list[str], int]:
        """X -> (parsed products, coarse categories, input width: 1 unless a 2-D array)."""
        if isinstance(X, str):
            raise ValueError("Expected a sequence of ingredient lists, got one string: "
                             "wrap it in a list")
        if isinstance(X, pd.DataFrame) and "ingredients" in X.columns:
            parsed = parse_texts(X["ingredients"].tolist(), disk_cache=self.disk_cache)
            if "category" in X.columns:
                cats = [coarse_category(c) for c in X["category"].tolist()]
            else:
                cats = ["other"] * len(X)
            return parsed, cats, 1
        if isinstance(X, pd.DataFrame):
            X = X.to_numpy(dtype=object)
        elif isinstance(X, pd.Series):
            X = X.tolist()
        if sp.issparse(X):
            raise TypeError("IngredientFeaturizer needs ingredient lists, not a sparse matrix")
        if not isinstance(X, (list, tuple, np.ndarray)) and hasattr(X, "__array__"):
            X = np.asarray(X)
        if isinstance(X, np.ndarray):
            if X.ndim == 1:
                if X.dtype.kind in "biufc":
                    raise ValueError(
                        "Expected a 2D array (one product per row, one ingredient per cell) "
                        "or a sequence of ingredient texts, got a 1D numeric array. Reshape "
                        "your data using array.reshape(-1, 1) for a single ingredient per product.")
                X = X.tolist()
            elif X.ndim == 2:
                if X.shape[0] < 1:
                    raise ValueError(f"Found array with 0 sample(s) (shape={X.shape!r}) while a "
                                     "minimum of 1 is required.")
                if X.shape[1] < 1:
                    raise ValueError(f"Found array with 0 feature(s) (shape={X.shape!r}) while "
                                     "a minimum of 1 is required.")
                if X.dtype.kind == "c":
                    raise ValueError("Complex data not supported")
                return (parse_names([list(r) for r in X]), ["other"] * X.shape[0],
                        int(X.shape[1]))
            else:
                raise ValueError(f"Found array with dim {X.ndim}: expected 1 or 2")
        X = list(X)
        if not X:
            raise ValueError("Found array with 0 sample(s): need at least one product")
        if all(isinstance(x, str) or x is None for x in X):
            return parse_texts(X, disk_cache=self.disk_cache), ["other"] * len(X), 1
        from recommender.inci.model import ParsedList

        if all(isinstance(x, ParsedList) for x in X):
            return [from_parsed_list(p) for p in X], ["other"] * len(X), 1
        return parse_names(X), ["other"] * len(X), 1

    def fit(self, X, y=None):
        position_weight(1, self.weighting)  # validates the parameter
        if not isinstance(self.min_df, (int, np.integer)) or self.min_df < 1:
            raise ValueError(f"min_df must be a positive integer, got {self.min_df!r}")
        parsed, _cats, width = self._inputs(X)
        # Informational: the input is ingredient lists of any length, so this is the width
        # of the fitted 2-D array (1 for texts/frames) and transform does not enforce it.
        self.n_features_in_ = width
        df: dict[str, int] = {}
        for p in parsed:
            for name in {e[0] for e in p}:
                df[name] = df.get(name, 0) + 1
        vocab = sorted(n for n, c in df.items() if c >= self.min_df) if self.tokens else []
        self.vocabulary_ = {n: i for i, n in enumerate(vocab)}
        wdf: dict[str, int] = {}
        if self.words:
            for p in parsed:
                for w in {w for e in p for w in _words(e[0])}:
                    wdf[w] = wdf.get(w, 0) + 1
        words = sorted(w for w, c in wdf.items() if c >= self.word_min_df)
        self.word_vocabulary_ = {w: i for i, w in enumerate(words)}
        self.class_names_ = _class_vocabulary() if self.classes else ()
        self.categories_ = COARSE_CATEGORIES if self.category else ()
        self.layout_ = layout_hash()
        self.feature_names_out_ = self._names()
        self.n_features_out_ = len(self.feature_names_out_)
        return self

    def _names(self) -> np.ndarray:
        names = [f"tok:{n}" for n in self.vocabulary_]
        names += [f"word:{w}" for w in self.word_vocabulary_]
        for c in self.class_names_:
            names += [f"class_n:{c}", f"class_top:{c}"]
        if self.functions:
            names += [f"func:{f}" for f in FUNCTIONS]
        if self.groups:
            names += [f"group_n:{g}" for g in FEATURE_GROUPS]
            names += [f"group_top:{g}" for g in FEATURE_GROUPS]
        if self.aggregates:
            names += [f"agg:{a}" for a in AGGREGATES]
        names += [f"cat:{c}" for c in self.categories_]
        return np.asarray(names, dtype=object)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "vocabulary_")
        return self.feature_names_out_.copy()

    def transform(self, X):
        check_is_fitted(self, "vocabulary_")
        parsed, cats, _width = self._inputs(X)
        return self._matrix(parsed, cats)

    def transform_parsed(self, parsed: Sequence[Parsed], categories: Sequence[object] | None = None
                         ) -> sp.csr_matrix:
        """Features of already-parsed products (``parse_texts`` / ``from_parsed_list``) with
        their retailer category strings (None: unknown)."""
        check_is_fitted(self, "vocabulary_")
        return self._matrix(list(parsed), _coarse_many(categories, len(parsed)))

    def parsed_inputs(self, X) -> tuple[list[Parsed], list[str]]:
        """The parsed products and coarse categories ``transform`` would use (for reports)."""
        parsed, cats, _width = self._inputs(X)
        return parsed, cats

    def _matrix(self, parsed: list[Parsed], cats: list[str]) -> sp.csr_matrix:
        return featurize_many([self], parsed, cats)[0]

    def _check_layout(self) -> None:
        if getattr(self, "layout_", None) != layout_hash():
            raise FeatureLayoutError(
                "the feature code (recommender/learn/features.py: functions, active families, "
                "aggregates or category rules) changed since this featurizer was fitted; "
                "run `skinrec train` to rebuild the models")

    def _knowledge_key(self) -> tuple:
        """What the knowledge block (classes .. category) depends on: featurizers with equal
        keys give every product the same knowledge block (only their vocabularies differ)."""
        return (self.weighting, tuple(self.class_names_), bool(self.functions),
                bool(self.groups), bool(self.aggregates), tuple(self.categories_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = False
        tags.transformer_tags.preserves_dtype = []
        tags.requires_fit = True
        return tags


# ----------------------------------------------------------------------------- fast path

_HUMECTANT_FUNCS = (_FUNC_INDEX["HUMECTANT"], _FUNC_INDEX["SKIN CONDITIONING - HUMECTANT"])
_EMOLLIENT_FUNCS = (_FUNC_INDEX["SKIN CONDITIONING - EMOLLIENT"],
                    _FUNC_INDEX["SKIN CONDITIONING - OCCLUSIVE"])
_GROUP_INDEX = {g: i for i, g in enumerate(FEATURE_GROUPS)}
_KNOWLEDGE_CACHE: dict[str, tuple] = {}
# featurizer -> (its vocabulary_, its word_vocabulary_, {name: (token column or -1, word
# columns)}): per fitted featurizer (a refit makes new vocabularies, so a stale entry is
# never used); weak keys, so a dropped featurizer takes its entry with it.
_VOCAB_COLUMNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _knowledge_record(name: str) -> tuple:
    """(function indices, eu allergen, logkow, log(mw) or None, group indices, unknown,
    humectant, emollient) of one name: everything the knowledge block reads, precomputed."""
    hit = _KNOWLEDGE_CACHE.get(name)
    if hit is None:
        funcs, allergen, logkow, mw, grps = _name_info(name)
        hit = (funcs, bool(allergen), logkow,
               math.log(mw) if mw is not None and mw > 0 else None,
               tuple(_GROUP_INDEX[g] for g in grps), name.startswith("?"),
               any(f in funcs for f in _HUMECTANT_FUNCS),
               any(f in funcs for f in _EMOLLIENT_FUNCS))
        if len(_KNOWLEDGE_CACHE) >= NAME_CACHE_LIMIT:
            _KNOWLEDGE_CACHE.clear()
        _KNOWLEDGE_CACHE[name] = hit
    return hit


def _vocab_columns(f: IngredientFeaturizer) -> dict[str, tuple[int, tuple[int, ...]]]:
    entry = _VOCAB_COLUMNS.get(f)
    if entry is None or entry[0] is not f.vocabulary_ or entry[1] is not f.word_vocabulary_:
        entry = (f.vocabulary_, f.word_vocabulary_, {})
        _VOCAB_COLUMNS[f] = entry
    elif len(entry[2]) >= NAME_CACHE_LIMIT:
        entry[2].clear()
    return entry[2]


def _ragged(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For items with ``lengths`` sub-items: (item of each sub-item, rank within its item)."""
    total = int(lengths.sum())
    item = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    rank = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return item, rank


def _knowledge_cores(parsed: Sequence[Parsed], cats: Sequence[str], key: tuple) -> dict:
    """What every featurizer with this ``_knowledge_key`` shares for these products:

    - the (product, name) pairs with the name's highest position weight, in first-seen order
      within each product: ``names`` (distinct names of the batch), ``pair_name`` (index
      into ``names``), ``pair_row``, ``pair_w``;
    - the knowledge block (classes, functions, groups, aggregates, category) per product:
      ``k_row``, ``k_col`` (relative to the first class column), ``k_val``.

    Bit-identical to the per-row loop it replaces: every sum adds the same terms in the same
    order (``np.bincount`` accumulates sequentially in input order, and pairs are in each
    product's first-seen order, as the loop's dict was); maxima and divisions are exact
    elementwise operations; log1p comes from ``math`` as before.
    """
    weighting, class_names, functions, groups, aggregates, categories = key
    cls_index = {c: i for i, c in enumerate(class_names)}
    n_cls = len(cls_index)
    n_func, n_grp, n_agg = len(FUNCTIONS), len(FEATURE_GROUPS), len(AGGREGATES)
    off_func = 2 * n_cls
    off_grp = off_func + (n_func if functions else 0)
    off_agg = off_grp + (2 * n_grp if groups else 0)
    off_cat = off_agg + (n_agg if aggregates else 0)
    cat_index = {c: i for i, c in enumerate(categories)}
    width = off_cat + len(cat_index)
    knowledge = functions or groups or aggregates
    n = len(parsed)
    if len(cats) != n:
        raise ValueError(f"{n} products but {len(cats)} categories")

    # -- per product, in Python: highest weight per name (first-seen order), classes,
    # components and the first ingredient
    pw_cache: dict[int, float] = {}
    pair_names: list[str] = []
    pair_w: list[float] = []
    pair_len: list[int] = []
    cls_cells: list[tuple[int, int, float]] = []
    n_comp: list[int] = []
    water_first: list[bool] = []
    comp_pos = _COMP_POS
    for r, p in enumerate(parsed):
        weights: dict[str, float] = {}
        seen: dict[str, set] | None = None
        for name, pos, _comp, classes in p:
            v = pw_cache.get(pos)
            if v is None:
                v = pw_cache[pos] = position_weight(pos, weighting)
            if v > weights.get(name, 0.0):
                weights[name] = v
            if classes and n_cls:
                for c in classes:
                    if c in cls_index:
                        if seen is None:
                            seen = {}
                        seen.setdefault(c, set()).add(name)
        if seen:
            for c, members in seen.items():
                i = cls_index[c]
                cls_cells.append((r, 2 * i, float(len(members))))
                cls_cells.append((r, 2 * i + 1, max(weights[m] for m in members)))
        pair_names.extend(weights)
        pair_w.extend(weights.values())
        pair_len.append(len(weights))
        if aggregates:
            n_comp.append(len({e[2] for e in p}))
            water_first.append(bool(p) and min(p, key=comp_pos)[0] in ("AQUA", "WATER"))

    names = list(dict.fromkeys(pair_names))
    lid = {name: i for i, name in enumerate(names)}
    pair_name = np.asarray(list(map(lid.__getitem__, pair_names)), dtype=np.int64)
    lengths = np.asarray(pair_len, dtype=np.int64)
    rows = np.arange(n, dtype=np.int64)
    pair_row = np.repeat(rows, lengths)
    w = np.asarray(pair_w, dtype=np.float64)
    core = {"n": n, "names": names, "pair_name": pair_name, "pair_row": pair_row, "pair_w": w}

    K = np.zeros((n, width), dtype=np.float64)
    for r, c, v in cls_cells:
        K[r, c] = v
    if knowledge:
        recs = [_knowledge_record(x) for x in names]
        n_names = len(names)
        f_len = np.fromiter((len(x[0]) for x in recs), dtype=np.int64, count=n_names)
        f_idx = np.fromiter((fi for x in recs for fi in x[0]), dtype=np.int64,
                            count=int(f_len.sum()))
        g_len = np.fromiter((len(x[4]) for x in recs), dtype=np.int64, count=n_names)
        g_idx = np.fromiter((gi for x in recs for gi in x[4]), dtype=np.int64,
                            count=int(g_len.sum()))
        allergen = np.fromiter((x[1] for x in recs), dtype=bool, count=n_names)
        has_kow = np.fromiter((x[2] is not None for x in recs), dtype=bool, count=n_names)
        kow = np.fromiter((x[2] if x[2] is not None else 0.0 for x in recs),
                          dtype=np.float64, count=n_names)
        has_mw = np.fromiter((x[3] is not None for x in recs), dtype=bool, count=n_names)
        log_mw = np.fromiter((x[3] if x[3] is not None else 0.0 for x in recs),
                             dtype=np.float64, count=n_names)
        unknown = np.fromiter((x[5] for x in recs), dtype=bool, count=n_names)
        hum = np.fromiter((x[6] for x in recs), dtype=bool, count=n_names)
        emo = np.fromiter((x[7] for x in recs), dtype=bool, count=n_names)

        def per_row(mask: np.ndarray | None, weights: np.ndarray | None) -> np.ndarray:
            """Sum over each product's pairs (selected by ``mask``), in pair order."""
            r_ = pair_row if mask is None else pair_row[mask]
            return np.bincount(r_, weights=weights, minlength=n).astype(np.float64)

        total_w = per_row(None, w)
        total_w[total_w == 0] = 1.0            # `sum(...) or 1.0`
        if functions:
            f_start = np.cumsum(f_len) - f_len
            counts = f_len[pair_name]
            item, rank = _ragged(counts)
            fi = f_idx[f_start[pair_name][item] + rank]
            func_w = np.bincount(pair_row[item] * n_func + fi, weights=w[item],
                                 minlength=n * n_func).reshape(n, n_func)
            K[:, off_func:off_func + n_func] = func_w / total_w[:, None]
        if groups:
            g_start = np.cumsum(g_len) - g_len
            counts = g_len[pair_name]
            item, rank = _ragged(counts)
            cell = pair_row[item] * n_grp + g_idx[g_start[pair_name][item] + rank]
            grp_n = np.bincount(cell, minlength=n * n_grp).reshape(n, n_grp)
            grp_top = np.zeros(n * n_grp, dtype=np.float64)
            np.maximum.at(grp_top, cell, w[item])
            K[:, off_grp:off_grp + n_grp] = grp_n
            K[:, off_grp + n_grp:off_grp + 2 * n_grp] = grp_top.reshape(n, n_grp)
        if aggregates:
            m_kow = has_kow[pair_name]
            m_mw = has_mw[pair_name]
            n_unknown = per_row(unknown[pair_name], None)
            n_allergen = per_row(allergen[pair_name], None)
            hum_w = per_row(hum[pair_name], w[hum[pair_name]])
            emo_w = per_row(emo[pair_name], w[emo[pair_name]])
            kow_sum = per_row(m_kow, w[m_kow] * kow[pair_name][m_kow])
            kow_w = per_row(m_kow, w[m_kow])
            mw_sum = per_row(m_mw, w[m_mw] * log_mw[pair_name][m_mw])
            nf = lengths.astype(np.float64)
            log1p_cache: dict[int, float] = {}
            A = K[:, off_agg:off_agg + n_agg]
            for r, k in enumerate(pair_len):
                lp = log1p_cache.get(k)
                if lp is None:
                    lp = log1p_cache[k] = math.log1p(k)
                A[r, 0] = lp
            np.divide(n_unknown, nf, out=A[:, 1], where=lengths > 0)
            A[:, 2] = n_allergen
            A[:, 3] = hum_w / total_w
            A[:, 4] = emo_w / total_w
            np.divide(kow_sum, kow_w, out=A[:, 5], where=kow_w != 0)
            A[:, 6] = kow_w / total_w
            A[:, 7] = mw_sum / total_w
            A[:, 8] = np.asarray(n_comp, dtype=np.float64)
            A[:, 9] = np.asarray(water_first, dtype=np.float64)
    if cat_index:
        other = cat_index["other"]
        K[rows, off_cat + np.fromiter((cat_index.get(c, other) for c in cats),
                                      dtype=np.int64, count=n)] = 1.0
    k_row, k_col = np.nonzero(K)            # row-major: columns ascending in each row
    core.update(k_row=k_row.astype(np.int64), k_col=k_col.astype(np.int64),
                k_val=K[k_row, k_col])
    return core


# min() key of the aggregates' "first ingredient": (component, position), as a C call
_COMP_POS = operator.itemgetter(2, 1)


def _name_columns(f: IngredientFeaturizer, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Token and word columns of each name for one featurizer: (flat columns, start of each
    name's columns; ``len(names) + 1`` entries)."""
    vocab = f.vocabulary_
    wvocab = f.word_vocabulary_
    n_tok = len(vocab)
    columns = _vocab_columns(f)
    flat: list[int] = []
    ptr = [0]
    for name in names:
        nc = columns.get(name)
        if nc is None:
            j = vocab.get(name)
            nc = () if j is None else (j,)
            if wvocab:
                nc += tuple(n_tok + k for k in (wvocab.get(x) for x in _words(name))
                            if k is not None)
            columns[name] = nc
        flat.extend(nc)
        ptr.append(len(flat))
    return np.asarray(flat, dtype=np.int64), np.asarray(ptr, dtype=np.int64)


def _assemble(f: IngredientFeaturizer, core: dict) -> sp.csr_matrix:
    """One featurizer's matrix: its token and word columns + the shared knowledge block,
    as CSR arrays (columns ascending within each row). A token or word column holds the
    highest weight of the names that map to it (a max: no summation order involved)."""
    n, n_out = core["n"], f.n_features_out_
    off_cls = len(f.vocabulary_) + len(f.word_vocabulary_)
    flat, ptr = _name_columns(f, core["names"])
    pair_name = core["pair_name"]
    counts = (ptr[1:] - ptr[:-1])[pair_name]
    total = int(counts.sum())
    pair_idx = np.repeat(np.arange(len(pair_name), dtype=np.int64), counts)
    ends = np.cumsum(counts)
    within = np.arange(total, dtype=np.int64) - np.repeat(ends - counts, counts)
    cols = flat[ptr[:-1][pair_name][pair_idx] + within]
    key = core["pair_row"][pair_idx] * n_out + cols
    vals = core["pair_w"][pair_idx]
    if total:
        order = np.argsort(key, kind="stable")
        key, vals = key[order], vals[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        vals = np.maximum.reduceat(vals, starts)
        key = key[starts]
    key = np.concatenate((key, core["k_row"] * n_out + (off_cls + core["k_col"])))
    vals = np.concatenate((vals, core["k_val"]))
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    rows, cols = np.divmod(key, n_out)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    idx_dtype = np.int32 if max(n_out, len(key)) < 2 ** 31 else np.int64
    return sp.csr_matrix((vals, cols.astype(idx_dtype), indptr.astype(idx_dtype)),
                         shape=(n, n_out))


def featurize_many(featurizers: Sequence[IngredientFeaturizer], parsed: Sequence[Parsed],
                   cats: Sequence[str]) -> list[sp.csr_matrix]:
    """The matrices of several fitted featurizers for the same parsed products and coarse
    categories: each product's weights and knowledge block are computed once for all
    featurizers sharing a ``_knowledge_key``; featurizers whose vocabularies are equal too
    share one matrix. Equal, value for value, to featurizing with each separately."""
    for f in featurizers:
        f._check_layout()
    parsed = list(parsed)
    if len(parsed) != len(cats):
        raise ValueError(f"{len(parsed)} products but {len(cats)} categories")
    cores: dict[tuple, dict] = {}
    done: list[tuple[IngredientFeaturizer, tuple, sp.csr_matrix]] = []
    out = []
    for f in featurizers:
        key = f._knowledge_key()
        same = next((X for g, k, X in done if k == key
                     and g.n_features_out_ == f.n_features_out_
                     and g.vocabulary_ == f.vocabulary_
                     and g.word_vocabulary_ == f.word_vocabulary_), None)
        if same is None:
            if key not in cores:
                cores[key] = _knowledge_cores(parsed, cats, key)
            same = _assemble(f, cores[key])
            done.append((f, key, same))
        out.append(same)
    return out


def transform_parsed_many(featurizers: Sequence[IngredientFeaturizer],
                          parsed: Sequence[Parsed],
                          categories: Sequence[object] | None = None) -> list[sp.csr_matrix]:
    """``[f.transform_parsed(parsed, categories) for f in featurizers]``, sharing the work
    the featurizers have in common (two models scoring the same products)."""
    for f in featurizers:
        check_is_fitted(f, "vocabulary_")
    return featurize_many(featurizers, parsed, _coarse_many(categories, len(parsed)))


def _coarse_many(categories: Sequence[object] | None, n: int) -> list[str]:
    """``coarse_category`` of each, each distinct string folded once."""
    if categories is None:
        return ["other"] * n
    memo: dict[str, str] = {}
    out = []
    for c in categories:
        if type(c) is str:
            hit = memo.get(c)
            if hit is None:
                hit = memo[c] = coarse_category(c)
        else:
            hit = coarse_category(c)
        out.append(hit)
    return out


def irritant_index(parsed: Parsed) -> float:
    """Knowledge index for sensitive skin: distinct irritant-class members + EU allergens.

    Classes counted: fragrance, essential_oil, drying_alcohol, aha, bha, retinoid (DESIGN.md
    "Learned components" 2); plus every distinct EU-labelled allergen. Higher = less gentle.
    """
    names = set()
    allergens = set()
    info = _INFO_CACHE
    for name, pos, _comp, classes in parsed:
        if classes:
            hit = _IRRITANTS.intersection(classes)
            if hit:
                if pos > 10 and hit == _AHA_ONLY:
                    continue  # citric/lactic acid late in the list: a pH adjuster (DESIGN.md)
                names.add(name)
            if "fragrance_allergen" in classes:
                allergens.add(name)
                continue
        rec = info.get(name)
        if (rec if rec is not None else _name_info(name))[1]:
            allergens.add(name)
    return float(len(names) + len(allergens))


_IRRITANTS = frozenset({"fragrance", "essential_oil", "drying_alcohol", "aha", "bha", "retinoid"})
_AHA_ONLY = frozenset({"aha"})
