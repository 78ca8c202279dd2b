"""The HTTP service through FastAPI's TestClient: every endpoint and every error of the request itself."""
from __future__ import annotations

import json
import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from ecorules import Engine
from ecorules.explain import explain_lines
from ecorules.model import Matter, Resolution
from ecorules.spec import rulebook_schema
from ecorules.web import create_app
from ecorules.web.app import ERROR_CODES
from ecorules.web.holder import RulebookHolder

from conftest import RULES

MATTER = {"id": "T-1", "title": "工地半夜打桩灰尘大", "district": "黄浦区", "as_of": "2025-06-01"}
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def client():
    with Engine.from_directory(RULES) as engine:
        yield TestClient(create_app(engine=engine))


@pytest.fixture(scope="module")
def library():
    with Engine.from_directory(RULES) as engine:
        yield engine


@pytest.fixture
def rules_copy(tmp_path):
    return shutil.copytree(RULES, tmp_path / "rules")


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code and body["status"] == status
    assert ERROR_CODES.get(code, status) == status
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]  # a Chinese message
    assert "Traceback" not in response.text
    assert body["request_id"] == response.headers["x-request-id"]
    return body


# ---------------------------------------------------------------- /v1/resolve
def test_one_matter_gives_exactly_the_library_json(client, library):
    response = client.post("/v1/resolve", json=MATTER)
    assert response.status_code == 200
    assert response.json() == library.resolve(MATTER).model_dump(mode="json")
    assert response.json()["lead"]["id"] == "huangpu.zjw"


def test_an_array_gives_an_array_in_input_order_equal_to_the_library(client, library, fixture_matters):
    response = client.post("/v1/resolve", json=fixture_matters)
    assert response.status_code == 200
    expected = [r.model_dump(mode="json") for r in library.resolve_many(fixture_matters)]
    assert response.json() == expected
    assert [r["id"] for r in response.json()] == [m.get("id") for m in fixture_matters]


def test_bad_matters_are_invalid_results_inside_a_200(client):
    response = client.post("/v1/resolve", json=[{"id": "a"}, 5, MATTER, {"id": "b", "title": "x", "level": "city"}])
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()]
    assert statuses == ["invalid", "invalid", "resolved", "invalid"]
    assert response.json()[0]["error"]["field"] == "title"
    single = client.post("/v1/resolve", json={"id": "a"})
    assert single.status_code == 200 and single.json()["status"] == "invalid"


def test_an_empty_array_gives_an_empty_array(client):
    assert client.post("/v1/resolve", json=[]).json() == []


def test_the_rulebook_stamp_is_on_every_response(client, library):
    book = library.rulebook
    for response in (client.post("/v1/resolve", json=MATTER), client.get("/healthz"), client.get("/nowhere"),
                     client.post("/v1/resolve", content=b"{")):
        name, version, digest = response.headers["x-ecorules-rulebook"].split(" ")
        assert (unquote(name), version, digest) == (book.name, book.version, book.hash)
    assert client.post("/v1/resolve", json=MATTER).json()["rulebook"]["hash"] == book.hash


def test_the_content_type_is_not_insisted_on(client):
    # curl -d sends application/x-www-form-urlencoded unless told otherwise
    response = client.post("/v1/resolve", content=json.dumps(MATTER).encode(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.json()["status"] == "resolved"


# ---------------------------------------------------------------- errors of the request itself
@pytest.mark.parametrize("body", [b"{bad", b"[1, 2", b"\xff\xfe\x00", b"", b"   "])
def test_malformed_json_is_400(client, body):
    assert_error(client.post("/v1/resolve", content=body), 400, "malformed_json")
    assert_error(client.post("/v1/explain", content=body), 400, "malformed_json")


def test_malformed_json_says_where(client):
    body = assert_error(client.post("/v1/resolve", content=b'{"id": "1",\n "title": }'), 400, "malformed_json")
    assert (body["line"], body["col"]) == (2, 11)
    assert "第 2 行第 11 列" in body["message"]


@pytest.mark.parametrize("body", ['"a string"', "42", "true", "null"])
def test_wrong_shape_is_422(client, body):
    assert_error(client.post("/v1/resolve", content=body.encode()), 422, "invalid_request")


def test_explain_takes_one_matter_not_an_array(client):
    body = assert_error(client.post("/v1/explain", json=[MATTER]), 422, "invalid_request")
    assert "/v1/resolve" in body["message"]


def test_a_bad_query_parameter_is_422_in_chinese(client):
    body = assert_error(client.post("/v1/explain?lang=fr", json=MATTER), 422, "invalid_request")
    assert body["problems"][0]["loc"] == ["query", "lang"]


def test_body_over_max_body_is_413():
    with Engine.from_directory(RULES) as engine:
        client = TestClient(create_app(engine=engine, max_body=1000))
        matters = [MATTER] * 20  # about 2 KB
        assert_error(client.post("/v1/resolve", json=matters), 413, "body_too_large")

        def chunks():  # no Content-Length: the limit is enforced while the body arrives
            for _ in range(20):
                yield json.dumps(MATTER).encode()
        assert_error(client.post("/v1/resolve", content=chunks()), 413, "body_too_large")
        assert client.post("/v1/resolve", json=MATTER).status_code == 200


def test_array_over_max_batch_is_413():
    with Engine.from_directory(RULES) as engine:
        client = TestClient(create_app(engine=engine, max_batch=3))
        body = assert_error(client.post("/v1/resolve", json=[MATTER] * 4), 413, "batch_too_large")
        assert "3" in body["message"]
        assert len(client.post("/v1/resolve", json=[MATTER] * 3).json()) == 3


def test_unknown_path_is_404_json_and_wrong_method_405(client):
    assert_error(client.get("/v1/nothing"), 404, "not_found")
    home = client.get("/", follow_redirects=False)  # `/` is the browser workbench's (tests/test_workbench.py)
    assert home.status_code == 303 and home.headers["location"] == "/try"
    assert_error(client.get("/v1/resolve"), 405, "method_not_allowed")


def test_an_unexpected_error_is_a_json_500_without_traceback(library, caplog):
    app = create_app(engine=library)

    def broken(matter):
        raise RuntimeError("boom")
    app.state.rulebook.engine.resolve = broken  # the holder's engine is `library`; restored below
    try:
        with caplog.at_level(logging.ERROR, logger="ecorules.web"):
            response = TestClient(app).post("/v1/resolve", json=MATTER)
    finally:
        del library.resolve
    body = assert_error(response, 500, "internal_error")
    assert "boom" not in response.text and body["request_id"] in body["message"]
    assert "boom" in caplog.text  # the traceback goes to the server's log, not to the client


# ---------------------------------------------------------------- /v1/explain
def test_explain_gives_the_cli_text_and_the_resolution(client, library):
    response = client.post("/v1/explain", json=MATTER)
    assert response.status_code == 200
    resolution = library.resolve(MATTER)
    lines = explain_lines(resolution, library.rulebook)
    assert response.json() == {"lang": "zh", "text": "\n".join(lines), "lines": lines,
                               "resolution": resolution.model_dump(mode="json")}
    assert response.json()["lines"][0] == "事项 T-1：已明确牵头部门"


def test_explain_in_english_with_why_not_and_as_text(client, library):
    response = client.post("/v1/explain", params={"lang": "en", "why_not": "黄浦区生态环境局"}, json=MATTER)
    resolution = library.resolve(MATTER)
    assert response.json()["lines"] == explain_lines(resolution, library.rulebook, lang="en",
                                                     why_not="黄浦区生态环境局")
    assert response.json()["lines"][0] == "Matter T-1: lead found"
    text = client.post("/v1/explain", json=MATTER, headers={"accept": "text/plain"})
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text.splitlines() == explain_lines(resolution, library.rulebook)


def test_explain_of_an_invalid_matter_is_a_200_with_its_error(client):
    response = client.post("/v1/explain", json={"id": "x"})
    assert response.status_code == 200
    assert response.json()["resolution"]["status"] == "invalid"
    assert response.json()["lines"][1].startswith("错误：")


# ---------------------------------------------------------------- rulebook, departments, schema
def test_rulebook_lists_stamp_categories_and_rules_with_file_and_line(client, library):
    body = client.get("/v1/rulebook").json()
    book = library.rulebook
    assert (body["name"], body["version"], body["hash"]) == (book.name, book.version, book.hash)
    assert [r["id"] for r in body["rules"]] == [r.id for r in book.rules]
    assert {c["id"] for c in body["categories"]} == set(book.categories)
    first = body["rules"][0]
    assert first["where"] == f"{first['file']}:{first['line']}" and first["cite"] and first["provenance"]
    assert not any(r["file"].startswith("/") for r in body["rules"])  # never the server's own paths
    # authority layers (issue 10): every rule says which list it comes from; the shipped rulebook has none yet
    # (the sample in examples/lists/ is not loaded — tests/test_layers.py composes it)
    assert all("list" in r and r["list"] is None for r in body["rules"])


@pytest.mark.parametrize("given, code", [("huangpu", "huangpu"), ("黄浦区", "huangpu"), ("黄浦", "huangpu"),
                                         ("sh", "sh")])
def test_departments_of_a_jurisdiction(client, library, given, code):
    body = client.get("/v1/departments", params={"jurisdiction": given}).json()
    assert body["jurisdiction"] == code
    ids = [d["id"] for d in body["departments"]]
    assert f"{code}.sthj" in ids and all(i.startswith(code + ".") for i in ids)
    assert body["departments"][0] == library.rulebook.org.department(ids[0]).model_dump(mode="json")


def test_all_departments_and_an_unknown_jurisdiction(client, library):
    body = client.get("/v1/departments").json()
    assert body["jurisdiction"] is None
    assert len(body["departments"]) == library.rulebook.org.graph.number_of_nodes()
    error = assert_error(client.get("/v1/departments", params={"jurisdiction": "huangpo"}), 422,
                         "unknown_jurisdiction")
    assert "huangpu" in error["suggestion"]


def test_schemas_are_the_library_schemas(client):
    assert client.get("/v1/schema/matter").json() == Matter.model_json_schema()
    assert client.get("/v1/schema/resolution").json() == Resolution.model_json_schema()
    assert client.get("/v1/schema/rulebook").json() == rulebook_schema()
    assert_error(client.get("/v1/schema/everything"), 404, "not_found")


# ---------------------------------------------------------------- operations
def test_healthz_readyz_openapi_and_docs(client, library):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["rulebook"]["hash"] == library.rulebook.hash
    assert ready["rules"] == len(library.rulebook.rules) and ready["last_reload"] is None
    spec = client.get("/openapi.json").json()
    for path in ("/v1/resolve", "/v1/explain", "/v1/rulebook", "/v1/departments", "/v1/schema/{name}",
                 "/v1/admin/reload", "/healthz", "/readyz"):
        assert path in spec["paths"], path
    assert "oneOf" in spec["paths"]["/v1/resolve"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text


def test_no_endpoint_takes_a_file_path(client):
    spec = client.get("/openapi.json").json()
    names = {p["name"] for item in spec["paths"].values() for op in item.values() for p in op.get("parameters", ())}
    assert names == {"lang", "why_not", "jurisdiction", "name"}


def test_one_access_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="ecorules.web.access"):
        client.post("/v1/resolve", json=[MATTER, MATTER], headers={"x-request-id": "req-42"})
        client.get("/nowhere")
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "ecorules.web.access"]
    assert len(records) == 2
    assert records[0]["request_id"] == "req-42" and records[0]["status"] == 200 and records[0]["matters"] == 2
    assert records[0]["path"] == "/v1/resolve" and records[0]["latency_ms"] >= 0
    assert records[1]["status"] == 404 and records[1]["matters"] is None


def test_a_request_id_that_is_not_sane_is_replaced(client):
    response = client.get("/healthz", headers={"x-request-id": "a b\x7f" * 30})
    assert response.headers["x-request-id"] != "a b\x7f" * 30 and len(response.headers["x-request-id"]) == 16


def test_concurrent_requests_get_the_library_answers(client, library, fixture_matters):
    expected = {m["id"]: library.resolve(m).model_dump(mode="json") for m in fixture_matters[:40] if "id" in m}
    matters = [m for m in fixture_matters[:40] if "id" in m]

    def call(matter):
        return client.post("/v1/resolve", json=matter).json()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, matters * 3))
    assert [a["id"] for a in answers] == [m["id"] for m in matters * 3]
    assert all(a == expected[a["id"]] for a in answers)


# ---------------------------------------------------------------- token, CORS
def test_a_configured_token_guards_every_endpoint_but_healthz(library):
    client = TestClient(create_app(engine=library, token=TOKEN))
    for method, path in (("post", "/v1/resolve"), ("post", "/v1/explain"), ("get", "/v1/rulebook"),
                         ("get", "/v1/departments"), ("get", "/v1/schema/matter"), ("get", "/readyz"),
                         ("get", "/openapi.json"), ("get", "/docs"), ("post", "/v1/admin/reload"),
                         ("get", "/nowhere")):
        response = getattr(client, method)(path)
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
        wrong = getattr(client, method)(path, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
    assert client.get("/healthz").status_code == 200
    good = {"authorization": f"Bearer {TOKEN}"}
    assert client.post("/v1/resolve", json=MATTER, headers=good).json()["status"] == "resolved"
    assert client.get("/readyz", headers=good).status_code == 200


def test_cors_is_off_unless_an_origin_is_given(library):
    plain = TestClient(create_app(engine=library))
    response = plain.post("/v1/resolve", json=MATTER, headers={"origin": "https://ywtg.sh.gov.cn"})
    assert "access-control-allow-origin" not in response.headers
    allowed = TestClient(create_app(engine=library, cors=["https://ywtg.sh.gov.cn"], token=TOKEN))
    preflight = allowed.options("/v1/resolve", headers={"origin": "https://ywtg.sh.gov.cn",
                                                        "access-control-request-method": "POST",
                                                        "access-control-request-headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://ywtg.sh.gov.cn"
    other = allowed.get("/healthz", headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


# ---------------------------------------------------------------- reload
def test_admin_reload_refuses_without_a_configured_token(client):
    assert_error(client.post("/v1/admin/reload"), 403, "admin_disabled")


def test_admin_reload_swaps_a_clean_rulebook_and_refuses_a_broken_one(rules_copy):
    app = create_app(rules_copy, token=TOKEN)
    client = TestClient(app, headers={"authorization": f"Bearer {TOKEN}"})
    before = client.get("/readyz").json()["rulebook"]["hash"]

    (rules_copy / "rulebook.yaml").write_text(
        (rules_copy / "rulebook.yaml").read_text(encoding="utf-8") + "\n# amended\n", encoding="utf-8")
    reloaded = client.post("/v1/admin/reload", json={"rules": "/etc"})  # a body is ignored: no path can be named
    assert reloaded.status_code == 200 and reloaded.json()["ok"] is True
    after = reloaded.json()["rulebook"]["hash"]
    assert after != before
    assert client.post("/v1/resolve", json=MATTER).json()["rulebook"]["hash"] == after

    (rules_copy / "assign" / "air-dust.yaml").write_text("rules:\n  - id: broken\n    lead: nobody\n",
                                                         encoding="utf-8")
    refused = client.post("/v1/admin/reload")
    body = assert_error(refused, 422, "rulebook_invalid")
    assert body["reload"]["ok"] is False and body["reload"]["diagnostics"]
    assert body["reload"]["diagnostics"][0]["file"].endswith("air-dust.yaml")
    ready = client.get("/readyz").json()
    assert ready["ready"] is True and ready["rulebook"]["hash"] == after  # still serving the good one
    assert ready["last_reload"]["ok"] is False and "未替换" in ready["last_reload"]["message"]
    served = client.post("/v1/resolve", json=MATTER)
    assert served.json()["status"] == "resolved" and served.json()["rulebook"]["hash"] == after


def test_a_swap_never_closes_an_engine_a_request_still_holds(rules_copy):
    holder = RulebookHolder(rules_copy)
    try:
        with holder.lease() as engine:
            assert holder.reload().ok
            assert holder.engine is not engine
            assert engine.resolve(MATTER).status == "resolved"  # still open while leased
        with pytest.raises(Exception):
            engine._matcher.match("assign", {})  # closed when the last lease ended
    finally:
        holder.close()


def test_requests_during_reloads_never_fail(rules_copy):
    app = create_app(rules_copy, token=TOKEN)
    client = TestClient(app, headers={"authorization": f"Bearer {TOKEN}"})
    stop = threading.Event()
    reloads = []

    def reload_loop():
        while not stop.is_set() and len(reloads) < 2:
            reloads.append(client.post("/v1/admin/reload").status_code)
    thread = threading.Thread(target=reload_loop)
    thread.start()
    statuses = []
    try:
        while thread.is_alive() or len(statuses) < 20:
            statuses.append(client.post("/v1/resolve", json=MATTER).json()["status"])
    finally:
        stop.set()
        thread.join()
    assert set(statuses) == {"resolved"} and reloads and set(reloads) == {200}


def test_a_broken_rulebook_at_start_fails_before_serving(tmp_path):
    from ecorules.errors import RulebookError
    with pytest.raises(RulebookError):
        create_app(tmp_path / "missing")
