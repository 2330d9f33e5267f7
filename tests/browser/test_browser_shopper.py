"""The shopper's question in a real browser: "I was needled two days ago at 1.0 mm, I have
dark spots and dry skin, I'm pregnant: what can I use now, what later, what never?"

Drives the recommend page of the app served by gunicorn over the committed demo catalog:
fills the treatment day, depth, skin type and concerns, submits, and reads the use-now /
later / avoid cards. The page must list exactly what the JSON API returns for the same
person, never show a product with an open avoid window under "use now", and put the
retinoids under "avoid" (pregnancy: never) rather than "later".
"""

from __future__ import annotations

import json
import urllib.request

DAY = 2
DEPTH = "1.0"
SKIN = "dry"
CONCERNS = ("dark_spots", "dryness")
RETINOID_PRODUCTS = ("demo-011", "demo-012", "demo-013", "demo-048")


def _api_recommend(base: str, body: dict) -> dict:
    req = urllib.request.Request(base + "/api/v1/recommend", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _cards(page, section: str) -> list[dict]:
    """Name, verdict badge and safe-from text of each card in one section of the page."""
    return page.eval_on_selector_all(
        f"#{section} article.card",
        """cards => cards.map(c => ({
            name: c.querySelector('h4').innerText.trim(),
            verdict: (c.querySelector('.badge[class*="v-"]') || {}).innerText,
            safe_from: (c.querySelector('.safe-from') || {}).innerText || '',
        }))""",
    )


def test_shopper_gets_use_now_later_and_avoid_cards(page, live_server, demo_product, shot):
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("What can I use")
    page.get_by_label("or days since").fill(str(DAY))
    page.get_by_label("Depth (mm)").select_option(DEPTH)
    page.check(f"input[name=skin_type][value={SKIN}]")
    for c in CONCERNS:
        page.check(f"input[name=concerns][value={c}]")
    page.get_by_label("pregnant or breastfeeding").check()
    page.get_by_role("button", name="Recommend").click()
    page.locator("#use-now").wait_for()  # the answer page, not the empty form

    assert "go=1" in page.url
    context_line = page.locator("p.context").inner_text()
    assert f"Day {DAY} after 1" in context_line and "mm" in context_line, context_line
    assert "dark_spots" in context_line or "dark spots" in context_line, context_line

    use_now, later, avoid = (_cards(page, s) for s in ("use-now", "later", "avoid"))
    assert use_now and later and avoid, (len(use_now), len(later), len(avoid))

    # Use now: nothing with an open avoid window; the verdict is shown as a badge.
    assert {c["verdict"] for c in use_now} <= {"suitable", "caution"}, use_now
    # Later: not usable today, each card says from which day (after today).
    for c in later:
        assert c["verdict"] in ("avoid", "caution"), c
        assert c["safe_from"].startswith("Safe from day"), c
        assert float(c["safe_from"].split("day ")[1].split()[0]) > DAY, c
    # Avoid: pregnancy makes every retinoid product never safe, so never "later".
    avoid_names = {c["name"] for c in avoid}
    later_names = {c["name"] for c in later}
    for pid in RETINOID_PRODUCTS:
        name = demo_product(pid)["name"]
        assert name in avoid_names, (name, avoid_names)
        assert name not in later_names
    assert all(c["verdict"] == "avoid" and "Never" in c["safe_from"] for c in avoid), avoid
    # Each avoid card shows the flag with its rule and source.
    retinol_card = page.locator("#avoid article.card", has_text=demo_product("demo-011")["name"])
    flags = retinol_card.locator("ul.flags").inner_text()
    assert "Retinol" in flags and "Source:" in flags, flags

    # The page shows what the API answers for the same person.
    api = _api_recommend(live_server.url, {"day": DAY, "depth": float(DEPTH), "skin_type": [SKIN],
                                           "concerns": list(CONCERNS), "pregnant": True})
    for section, key in (("use-now", "use_now"), ("later", "later"), ("avoid", "avoid")):
        shown = [c["name"] for c in _cards(page, section)]
        assert sorted(shown) == sorted(it["name"] for it in api[key]), section

    path = shot(page, "recommend")
    assert path.stat().st_size > 50_000  # a full page of cards, not an empty form
    assert page.log.errors == [], page.log.errors
