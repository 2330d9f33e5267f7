"""Regimen builder for aestheticians (issue #7): a day-by-day post-treatment plan from the
clinic's shelf, with reintroduction dates, conflict checks, stop-before-next-session
advice, a printable handout and an .ics calendar. Not medical advice: every output carries
the disclaimer and defers to the provider's protocol.

Web API (what /api/v1/regimen and the UI page call; nothing else is needed)::

    from recommender.regimen import (Client, Regimen, RegimenError, ShelfError, Treatment,
                                     build_regimen, read_shelf_csv, render_handout,
                                     shelf_from_catalog, to_ics)

    shelf = read_shelf_csv(uploaded_bytes)            # or shelf_from_catalog(["sephora_2023:P442540", ...])
    plan = build_regimen(shelf, Treatment(date="2026-03-02", depth_mm=1.0, modality="mn",
                                          area="face"),
                         Client(skin_types=["dry"], concerns=["dark spots"], avoid=["lavender"],
                                pregnant=False),
                         protocol=None,               # a recommender.safety.Protocol, or the default
                         next_session=None,           # date or "YYYY-MM-DD"; default +28 days
                         clinic="Clinic name")
    plan.to_dict()                                    # JSON-ready; DESIGN.md regimen contract + extras
    Regimen.from_dict(d)                              # load a saved plan back (RegimenError if not one)
    render_handout(plan_or_dict, clinic="...")        # -> str: HTML handout, print CSS, no scripts
    to_ics(plan_or_dict)                              # -> bytes: text/calendar, one all-day event per
                                                      #    reintroduced product, stable UIDs

Errors: RegimenError (bad date, depth, concern, skin type, modality, next session; bad
saved JSON) and its subclass ShelfError (bad shelf: empty, no ingredients column, duplicate
or unknown id, unknown step) are ValueErrors whose message is meant for the user (HTTP 400).
Anything else is a bug.

Modules, one job each: shelf (reading and checking the shelf), rules (data/regimen/*.yaml),
actives (classes with positions), steps (product -> step), phases, placement (filling one
routine), conflicts, reintroduce, stop_before, plan (build_regimen: orchestration), model
(records, JSON), handout (HTML, text), calendar (.ics).
"""

from recommender.regimen.calendar import to_ics
from recommender.regimen.handout import render_handout
from recommender.regimen.model import Client, Regimen, RegimenError, Treatment
from recommender.regimen.plan import build_regimen
from recommender.regimen.shelf import ShelfError, read_shelf_csv, shelf_from_catalog

__all__ = [
    "Client", "Regimen", "RegimenError", "ShelfError", "Treatment", "build_regimen",
    "read_shelf_csv", "render_handout", "shelf_from_catalog", "to_ics",
]
