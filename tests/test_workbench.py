"""The browser workbench's pages through FastAPI's TestClient: real decisions on the page, Chinese error pages,
the batch upload on `ecorules resolve`'s code path, the token as a cookie, labels on every input.
(tests/test_browser.py drives the same pages in headless Chromium.)"""
from __future__ import annotations

import datetime as dt
import io
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from ecorules import Engine
from ecorules.cli import main
from ecorules.publish import build_list, render_markdown
from ecorules.web import create_app
from ecorules.web.pages import COOKIE, parse_facts

from conftest import FIXTURES, RULES

DAY = "2025-06-01"
TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def engine():
    with Engine.from_directory(RULES) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(engine=engine)) as client:
        yield client


class _Inputs(HTMLParser):
    """Every form control, every <label for>, every href."""

    def __init__(self):
        super().__init__()
        self.controls, self.labels, self.links = [], set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append(attrs)
        if tag == "label" and attrs.get("for"):
            self.labels.add(attrs["for"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])


def parsed(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_try_with_a_query_string_resolves_with_the_real_engine(client, engine):
    matter = {"title": "工地半夜打桩灰尘大", "district": "黄浦区", "as_of": DAY}
    page = client.get("/try?" + urlencode(matter))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    expected = engine.resolve({"id": "x", **matter})
    assert expected.lead is not None
    body = text_of(page.text)
    assert f"{expected.lead.name} {expected.lead.id}" in body
    for department in expected.assist:
        assert department.name in body
    links = parsed(page.text).links
    for basis in expected.basis:   # each rule of the basis links to its page
        assert f"/rules/{basis.rule}" in links
    assert "/departments?jurisdiction=huangpu" in " ".join(links)


def test_try_shows_escalation_transfers_obligations_and_warnings(client, engine):
    matter = {"title": "楼道里有人堆放杂物", "facts": "significant_impact=true", "as_of": DAY}
    page = client.get("/try?" + urlencode(matter))
    expected = engine.resolve({"id": "x", "title": matter["title"], "facts": {"significant_impact": True},
                               "as_of": DAY})
    body = text_of(page.text)
    assert expected.warnings and all(w.code in body for w in expected.warnings)   # no district: W404
    assert expected.escalation and all(d.name in body for d in expected.escalation.to)
    crime = engine.resolve({"id": "x", "title": "工地扬尘", "district": "黄浦区", "category": "construction_dust",
                            "facts": {"suspected_crime": True}, "as_of": DAY})
    page = client.get("/try?" + urlencode({"title": "工地扬尘", "district": "黄浦区", "category": "construction_dust",
                                           "facts": "suspected_crime=true", "as_of": DAY}))
    assert crime.transfers and all(t.to.name in text_of(page.text) for t in crime.transfers)


def test_try_form_without_a_title_is_the_empty_form_and_every_input_has_a_label(client):
    for path in ("/try", "/departments", "/list", "/batch", "/login"):
        page = client.get(path)
        assert page.status_code == 200, path
        found = parsed(page.text)
        assert found.controls, path
        for control in found.controls:
            assert control.get("id") in found.labels, (path, control)


@pytest.mark.parametrize("query, words", [
    ({"title": "x", "facts": "这一行没有等号"}, "应写作 名称=值"),
    ({"title": "x", "as_of": "2025-13-01"}, "不是 YYYY-MM-DD"),
])
def test_bad_form_input_is_a_chinese_message_not_a_traceback(client, query, words):
    page = client.get("/try?" + urlencode(query))
    assert page.status_code == 422
    assert words in page.text and "Traceback" not in page.text


def test_an_invalid_matter_shows_its_error(client):
    page = client.get("/try?" + urlencode({"title": "工地扬尘", "district": "火星区"}))
    assert page.status_code == 200 and "事项无效" in page.text or "无效" in page.text
    assert 'id="error"' in page.text


def test_parse_facts_reads_json_values_and_text():
    assert parse_facts("a=true\nb = 3\nc=是\n\nd: x") == {"a": True, "b": 3, "c": "是", "d": "x"}


def test_rules_page_browses_by_article_category_and_file(client, engine):
    page = client.get("/rules")
    assert page.status_code == 200
    body = text_of(page.text)
    for article in ("（一）", "（七）", "（二十一）"):
        assert article in body
    assert 'id="article-七"' in page.text and 'id="category-construction_dust"' in page.text
    assert "assign/air-dust.yaml" in body
    assert "/rules/route.district-significant" in parsed(page.text).links


def test_rule_page_shows_cite_provenance_dates_tests_and_numbered_yaml(client, engine):
    rule = engine.rulebook.versions["air.construction-dust"][0]
    page = client.get("/rules/air.construction-dust")
    assert page.status_code == 200
    body = text_of(page.text)
    assert rule.title in body and rule.cite in body and "部分有明文" in body
    assert f'id="L{rule.line}"' in page.text
    source = (RULES / rule.file).read_text(encoding="utf-8").splitlines()
    first = re.search(rf'id="L{rule.line}"><span class="no">{rule.line}</span>([^<]*)<', page.text).group(1)
    assert first == source[rule.line - 1].replace('"', "&#34;")
    assert "tests/assign-air.yaml" in body and "通过" in body   # the rule tests that exercise it
    assert re.search(r'id="rule-effective">不限 至 今<', page.text)   # no effective dates: in force throughout


def test_rule_page_shows_each_dated_version(make_rulebook):
    book = make_rulebook({"assign/a.yaml": """
        stage: assign
        rules:
          - id: a.dust
            title: 旧版
            cite: 第一条
            when: {category: construction_dust}
            lead: sthj
            effective: {until: 2020-12-31}
          - id: a.dust
            title: 新版
            cite: 第二条
            when: {category: construction_dust}
            lead: zjw
            effective: {from: 2021-01-01}
        """})
    with TestClient(create_app(book)) as client:
        page = client.get("/rules/a.dust")
        assert page.text.count('id="rule-title"') == 2
        assert "不限 至 2020-12-31" in page.text and "2021-01-01 至 今" in page.text
        assert 'id="L6"' in page.text and 'id="L12"' in page.text and "lead: zjw" in page.text


def test_unknown_rule_is_a_404_page_with_a_suggestion(client):
    page = client.get("/rules/air.construction-dusst")
    assert page.status_code == 404 and "air.construction-dust" in page.text and "text/html" in page.headers["content-type"]


def test_departments_page_draws_the_picture_with_the_path_highlighted(client):
    query = {"jurisdiction": "huangpu", "title": "楼道里有人堆放杂物", "facts": "significant_impact=true", "as_of": DAY}
    page = client.get("/departments?" + urlencode(query))
    assert page.status_code == 200
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page.text
    assert re.search(r'class="node hl[^"]*" data-node="huangpu.gov"', page.text)
    assert "上报至上海市黄浦区人民政府" in text_of(page.text) or "上报至中共上海市黄浦区委员会" in text_of(page.text)
    svg = client.get("/departments.svg?" + urlencode(query))
    assert svg.headers["content-type"].startswith("image/svg+xml") and "attachment" in svg.headers["content-disposition"]
    assert 'class="node hl' in svg.text
    assert client.get("/departments?jurisdiction=火星区").status_code == 422


def test_list_page_and_downloads_are_publish_build_list(client, engine):
    page = client.get(f"/list?jurisdiction=huangpu&as_of={DAY}")
    lst = build_list(engine, "huangpu", dt.date.fromisoformat(DAY))
    body = text_of(page.text)
    assert lst.rows[0].lead.name in body and "推定" in body
    assert page.text.count('class="status-row') == len(engine.rulebook.categories)
    assert 'media="print"' in page.text
    md = client.get(f"/list/download?jurisdiction=huangpu&as_of={DAY}&format=md")
    assert md.text == render_markdown(lst)
    cli = CliRunner().invoke(main, ["publish", "--jurisdiction", "huangpu", "--as-of", DAY, "--format", "md"])
    assert cli.exit_code == 0 and cli.stdout == md.text     # page, download and command: one list
    xlsx = client.get(f"/list/download?jurisdiction=黄浦区&as_of={DAY}&format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["责任清单"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row == len(lst.rows) + 1
    assert client.get("/list/download?format=pdf").status_code == 422


def _upload(client, name, data, **form):
    return client.post("/batch", files={"file": (name, data, "application/octet-stream")}, data=form,
                       follow_redirects=False)


def _finished(client, location):
    for _ in range(200):
        page = client.get(location)
        if 'data-state="running"' not in page.text:
            return page
        import time
        time.sleep(0.1)
    raise AssertionError("the batch job did not finish")


def test_batch_upload_gives_what_ecorules_resolve_gives(client, tmp_path):
    source = FIXTURES / "matters.csv"
    response = _upload(client, "积压事项.csv", source.read_bytes(), as_of=DAY)
    assert response.status_code == 303
    page = _finished(client, response.headers["location"])
    assert 'data-state="done"' in page.text and "已完成" in page.text
    results = client.get(response.headers["location"] + "/results")
    errors = client.get(response.headers["location"] + "/errors")
    assert "''%E7%A7%AF%E5%8E%8B%E4%BA%8B%E9%A1%B9.%E7%BB%93%E6%9E%9C.csv" in results.headers["content-disposition"]
    out, bad = tmp_path / "r.csv", tmp_path / "e.csv"
    cli = CliRunner().invoke(main, ["resolve", str(source), "-o", str(out), "--errors", str(bad), "--as-of", DAY,
                                    "--quiet"])
    assert cli.exit_code == 3   # the sample holds invalid rows on purpose
    assert results.content == out.read_bytes() and errors.content == bad.read_bytes()


def test_batch_job_files_live_in_a_temporary_directory_removed_on_delete(engine):
    app = create_app(engine=engine)
    with TestClient(app) as client:
        response = _upload(client, "m.jsonl", (FIXTURES / "matters.jsonl").read_bytes())
        location = response.headers["location"]
        _finished(client, location)
        job = app.state.batch_jobs.get(location.rsplit("/", 1)[1])
        directory = job.directory
        assert directory.is_dir() and job.output.is_file()
        client.post(location + "/delete")
        assert not directory.exists() and client.get(location).status_code == 404
        second = _upload(client, "m.jsonl", (FIXTURES / "matters.jsonl").read_bytes()).headers["location"]
        _finished(client, second)
        kept = app.state.batch_jobs.get(second.rsplit("/", 1)[1]).directory
        assert kept.is_dir()
    assert not kept.exists()   # the app shut down: no job outlives it


@pytest.mark.parametrize("name, data, status, words", [
    ("notes.csv", "hello world\nfoo bar\n".encode(), 422, "找不到表头"),
    ("scan.pdf", b"%PDF-1.4", 415, "不支持的文件类型"),
    ("empty.csv", b"", 422, "文件是空的"),
    ("fake.xlsx", b"this is not a zip", 422, ""),
])
def test_a_file_that_is_not_a_table_is_a_chinese_error_page(client, name, data, status, words):
    page = _upload(client, name, data)
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert words in page.text and "Traceback" not in page.text and 'role="alert"' in page.text


def test_too_large_uploads_are_refused_with_a_chinese_page(engine):
    with TestClient(create_app(engine=engine, max_body=2000)) as client:
        big = b"id,title\n" + b"1,x\n" * 1000
        page = client.post("/batch", files={"file": ("big.csv", big, "text/csv")}, headers={"Accept": "text/html"})
        assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
        assert "请求体过大" in page.text
    app = create_app(engine=engine)
    app.state.batch_jobs.max_bytes = 100   # the job's own limit, below --max-body
    with TestClient(app) as client:
        page = _upload(client, "big.csv", b"id,title\n" + b"1,x\n" * 100)
        assert page.status_code == 413 and "文件过大" in page.text


def test_with_a_token_pages_take_a_login_cookie_and_the_api_still_needs_bearer(engine):
    with TestClient(create_app(engine=engine, token=TOKEN)) as client:
        first = client.get("/try?title=x", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
        assert client.get("/static/workbench.css").status_code == 200
        refused = client.post("/login", data={"token": "wrong", "next": "/try"})
        assert refused.status_code == 401 and "令牌不正确" in refused.text
        evil = client.post("/login", data={"token": TOKEN, "next": "//evil.example"}, follow_redirects=False)
        assert evil.headers["location"] == "/try"
        assert COOKIE in client.cookies
        assert "试算" in client.get("/try").text
        assert client.post("/v1/resolve", json={"id": "a", "title": "x"}).status_code == 401  # the cookie is for pages
    with TestClient(create_app(engine=engine, token=TOKEN)) as other:
        assert other.get("/list", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert other.post("/batch", files={"file": ("m.csv", b"id,title\n1,x\n")}).status_code == 401


def test_create_app_takes_open_paths(engine):
    with TestClient(create_app(engine=engine, token=TOKEN, open_paths=("/healthz", "/readyz"))) as client:
        assert client.get("/readyz").status_code == 200
        assert client.get("/v1/rulebook").status_code == 401


def test_without_the_workbench_the_pages_are_absent(engine):
    with TestClient(create_app(engine=engine, workbench=False)) as client:
        assert client.get("/try").status_code == 404


def test_page_paths_need_no_network():
    """Nothing the pages load comes from elsewhere: no http(s) URL in a template."""
    templates = Path(__file__).resolve().parent.parent / "ecorules" / "templates"
    for path in templates.iterdir():
        assert not re.search(r"(src|href)=\"https?:", path.read_text(encoding="utf-8")), path


def test_an_unexpected_error_on_a_page_is_a_chinese_page_with_the_request_id(engine):
    app = create_app(engine=engine)

    def broken(matter):
        raise RuntimeError("boom")
    app.state.rulebook.engine.resolve = broken
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            page = client.get("/try?title=x", headers={"Accept": "text/html"})
    finally:
        del app.state.rulebook.engine.resolve
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "服务内部错误" in page.text and page.headers["x-request-id"] in page.text
    assert "boom" not in page.text and "Traceback" not in page.text


def test_a_rule_test_link_reproduces_that_test_on_the_try_page(client, engine):
    page = client.get("/rules/waste.construction")
    links = [href for href in parsed(page.text).links if href.startswith("/try?")]
    assert links
    tests = [t for t in engine.rulebook.tests if any(
        (b.file, b.line) == engine.rulebook.versions["waste.construction"][0].where
        for b in engine.resolve(t.spec.matter).basis)]
    assert len(links) == len(tests)
    for href, test in zip(links, tests):
        expected = engine.resolve(test.spec.matter)
        shown = text_of(client.get(href).text)
        assert (f"{expected.lead.name} {expected.lead.id}" if expected.lead else "牵头部门 —") in shown, href
