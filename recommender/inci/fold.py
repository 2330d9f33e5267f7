"""Folding a printed ingredient name into lookup keys.

Labels print the same INCI name with other casing, spacing and punctuation
("Peg - 100 Stearate", "PEG-100 stearate", "Alcohol Denat" vs CosIng's "ALCOHOL DENAT.",
"Ceteareth–20"), and in British spelling ("Hydrolysed", "Sulphate", "Aluminium").
Two keys answer that:

- ``key``: upper case, periods dropped, whitespace collapsed, no spaces around ``- / , ( )``,
  British spellings mapped to the INCI (US) ones;
- ``loose_key``: letters and digits only. Used only when it is unambiguous over the whole
  name table (the canonicaliser checks), so it can never turn one substance into another.
"""

from __future__ import annotations

import re

_SPACES = re.compile(r"\s+")
_AROUND = re.compile(r"\s*([-/,()\[\]+&])\s*")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
# British -> INCI spelling, whole-word stems (INCI names use US spelling).
_SPELLING = [
    (re.compile(r"METHICON\b"), "METHICONE"),   # German "Dimethicon", "Cyclomethicon"
    (re.compile(r"\bHCI\b"), "HCL"),            # OCR: "Pyridoxine HCI"
    (re.compile(r"HYDROLYS"), "HYDROLYZ"),
    (re.compile(r"SULPH"), "SULF"),
    (re.compile(r"ALUMINIUM"), "ALUMINUM"),
    (re.compile(r"\bCOLOUR"), "COLOR"),
    (re.compile(r"ISED\b"), "IZED"),
]


# colour index numbers in every printed form: "CI 77491", "Ci77491", "C.I. 77491", OCR "Cl 77491"
_CI = re.compile(r"^(?:C\.?\s*[IL1]\.?|I)\s*(\d{5})$")


_SPELLING_ANY = re.compile(r"HYDROLYS|SULPH|ALUMINIUM|\bCOLOUR|ISED\b|METHICON\b|\bHCI\b")
_NEEDS_AROUND = re.compile(r"\s[-/,()\[\]+&]|[-/,()\[\]+&]\s")


def key(name: str) -> str:
    s = name.upper()
    if s[:1] in "CI" and s[-1:].isdigit():
        ci = _CI.match(s.strip())
        if ci:
            return "CI " + ci.group(1)
    if "." in s:
        s = s.replace(".", " ")
    s = " ".join(s.split())
    if _NEEDS_AROUND.search(s):
        s = _AROUND.sub(r"\1", s)
    if _SPELLING_ANY.search(s):
        for pattern, repl in _SPELLING:
            s = pattern.sub(repl, s)
    return s.strip(" ,;:-")


def loose_key(name: str) -> str:
    return _NON_ALNUM.sub("", key(name))


def loose_of_key(k: str) -> str:
    """``loose_key`` of a name whose ``key`` is already computed."""
    return _NON_ALNUM.sub("", k)
