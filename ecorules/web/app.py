"""The HTTP decision service: `create_app(...)` builds a FastAPI app around one RulebookHolder.

No module-level engine or settings: everything lives on the app that `create_app` returns (its holder is
`app.state.rulebook`), so tests build as many apps as they like; the browser workbench (web/pages.py,
web/batchpages.py) is mounted on the same app, at `/`. Endpoints (v1 names are stable):

    POST /v1/resolve          one Matter → one Resolution; an array → an array, same order
    POST /v1/explain          one Matter → explanation text (zh, ?lang=en) and the Resolution
    GET  /v1/rulebook         name, version, hash, categories, rules (cite, provenance, file:line)
    GET  /v1/departments      the org graph's departments, ?jurisdiction=huangpu|黄浦区|sh
    GET  /v1/schema/{name}    JSON Schema of matter | resolution | rulebook
    POST /v1/admin/reload     reload + check + atomic swap (needs a configured token)
    GET  /healthz /readyz     process up / rulebook loaded (and the last reload's outcome)

A resolution is exactly what the library returns (`Resolution.model_dump(mode="json")`); a bad matter is an
`invalid` result inside a 200 response, as in the library. Errors of the request itself are JSON
`{"error": {status, code, message, request_id}}` with a Chinese message and a stable code, never a traceback.
"""
from __future__ import annotations

import contextlib
import json
from typing import Callable, Iterable, Literal, Optional, Sequence

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..engine import Engine
from ..errors import suggest
from ..explain import explain_lines
from ..model import Matter, Resolution
from .batchpages import install_batch_pages
from .holder import ReloadStatus, RulebookHolder
from .jobs import JobBoard
from .pages import PAGE_PATHS, PageGuard, install_pages
from .middleware import BodyTooLarge, ServiceMiddleware, error_body

MiB = 1024 * 1024
DEFAULT_MAX_BODY = 10 * MiB
DEFAULT_MAX_BATCH = 10_000
SCHEMAS = ("matter", "resolution", "rulebook")
# requests of at most this many matters are resolved on the event loop (≈ 0.5 ms each); larger ones in a
# thread, so the loop keeps answering other requests between their matters (the engine's lock is per match)
INLINE_MATTERS = 8

# stable error codes of the HTTP layer (README "As a service" lists them)
ERROR_CODES = {
    "malformed_json": 400, "unauthorized": 401, "admin_disabled": 403, "not_found": 404,
    "method_not_allowed": 405, "body_too_large": 413, "batch_too_large": 413, "invalid_request": 422,
    "unknown_jurisdiction": 422, "rulebook_invalid": 422, "internal_error": 500,
}


class ApiError(Exception):
    """An error of the request itself, rendered as JSON with a stable code and a Chinese message."""

    def __init__(self, code: str, message: str, **extra):
        self.status = ERROR_CODES[code]
        self.code = code
        self.message = message
        self.extra = extra
        super().__init__(message)


def _error_response(request: Request, status: int, code: str, message: str, **extra) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    return Response(error_body(status, code, message, request_id, **extra), status_code=status,
                    media_type="application/json")


_MATTER_SCHEMA = Matter.model_json_schema()
_EXPLAIN_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": _MATTER_SCHEMA}}}}


def _resolve_body(max_batch: int) -> dict:
    """The OpenAPI request body of /v1/resolve (the endpoint reads the raw body: a bad matter is a result)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "oneOf": [_MATTER_SCHEMA, {"type": "array", "items": _MATTER_SCHEMA, "maxItems": max_batch}]},
        "examples": {"one": {"value": {"id": "T-1", "title": "工地半夜打桩灰尘大", "district": "黄浦区"}}}}}}}


def create_app(rules=None, *, engine: Optional[Engine] = None, token: Optional[str] = None,
               max_body: int = DEFAULT_MAX_BODY, max_batch: int = DEFAULT_MAX_BATCH, cors: Sequence[str] = (),
               after_reload: Optional[Callable[[ReloadStatus], None]] = None,
               open_paths: Iterable[str] = ("/healthz",), workbench: bool = True,
               batch_keep_seconds: float = 1800) -> FastAPI:
    """The service for the rulebook directory `rules` (default: the shipped one), or for a ready `engine`.

    token: bearer token required on every endpoint but /healthz (None: no authentication, and the admin
    endpoint refuses). max_body: bytes per request body (413 beyond). max_batch: matters per array (413
    beyond). cors: allowed origins (none: no CORS headers at all). after_reload: called after a successful
    reload through the admin endpoint (the server uses it to reload sibling worker processes too).
    open_paths: paths that never need the token (an entry ending in "/" is a prefix); default /healthz.
    workbench: the browser pages (/try, /rules, /departments, /list, /batch; web/pages.py). With a token they are
    guarded by the token as a bearer header or as the cookie /login sets; batch uploads are bounded by max_body,
    and a job's files are removed `batch_keep_seconds` after it ends (or at shutdown).
    The rulebook is loaded and checked here, so a broken one fails at once (RulebookError).
    """
    holder = RulebookHolder(rules, engine=engine)
    board = JobBoard(max_bytes=max_body, keep_seconds=batch_keep_seconds) if workbench else None

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        if board is not None:
            board.close()   # a job's temporary files never outlive the service

    app = FastAPI(title="ecorules", version=__version__, docs_url="/docs", redoc_url=None,
                  openapi_url="/openapi.json", lifespan=lifespan,
                  description="生态环境保护具体事项由谁牵头（沪环督〔2024〕123号）— decision service. "
                              "`/docs` loads Swagger UI from a CDN (needs internet in the browser); "
                              "`/openapi.json` is served offline.")
    app.state.rulebook = holder
    app.state.batch_jobs = board
    open_paths = frozenset(open_paths)
    if workbench:  # inside ServiceMiddleware: the pages take the token as bearer or cookie
        app.add_middleware(PageGuard, token=token)
        open_paths |= PAGE_PATHS
    app.add_middleware(ServiceMiddleware, stamp=lambda: holder.stamp_text, token=token, max_body=max_body,
                       open_paths=open_paths)
    if cors:  # added last, so outermost: preflight requests are answered before authentication
        app.add_middleware(CORSMiddleware, allow_origins=list(cors), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
                           expose_headers=["X-Request-Id", "X-Ecorules-Rulebook"])
    _install_error_handlers(app)
    _install_routes(app, holder, max_batch, bool(token), after_reload)
    if workbench:
        install_batch_pages(app, install_pages(app, holder, token), board)
    return app


# ---------------------------------------------------------------- errors
def _install_error_handlers(app: FastAPI):
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _error_response(request, exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(request: Request, exc: BodyTooLarge):
        return _error_response(request, 413, "body_too_large", f"请求体过大，上限 {exc.limit} 字节（--max-body）。")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        problems = [{"loc": [str(part) for part in e.get("loc", ())], "message": e.get("msg", "")}
                    for e in exc.errors()]
        where = "；".join(f"{'.'.join(p['loc'])}：{p['message']}" for p in problems)
        return _error_response(request, 422, "invalid_request", f"请求参数不正确：{where}", problems=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _error_response(request, 404, "not_found", f"没有这个地址：{request.url.path}。可用的接口见 /openapi.json，"
                                                              "工作台页面见 /try。")
        if exc.status_code == 405:
            return _error_response(request, 405, "method_not_allowed",
                                   f"{request.url.path} 不接受 {request.method} 请求。")
        return _error_response(request, exc.status_code, f"http_{exc.status_code}", str(exc.detail))


async def _json_body(request: Request):
    """The request body as JSON, or ApiError malformed_json (400). The content type is not insisted on:
    `curl -d` sends form encoding by default, and the body is JSON either way."""
    body = await request.body()
    if not body.strip():
        raise ApiError("malformed_json", "请求体为空：应为一个事项（JSON 对象）或事项数组。")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ApiError("malformed_json", "请求体不是 UTF-8 编码的 JSON。") from None
    except json.JSONDecodeError as exc:
        raise ApiError("malformed_json", f"请求体不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列，{exc.msg}。",
                       line=exc.lineno, col=exc.colno) from None


def _shape_error(data, what: str) -> ApiError:
    kind = {dict: "对象", list: "数组", str: "字符串", bool: "布尔值", int: "数字", float: "数字"}.get(type(data), "null")
    return ApiError("invalid_request", f"请求体应为{what}，得到{kind}。")


# ---------------------------------------------------------------- routes
def _install_routes(app: FastAPI, holder: RulebookHolder, max_batch: int, admin_enabled: bool,
                    after_reload: Optional[Callable[[ReloadStatus], None]]):
    def resolve_json(data, single: bool) -> bytes:
        with holder.lease() as engine:
            if single:
                return engine.resolve(data).model_dump_json().encode("utf-8")
            return b"[" + b",".join(r.model_dump_json().encode("utf-8") for r in engine.resolve_many(data)) + b"]"

    @app.post("/v1/resolve", tags=["decide"], openapi_extra=_resolve_body(max_batch),
              responses={200: {"model": Resolution, "description": "one Resolution, or an array in input order"}},
              summary="判断牵头部门 / resolve one matter or an array of matters")
    async def resolve(request: Request):
        data = await _json_body(request)
        if isinstance(data, dict):
            single = True
        elif isinstance(data, list):
            single = False
            if len(data) > max_batch:
                raise ApiError("batch_too_large", f"一次最多 {max_batch} 个事项（--max-batch），得到 {len(data)} 个；"
                                                  f"请分批提交，或用 ecorules resolve 处理文件。")
        else:
            raise _shape_error(data, "一个事项（JSON 对象）或事项数组")
        request.state.matters = count = 1 if single else len(data)
        if count <= INLINE_MATTERS:  # a few ms at most: cheaper on the loop than a thread hop and a GIL handoff
            body = resolve_json(data, single)
        else:
            body = await run_in_threadpool(resolve_json, data, single)
        return Response(body, media_type="application/json")

    @app.post("/v1/explain", tags=["decide"], openapi_extra=_EXPLAIN_BODY,
              summary="说明一个事项的判断 / explain one matter",
              responses={200: {"description": "`{lang, text, lines, resolution}`; with `Accept: text/plain` the text"}})
    async def explain(request: Request, lang: Literal["zh", "en"] = "zh",
                      why_not: Optional[str] = Query(None, description="为何不是该部门牵头 / why is this not the lead?")):
        data = await _json_body(request)
        if not isinstance(data, dict):
            raise _shape_error(data, "一个事项（JSON 对象；多个事项请用 /v1/resolve）")
        request.state.matters = 1

        def work():
            with holder.lease() as engine:
                resolution = engine.resolve(data)
                return resolution, explain_lines(resolution, engine.rulebook, lang=lang, why_not=why_not)
        resolution, lines = await run_in_threadpool(work)
        text = "\n".join(lines)
        if "text/plain" in request.headers.get("accept", ""):
            return PlainTextResponse(text + "\n")
        return JSONResponse({"lang": lang, "text": text, "lines": lines,
                             "resolution": resolution.model_dump(mode="json")})

    @app.get("/v1/rulebook", tags=["rulebook"], summary="规则库 / the rulebook in service")
    async def rulebook():
        book = holder.rulebook
        return {
            **holder.stamp(),
            "loaded_at": holder.loaded_at,
            "categories": [{"id": c.id, "name": c.name, "sector": c.sector, "provenance": c.provenance,
                            "note": c.note} for c in book.categories.values()],
            # `file` is relative to the rulebook directory: the server's own paths are never shown
            "rules": [{"id": r.id, "stage": r.stage, "title": r.title, "cite": r.cite, "provenance": r.provenance,
                       "note": r.note, "priority": r.priority,
                       "effective": {"from": _iso(r.effective_from), "until": _iso(r.effective_until)},
                       "overrides": list(r.overrides), "disputes": list(r.disputes),
                       "file": r.file, "line": r.line, "where": f"{r.file}:{r.line}",
                       # a jurisdiction's published list (authority layer), outranking the city's readings there
                       "list": _layer(r.layer)} for r in book.rules],
        }

    @app.get("/v1/departments", tags=["rulebook"], summary="部门 / departments of the org graph",
             responses={200: {"description": "`{jurisdiction, departments: [Department], rulebook}`"}})
    async def departments(jurisdiction: Optional[str] = Query(
            None, description="sh, a district code or Chinese name (huangpu, 黄浦区); absent: every jurisdiction")):
        org = holder.rulebook.org
        wanted = None
        if jurisdiction is not None:
            wanted = jurisdiction.strip() if jurisdiction.strip() in org.jurisdictions else None
            wanted = wanted or org.jurisdiction_of(jurisdiction)
            if wanted is None:
                hint = suggest(jurisdiction, [*org.jurisdictions, *org.district_choices()], "辖区")
                raise ApiError("unknown_jurisdiction", f"未知的辖区 '{jurisdiction}'。{hint}", suggestion=hint)
        found = [org.department(node).model_dump(mode="json") for node, data in org.graph.nodes(data=True)
                 if wanted is None or data.get("jurisdiction") == wanted]
        return {"jurisdiction": wanted, "departments": found, "rulebook": holder.stamp()}

    @app.get("/v1/schema/{name}", tags=["rulebook"], summary="JSON Schema: matter | resolution | rulebook")
    async def schema(name: str):
        if name not in SCHEMAS:
            raise ApiError("not_found", f"没有名为 '{name}' 的 schema；可用：{', '.join(SCHEMAS)}。")
        if name == "matter":
            return Matter.model_json_schema()
        if name == "resolution":
            return Resolution.model_json_schema()
        from ..spec import rulebook_schema
        return rulebook_schema()

    @app.post("/v1/admin/reload", tags=["admin"], summary="重新加载规则库 / reload the rulebook (token only)")
    async def reload(request: Request):
        if not admin_enabled:
            raise ApiError("admin_disabled", "未配置访问令牌（ECORULES_TOKEN 或 --token-file），管理接口不可用。")
        status = await run_in_threadpool(holder.reload)
        if not status.ok:
            return _error_response(request, 422, "rulebook_invalid", status.message, reload=status.to_dict())
        if after_reload:
            after_reload(status)
        return status.to_dict()

    @app.get("/healthz", tags=["operations"], summary="进程存活 / process up (no token needed)")
    async def healthz():
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], summary="规则库已加载 / rulebook loaded, last reload")
    async def readyz():
        last = holder.last_reload
        return {"ready": True, "rulebook": holder.stamp(), "rules": len(holder.rulebook.rules),
                "loaded_at": holder.loaded_at, "last_reload": last.to_dict() if last else None}


def _layer(layer) -> Optional[dict]:
    if layer is None:
        return None
    return {"jurisdiction": layer.jurisdiction, "title": layer.title, "document": layer.document,
            "date": _iso(layer.date), "provenance": layer.provenance, "sample": layer.sample}


def _iso(day) -> Optional[str]:
    return day.isoformat() if day else None


__all__ = ["ApiError", "DEFAULT_MAX_BATCH", "DEFAULT_MAX_BODY", "ERROR_CODES", "create_app"]
