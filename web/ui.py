"""The pages: recommend, search, check, compare, upload, protocol and model card.

Answers, in a browser, the shopper's "what can I use now, later, never?" and "is this serum
safe now?", the aesthetician's "compare these for my client" and "what does this tool
assume?", and the catalog owner's "score my CSV". Views only parse the request
(web.params), call web.services and render templates; bad input re-renders the form with the
message and status 400. Forms that post carry a CSRF token (web.security).

NAV is the navigation; another blueprint (the regimen builder, issue #7) adds its page by
appending ``(endpoint, label)`` to ``app.config["NAV_EXTRA"]``.
"""

from __future__ import annotations

import re

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup, escape

from recommender import DISCLAIMER, config
from recommender.recommend import MAX_UNRECOGNIZED_SHARE
from recommender.safety.table import render_protocol
from recommender.scoring import CONCERNS, SKIN_TYPES
from web import services, uploads
from web.alternatives import safer_alternatives
from web.charts import absorption_svg, timeline_svg
from web.errors import ApiError
from web.params import Fields, person_from
from web.state import get_state

bp = Blueprint("ui", __name__)

NAV = [("ui.recommend", "Recommend"), ("ui.search", "Search"), ("ui.check", "Check a product"),
       ("ui.compare", "Compare"), ("ui.upload", "Upload a catalog"),
       ("ui.protocol", "Protocol & model card")]
DEPTHS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5)


@bp.app_context_processor
def _globals():
    st = get_state()
    return {"nav": NAV + list(current_app.config.get("NAV_EXTRA", [])),
            "disclaimer": DISCLAIMER, "catalog": services.catalog_info(st),
            "protocol_summary": st.protocol.summary(), "concern_ids": CONCERNS,
            "skin_types": SKIN_TYPES, "depths": DEPTHS,
            "modalities": list(st.protocol.modalities), "choices": _choices(st)}


CHOICES_MAX = 200


def _choices(st) -> list[tuple[str, str]] | None:
    """(id, label) of every product when the catalog is small enough for a drop-down."""
    if len(st.catalog) > CHOICES_MAX:
        return None
    f = st.catalog.frame
    names = f["name"] if "name" in f.columns else f["product_id"]
    return [(str(i), str(n)) for i, n in zip(f["product_id"], names, strict=True)]


URL_RE = re.compile(r"https?://[^\s<>\"')]+")


@bp.app_template_filter("linkify")
def _linkify(text) -> Markup:
    """Escape ``text`` and turn each http(s) URL in it into a link (sources cite pages)."""
    text = "" if text is None else str(text)
    out, last = [], 0
    for m in URL_RE.finditer(text):
        url = m.group(0).rstrip(".,;")
        out.append(escape(text[last:m.start()]))
        out.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = m.start() + len(url)
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.app_template_filter("top_concerns")
def _top_concerns(concerns: dict | None, n: int = 3) -> list[tuple[str, float]]:
    known = [(c, p) for c, p in (concerns or {}).items() if p is not None]
    return sorted(known, key=lambda cp: -cp[1])[:n]


def _render(template: str, status: int = 200, **kw):
    return render_template(template, **kw), status


@bp.get("/")
def recommend():
    args = request.args
    if not args.get("go"):
        return _render("recommend.html", form=args, result=None)
    st = get_state()
    try:
        f = Fields(args, form=True)
        k = f.number("k", minimum=1, maximum=50, integer=True) or 10
        budget = f.number("budget", minimum=0)
        person = person_from(args, st.protocol, form=True)
        result = services.recommend_for(st, person, k=k, budget=budget,
                                        strict=f.boolean("strict"))
    except ApiError as exc:
        return _render("recommend.html", exc.status, form=args, result=None, error=exc.message)
    return _render("recommend.html", form=args, result=result, groups=_later_groups(result))


def _later_groups(result: dict) -> list[tuple[float, list[dict]]]:
    groups: dict[float, list[dict]] = {}
    for it in result["later"]:
        groups.setdefault(it["safe_from_day"], []).append(it)
    return sorted(groups.items())


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for it on every page; the app has no icon (204, not a logged 404)."""
    return "", 204


@bp.get("/search")
def search():
    args = request.args
    q = args.get("q", "")[:200]
    field = args.get("field", "any")
    if field not in services.SEARCH_FIELDS:
        field = "any"
    result = services.search(get_state(), q, field=field) if q.strip() else None
    return _render("search.html", q=q, field=field, result=result)


@bp.route("/check", methods=["GET", "POST"])
def check():
    st = get_state()
    data = request.form if request.method == "POST" else request.args
    text = data.get("ingredients") if request.method == "POST" else None
    # a pasted list wins over a picked product (the form offers both)
    pid = "" if (text or "").strip() else (data.get("product_id") or "").strip()
    if not pid and not (text or "").strip():
        if request.method == "POST":
            return _render("check.html", 422, form=data, out=None,
                           error="paste an ingredient list or pick a catalog product")
        return _render("check.html", form=data, out=None)
    product = None
    name, category = data.get("name") or None, data.get("category") or None
    try:
        if pid:
            product = services.product_dict(st, pid)
            text = product["ingredients"] or ""
            name, category = name or product["name"], category or product["category"]
        if len(text) > current_app.config["MAX_LIST_CHARS"]:
            raise ApiError(400, f"the ingredient list is {len(text)} characters long; the "
                                f"limit is {current_app.config['MAX_LIST_CHARS']}")
        person = person_from(data, st.protocol, form=True)
    except ApiError as exc:
        return _render("check.html", exc.status, form=data, out=None, error=exc.message)
    result, out = services.check_list(st, person, text, name=name, category=category)
    if not result.found:
        reason = "; ".join(result.parsed.problems) or result.parsed.status
        return _render("check.html", 422, form=data, out=None, text=text,
                       error=f"no ingredient list found: {reason}")
    alternatives = []
    if out["verdict"] != "suitable" or out.get("never_safe"):
        alternatives = safer_alternatives(
            st, person, concerns=out.get("concerns"), verdict=out["verdict"], category=category,
            exclude=pid or None)
    flags_by_pos: dict[int, list[dict]] = {}
    for fl in out["flags"]:
        if fl.get("position") is not None:
            flags_by_pos.setdefault(fl["position"], []).append(fl)
    n_all = len(out["ingredients"])
    unvouched = bool(n_all) and len(out["unrecognized"]) / n_all > MAX_UNRECOGNIZED_SHARE
    return _render("check.html", form=data, out=out, product=product, text=text,
                   unvouched=unvouched,
                   flags_by_pos=flags_by_pos, alternatives=alternatives,
                   timeline=timeline_svg(out["daily"]),
                   absorption=absorption_svg(out["absorption_curves"], person.ctx.safety.hours),
                   person=person)


@bp.get("/compare")
def compare():
    st = get_state()
    args = request.args
    ids = list(dict.fromkeys(i.strip() for i in args.getlist("id") if i.strip()))
    if not ids:
        return _render("compare.html", form=args, rows=None)
    try:
        if not 2 <= len(ids) <= 4:
            raise ApiError(400, f"pick 2 to 4 products to compare (got {len(ids)})")
        person = person_from(args, st.protocol, form=True)
        rows = services.score_ids(st, person, ids)
    except ApiError as exc:
        return _render("compare.html", exc.status, form=args, rows=None, error=exc.message,
                       ids=ids)
    return _render("compare.html", form=args, rows=rows, ids=ids, person=person)


@bp.route("/upload", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return _render("upload.html", form=request.args)
    st = get_state()
    try:
        person = person_from(request.form, st.protocol, form=True)
        token, _ = uploads.score_upload(request.files.get("file"), person.ctx)
    except ApiError as exc:
        return _render("upload.html", exc.status, form=request.form, error=exc.message)
    return redirect(url_for("ui.upload_result", token=token), code=303)


@bp.get("/upload/<token>")
def upload_result(token: str):
    return _render("upload_result.html", token=token, summary=uploads.job_summary(token))


@bp.get("/upload/<token>/<kind>.csv")
def upload_file(token: str, kind: str):
    path = uploads.job_file(token, kind)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"skinrec-{kind}.csv", max_age=0)


@bp.get("/protocol")
def protocol():
    st = get_state()
    args = request.args
    try:
        person = person_from(args, st.protocol, form=True)
    except ApiError as exc:
        return _render("protocol.html", exc.status, error=exc.message, table=None,
                       proto=st.protocol.to_dict(), card="", form=args)
    table = render_protocol(st.protocol, person.ctx.safety)
    card_path = config.MODELS_DIR / "MODEL_CARD.md"
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else \
        "The model card is missing: run `skinrec evaluate`."
    return _render("protocol.html", table=table, proto=st.protocol.to_dict(), card=card,
                   form=args, custom=st.custom_protocol)
