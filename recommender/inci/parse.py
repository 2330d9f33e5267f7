"""``parse_list``: one ingredient field as a real catalog carries it -> a ``ParsedList``.

Order of work: refuse what is not a list (empty, placeholder, binary, oversized, prose only),
read stringified lists, normalise text (``clean``), cut into components, sections and tokens
(``split``), clean each token (percentages, footnote marks), resolve it to a canonical name
(``canonical``) through its printed alternatives, then repair the two damages real scrapes
do to lists:

- a name cut in two ("Pentylene", "Glycol" in Sephora's pieces; "ethylhexyl", "salicylate" in
  lookfantastic's pre-split lists; "Dimethicone/Vinyl Dimethicone, Crosspolymer"): two
  neighbours are joined when the joined name is a known name and one of them is not;
- a CAS index name cut at its commas ("Cyclopentaneacetic acid, 3-oxo-2-pentyl-, methyl
  ester"): the parent and the pieces after its commas are one ingredient, read uninverted
  when that is a known name and never as the acid or alcohol of an ester;
- a missing separator ("Parfum (Fragrance) D-Limonene", a whole list printed without commas,
  "Geraniol and Fragrance"): an unknown name is cut into the fewest known names;
- a name cut short by a scraper ("Ammonium Acryloyldimethyltaurate/VP"): completed when exactly
  one known name continues it and it stops at a word no name ends with
  (``Canonicalizer.complete``).

A field holding only a footnote ("* Essential Oil": the list it annotates was lost) reads as
no list. One ingredient printed twice across a dash ("Hedera Helix Extract - Ivy Leaf/Stem
Extract") reads as its known side.

Every token becomes a ``Mention``; one that resolves to nothing stays, unrecognised.

Speed (batch runs read hundreds of thousands of lists that repeat the same tokens): each
printed token's reading is cached (``Canonicalizer.token_cache``), and the Mention fields of a
token read whole in a caller's ``rows`` cache. Every repair above acts only on a token not read
whole and its neighbours, so a list of tokens all read whole before is built straight from the
cache, and in any other list the repairs visit only the tokens not read whole.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable
from itertools import starmap

from recommender.config import MEMO_ENTRIES
from recommender.inci import clean, rules, split
from recommender.inci.canonical import NO_MATCH, Canonicalizer, Match
from recommender.inci.model import Mention, ParsedList
from recommender.memo import remember

_PERCENT = re.compile(r"\(?\s*(?:\+\s*/\s*-|±|<|≤)?\s*(\d{1,3}(?:[.,]\d{1,6})?)\s*%\s*(?:w/w|w/v)?\s*\)?")
_EDGE = re.compile(r"^[\s*\-+#.,:;'\"!?]+|[\s*\-+#.,:;'\"!?\[\]]+$")
_PARENS = re.compile(r"\(([^()]*)\)")
_QUALIFIER = re.compile(
    r"\((?:certified\s+)?(?:organic|vegan|natural|mixed|and|or|non-?gmo|fair\s*trade|"
    r"plant|vegetable|synthetic|nature\s+identical|biological|bio)(?:\s+origin)?\)",
    re.IGNORECASE,
)
# footnotes: "*Organic", "**Natural origin", "*Certified organic ingredients", "* = from organic farming"
_FOOTNOTE = re.compile(
    r"^\*+\s*=?\s*(?:(?:certified\s+)?(?:organic|natural|naturally\s+derived|wild\s*crafted|fair\s*trade|"
    r"bio|ecocert|cosmos)\s*$|.*\b(?:ingredients?|origin|derived|certified|farming|agriculture|"
    r"harvested|grown|sourced)\b)",
    re.IGNORECASE,
)
# marketing qualifiers before an INCI name ("Organic Aloe Barbadensis Leaf Juice", "Purified Water")
# and CAS numbers printed after it ("Linalool 78-70-6", "(CAS 8016-70-4)")
_QUALIFIER_WORDS = re.compile(
    r"^(?:(?:and|&|with|certified|organic|org\.|natural|naturally|pure|purified|distilled|"
    r"deionized|deionised|demineralized|wild(?:-?crafted|-?harvested)?|cold[- ]?pressed|"
    r"unrefined|refined|extra virgin|virgin|fair[- ]?trade|bio|eco|vegan|non-?gmo|"
    r"sustainably sourced|premium)\s+)+",
    re.IGNORECASE,
)
_CAS = re.compile(r"\(?\s*(?:cas(?:\s*(?:no\.?|number|#))?\s*:?\s*)?\b\d{2,7}-\d{2}-\d\b\s*\)?",
                  re.IGNORECASE)
_PURPOSE = re.compile(r"\s*:\s*" + split.PURPOSE_WORDS + r"\b.*$", re.IGNORECASE)
# a token holding only a drug-facts table's column heading or purposes ("Purpose
# Sunscreen"); glued to an active ("Purpose Avobenzone 2.0%") they are a general rewrite
# (``rules``)
_PURPOSE_ONLY = re.compile(r"(?:" + split.PURPOSE_WORDS + r"\s*)+", re.IGNORECASE)
_ESSENTIAL = re.compile(r"\s*\bessential\s+oils?\b", re.IGNORECASE)
_SHARED_SUFFIX = re.compile(
    r"(?:CO|CROSS)?POLYMERS?$|TRIGLYCERIDES?$|GLYCERIDES?$|ESTERS?$|SILICATE$|"
    r"ACRYLATES?$|FERMENT(?: FILTRATE| LYSATE)?$",
    re.IGNORECASE,
)


def parse_list(text: object, canon: Canonicalizer, *, fuzzy: bool = True) -> ParsedList:
    """Parse one ingredient field. Never raises on any text; says why nothing was read."""
    rows = _ROWS.get(canon)
    if rows is None:
        rows = _ROWS[canon] = {}
    return parse_classified(text, canon, fuzzy=fuzzy, rows=rows)[0]


# per canonicaliser: the Mention fields of each printed token read whole (``parse_list``)
_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ROWS_MAX = MEMO_ENTRIES


def parse_classified(text: object, canon: Canonicalizer, *, fuzzy: bool = True,
                     classes_of: Callable[[str], tuple[str, ...]] | None = None,
                     rows: dict | None = None) -> tuple[ParsedList, bool]:
    """``parse_list``, with each mention's ``classes`` set to ``classes_of(inci)`` when it has
    an INCI name; and True when some mention is not known exactly or by alias (match None or
    fuzzy), as the reader needs to know.

    ``rows``: the caller's cache, printed token -> the Mention fields of a token read whole
    (one dict per ``classes_of``). A list whose every token is there is read without
    touching anything else: no repair pass changes a list of names each read whole.
    """
    if text is None or (isinstance(text, float) and text != text):
        return ParsedList(text="", status="empty", problems=["no ingredient list: field is empty"]), False
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = str(text)
    result = ParsedList(text=text)
    if not text.strip():
        return _refuse(result, "empty", "no ingredient list: field is empty"), False
    if len(text) > clean.MAX_CHARS:
        return _refuse(
            result, "too_long",
            f"no ingredient list: {len(text):,} characters is longer than any real label "
            f"(limit {clean.MAX_CHARS:,})",
        ), False
    if clean.is_binary(text):
        return _refuse(result, "binary", "no ingredient list: the text is binary data"), False
    if clean.is_placeholder(text):
        return _refuse(result, "placeholder",
                       f"no ingredient list: placeholder {text.strip()[:60]!r}"), False

    pieces = clean.unlist(text)
    joined = _join_pieces([clean.normalise(p) for p in pieces]) if pieces is not None \
        else clean.normalise(text)
    if clean.is_placeholder(joined):
        return _refuse(result, "placeholder",
                       f"no ingredient list: placeholder {joined.strip()[:60]!r}"), False

    if joined.lstrip()[:1] in _MARKS and _footnote_only(joined, canon):
        return _refuse(result, "placeholder",
                       f"no ingredient list: only the footnote {joined.strip()[:60]!r} of a "
                       "list the field does not hold"), False

    notes: list[str] = []
    code = clean.code_elements(text)
    if code:
        notes.append("HTML " + ", ".join(f"<{c}>" for c in dict.fromkeys(code))
                     + " element(s) set aside: page code, not label text")
    if "roduct" in joined or "RODUCT" in joined:
        joined = split.store_headers(joined, notes)
    segs, components = split.segments(joined.splitlines(), notes, _known(canon))
    if rows is None:
        rows = {}
    elif len(rows) > _ROWS_MAX:
        rows.clear()
    if len(components) == 1 and all(s.section == "declared" for s in segs):
        # the common label: one component, nothing may-contain
        labels = None
        if len(segs) == 1:
            raws = split.tokens(segs[0].text)
        else:
            raws = [raw for s in segs for raw in split.tokens(s.text)]
        seq = list(map(rows.get, raws))
        if seq and None not in seq:
            result.problems = notes
            result.components = components
            result.ingredients = _mentions(seq)
            return _blurbs_refused(result), False
    else:
        raws = []
        labels = []  # (section, component) of each token
        for s in segs:
            toks = split.tokens(s.text)
            raws += toks
            labels += [(s.section, s.component)] * len(toks)
        seq = list(map(rows.get, raws))
    return _repair(result, raws, seq, labels, notes, components, canon, fuzzy, classes_of, rows)


def _row(tok: tuple, classes_of) -> tuple:
    """The Mention fields of a token (printed, name, percent, match, alternatives, whole), at
    position 0 of the declared list of the first component."""
    m = tok[3]
    inci = m.inci
    classes = classes_of(inci) if classes_of is not None and inci is not None else ()
    return (tok[0], tok[1], 0, "declared", 0, tok[2], tok[4], inci, m.kind, m.score, classes,
            None, False, m.via)


def _mentions(seq: list[tuple], labels: list[tuple[str, int]] | None = None) -> list[Mention]:
    """Mentions from their fields; positions 1-based per component over the declared list,
    may-contain continuing it (``labels``: section and component of each; None: all declared
    in the first component)."""
    ms = list(starmap(Mention, seq))
    if labels is None:
        for i, m in enumerate(ms, 1):
            m.position = i
        return ms
    count: dict[int, int] = {}
    after_may = False
    reordered = False
    for section, _ in labels:
        if section != "declared":
            after_may = True
        elif after_may:
            reordered = True  # rare: a declared name printed after a may-contain block
            break
    if reordered:
        declared: dict[int, int] = {}
        for section, c in labels:
            if section == "declared":
                declared[c] = declared.get(c, 0) + 1
        seen_may: dict[int, int] = {}
        for m, (section, c) in zip(ms, labels, strict=True):
            if section == "declared":
                pos = count[c] = count.get(c, 0) + 1
            else:
                seen_may[c] = seen_may.get(c, 0) + 1
                pos = declared.get(c, 0) + seen_may[c]
            m.position = pos
            m.section = section
            m.component = c
        return ms
    for m, (section, c) in zip(ms, labels, strict=True):
        pos = count[c] = count.get(c, 0) + 1
        m.position = pos
        m.section = section
        m.component = c
    return ms


def _repair(result: ParsedList, raws: list[str], seq: list, labels: list | None,
            notes: list[str], components: list, canon: Canonicalizer, fuzzy: bool,
            classes_of, rows: dict) -> tuple[ParsedList, bool]:
    """Read the tokens not in the cache, then repair the list around the tokens not read whole.

    ``seq``: the cached Mention fields of each token read whole, None for the others. The
    repairs only ever act on a token not read whole and its neighbours in the same section:

    - a name cut in two: two neighbours are joined when the joined name is known and one of
      them is not; a CAS index name printed inverted is turned back;
    - names printed without a separator (``_separate``);
    - a name cut short (``Canonicalizer.complete``), then a close spelling (``fuzzy``).
    """
    cache = canon.token_cache
    bad: list[int] = []  # tokens not read whole: (printed, name, percent, match, alts, whole)
    dropped = False
    i = -1
    while True:
        try:
            i = seq.index(None, i + 1)
        except ValueError:
            break
        raw = raws[i]
        hit = cache.get(raw)
        if hit is None:
            hit = remember(cache, raw, _token(raw, canon))
        if hit.__class__ is str:
            notes.append(hit)
            seq[i] = _DROPPED
            dropped = True
        elif hit[5]:
            seq[i] = rows[raw] = _row(hit, classes_of)
        else:
            seq[i] = hit
            bad.append(i)
    if dropped:
        if labels is not None:
            labels = [lab for x, lab in zip(seq, labels, strict=True) if x is not _DROPPED]
        seq = [x for x in seq if x is not _DROPPED]
        bad = [i for i, x in enumerate(seq) if len(x) == 6]
    result.problems = notes
    result.components = components
    if not seq:
        reason = "prose" if notes else "empty"
        return _refuse(result, reason, "no ingredient list found: " + ("; ".join(notes) or "no names")), False
    if not bad:
        result.ingredients = _mentions(seq, labels)
        return _blurbs_refused(result), False

    # a CAS index name cut at its commas ("Benzaldehyde", "4-hydroxy-3-methoxy (note)";
    # "Cyclopentaneacetic acid", "3-oxo-2-pentyl-", "methyl ester"): one ingredient
    chains: frozenset[int] = frozenset()
    if any(rules.cas_piece(seq[i][0]) for i in bad if seq[i][3].kind is None):
        seq, labels, chains = _cas_chains(seq, labels, canon)
        bad = [i for i, x in enumerate(seq) if len(x) == 6]
    n = len(seq)
    # a name cut in two: only a pair with an unknown name can merge; left to right, a merged
    # token is not merged again
    cands = sorted({j for k in bad if seq[k][3].kind is None for j in (k - 1, k) if 0 <= j < n - 1})
    merged: dict[int, tuple] = {}
    nxt = 0
    for c in cands:
        if c < nxt or (labels is not None and labels[c] != labels[c + 1]) \
                or c in chains or c + 1 in chains:
            continue  # (a CAS index name joined back is whole: it takes no neighbour)
        after = seq[c + 2][1] if c + 2 < n else None
        mg = _merge_pair(_as_token(seq[c]), _as_token(seq[c + 1]), canon, after)
        if mg is not None:
            merged[c] = mg
            nxt = c + 2
    if merged:
        out: list = []
        out_labels: list | None = None if labels is None else []
        i = 0
        while i < n:
            mg = merged.get(i)
            out.append(seq[i] if mg is None else mg)
            if out_labels is not None:
                out_labels.append(labels[i])
            i += 1 if mg is None else 2
        seq, labels = out, out_labels
        bad = [i for i, x in enumerate(seq) if len(x) == 6]
    # names printed without a separator
    runs = {}
    for i in bad:
        t = seq[i]
        if not t[5] and " " in t[1]:  # unknown, or known only through an alternative
            names = _run_names(t[1], canon)
            if names:
                runs[i] = [(nm, nm, t[2] if j == 0 else None, m, (), m.kind is not None)
                           for j, (nm, m) in enumerate(names)]
    if runs:
        out = []
        out_labels = None if labels is None else []
        for i, x in enumerate(seq):
            part = runs.get(i)
            if part is None:
                out.append(x)
            else:
                out += part
            if out_labels is not None:
                out_labels += [labels[i]] * (1 if part is None else len(part))
        seq, labels = out, out_labels
        bad = [i for i, x in enumerate(seq) if len(x) == 6]
    learn = False
    for i in bad:
        t = seq[i]
        m = t[3]
        if m.kind is None and t[1]:
            m = canon.complete(_base(t[1]))
            if fuzzy and m.kind is None:
                m = canon.fuzzy(_base(t[1]))
            t = (t[0], t[1], t[2], m, t[4], t[5])
        if m.kind is None or m.kind == "fuzzy":
            learn = True
        seq[i] = _row(t, classes_of)
    result.ingredients = _mentions(seq, labels)
    if _mostly_prose(result):
        return _refuse(result, "prose", "no ingredient list found: the text reads as prose, not a list"), False
    return result, learn


_DROPPED = ("",)  # a footnote or prose token: no mention


def _as_token(x: tuple) -> tuple:
    """(printed, name, percent, match, alternatives, whole) of a token or of a cached row."""
    if len(x) == 6:
        return x
    return (x[0], x[1], x[5], Match(x[7], x[8], x[9], x[13]), x[6], True)


def _cas_piece(x: tuple) -> str | None:
    """``rules.cas_piece`` of a token not read (a piece of a CAS index name), else None."""
    if len(x) != 6 or x[3].kind is not None:
        return None
    return rules.cas_piece(x[0])


def _cas_chains(seq: list, labels: list | None,
                canon: Canonicalizer) -> tuple[list, list | None, frozenset[int]]:
    """Join each CAS index name cut at its commas back into one token: a parent name followed
    by the substituents and the ester part printed after its commas ("Benzaldehyde",
    "4-hydroxy-3-methoxy (gourmand note)" -> one ingredient; "Tetradecanoic acid",
    "1-methylethyl ester" -> one ingredient, never MYRISTIC ACID). The pieces are no
    ingredients of their own. The joined name is read uninverted when that is a known name
    ("3,7-dimethyl-1,6-Nonadien-3-ol" = ETHYL LINALOOL), never when it is an ester (the acid
    or alcohol printed first is not what the product holds); else it stays, unrecognised, as
    one mention. Returns the new tokens, their labels and the indices of the joined names."""
    n = len(seq)
    out: list = []
    joined: list[int] = []
    out_labels: list | None = None if labels is None else []
    i = 0
    while i < n:
        x = seq[i]
        j = i + 1
        kinds: list[str] = []
        if _cas_piece(x) is None:
            acid = x[1].lower().endswith(" acid")
            while j < n and (labels is None or labels[j] == labels[i]):
                k = _cas_piece(seq[j])
                if k is None or (k == "ester" and not kinds and not acid):
                    break
                kinds.append(k)
                j += 1
        if not kinds:
            out.append(x)
            if out_labels is not None:
                out_labels.append(labels[i])
            i += 1
            continue
        t = _as_token(x)
        pieces = [_as_token(y) for y in seq[i + 1: j]]
        printed = ", ".join([t[0], *(p[0] for p in pieces)])
        hit = None
        if "ester" not in kinds:
            following = seq[j][1] if j < n else None
            readings = rules.cas_readings(t[1], [p[0] for p in pieces], following)
            hit = next((c for c in (canon.lookup(r) for r in readings)
                        if c.kind is not None and c.via != "rule"), None)
        joined.append(len(out))
        out.append((printed, printed, t[2], hit or NO_MATCH, (), hit is not None))
        if out_labels is not None:
            out_labels.append(labels[i])
        i = j
    return out, out_labels, frozenset(joined)


def _merge_pair(t: tuple, u: tuple, canon: Canonicalizer, nxt: str | None = None) -> tuple | None:
    """Two neighbours of one section, one of them unknown, as one token, or None (``nxt``:
    the name of the token after them, if any).

    A CAS index name printed inverted ("Naphtho[2,1-b]furan, dodecahydro-3a,6,6,9a-tetramethyl-"
    -> "dodecahydro-3a,6,6,9a-tetramethylnaphtho[2,1-b]furan"), but not an ester's acid part
    ("Propanoic acid, 2-methyl-, ... ester"), or with its tail printed without the dash or
    with a note ("1,6-Nonadien-3-ol", "3,7-dimethyl (freesia note)": only when the name is
    known); a name cut in two ("Pentylene", "Glycol"; "Rosmarinus Officinalis (Rosemary)",
    "Leaf Extract") when the joined name is known by a printed name, not by a rewrite rule.
    """
    tk = t[3].kind
    uk = u[3].kind
    if tk is None and uk is None and _INVERTED_TAIL.match(u[0]):
        uninverted = u[1] + t[1][:1].lower() + t[1][1:]
        m = canon.lookup(uninverted)
        if nxt is not None and rules.ester_follows(nxt):
            m = NO_MATCH
        return (f"{t[0]}, {u[0]}", uninverted if m.kind else f"{t[1]}, {u[0]}", t[2], m, (),
                m.kind is not None)
    if tk is None and uk is None and u[0][:1] == "(" and _BRACKET_TAIL.match(u[0]) \
            and t[0][-1:].isalpha() and "(" not in t[0]:
        # a name cut at the comma before its common-name bracket: "Vaccinium Myrtillus",
        # "(Bilberry) Extract" is one ingredient (unknown here: a known one is read below)
        joined = f"{t[1]} {u[1]}"
        m, whole, _ = _resolve(joined, canon)
        if m.kind is None or whole:
            return (f"{t[0]} {u[0]}", joined, t[2] or u[2], m, (), m.kind is not None)
    if tk is None and uk is None:
        hit = next((c for c in (canon.lookup(x) for x in rules.uninverted(t[1], u[1], nxt))
                    if c.kind is not None and c.via != "rule"), None)
        if hit is not None:
            return (f"{t[0]}, {u[0]}", f"{t[1]}, {u[1]}", t[2], hit, (), True)
    if tk is None or uk is None:
        joined = f"{t[1]} {u[1]}"
        m = canon.lookup(joined)
        if m.kind is None and "(" in joined:
            m, whole, _ = _resolve(joined, canon)
            if not whole:
                m = NO_MATCH
        if m.kind is not None and m.via != "rule":  # rewrites read printed names only
            return (f"{t[0]} {u[0]}", joined, t[2] or u[2], m, (), True)
    return None


def _blurbs_refused(result: ParsedList) -> ParsedList:
    """A list of key-ingredient blurbs only ("Vitamin E: Offers antioxidant ...") read
    without repairs is still refused: marketing text must not pass for the product's list."""
    ms = result.ingredients
    if ms and ":" in ms[0].raw and all(rules.is_blurb(m.raw) for m in ms):
        return _refuse(result, "prose", "no ingredient list found: the text reads as prose, not a list")
    return result


def _refuse(result: ParsedList, status: str, why: str) -> ParsedList:
    result.status = status
    result.ingredients = []
    result.problems = [*result.problems, why]
    return result


_MARKS = "*\u2020+"
_FOOTNOTE_ONLY = re.compile(r"^\s*[*\u2020+]+\s*([^,;*\u2020\n]{1,60}?)[.\s]*$")


def _footnote_only(text: str, canon: Canonicalizer) -> bool:
    """A field holding only a footnote, the list it annotates lost by the scrape ("* Essential
    Oil", "**Essential Oil.", "* Hadasei-3"): no list (read as one, it would pass for the
    product's whole list). A marked name that is an ingredient ("*Simmondsia Chinensis Seed
    Oil", a one-ingredient oil) is read."""
    m = _FOOTNOTE_ONLY.match(text)
    if m is None:
        return False
    tok = _token(m.group(1).strip(), canon)
    return tok.__class__ is str or tok[3].kind is None


def _known(canon: Canonicalizer):
    def is_known(name: str) -> bool:
        return canon.lookup(name.strip()).kind is not None

    return is_known


def _join_pieces(pieces: list[str]) -> str:
    """Re-join the pieces of a stringified list; pieces that each hold one name stay apart."""
    pieces = [p for p in pieces if p.strip()]
    if not pieces:
        return ""
    chunked = sum(1 for p in pieces if "," in p or ";" in p) >= max(1, len(pieces) // 3)
    if not chunked:
        return ", ".join(pieces)
    out = pieces[0]
    for nxt in pieces[1:]:
        prev = out.rstrip()
        head = nxt.lstrip()
        if split.heading_of(head) is not None or split.heading_of(prev.rsplit("\n", 1)[-1]) is not None:
            out = prev + "\n" + head
        elif prev and prev[-1].isalpha() and head[:1].islower():
            out = prev + head          # a word cut in two: "Methoxydibenzoylmethan" + "e, ..."
        elif prev and prev[-1] in ",;.":
            out = prev + " " + head
        else:
            out = prev + ", " + head   # a name may be cut here: the merge pass decides
    return out


def _token(raw: str, canon: Canonicalizer):
    """One token -> (printed, name, percent, match, alternatives, whole), or a note (str)."""
    printed = " ".join(raw.split())
    if _FOOTNOTE.match(printed) or split.is_prose(printed):
        return f"footnote or prose set aside: {printed[:80]!r}"
    why = rules.not_a_name(printed)
    if why is not None:
        return f"{why} set aside: {printed[:80]!r}"
    name = printed
    percent = None
    if "%" in name:
        m = _PERCENT.search(name)
        if m:
            try:
                percent = float(m.group(1).replace(",", "."))
            except ValueError:
                percent = None
            name = (name[: m.start()] + " " + name[m.end():]).strip()
    if "[" in name:
        name = name.replace("[", "(").replace("]", ")")  # "Citrus Limon Peel Oil [Citrus Medica Limonum Oil]"
    if ":" in name:
        name = _PURPOSE.sub("", name)  # drug facts: "Titanium Dioxide 3.55%: Sunscreen"
    if "(" in name:
        name = _QUALIFIER.sub(" ", name).replace("()", " ")
    name = " ".join(_EDGE.sub("", name).split())
    name = _balance(name)
    if not name or not any(c.isalpha() for c in name):
        return f"not a name, set aside: {printed[:80]!r}"
    if _PURPOSE_ONLY.fullmatch(name):
        return f"drug-facts column set aside: {printed[:80]!r}"
    match, whole, alts = _resolve(name, canon)
    return printed, name, percent, match, alts, whole and match.kind is not None


def _balance(name: str) -> str:
    """Drop a bracket left open or closed alone by truncation: "Oryza Sativa (Rice"."""
    if name.count("(") != name.count(")"):
        name = name.replace("(", " ").replace(")", " ")
        name = " ".join(name.split())
    return name


def _base(name: str) -> str:
    """The name without bracketed parts, nested ones included."""
    while "(" in name:
        stripped = _PARENS.sub(" ", name)
        if stripped == name:
            break
        name = stripped
    return " ".join(name.split())


def _resolve(name: str, canon: Canonicalizer) -> tuple[Match, bool, tuple[str, ...]]:
    """Try the printed name, then without brackets, then its printed alternatives (cached)."""
    hit = canon.resolve_cache.get(name)
    if hit is None:
        hit = remember(canon.resolve_cache, name, _resolve_uncached(name, canon))
    return hit


def _resolve_uncached(name: str, canon: Canonicalizer) -> tuple[Match, bool, tuple[str, ...]]:
    inner: list[str] = []
    if "(" in name:
        for group in _PARENS.findall(name):
            g = group.strip()
            if g[:3].lower() == "as ":  # "Vitamin A (as Beta Carotene)": the form printed is
                m = canon.lookup(g[3:])    # what the product holds
                if m.kind is not None:
                    return m, True, (_base(name),)
            inner.extend(p.strip() for p in re.split(r"[,/]", group) if p.strip())
    m = canon.lookup(name)
    if m.kind is not None:
        return m, True, tuple(inner)
    base = _base(name)
    if base != name:
        m = canon.lookup(base)
        if m.kind is not None:
            return m, True, tuple(inner)
    parts = [p.strip() for p in base.split("/") if p.strip()] if "/" in base else []
    if len(parts) > 1:
        hits = [(p, canon.lookup(p)) for p in parts]
        # a generated synonym names a pure chemical: as a slash part it is more likely a
        # monomer of a copolymer cut short ("Hydroxyethyl Acrylate/Sodium ... Taurate")
        found = [(p, h) for p, h in hits if h.kind is not None and h.via != "synonyms"]
        if found and (len(found) >= 2 or not _SHARED_SUFFIX.search(parts[-1])
                      or " " in found[0][0]):
            alts = tuple(p for p in parts if p != found[0][0]) + tuple(inner)
            return found[0][1], len(found) >= 2, alts  # "Aqua/Water/Eau": a list of aliases
    if "- " in name or " -" in name:
        # one ingredient printed twice across a spaced dash, INCI and common name in either
        # order: "Hedera Helix Extract - Ivy Leaf/Stem Extract", "Chamomile- Anthemis Nobilis
        # Flower Oil": the side that is a known name of two words or more is read
        sides = [x.strip() for x in _DUAL_DASH.split(name, 1)]
        if len(sides) == 2 and all(len(x) > 2 and x[-1:].isalpha() or x[-1:] == ")"
                                   for x in sides):
            hits = [(x, canon.lookup(x)) for x in sides]
            found = [(x, h) for x, h in hits if h.kind is not None and " " in x]
            if len({h.inci for _, h in found}) == 1:
                x, h = found[0]
                return h, False, tuple(y for y in sides if y != x) + tuple(inner)
    for alt in inner:
        m = canon.lookup(alt)
        if m.kind is None and _QUALIFIER_WORDS.match(alt):
            m = canon.lookup(_QUALIFIER_WORDS.sub("", alt))  # "(Organic Shea Butter)"
        if m.kind is not None:
            return m, False, tuple(a for a in inner if a != alt)
    bare = _QUALIFIER_WORDS.sub("", _CAS.sub(" ", name)).strip(" ,;:-")
    bare = " ".join(bare.split())
    if bare and bare != name and any(c.isalpha() for c in bare):
        m, whole, alts = _resolve(bare, canon)
        if m.kind is not None:
            return m, whole, alts
    if canon.essential_oils and ("ssential" in name or "SSENTIAL" in name):
        # "Pelargonium Graveolens Flower Essential Oil": INCI names the essential oil "... OIL";
        # taken only when that name is a volatile oil (never a fixed oil of the same plant)
        plain = _ESSENTIAL.sub(" Oil", name)
        if plain != name:
            m, whole, alts = _resolve(plain, canon)
            if m.kind is not None and m.inci in canon.essential_oils:
                return m, whole, alts
    return NO_MATCH, False, tuple(parts[1:] if parts else inner)


# "(Bilberry) Extract", "(Rosemary) Leaf Oil": a common-name bracket, then part and preparation
_BRACKET_TAIL = re.compile(
    r"^\([^()]+\)\s*(?:(?:" + "|".join(sorted(rules.PARTS)) + r")(?:/\w+)*\s+)*(?:"
    + "|".join(sorted(rules.PREPARATIONS)) + r")\W*$", re.IGNORECASE)
_DUAL_DASH = re.compile(r"\s+-\s*|\s*-\s+")
_INVERTED_TAIL = re.compile(r"^[a-z0-9(][^A-Z]*-\s*$")  # "dodecahydro-...-tetramethyl-", "oxybis-"
_CONNECTOR = re.compile(r"\s+and\s+", re.IGNORECASE)
_DC_LEFT = re.compile(r"\b(?:F\.?\s*)?D\.?$", re.IGNORECASE)  # "D and C Red 7" is one name
_PUNCT_WORD = re.compile(r"^[/&+\-]+$")
_CAS_WORD = re.compile(r"^\(?\d{2,7}-\d{2}-\d\)?[,;]?$")
MAX_SPAN_WORDS = 10   # the longest printed INCI names ("Citrus Limon Peel Oil / Lemon Peel Oil")
MAX_RUN_WORDS = 400
LIST_MIN_WORDS = 6    # a list printed without separators: at least this many words ...
LIST_MIN_NAMES = 3    # ... cut into at least this many known names ...
LIST_MIN_SHARE = 0.75  # ... covering this share of its words


def _run_names(name: str, canon: Canonicalizer):
    names = canon.run_cache.get(name, False)
    if names is False:
        names = remember(canon.run_cache, name, _separate(name, canon))
    return names


def _separate(name: str, canon: Canonicalizer):
    """Names printed without a separator, or joined by " and ", as (name, match) pairs.

    - "Geraniol and Fragrance/Parfum", "Organic Cane Sugar Alcohol And Distilled Water": " and "
      outside brackets separates when at least one side is a known name on its own; a name that
      holds " and " ("Terpenes and Terpenoids") never gets here (it matched whole), and neither
      side known ("Ashwagandha Root And Leaf Extract") leaves the name as printed.
    - "Parfum (Fragrance) D-Limonene": cut into known names when every word is covered.
    - a whole list printed without commas (Sephora P427529): cut into known names when they
      cover most of its words; the words left over stay, unrecognised, as printed.
    None when the name should stay as it is.
    """
    parts = _and_parts(name)
    if len(parts) > 1:
        out: list[tuple[str, Match]] = []
        known = 0
        for part in parts:
            m, whole, _ = _resolve(part, canon)
            if m.kind is not None and whole:
                out.append((part, m))
                known += 1
                continue
            seg = _segment(part, canon, strict=True)
            if seg:
                out.extend(seg)
                known += 1
            else:
                out.append((part, m))
        if known:
            return out
    seg = _segment(name, canon, strict=False)
    if seg is None and "(" in name and "/" not in name and len(name) <= 160:
        # without brackets every reading is whole, and the search above has tried them all
        seg = _run_together(name, canon, depth=4)
    return seg


_CUT_POINTS = (re.compile(r"\)\s+"), re.compile(r"\s+"))


def _run_together(name: str, canon: Canonicalizer, depth: int):
    """Two names a bracket or a space apart, the right one possibly known only through one of
    its alternatives ("Manganese Violet (Ci 77742). *Contains ..."): the older, greedy rule."""
    pair = _two_names(name, canon)
    if pair is None:
        return None
    (left, ml), (right, mr) = pair
    if depth > 1 and " " in right and not _resolve(right, canon)[1]:
        more = _run_together(right, canon, depth - 1)
        if more:
            return [(left, ml), *more]
    return [(left, ml), (right, mr)]


def _two_names(name: str, canon: Canonicalizer):
    for pattern in _CUT_POINTS:
        for cut in pattern.finditer(name):
            left = name[: cut.start()] + (")" if cut.group(0).startswith(")") else "")
            right = name[cut.end():]
            if not right.strip() or not left.strip():
                continue
            ml, _, _ = _resolve(left.strip(), canon)
            if ml.kind is None:
                continue
            mr, _, _ = _resolve(right.strip(), canon)
            if mr.kind is not None:
                return (left.strip(), ml), (right.strip(), mr)
    return None


def _and_parts(name: str) -> list[str]:
    """Split at " and " outside brackets, never inside "D and C"."""
    if " and " not in name.lower():
        return [name]
    parts = []
    start = 0
    for m in _CONNECTOR.finditer(name):
        before = name[: m.start()]
        if before.count("(") != before.count(")") or before.count("[") != before.count("]"):
            continue
        if _DC_LEFT.search(before) and name[m.end(): m.end() + 2].rstrip().upper() in ("C", "C."):
            continue
        parts.append(name[start: m.start()])
        start = m.end()
    parts.append(name[start:])
    parts = [p.strip(" ,;") for p in parts]
    return parts if all(parts) else [name]


def _units(name: str) -> list[str] | None:
    """Words, a bracketed group kept with the word before it ("Parfum (Fragrance)"); None when
    a bracket is never closed."""
    units: list[str] = []
    depth = 0
    for w in name.split():
        if depth > 0 or (units and w[:1] in "([" and not _PUNCT_WORD.match(units[-1])):
            units[-1] = units[-1] + " " + w
        else:
            units.append(w)
        depth += w.count("(") + w.count("[") - w.count(")") - w.count("]")
        if depth < 0:
            return None
    return units if depth == 0 else None


def _segment(name: str, canon: Canonicalizer, *, strict: bool):
    """Cut a run of words into the fewest known names (dynamic programming over word spans).

    ``strict``: every word must belong to a known name. Otherwise a list printed without
    separators is accepted too (``LIST_MIN_*``), its unknown words kept together as printed.
    Punctuation and CAS numbers between names ("-", "/", "124-13-0,") separate.
    """
    units = _units(name)
    if units is None:
        return None
    n = len(units)
    if n < 2 or n > MAX_RUN_WORDS:
        return None
    cas = [bool(_CAS_WORD.match(w)) for w in units]
    skip = [c or bool(_PUNCT_WORD.match(w)) for c, w in zip(cas, units, strict=True)]
    counted = n - sum(skip)
    if counted < LIST_MIN_WORDS:
        strict = True  # too short to be a list printed without separators
    # best[i]: (unknown units, pieces, start of last piece, match of last piece or None)
    best: list[tuple | None] = [None] * (n + 1)
    best[0] = (0, 0, -1, None)
    for i in range(n):
        cur = best[i]
        if cur is None:
            continue
        u, p = cur[0], cur[1]
        if skip[i]:
            _relax(best, i + 1, (u, p, i, "skip"))
            continue
        if not strict:
            _relax(best, i + 1, (u + 1, p + 1, i, None))
        for j in range(i + 1, min(n, i + MAX_SPAN_WORDS) + 1):
            if cas[j - 1] or (j - 1 > i and units[j - 2][-1:] in ",;"
                              and not units[j - 2][:-1].isdigit()):
                break  # a name never spans a CAS number or a comma, but for a locant ("1, 2-")
            if skip[j - 1]:
                continue  # nor ends on a dash or slash ("Aqua / Water" may be one name)
            m = _span_match(" ".join(units[i:j]).rstrip(",;"), canon)
            if m is not None:
                _relax(best, j, (u, p + 1, i, m))
    if best[n] is None:
        return None
    unknown = best[n][0]
    out: list[tuple[str, Match]] = []
    j = n
    while j > 0:
        _, _, i, m = best[j]
        if m != "skip":
            span = " ".join(units[i:j]).rstrip(",;")
            if m is None and out and out[-1][1] is NO_MATCH:
                out[-1] = (span + " " + out[-1][0], NO_MATCH)
            elif m is not None and out and out[-1][1].inci == m.inci:
                out[-1] = (span + " " + out[-1][0], m)  # "Aqua - Water - Eau": one name
            else:
                out.append((span, m if m is not None else NO_MATCH))
        j = i
    out.reverse()
    if unknown == 0:
        # two or more names ("Fragrance Parfum": one, printed with its translation)
        return out if best[n][1] >= 2 else None
    if strict:
        return None
    known = sum(1 for o in out if o[1] is not NO_MATCH)
    if counted >= LIST_MIN_WORDS and known >= LIST_MIN_NAMES \
            and counted - unknown >= LIST_MIN_SHARE * counted:
        return out
    return None


def _relax(best: list, j: int, cand: tuple) -> None:
    cur = best[j]
    if cur is None or cand[:2] < cur[:2]:
        best[j] = cand


def _span_match(span: str, canon: Canonicalizer) -> Match | None:
    m, whole, _ = _resolve(span, canon)
    if m.kind is None or not whole or m.via == "rule":
        return None
    # read as a list of aliases ("Aqua/Water/Eau"): every part must be a known name, or
    # "Acrylonitrile/Methyl Methacrylate/Vinylidene ... Limonene" would swallow its neighbours
    if "/" in span and canon.lookup(span).kind is None and canon.lookup(_base(span)).kind is None \
            and not all(canon.lookup(p.strip()).kind for p in _base(span).split("/") if p.strip()):
        return None
    return m


def _mostly_prose(result: ParsedList) -> bool:
    if result.ingredients and all(rules.is_blurb(m.raw) for m in result.ingredients):
        return True  # only key-ingredient blurbs ("Vitamin E: Offers antioxidant ..."): a
        # partial list from marketing text must not pass for the product's list
    if any(m.match is not None for m in result.ingredients):
        return False
    if any(note.startswith(("free-from claim", "claim set aside", "part of an article"))
           for note in result.problems):
        return True  # a statement of what the product does (not) contain, and nothing known
    words = sum(len(m.name.split()) for m in result.ingredients)
    return len(result.ingredients) <= 2 and words >= 8
