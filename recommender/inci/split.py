"""Cutting cleaned label text into components, sections and ingredient tokens.

Each rule answers a real input from the shared catalogs:

- Kits and sets print a heading per part ("GENIUS Liquid Collagen:", "Product variation 1:",
  "Pekee Bar:"): a short line ending in a colon starts a new component.
- Drug-facts panels and store pages prefix the list ("Active Ingredients: Zinc Oxide 12% ...
  Inactive Ingredients: ...", "... Division: El (Estee Lauder)Ingredients: Water , ..."):
  the markers separate, and text before the first "Ingredients:" that is not a list is set
  aside and reported.
- "May contain", "[+/-", "(+/-)", "+/-:" open the may-contain section of the component.
- Separators: commas, semicolons, bullets (already turned into commas), line breaks, and a
  period that ends a sentence ("Phenoxyethanol. May Contain: ..."); never a comma between
  digits ("1,2-Hexanediol") or inside brackets ("Iron Oxides (CI 77491, CI 77492)").
  A bracket never closed (a truncated field) does not swallow the rest of the list.
- Free-from claims list what a product does *not* hold ("all products are free from synthetic
  fragrance, ... parabens. In addition, REN products do not contain ...: glycols, PEG's, PABA",
  "Paraben-, Phthalate-, and Cruelty-Free"): from the claim to the end of its sentence, set
  aside with a note; reading "PABA" there as an ingredient would flag what is not in it.
- Marketing prose and benefit blurbs ("-Virgin Marula Oil: Hydrates, protects ...",
  "Please be aware that ingredient lists may change") are recognised by their function words
  and set aside with a note, never read as ingredients. A blurb on a line of its own whose
  sentence holds commas ("-Camphor: Rapidly soaks up oily-shine, sloughs off dead cells, and
  sweeps away debris.") is one blurb, never a kit heading followed by a list of phrases.
- A retailer's product header between the parts of a set ("Rds Product Name: Spf30 Face Cream
  Division: Cl (Clinique)") starts a component named by it; the rest is store text.
- "Allergens:" inside a list ("..., Terpineol Allergens: Citronellol, Geraniol") only
  separates: the allergens it names are declared ingredients.
- Footnote legends glued to the end of a list ("Coumarin.*Plant Origin", "Limonene
  *antistatic agent/agent antistatique") are set aside like spaced ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAY_CONTAIN = re.compile(
    r"\[\s*\+\s*/\s*-\s*(?:may\s*contain)?\s*:?|\(\s*\+\s*/\s*-\s*\)\s*:?|\+\s*/\s*-\s*:|"
    r"\[\s*may\s*contain\s*:?|may\s*contain\s*(?:\(\s*\+\s*/\s*-\s*\)|\+\s*/\s*-)?\s*:?|"
    r"peut\s+contenir\s*:?|\+\s*/\s*-(?=\s+[A-Za-z])",
    re.IGNORECASE,
)
INGREDIENTS_MARKER = re.compile(
    r"(?:\b(?:in)?active|\bother|\bnon-?medicinal|\bfull|\bcomplete)?\s*\bingr[eé]dients?\s*(?:\((?:inci|eu|us)\)\s*)?(?:list)?\s*:"
    # a drug-facts panel flattened without its colons ("Drug Facts Active ingredients
    # Purpose Zinc Oxide 18.6% Sunscreen Inactive ingredients Water, ..."): the table's
    # heading row, and "Inactive ingredients" before a capitalised name
    r"|\bactive\s+ingredients?(?:\s*\([^()]{0,40}\))?\s+purposes?\b\s*:?"
    r"|\binactive\s+ingredients?\s+(?=(?-i:[A-Z]))",
    re.IGNORECASE,
)
# the purposes of a drug-facts table ("Avobenzone 3% Sunscreen"), and its column heading:
# the one list the splitter, the token reader (parse) and the rewrites (rules) read
PURPOSE_WORDS = (r"(?:purposes?|(?:otc\s+)?sunscreens?|skin\s+protectants?|"
                 r"acne\s+(?:treatment|medication)|anti-?acne|antiperspirants?|anti-?dandruff|"
                 r"analgesics?|antiseptics?|astringents?)")
# a drug-facts table flattened without commas ("Avobenzone 3% Sunscreen Octocrylene 10%
# Sunscreen"): the purpose after an active's percentage ends that active
_PERCENT_PURPOSE = re.compile(r"(\d\s*%)\s+" + PURPOSE_WORDS + r"\b\s+(?=[A-Za-z])", re.IGNORECASE)
# the label's other sections ("... Citronellol. Directions: Apply morning and evening.
# Warnings: For external use only."; a store's "Key Ingredients: Retinol, Niacinamide" before
# the full list, which would put them first and twice): no ingredients, up to the next
# ingredients marker or the next line that reads as a list
LABEL_SECTION = re.compile(
    r"(?<![\w-])(?:directions(?:\s+for\s+use)?|how\s+to\s+use|warnings?|cautions?|uses|"
    r"other\s+information|storage|keep\s+out\s+of\s+reach\s+of\s+children|"
    r"(?:key|hero|star|featured|highlighted|notable)\s+ingr[eé]dients?)\s*:"
    r"|(?<![\w-])questions(?:\s+or\s+comments)?\s*\?",
    re.IGNORECASE,
)
# where footnotes start: "Phenoxyethanol. *Hadasei-3.", "Linalool. *Plant origin", "Mica * Essential oil",
# "Linalool *Contains Natural Fragrance"
FOOTNOTE_START = re.compile(
    r"\.\s+[*+\u2020]+\s*(?=\S)|\s[*+]+\s*(?=(?:organic|natural|certified|essential|plant|contains?|"
    r"from|ingredients?|wild|fair|derived)\b)",
    re.IGNORECASE,
)
FREE_FROM = re.compile(
    r"\b(?:(?:is|are|it'?s|100\s*%)\s+)?(?:free\s+(?:from|of)|do(?:es)?\s+not\s+contain|"
    r"formulated\s+without|contains?\s+no|made\s+without)\b[^.]*(?:\.(?!\s+[A-Z(\[])[^.]*)*",
    re.IGNORECASE,
)
# "Paraben-, Phthalate-, and Cruelty-Free": suspended hyphens before a "-free" claim
FREE_CLAIMS = re.compile(r"(?:\b[A-Za-z]+-\s*,\s*)+(?:and\s+)?[A-Za-z]+-free\b\.?", re.IGNORECASE)
_HEADING_WORDS = re.compile(r"[A-Za-z0-9#]")
_LIST_MARKER_TAIL = re.compile(
    r"^\s*(?:(?:fragrance\s+)?allergens?|(?:also\s+)?contains?|plus|other|and|components?)\s*$",
    re.IGNORECASE)
_STOP = frozenset(
    ["the", "and", "to", "with", "for", "your", "you", "of", "is", "are", "it", "its", "this", "that", "from", "in", "on", "our", "be", "may", "helps", "help", "which", "while", "a", "an", "by", "as", "or", "not", "all", "can", "will", "more", "than", "has", "have", "been", "we", "their", "these", "those", "into", "most", "refer", "please", "aware", "change", "vary", "product", "packaging"]
)
_WORD = re.compile(r"[a-z]+")
_ABBREV = frozenset(["denat", "no", "nos", "ext", "sp", "spp", "ssp", "var", "st", "dr", "vit", "approx", "fl", "oz", "ca"])


@dataclass(slots=True)
class Segment:
    text: str
    component: int
    section: str  # "declared" | "may_contain"


_STOP_HINT = re.compile(
    r"\b(?:the|and|to|with|for|your|you|is|are|it|this|that|our|be|helps?|please|may)\b",
    re.IGNORECASE,
)


_CHEAP_STOPS_START = ("the ", "and ", "to ", "with ", "for ", "your ", "you ", "is ", "are ",
                      "it ", "this ", "that ", "our ", "be ", "help", "please ", "may ")
_CHEAP_STOPS = (" the ", " and ", " to ", " with ", " for ", " your ", " you ", " is ", " are ",
                " it ", " this ", " that ", " our ", " be ", " help", " please ", " may ")


def is_prose(text: str) -> bool:
    """Sentences, not names: many words and a high share of function words."""
    low = text.lower()
    if sum(low.count(w) for w in _CHEAP_STOPS) + low.startswith(_CHEAP_STOPS_START) < 2:
        return False
    first = _STOP_HINT.search(text)
    if first is None or _STOP_HINT.search(text, first.end()) is None:
        return False
    words = _WORD.findall(text.lower())
    if len(words) < 5:
        return False
    stop = sum(1 for w in words if w in _STOP)
    return stop >= 2 and stop / len(words) >= 0.18


def heading_of(line: str, is_known=None) -> str | None:
    """The component name if this line is a heading ("Product variation 1:"), else None.
    ``is_known`` (name -> bool), when given, refuses a comma line holding two known names:
    a list run into the next heading ("..., Eugenol, Geraniol. No.04 ... Eau de Parfum:")."""
    s = line.strip()
    if not s.endswith(":"):
        return None
    if "," in s:
        # shade and kit names may hold commas ("A5, B3, C2:", "Gold Lust Repair & Restore
        # Shampoo:", a foundation's 30 shade names); a list line ending in a marker never is
        parts = s[:-1].split(",")
        if (len(s) > 800 or max(len(p) for p in parts) > 60 or s.count(":") > 1
                or INGREDIENTS_MARKER.search(s) or MAY_CONTAIN.search(s)
                or _LIST_MARKER_TAIL.match(parts[-1])):
            return None
        if is_known is not None and sum(1 for p in parts if is_known(p.strip())) >= 2:
            return None
    elif len(s) > 100:
        return None
    name = s[:-1].strip()
    if not name or not _HEADING_WORDS.search(name) \
            or max(len(p.split()) for p in name.split(",")) > 14:
        return None
    if MAY_CONTAIN.fullmatch(s) or INGREDIENTS_MARKER.fullmatch(s):
        return None
    return name


_ALLERGENS = re.compile(r"(?:\b(?:fragrance|perfume|parfum)\s+)?\ballerg[eè]ne?s?\s*:", re.IGNORECASE)
_INLINE_HEADING = re.compile(r"^\s*([^,:;()]{2,80}?):\s+(?=\S)")
# a key-ingredient blurb on a line of its own: "-Sweet Flag Herb: Delivers skin-softening,
# hydrating, and nourishing benefits." (the name, a colon, then a sentence ending in a period)
_BLURB_LINE = re.compile(
    r"^[-\u2022*]?\s*((?:[^,:;()]|\([^():;]*\)){2,80}?):\s+([A-Z][a-z]+\b.*\.)\s*$")


def _blurb_line(line: str, is_known=None) -> bool:
    """A key-ingredient blurb printed on a line of its own, its sentence holding commas
    ("-Camphor: Rapidly soaks up oily-shine, sloughs off dead cells, and sweeps away
    debris."): one blurb, not a kit heading followed by a list of "sloughs off dead cells"
    and "and sweeps away debris". A list after a heading ("Lip Balm: Ricinus Communis Seed
    Oil, Cera Alba, ...") is mostly known names; a sentence is not."""
    m = _BLURB_LINE.match(line)
    if m is None or "," not in m.group(2) or ":" in m.group(2) or "%" in m.group(2):
        return False  # (a facts panel: "Supplement Facts: Serving Size ..., Amount Per
        # Serving: Vitamin A ... (200% DV*), ...")
    if "ngr" in m.group(1) or "NGR" in m.group(1):
        return False  # "Ingredients: Water, Glycerin, ..."
    pieces = [p.strip(" .") for p in re.split(r"[,;]", m.group(2))]
    # a sentence holds function words ("and", "for", "with"), or no name at all; a list after
    # a heading is mostly names (counted only as far as needed)
    worded = any(w in _STOP for w in _WORD.findall(m.group(2).lower()))
    if is_known is None:
        return worded
    limit = (len(pieces) + 1) // 2 if worded else 1
    known = 0
    for p in pieces:
        if p and is_known(p):
            known += 1
            if known >= limit:
                return False
    return True



def segments(lines: list[str], notes: list[str], is_known=None) -> tuple[list[Segment], list[str | None]]:
    """Lines of one field -> segments tagged with component and section, and the headings."""
    components: list[str | None] = [None]
    segs: list[Segment] = []
    comp = 0
    used = False  # does the current component hold any text yet?
    section = "declared"

    def start_component(head: str) -> None:
        nonlocal comp, used, section
        if used or components[comp] is not None:
            components.append(head)
            comp = len(components) - 1
        else:
            components[comp] = head
        used = False
        section = "declared"

    aside = False  # inside a label section (directions, warnings) until an ingredients marker
    for raw_line in lines:
        line = raw_line.strip()
        if not line:
            continue
        if aside and _reads_as_list(line, is_known):
            aside = False  # the list after a section ("How to use: ...", then the names)
        if aside or ((":" in line or "?" in line) and LABEL_SECTION.search(line) is not None):
            line, aside = _label_sections(line, aside, notes)
            if not line.strip(" ,;."):
                continue
        head = heading_of(line, is_known)
        if head is not None:
            start_component(head)
            continue
        if ("llergen" in line or "LLERGEN" in line) and ":" in line:
            # "..., Terpineol Allergens: Citronellol, Geraniol, Linalool.": the fragrance
            # allergens the label names are declared ingredients; the marker only separates
            line, k = _ALLERGENS.subn(", ", line)
            if k:
                notes.append("marker set aside: 'Allergens:'")
        if "," in line and ":" in line and _blurb_line(line, is_known):
            # one blurb: its commas do not separate (the name before the colon is read)
            if is_prose(line):
                notes.append(f"prose set aside: {line[:80]!r}")
            else:
                segs.append(Segment(line.replace(",", _PROTECTED).replace(";", _PROTECTED),
                                    comp, section))
                used = True
            continue
        m = _INLINE_HEADING.match(line)
        if m and line.count(",") >= 2 and not MAY_CONTAIN.match(m.group(1) + ":") \
                and not (("ngr" in line or "NGR" in line) and INGREDIENTS_MARKER.search(line)) \
                and not is_prose(m.group(1)) \
                and not (is_known and is_known(m.group(1))) and "(" not in line[: m.end()]:
            start_component(m.group(1).strip(" -*"))
            line = line[m.end():]
        if line[:1] == "1" and _NUMBERED_FIRST.match(line) and _NUMBERED_SECOND.search(line):
            # a numbered list ("1. Water 2. Glycerin 3. Niacinamide"): the numbers separate
            line = _NUMBERED.sub(", ", line)
        if (len(line) < 200 or line.count(",") * 40 < len(line)) and is_prose(line):
            kept = _list_sentences(line, notes, is_known) if line.count(",") >= 2 else None
            if kept is None:
                notes.append(f"prose set aside: {line[:80]!r}")
                continue
            line = kept  # the list, its prose sentences set aside
        # "... Ingredients:" markers: text before the first one is a title or store text
        marker = INGREDIENTS_MARKER.search(line) if ("ngr" in line or "NGR" in line) else None
        if marker is not None:
            before = line[: marker.start()].strip(" ,;.")
            if before and (before.count(",") < 2 or "division" in before.lower()):
                notes.append(f"text before 'Ingredients:' set aside: {before[:80]!r}")
                line = line[marker.start():]
            line = INGREDIENTS_MARKER.sub(", ", line)
        if "%" in line:
            line = _PERCENT_PURPOSE.sub(r"\1, ", line)
        pos = 0
        maybe = "+/" in line or "ontain" in line or "ONTAIN" in line or "ontenir" in line
        for mc in MAY_CONTAIN.finditer(line) if maybe else ():
            part = line[pos: mc.start()]
            if part.strip(" ,;.[]"):
                segs.append(Segment(part, comp, section))
                used = True
            section = "may_contain"
            pos = mc.end()
        rest = line[pos:]
        if ("ree" in rest or "ontain" in rest or "ithout" in rest or "REE" in rest) \
                and _may_free(rest):
            rest = _drop_free_from(rest, notes)
        foot = _footnote_start(rest, is_known) if ("*" in rest or "+" in rest or "\u2020" in rest) \
            else None
        if foot is not None:
            notes.append(f"footnote set aside: {rest[foot.start():].strip(' .')[:80]!r}")
            rest = rest[: foot.start()]
        if rest.strip(" ,;.[]"):
            segs.append(Segment(rest, comp, section))
            used = True
    return segs, components


_NUMBERED_FIRST = re.compile(r"1[.)]\s+[A-Za-z]")
_NUMBERED_SECOND = re.compile(r"\s2[.)]\s+[A-Za-z]")
_NUMBERED = re.compile(r"(?:^|(?<=\s))\d{1,3}[.)]\s+(?=[A-Za-z])")


def _label_sections(line: str, aside: bool, notes: list[str]) -> tuple[str, bool]:
    """``line`` without its label sections (``LABEL_SECTION`` up to the next ingredients
    marker, each reported), and whether a section is still open at its end (``aside``: one
    was open when the line began)."""
    kept: list[str] = []
    pos = start = 0
    while pos < len(line):
        if aside:
            m = INGREDIENTS_MARKER.search(line, pos)
            end = len(line) if m is None else m.start()
            text = line[start:end].strip(" ,;.")
            if text:
                notes.append(f"label text set aside: {text[:80]!r}")
            if m is None:
                break
            aside = False
            pos = end
        else:
            m = LABEL_SECTION.search(line, pos)
            if m is None:
                kept.append(line[pos:])
                break
            kept.append(line[pos:m.start()])
            aside = True
            start, pos = m.start(), m.end()  # (a marker inside "Key Ingredients:" is not one)
    return ", ".join(k for k in kept if k.strip(" ,;.")), aside


def _reads_as_list(line: str, is_known) -> bool:
    """A line of at least three comma-separated pieces, two of them known names."""
    if is_known is None or line.count(",") < 2:
        return False
    known = 0
    for piece in line.split(","):
        if is_known(piece.strip(" .;")):
            known += 1
            if known >= 2:
                return True
    return False


def _list_sentences(line: str, notes: list[str], is_known=None) -> str | None:
    """A line that reads as prose as a whole but holds a list among its sentences ("Water
    (Aqua), Glycerin, ..., Ethylhexylglycerin. Ingredients subject to change. Refer to
    packaging for the most up-to-date list."): its sentences that are not prose (each
    prose one reported), or None when none of them reads as a list (``_reads_as_list``:
    a description's sentence with commas is no list)."""
    cuts = [m.end() for m in _SENTENCE.finditer(line) if _sentence_sub(m) != m.group(0)]
    if not cuts:
        return None
    bounds = [0, *cuts, len(line)]
    kept: list[str] = []
    prose: list[str] = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        sentence = line[a:b].strip()
        if not sentence:
            continue
        (prose if is_prose(sentence) else kept).append(sentence)
    if not prose or not any(_reads_as_list(k, is_known) for k in kept):
        return None
    for p in prose:
        notes.append(f"prose set aside: {p[:80]!r}")
    return " ".join(kept)


# a retailer data system's product header between the parts of a kit (the Estee Lauder
# group's "... Titanium Dioxide (Ci 77891) Rds Product Name: Spf30 Face Cream Division: Cl
# (Clinique)Water, ..."): the product's name starts a component, the rest is store text
_STORE_HEADER = re.compile(
    r"[ \t]*(?:<[^<>\n]{1,20}>)?[ \t]*\bRDS\s+Product\s+Name\b\s*:?[ \t]*(?P<name>[^\n:]*?)[ \t]*"
    r"(?:\bDivision\b[ \t]*(?::[ \t]*[A-Za-z]{1,4}[ \t]*\([^()\n]*\))?\.?|$)",
    re.IGNORECASE | re.MULTILINE)
_STORE_TAIL = re.compile(r"^[\s.'\"\]]*$")


def store_headers(text: str, notes: list[str]) -> str:
    """Cut retailer product headers (``_STORE_HEADER``) out of a field: a line break and the
    product's name as a component heading where a part of the kit follows, nothing at the
    end; each is reported."""
    def sub(m: re.Match) -> str:
        notes.append(f"store text set aside: {m.group(0).strip()[:80]!r}")
        name = m.group("name").strip(" .-+")
        if not name or _STORE_TAIL.match(text, m.end()):
            return "\n"
        return f"\n{name}:\n"

    return _STORE_HEADER.sub(sub, text)


def _may_free(text: str) -> bool:
    """False only when neither FREE_FROM nor FREE_CLAIMS can match: an ASCII text without
    "free", "contain" or "without" in any casing (each pattern holds one of these words)."""
    if not text.isascii():
        return True
    low = text.lower()
    return "free" in low or "contain" in low or "without" in low


def _footnote_start(text: str, is_known=None) -> re.Match | None:
    """``FOOTNOTE_START.search(text)`` without scanning every position: a match starts at the
    space just before a run of marks, or at a period before the run of spaces before one.

    Two more places a footnote starts: marks glued to the period that ends the list
    ("Coumarin.*Plant Origin", "Phenoxyethanol.* Hadasei-3", "Citrate**.**Naturally
    derived"), and marks after the last name of the list, before a text that is no
    ingredient ("Limonene *antistatic agent/agent antistatique", "Phenoxyethanol
    *Hadasei-3"; never "Glycerin *Aloe Barbadensis Leaf Juice", two names)."""
    last = None
    for run in _MARKS.finditer(text):
        p = run.start()
        last = run
        if p > 1 and text[p - 1] == "." and (text[p - 2].isalnum() or text[p - 2] in "*)"):
            m = _GLUED_FOOT.match(text, p - 1)
            if m is not None:
                return m
        if p == 0 or not text[p - 1].isspace():
            continue
        k = p - 1
        while k > 0 and text[k - 1].isspace():
            k -= 1
        if k > 0 and text[k - 1] == ".":
            m = FOOTNOTE_START.match(text, k - 1)
            if m is not None:
                return m
        m = FOOTNOTE_START.match(text, p - 1)
        if m is not None:
            return m
    if last is not None and is_known is not None and last.start() > 1:
        p = last.start()
        tail = text[last.end():].strip(" .")
        if text[p - 1].isspace() and (text[p - 2].isalnum() or text[p - 2] == ")") \
                and tail[:1].isalpha() and not any(c in tail for c in ",;") \
                and not is_known(tail):
            return _TAIL_FOOT.match(text, p - 1)
    return None


# "Coumarin.*Plant Origin", "Citrate**.**Naturally derived": marks glued to the list's end
_GLUED_FOOT = re.compile(r"\.[*+\u2020]+\.?[*+\u2020]*\s*(?=[A-Za-z])")
_TAIL_FOOT = re.compile(r"\s+[*+\u2020]+\s*")


_MARKS = re.compile(r"[*+\u2020]+")


def _drop_free_from(text: str, notes: list[str]) -> str:
    """Cut free-from claims (what the product does not contain) out of one segment."""
    for pattern in (FREE_FROM, FREE_CLAIMS):
        m = pattern.search(text)
        while m is not None:
            notes.append(f"free-from claim set aside: {m.group(0).strip()[:80]!r}")
            text = text[: m.start()] + ", " + text[m.end():]
            m = pattern.search(text, m.start())
    return text


_SEP = re.compile(r"[,;\n\r]")
# the period first (a literal the regex engine scans for), then the character before it
_SENTENCE = re.compile(r"\.(?<=[A-Za-z0-9)\]]\.)\s+(?=[A-Z\[(])")


# a comma between locants: "1,2-Hexanediol", "3a,6,6,9a-Tetramethyl" (1-2 digit numbers only)
_NUM_COMMA = re.compile(
    r",(?:(?<=(?<!\d)\d,)|(?<=(?<!\d)\d\d,)|(?<=(?<!\d)\d[a-z],))(?=\s?\d{1,2}[a-z]?(?:[-\s,;]|$))")
_FLAT = re.compile(r"(?:[^()\[\]{}]++|\([^()\[\]{}]*+\)|\[[^()\[\]{}]*+\]|\{[^()\[\]{}]*+\})*+")
_TOKEN = re.compile(
    r"(?:[^,;\n\r()\[\]{}]++|\([^()\[\]{}]*+\)|\[[^()\[\]{}]*+\]|\{[^()\[\]{}]*+\})++")
_PROTECTED = "\x1e"  # a numeric comma, kept inside its name while splitting


def tokens(text: str) -> list[str]:
    """Split one segment on separators outside brackets; keep numeric commas ("1,2-Hexanediol")."""
    if ". " in text:
        text = _SENTENCE.sub(_sentence_sub, text)
    if "," in text and _DIGIT_COMMA.search(text) is not None:
        text = _NUM_COMMA.sub(_PROTECTED, text)
    bracketed = "(" in text or ")" in text or "[" in text or "]" in text or "{" in text \
        or "}" in text
    if bracketed and not _FLAT.fullmatch(text):
        return [t.replace(_PROTECTED, ",") for t in _tokens_nested(text)]
    if ";" in text or "\n" in text or "\r" in text \
            or (bracketed and _COMMA_IN_BRACKET.search(text) is not None):
        found = _TOKEN.findall(text)
    else:
        # the common segment: commas only, none inside a bracket (a plain split, ~3x faster)
        found = text.split(",")
    if _PROTECTED not in text:
        return list(filter(None, map(str.strip, found)))
    out = []
    for t in found:
        t = t.strip()
        if t:
            out.append(t.replace(_PROTECTED, ",") if _PROTECTED in t else t)
    return out


# cheap scans first: a comma after a digit, or after a digit and a letter (the only places
# _NUM_COMMA can match); a comma inside a bracket of flat text ("Iron Oxides (CI 77491,
# CI 77492)")
_DIGIT_COMMA = re.compile(r",(?:(?<=\d,)|(?<=\d[a-z],))")
_COMMA_IN_BRACKET = re.compile(r"\([^)]*,|\[[^\]]*,|\{[^}]*,")


def _tokens_nested(text: str) -> list[str]:
    """Brackets inside brackets, or a bracket never closed: split fragment by fragment."""
    frags = _SEP.split(text)
    out: list[str] = []
    buf = ""
    depth = 0
    for frag in frags:
        if buf:
            if depth > 0:
                buf = buf + "," + frag
                depth = _depth(frag, depth)  # == _depth(buf)
                continue
            out.append(buf)
        buf = frag
        depth = _depth(frag) if ("(" in frag or "[" in frag or "{" in frag) else 0
    if buf:
        out.append(buf)
    if depth > 0:
        return _tokens_scan(text)  # a bracket never closed: split ignoring it
    return [t for t in (s.strip() for s in out) if t]


_BRACKET = re.compile(r"[()\[\]{}]")


def _depth(s: str, d: int = 0) -> int:
    """Open brackets after reading ``s`` from depth ``d`` (a closing one at depth 0 is ignored)."""
    for ch in _BRACKET.findall(s):
        if ch in "([{":
            d += 1
        elif d:
            d -= 1
    return d


def _sentence_sub(m: re.Match) -> str:
    s = m.string
    k = m.start()
    while k > 0 and s[k - 1].isalpha():
        k -= 1
    word = s[k: m.start()].lower()
    if word in _ABBREV or len(word) == 1:
        return m.group(0)
    return ", "


def _tokens_scan(text: str) -> list[str]:
    """Bracket and separator scan for the rare segment with a bracket left open by truncation."""
    opens = _unmatched_opens(text)
    out: list[str] = []
    depth = 0
    start = 0
    n = len(text)
    for mt in _SCAN.finditer(text):
        i = mt.start()
        ch = mt.group()
        if ch in "([{":
            if i not in opens:
                depth += 1
        elif ch in ")]}":
            if depth:
                depth -= 1
        elif depth == 0:
            if ch == "," and 0 < i < n - 1 and text[i - 1].isdigit() and text[i + 1].isdigit():
                continue
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return [t for t in (s.strip() for s in out) if t]


_SCAN = re.compile(r"[()\[\]{},;\n\r]")


def _unmatched_opens(text: str) -> set[int]:
    if "(" not in text and "[" not in text and "{" not in text:
        return set()
    stack: list[int] = []
    for mt in _BRACKET.finditer(text):
        if mt.group() in "([{":
            stack.append(mt.start())
        elif stack:
            stack.pop()
    return set(stack)
