"""Pure ASGI middleware: request id, bearer token, body limit, rulebook stamp header, one access-log line.

Pure ASGI (not BaseHTTPMiddleware) so a 10,000-matter response streams through untouched and the cost per
request stays a few dictionary look-ups.
"""
from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from typing import Callable, Optional

access_logger = logging.getLogger("ecorules.web.access")
logger = logging.getLogger("ecorules.web")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class BodyTooLarge(Exception):
    """Raised from `receive` when a request body passes the limit (rendered as 413 by the app)."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(limit)


def error_body(status: int, code: str, message: str, request_id: Optional[str] = None, **extra) -> bytes:
    body = {"error": {"status": status, "code": code, "message": message, **extra}}
    if request_id:
        body["error"]["request_id"] = request_id
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_page(status: int, code: str, message: str, request_id: Optional[str] = None) -> bytes:
    """The error as a minimal Chinese HTML page, for browsers (Accept: text/html)."""
    from html import escape
    ref = f"<p>请求编号 {escape(request_id)}</p>" if request_id else ""
    return (f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>出错了 {status}</title>'
            f'<h1>出错了（{status} {escape(code)}）</h1><p role="alert">{escape(message)}</p>{ref}'
            f'<p><a href="/try">返回工作台</a></p></html>').encode("utf-8")


class ServiceMiddleware:
    """Everything that wraps every request, outermost first:

    1. a request id (the client's `X-Request-Id` when it is sane, else a fresh one), echoed in the response;
    2. the bearer token, when one is configured (`open_paths` are exempt: `/healthz`; an entry ending in "/" is a
       prefix — the workbench's pages are open here and guarded by web/pages.py's PageGuard, bearer or cookie);
    3. the body limit: a `Content-Length` over it is refused at once, a chunked body when it passes it;
    4. `X-Ecorules-Rulebook: name version hash` on every response;
    5. one structured access-log line (request id, method, path, status, latency, matter count).
    """

    def __init__(self, app, *, stamp: Callable[[], str], token: Optional[str], max_body: int,
                 open_paths: frozenset = frozenset({"/healthz"})):
        self.app = app
        self.stamp = stamp
        self.token = token.encode("utf-8") if token else None
        self.max_body = max_body
        self.open_paths = frozenset(open_paths)
        self.open_prefixes = tuple(sorted(p for p in self.open_paths if p.endswith("/") and p != "/"))

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", ())}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status_box = {"status": 500, "bytes": 0, "started": False}
        extra_headers = [(b"x-request-id", request_id.encode("latin-1")),
                         (b"x-ecorules-rulebook", self.stamp().encode("latin-1"))]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_box["status"] = message["status"]
                status_box["started"] = True
                message = {**message, "headers": [*message.get("headers", ()), *extra_headers]}
            elif message["type"] == "http.response.body":
                status_box["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            refusal = self._refuse(scope, headers, request_id)
            if refusal:
                await self._send_error(send_wrapper, *refusal, request_id=request_id,
                                       html="text/html" in headers.get("accept", ""))
            else:
                await self.app(scope, self._limited(receive), send_wrapper)
        except Exception:  # noqa: BLE001 — the client gets a JSON 500 with the request id, never a traceback
            logger.exception("处理请求 %s 时出错", request_id)
            if status_box["started"]:
                raise
            await self._send_error(send_wrapper, 500, "internal_error",
                                   f"服务内部错误，请把请求编号 {request_id} 告知运维人员。", request_id=request_id,
                                   html="text/html" in headers.get("accept", ""))
        finally:
            self._log(scope, state, request_id, status_box, started)

    def _refuse(self, scope, headers: dict, request_id: str):
        """(status, code, message, headers) when the request must be refused before the app sees it."""
        path = scope["path"]
        if self.token and path not in self.open_paths and not path.startswith(self.open_prefixes) \
                and scope.get("method") != "OPTIONS":
            given = headers.get("authorization", "")
            scheme, _, value = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode("utf-8"), self.token):
                return (401, "unauthorized", "缺少或错误的访问令牌：请在请求头中加 Authorization: Bearer <令牌>。",
                        [(b"www-authenticate", b'Bearer realm="ecorules"')])
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return (413, "body_too_large", f"请求体过大：{int(length)} 字节，上限 {self.max_body} 字节（--max-body）。",
                    [(b"connection", b"close")])
        return None

    def _limited(self, receive):
        limit, seen = self.max_body, 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message
        return limited_receive

    @staticmethod
    async def _send_error(send, status, code, message, headers=(), request_id=None, html=False):
        body = error_body(status, code, message, request_id)
        kind = b"application/json; charset=utf-8"
        if html:  # a browser (the workbench's upload form): the same message as a short Chinese page
            body = error_page(status, code, message, request_id)
            kind = b"text/html; charset=utf-8"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind),
                                (b"content-length", str(len(body)).encode()), *headers]})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    def _log(scope, state: dict, request_id: str, status_box: dict, started: float):
        latency_ms = (time.perf_counter() - started) * 1000
        record = {"request_id": request_id, "method": scope.get("method"), "path": scope.get("path"),
                  "status": status_box["status"], "latency_ms": round(latency_ms, 2),
                  "matters": state.get("matters"), "bytes": status_box["bytes"],
                  "client": (scope.get("client") or (None,))[0]}
        access_logger.info(json.dumps(record, ensure_ascii=False), extra={"access": record})
