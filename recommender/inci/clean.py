"""Text-level clean-up of an ingredient field before it is split.

Each rule answers a real input:

- Sephora 2023 stores the field as a stringified Python list (``"['Water, Glycerin', ...]"``),
  sometimes cut into pieces mid-ingredient ("Pentylene", "Glycol, ..."): ``unlist`` reads it
  safely (``ast.literal_eval``, never ``eval``) and keeps the pieces so the splitter can
  re-join names cut in two.
- Sephora fragrance lists end in retailer codes ``<ILN40259>``; scraped pages carry HTML
  tags and entities (``&amp;``, ``<br>``): removed / unescaped. A pasted page fragment may
  hold ``<script>``, ``<style>`` or ``<svg>`` elements: their content is page code or
  drawing, never label text, so the whole element goes (``code_elements`` lets the parser
  say so) instead of its text joining the next name ("Glycerin alert(1)"). An unclosed one
  loses its tag only: what follows it stays and is read (or reported unrecognised).
- Copy-pasted labels carry NFKC-foldable characters, non-breaking and zero-width spaces,
  typographic dashes and quotes, ``\\`` used as a slash ("Water\\Aqua\\Eau").
- cosmetics_2017 has placeholders (``#NAME?``, ``No Info``, ``Visit the X boutique``):
  detected and reported, never read as ingredients.
- Binary bytes and oversized text are refused with a reason (``status``).
"""

from __future__ import annotations

import ast
import html
import re
import unicodedata
import warnings

MAX_CHARS = 60_000  # the longest real field in the shared catalogs is under 10k characters

_PLACEHOLDER = re.compile(
    r"^\s*(?:#NAME\?|#VALUE!|#N/A|N/?A|none|null|nan|no info(?:rmation)?|not available|"
    r"ingredients? (?:not|un)available|see (?:packaging|package|box|label)|"
    r"visit the .{0,80}? boutique\.?|coming soon|tbd|-+|\.+|\?+)\s*$",
    re.IGNORECASE,
)
CODE_ELEMENT = re.compile(
    r"<\s*(script|style|svg)\b[^>]*>.*?<\s*/\s*\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAK_TAG = re.compile(r"<\s*(?:br|/?p|/li|li|/div|div)\s*/?\s*>", re.IGNORECASE)
_SPACED_AMP = re.compile(r"(?<!\bD)(?<!\bFD)\s&\s(?!C\b)")
_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9]*(?:\s[^<>]{0,200})?/?\s*>|<ILN\d+>", re.IGNORECASE)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
# footnote marks that NFKC would turn into digits glued to a name ("Glycerin¹" -> "Glycerin1")
_FOOTNOTES = str.maketrans(dict.fromkeys("\u00b9\u00b2\u00b3\u2070\u2074\u2075\u2076\u2077\u2078\u2079\u2020\u2021\u00a7", "*"))
_TRANSLATE = str.maketrans(
    {
        "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\t": " ",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2212": "-",
        "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"',
        "\\": "/",
        "\u2022": ",", "\u00b7": ",", "\u25cf": ",", "\u25aa": ",", "\u2023": ",",
        "\u2219": ",", "|": ",",
        "\u2122": "", "\u00ae": "", "\u00a9": "",
        "\uff0c": ",", "\u3001": ",", "\uff1b": ";",
    }
)
_FOOTNOTE_CHARS = re.compile("[" + re.escape("".join(map(chr, _FOOTNOTES))) + "]")
_INVISIBLE_CHARS = re.compile("[" + re.escape("".join(map(chr, _INVISIBLE))) + "]")
_TRANSLATE_CHARS = re.compile("[" + re.escape("".join(map(chr, _TRANSLATE))) + "]")
# spaced en/em dashes separate ingredients ("Linalool – Geraniol"); unspaced ones are hyphens
_BULLET_IN_NUMBER = re.compile(r"(?<=\d)[\u2022\u00b7](?=\d)")
_SPACED_DASH = re.compile(r"\s[\u2013\u2014]\s")
_DASH = re.compile(r"[\u2013\u2014]")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


def is_binary(text: str) -> bool:
    """True when the text is mostly control characters (a binary file read as text)."""
    if "\x00" in text:
        return True
    sample = text[:4096]
    if not sample or (sample.isprintable() and "\ufffd" not in sample):
        return False  # every control character is unprintable; U+FFFD is printable
    if not _CONTROL.search(sample):
        return False
    return len(_CONTROL.findall(sample)) / len(sample) > 0.05


def is_placeholder(text: str) -> bool:
    if len(text) > 100:
        # a placeholder, stripped, is at most 100 characters ("visit the <80> boutique.")
        # unless it is a run of "-", "." or "?"
        s = text.strip()
        if len(s) > 100 and s[0] not in "-.?":
            return False
    return bool(_PLACEHOLDER.match(text))


def unlist(text: str) -> list[str] | None:
    """The pieces of a stringified Python list, or None when the text is not one."""
    s = text.strip()
    if len(s) < 2 or s[0] != "[" or s[-1] != "]" or s[1:2] not in ("'", '"', "]", " "):
        return None
    if s == "[]":
        return []
    if s[1] == "'" and s[-2] == "'" and '"' not in s and "\\" not in s:
        return s[2:-2].split("', '")  # the common case, without ast's cost
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "\A" in label text is not an escape we want
            value = ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return _unlist_loose(s)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


_PIECE = re.compile(r"""'((?:[^'\\]|\\.|'(?![,\]]))*)'|"((?:[^"\\]|\\.)*)\"""")


def _unlist_loose(s: str) -> list[str] | None:
    """Read a list literal that ``ast`` refuses (unbalanced quotes inside pieces)."""
    pieces = [a or b for a, b in _PIECE.findall(s)]
    return pieces or None


def code_elements(text: str) -> list[str]:
    """Names of the <script>/<style>/<svg> elements in ``text`` (``normalise`` drops them)."""
    if "<" not in text:
        return []
    return [m.group(1).lower() for m in CODE_ELEMENT.finditer(text)]


def normalise(text: str) -> str:
    """Unicode, HTML and punctuation normalisation of one piece of label text."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = CODE_ELEMENT.sub(" ", text)
        text = _BREAK_TAG.sub("\n", text)
        text = _TAG.sub(" ", text)
    if " & " in text:
        text = _SPACED_AMP.sub(", ", text)  # "Glycerin & Aloe"; never "D & C Red 7"
    if not text.isascii():
        # (str.translate is slow on non-ASCII text: only when a character it maps is there)
        if _FOOTNOTE_CHARS.search(text):
            text = text.translate(_FOOTNOTES)
        text = unicodedata.normalize("NFKC", text)
        if _INVISIBLE_CHARS.search(text):
            text = text.translate(_INVISIBLE)
        text = _SPACED_DASH.sub(", ", text)
        text = _DASH.sub("-", text)
    if "\u2022" in text or "\u00b7" in text:
        text = _BULLET_IN_NUMBER.sub("-", text)  # "Sodium C14\u202216 Olefin Sulfonate"
    if text.isascii():
        if "\t" in text or "`" in text or "\\" in text or "|" in text:  # (the table's ASCII keys)
            text = text.translate(_TRANSLATE)
    elif _TRANSLATE_CHARS.search(text):
        text = text.translate(_TRANSLATE)
    return text
