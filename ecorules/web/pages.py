"""The browser workbench (工作台): server-rendered Chinese pages on the service's own app and engine.

    /try           试算: a matter form; GET with a query string resolves directly (shareable)
    /rules         规则: by article （一）…（二十一）, by category, by file; /rules/{id} one rule
    /departments   部门: a jurisdiction's departments as SVG, a matter's path highlighted; /departments.svg
    /list          责任清单: every category's lead, assists, basis; /list/download?format=html|xlsx|md
    /batch         批量 (web/batchpages.py)
    /login         the token as a cookie, when the service has a token (see PageGuard)

Every page calls the library (Engine.resolve, publish.build_list, graphdraw.draw_svg); nothing is worked out
here. Bad input is a Chinese error page (never a traceback). Styles are package data (ecorules/templates), served
at /static/: nothing is fetched from elsewhere, and no script is needed but a print button.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from importlib import resources
from typing import Optional
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import suggest
from ..explain import explain_lines, outcome_text
from ..graphdraw import draw_svg, jurisdiction_name
from ..io.columns import STATUS_ZH
from ..publish import (EXTENSIONS, FORMATS, RELIABILITY_ZH, PublishError, build_list, jurisdiction_code,
                       reliability_of, rendered, template_context)
from ..templating import render
from .holder import RulebookHolder
from .rulebrowse import PROVENANCE_ZH, STAGE_ZH, RuleIndex

NAV = (("try", "试算", "try"), ("rules", "规则", "rules"), ("departments", "部门", "departments"),
       ("list", "责任清单", "list"), ("batch", "批量", "batch"))
# paths the workbench answers (exact, and prefixes ending in "/"): open to the service's bearer check, guarded by
# PageGuard instead (bearer or the login cookie)
PAGE_PATHS = frozenset({"/", "/try", "/rules", "/rules/", "/departments", "/departments.svg", "/list", "/list/",
                        "/batch", "/batch/", "/login", "/static/"})
COOKIE = "ecorules_workbench"
LEVEL_ZH = {"municipal": "市级", "district": "区级"}
SOURCES = ("12345", "一网统管", "督察", "policy", "inspection")
STATIC = {"workbench.css": "text/css", "print.css": "text/css"}


# ---------------------------------------------------------------- authentication of pages
def cookie_value(token: str) -> str:
    """What the login cookie holds: an HMAC of the token (the token itself never travels in a cookie)."""
    return hmac.new(token.encode("utf-8"), b"ecorules-workbench", hashlib.sha256).hexdigest()


def is_page_path(path: str) -> bool:
    return path in PAGE_PATHS or any(path.startswith(p) for p in PAGE_PATHS if p.endswith("/") and p != "/")


class PageGuard:
    """With a token configured, a page needs `Authorization: Bearer <token>` or the cookie set by /login; a browser
    without either is sent to /login (GET) or refused with a Chinese page. /login and /static/ are open."""

    def __init__(self, app, *, token: Optional[str]):
        self.app = app
        self.token = token
        self.cookie = cookie_value(token) if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.token or not is_page_path(scope["path"]) \
                or scope["path"] == "/login" or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self.token.encode()):
            return await self.app(scope, receive, send)
        cookies = dict(part.strip().partition("=")[::2] for part in headers.get("cookie", "").split(";") if "=" in part)
        if hmac.compare_digest(cookies.get(COOKIE, "").encode(), self.cookie.encode()):
            return await self.app(scope, receive, send)
        if scope.get("method") == "GET":
            target = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
            response = RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        else:
            response = HTMLResponse(_error_html("需要访问令牌", "本服务配置了访问令牌：请先在 /login 输入令牌。", "/login"),
                                    status_code=401)
        await response(scope, receive, send)


# ---------------------------------------------------------------- rendering helpers
def _error_html(title: str, message: str, back: str = "/try", detail: str = "") -> str:
    return render("error.html", page_title=title, message=message, detail=detail, back=back, root="/",
                  nav=NAV, active="", stamp="")


class Pages:
    """The page routes of one app (its holder, token and rule index)."""

    def __init__(self, holder: RulebookHolder, token: Optional[str]):
        self.holder = holder
        self.token = token
        self._index: Optional[RuleIndex] = None

    def index(self) -> RuleIndex:
        book = self.holder.rulebook
        if self._index is None or self._index.rulebook is not book:
            self._index = RuleIndex(book, self.holder.lease)
        return self._index

    def page(self, template: str, active: str, title: str, status: int = 200, **context) -> HTMLResponse:
        book = self.holder.rulebook
        html = render(template, root="/", nav=NAV, active=active, page_title=title,
                      stamp=f"{book.name} {book.version}", **context)
        return HTMLResponse(html, status_code=status)

    def error(self, title: str, message: str, status: int = 422, back: str = "/try", detail: str = "") -> HTMLResponse:
        return self.page("error.html", "", title, status=status, message=message, back=back, detail=detail)

    def jurisdictions(self) -> list[tuple[str, str]]:
        org = self.holder.rulebook.org
        return [(code, jurisdiction_name(org, code)) for code in org.jurisdictions]


def parse_facts(text: str) -> dict:
    """`名称=值` per line (or `名称: 值`); values as JSON when they are (true, 3), else text. ValueError with a
    Chinese message naming the line otherwise."""
    facts = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if not sep:
            name, sep, value = line.partition(":")
        if not sep:
            name, sep, value = line.partition("：")
        if not sep or not name.strip():
            raise ValueError(f"事实第 {number} 行“{line}”应写作 名称=值，如 significant_impact=true。")
        try:
            facts[name.strip()] = json.loads(value.strip())
        except json.JSONDecodeError:
            facts[name.strip()] = value.strip()
    return facts


def parse_date(text: Optional[str]) -> Optional[dt.date]:
    if not text or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"判断日期“{text}”不是 YYYY-MM-DD 格式的日期。") from None


def install_pages(app: FastAPI, holder: RulebookHolder, token: Optional[str]) -> Pages:
    pages = Pages(holder, token)

    @app.get("/", include_in_schema=False)
    async def home():
        return RedirectResponse("/try", status_code=303)

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str):
        if name not in STATIC:
            return Response("没有这个文件。", status_code=404, media_type="text/plain; charset=utf-8")
        text = resources.files("ecorules").joinpath("templates", name).read_text(encoding="utf-8")
        return Response(text, media_type=STATIC[name] + "; charset=utf-8", headers={"Cache-Control": "max-age=3600"})

    @app.get("/try", include_in_schema=False)
    async def try_page(title: str = "", district: str = "", category: str = "", source: str = "", facts: str = "",
                       as_of: str = "", approved_by: str = ""):
        form = {"title": title, "district": district, "category": category, "source": source, "facts": facts,
                "as_of": as_of, "approved_by": approved_by}
        book = holder.rulebook
        context = dict(form=form, categories=list(book.categories.values()), districts=_district_names(book),
                       sources=SOURCES, r=None, form_error=None)
        if not title.strip():
            return pages.page("try.html", "try", "试算", **context)
        try:
            matter = {"id": "try", "title": title, "district": district or None, "category": category or None,
                      "source": source or None, "approved_by": approved_by or None,
                      "facts": parse_facts(facts), "as_of": parse_date(as_of)}
        except ValueError as exc:
            return pages.page("try.html", "try", "试算", status=422, **{**context, "form_error": str(exc)})
        matter = {k: v for k, v in matter.items() if v not in (None, {})}
        with holder.lease() as engine:
            r = engine.resolve(matter)
            lines = explain_lines(r, engine.rulebook)
            category_spec = engine.rulebook.categories.get(r.category) if r.category else None
        picture = None
        if r.jurisdiction:
            picture = "/departments?" + urlencode({k: v for k, v in (("jurisdiction", r.jurisdiction), ("title", title),
                                                                     ("facts", facts), ("as_of", as_of)) if v})
            if district:
                picture += "&" + urlencode({"district": district})
        return pages.page("try.html", "try", f"试算：{title}", **{
            **context, "r": r, "explanation": "\n".join(lines), "status_zh": STATUS_ZH, "level_zh": LEVEL_ZH,
            "stage_zh": STAGE_ZH, "outcome_zh": outcome_text, "category_name": category_spec.name if category_spec
            else None, "reliability": RELIABILITY_ZH.get(reliability_of(r) or "", ""), "picture_url": picture})

    @app.get("/rules", include_in_schema=False)
    def rules_page():   # plain def: FastAPI runs it in a thread (the first call runs the rule tests)
        index = pages.index()
        book = index.rulebook
        return pages.page("rules.html", "rules", "规则", by_article=index.by_article(), by_category=index.by_category(),
                          by_file=index.by_file(), total=len(book.rules), stage_zh=STAGE_ZH)

    @app.get("/rules/{rule_id}", include_in_schema=False)
    def rule_page(rule_id: str):
        index = pages.index()
        if rule_id not in index.rulebook.versions:
            return pages.error("没有这条规则", f"规则库中没有编号为“{rule_id}”的规则。"
                               f"{suggest(rule_id, index.rulebook.versions, '规则编号')}", 404, back="/rules")
        views = index.view(rule_id)
        return pages.page("rule.html", "rules", f"规则 {rule_id}", rule_id=rule_id, versions=views, stage_zh=STAGE_ZH,
                          provenance_zh=PROVENANCE_ZH)

    def picture(jurisdiction: str, title: str, facts: str, as_of: str, district: str = ""):
        """(code, svg, summary) or an error page."""
        with holder.lease() as engine:
            code = jurisdiction_code(engine, jurisdiction or "sh")
            resolution, summary, caption = None, "", None
            if title.strip():
                matter = {"id": "picture", "title": title, "facts": parse_facts(facts), "as_of": parse_date(as_of)}
                matter.update({"level": "municipal"} if code == "sh" else {"district": district or code})
                resolution = engine.resolve({k: v for k, v in matter.items() if v not in (None, {})})
                summary = _matter_summary(resolution, title)
                caption = f"事项：{title}"
            svg = draw_svg(engine.rulebook.org, code, resolution, caption)
        return code, svg, summary

    @app.get("/departments", include_in_schema=False)
    def departments_page(jurisdiction: str = "sh", title: str = "", facts: str = "", as_of: str = "",
                               district: str = ""):
        form = {"title": title, "facts": facts, "as_of": as_of}
        try:
            code, svg, summary = picture(jurisdiction, title, facts, as_of, district)
        except (ValueError, PublishError) as exc:
            return pages.error("无法画图", _message(exc), 422, back="/departments")
        query = urlencode({k: v for k, v in (("jurisdiction", code), ("title", title), ("facts", facts),
                                             ("as_of", as_of)) if v})
        return pages.page("departments.html", "departments", f"部门：{jurisdiction_name(holder.rulebook.org, code)}",
                          jurisdiction=code, jurisdictions=pages.jurisdictions(), form=form, svg=svg, summary=summary,
                          svg_url=f"/departments.svg?{query}", form_error=None)

    @app.get("/departments.svg", include_in_schema=False)
    def departments_svg(jurisdiction: str = "sh", title: str = "", facts: str = "", as_of: str = ""):
        try:
            code, svg, _ = picture(jurisdiction, title, facts, as_of)
        except (ValueError, PublishError) as exc:
            return pages.error("无法画图", _message(exc), 422, back="/departments")
        return Response(svg, media_type="image/svg+xml; charset=utf-8",
                        headers={"Content-Disposition": _attachment(f"{code}-部门关系图.svg")})

    @app.get("/list", include_in_schema=False)
    def list_page(jurisdiction: str = "sh", as_of: str = ""):   # 65+ decisions: in a thread, off the event loop
        try:
            day = parse_date(as_of)
            with holder.lease() as engine:
                lst = build_list(engine, jurisdiction, day)
        except (ValueError, PublishError) as exc:
            return pages.error("无法生成清单", _message(exc), 422, back="/list")
        return pages.page("list.html", "list", f"责任清单：{lst.jurisdiction_name}", jurisdictions=pages.jurisdictions(),
                          downloads=(("html", "网页 HTML"), ("xlsx", "Excel XLSX"), ("md", "Markdown")),
                          **template_context(lst))

    @app.get("/list/download", include_in_schema=False)
    def list_download(jurisdiction: str = "sh", as_of: str = "", format: str = "xlsx"):  # noqa: A002
        if format not in FORMATS:
            return pages.error("无法下载清单", f"未知的格式“{format}”：可用 {'、'.join(FORMATS)}。", 422, back="/list")
        try:
            day = parse_date(as_of)
            with holder.lease() as engine:
                lst = build_list(engine, jurisdiction, day)
        except (ValueError, PublishError) as exc:
            return pages.error("无法下载清单", _message(exc), 422, back="/list")
        media = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[format]
        name = f"{lst.jurisdiction}-责任清单-{lst.as_of.isoformat()}{EXTENSIONS[format]}"
        return Response(rendered(lst, format), media_type=media, headers={"Content-Disposition": _attachment(name)})

    @app.get("/login", include_in_schema=False)
    async def login_form(next: str = "/try"):  # noqa: A002
        return pages.page("login.html", "", "访问令牌", next=_safe_next(next), failed=False)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await request.form()
        target = _safe_next(str(form.get("next") or "/try"))
        if not token:
            return RedirectResponse(target, status_code=303)
        given = str(form.get("token") or "").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return pages.page("login.html", "", "访问令牌", status=401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, cookie_value(token), httponly=True, samesite="strict", path="/")
        return response

    return pages


def _district_names(book) -> list[str]:
    return [d.name for d in book.org.districts.values()]


def _matter_summary(r, title: str) -> str:
    text = f"事项“{title}”：{STATUS_ZH.get(r.status, r.status)}"
    if r.lead:
        text += f"，由{r.lead.name}牵头"
    if r.escalation:
        text += "，上报至" + "、".join(d.name for d in r.escalation.to)
    if r.transfers:
        text += "，移交" + "、".join(t.to.name for t in r.transfers)
    if r.error:
        text += f"（{r.error.message}）"
    return text + "。"


def _message(exc: Exception) -> str:
    return exc.format_message() if hasattr(exc, "format_message") else str(exc)


def _attachment(name: str) -> str:
    return f"attachment; filename=\"{name.encode('ascii', 'replace').decode().replace('?', '_')}\"; " \
           f"filename*=UTF-8''{quote(name)}"


def _safe_next(target: str) -> str:
    """Only a path on this site (no //host, no scheme): the login never redirects elsewhere."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/try"
    return target


__all__ = ["COOKIE", "PAGE_PATHS", "PageGuard", "Pages", "cookie_value", "install_pages", "is_page_path",
           "parse_date", "parse_facts"]
