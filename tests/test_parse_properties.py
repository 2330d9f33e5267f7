"""Property tests: the parser never crashes and its output is always consistent.

Text is generated from arbitrary unicode and from label-like fragments (separators,
brackets, percentages, may-contain markers, headings, HTML, odd spaces) so that the
interesting paths are reached, not only the refusal of random noise.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommender.knowledge.reader import read_list

FRAGMENTS = [
    "Water", "Aqua/Water/Eau", "Water (Aqua, Eau)", "Glycerin", "1,2-Hexanediol", "Niacinamide 10%",
    "Glycerin +/- 0.5%", "*Organic Aloe", "Caprylic/Capric Triglyceride", "Cl 77491", "CI 77891",
    "Iron Oxides (CI 77491, CI 77492)", "May contain:", "[+/-", "]", "(+/-)", "Ingredients:",
    "Active Ingredients:", "Inactive Ingredients:", "Kit Part 1:", "<br>", "&amp;", "<ILN4025>",
    "\u00a0", "\u200b", "\u2013", " \u2014 ", "\u2022", ";", ",", ".", ", ", "\n", "(", ")", "/", "\\",
    "Retinol", "Parfum (Fragrance) D-Limonene", "Alcohol Denat.", "Please be aware that lists change.",
    "#NAME?", "No Info", "'", '"', "['", "', '", "']", "Sodium C14\u202216 Olefin Sulfonate", "\u00b9",
]

label_like = st.lists(st.sampled_from(FRAGMENTS), min_size=0, max_size=40).map("".join)
any_text = st.text(max_size=400)


def _check(parsed):
    assert parsed.status in ("ok", "empty", "placeholder", "prose", "binary", "too_long")
    if not parsed.found:
        assert parsed.problems, "a refused field must say why"
        return
    assert parsed.ingredients
    seen: dict[tuple[int, str], int] = {}
    for m in parsed.ingredients:
        assert m.raw.strip() and m.name.strip()
        assert m.position >= 1
        assert 0 <= m.component < len(parsed.components)
        assert m.section in ("declared", "may_contain")
        assert m.recognized == (m.match in ("exact", "alias"))
        assert (m.inci is None) == (m.match is None)
        seen.setdefault((m.component, m.section), 0)
        seen[(m.component, m.section)] += 1
    for comp in {m.component for m in parsed.ingredients}:
        declared = [m.position for m in parsed.ingredients
                    if m.component == comp and m.section == "declared"]
        assert declared == list(range(1, len(declared) + 1))
        may = [m.position for m in parsed.ingredients
               if m.component == comp and m.section == "may_contain"]
        assert may == list(range(len(declared) + 1, len(declared) + 1 + len(may)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(label_like)
def test_label_like_text_never_crashes(text):
    _check(read_list(text))


@settings(max_examples=200, deadline=None)
@given(any_text)
def test_arbitrary_text_never_crashes(text):
    _check(read_list(text))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data):
    _check(read_list(data))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Water", "Glycerin", "Retinol", "Niacinamide", "Squalane"]),
                min_size=1, max_size=12))
def test_a_plain_list_keeps_every_name_in_order(names):
    parsed = read_list(", ".join(names))
    assert [m.inci for m in parsed.ingredients] == [
        {"Water": "AQUA"}.get(n, n.upper()) for n in names]
