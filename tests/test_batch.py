"""The batch driver: every format both ways, workers, nothing lost, --errors, --resume, interruption."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook

from ecorules import Engine
from ecorules.batch import EXIT_INTERRUPTED, BatchInterrupted, Progress, Summary, format_progress, run_batch
from ecorules.errors import RulebookError
from ecorules.io import ERROR_COLUMNS, RESULT_COLUMNS, STATUS_ZH, FormatError, part_path
from ecorules.model import RulebookStamp
from ecorules.rulebook import load_rulebook

from conftest import FIXTURES, RULES, write_rulebook

AS_OF = dt.date(2024, 6, 1)


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook(RULES)


@pytest.fixture(scope="module")
def expected(rulebook, fixture_matters):
    """What the library says for each fixture matter, with --as-of applied to rows without a date."""
    with Engine(rulebook) as engine:
        matters = [{**m, "as_of": m.get("as_of") or AS_OF.isoformat()} for m in fixture_matters]
        return {r.id: r.model_dump(mode="json") for r in engine.resolve_many(matters)}


@pytest.fixture(scope="module")
def invalid_ids(expected) -> list[str]:
    """The fixture matters that are invalid on purpose, in file order."""
    return [matter_id for matter_id, result in expected.items() if result["status"] == "invalid"]


def jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_row(result: dict) -> dict:
    result = json.loads(json.dumps(result))
    if result.get("error"):
        result["error"]["row"] = None
    return result


def many(fixture_matters, copies: int) -> list[dict]:
    return [{**m, "id": f"{m['id']}-{i}"} for i in range(copies) for m in fixture_matters]


def write_jsonl(path, matters):
    path.write_text("".join(json.dumps(m, ensure_ascii=False) + "\n" for m in matters), encoding="utf-8")
    return path


# ------------------------------------------------------------------ each input format → the library's answers
@pytest.mark.parametrize("name", ["matters.jsonl", "matters.csv", "matters.xlsx"])
def test_every_input_format_resolves_like_the_library(tmp_path, rulebook, expected, invalid_ids, name):
    out = tmp_path / "out.jsonl"
    summary = run_batch(str(FIXTURES / name), str(out), rules=rulebook, as_of=AS_OF)
    results = jsonl(out)
    assert [r["id"] for r in results] == list(expected)  # rows out = rows in, same order
    assert [without_row(r) for r in results] == [without_row(e) for e in expected.values()]
    first_row = 1 if name.endswith(".jsonl") else 2
    order = list(expected)
    assert {r["id"]: r["error"]["row"] for r in results if r["error"]} == {
        matter_id: order.index(matter_id) + first_row for matter_id in invalid_ids}
    assert summary.rows == summary.written == len(expected) and summary.invalid == len(invalid_ids)
    assert summary.exit_code == 3


def test_gb18030_csv_with_chinese_headers(tmp_path, rulebook):
    out = tmp_path / "out.jsonl"
    summary = run_batch(str(FIXTURES / "matters-gbk.csv"), str(out), rules=rulebook, as_of=AS_OF)
    results = jsonl(out)
    assert summary.encoding == "gb18030" and summary.exit_code == 0
    assert [r["id"] for r in results] == [f"fx-0{n}" for n in range(10, 17)]
    assert results[0]["as_of"] == "2024-08-15" and results[1]["as_of"] == "2024-06-01"  # own date wins over --as-of


def test_every_row_carries_the_rulebook_stamp_and_as_of(tmp_path, rulebook):
    out = tmp_path / "out.jsonl"
    run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=rulebook, as_of=AS_OF)
    for result in jsonl(out):
        assert result["rulebook"]["hash"] == rulebook.hash
        assert result["as_of"] or result["status"] == "invalid"


def test_default_as_of_is_fixed_once_for_the_run(tmp_path, rulebook):
    out = tmp_path / "out.jsonl"
    run_batch(str(FIXTURES / "matters-gbk.csv"), str(out), rules=rulebook, today=lambda: dt.date(2023, 3, 3))
    assert {r["as_of"] for r in jsonl(out)} == {"2024-08-15", "2023-03-03"}


# ------------------------------------------------------------------ output formats
def test_csv_output_carries_input_columns_and_readable_results(tmp_path, rulebook, expected):
    out = tmp_path / "out.csv"
    run_batch(str(FIXTURES / "matters-gbk.csv"), str(out), rules=rulebook, as_of=AS_OF)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel opens it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == ["编号", "标题", "所属区", "来源", "日期", "备注", *RESULT_COLUMNS]
    first = rows[0]
    assert first["编号"] == "fx-010" and first["日期"] == "2024/8/15" and first["备注"] == "夜间反复投诉"  # as read
    assert first["行号"] == "2"
    want = expected["fx-010"]
    assert first["状态代码"] == want["status"] and first["判断状态"] == STATUS_ZH[want["status"]]
    if want["lead"]:
        assert first["牵头部门"] == want["lead"]["name"] and first["牵头部门编码"] == want["lead"]["id"]
    assert first["配合部门"] == "、".join(d["name"] for d in want["assist"])
    assert first["判断说明"] == want["explanation"]
    assert first["规则库哈希"] == want["rulebook"]["hash"] and first["判断日期"] == "2024-08-15"
    escalated = next(r for r in rows if r["编号"] == "fx-011")
    if expected["fx-011"]["escalation"]:
        assert escalated["上报至"].startswith("、".join(d["name"] for d in expected["fx-011"]["escalation"]["to"]))
        assert expected["fx-011"]["escalation"]["cite"] in escalated["依据条款"]


def test_jsonl_input_to_xlsx_output(tmp_path, rulebook, expected):
    out = tmp_path / "out.xlsx"
    run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=rulebook, as_of=AS_OF)
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:9] == ["编号", "标题", "区", "层级", "类别", "审批部门", "来源", "日期", "事实"]
    assert header[9:] == list(RESULT_COLUMNS)
    assert len(rows) - 1 == len(expected)
    by_id = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert by_id["fx-004"]["事实"] == '{"significant_impact": true}'
    assert by_id["fx-003"]["日期"] is None and by_id["fx-003"]["判断日期"] == "2024-06-01"  # input as read
    assert by_id["fx-001"]["日期"] == by_id["fx-001"]["判断日期"] == "2024-09-01"
    assert by_id["fx-051"]["判断状态"] == "无效" and by_id["fx-051"]["状态代码"] == "invalid"
    assert by_id["fx-051"]["错误字段"] == "title"
    assert by_id["fx-051"]["行号"] == "51"


def test_xlsx_input_to_xlsx_output_keeps_the_sheet_columns(tmp_path, rulebook):
    out = tmp_path / "out.xlsx"
    run_batch(str(FIXTURES / "matters.xlsx"), str(out), rules=rulebook, as_of=AS_OF)
    rows = list(load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    source = list(load_workbook(FIXTURES / "matters.xlsx", read_only=True).worksheets[0].iter_rows(values_only=True))
    assert list(rows[0]) == [*source[0], *RESULT_COLUMNS]
    assert [r[0] for r in rows[1:]] == [r[0] for r in source[1:]]


def test_csv_output_read_again_gives_the_same_results(tmp_path, rulebook):
    first, second = tmp_path / "once.csv", tmp_path / "twice.csv"
    run_batch(str(FIXTURES / "matters.csv"), str(first), rules=rulebook, as_of=AS_OF)
    run_batch(str(first), str(second), rules=rulebook, as_of=AS_OF)
    assert first.read_bytes() == second.read_bytes()  # result columns are replaced, never doubled


# ------------------------------------------------------------------ workers
@pytest.mark.parametrize("output", ["out.jsonl", "out.csv"])
def test_two_workers_give_the_same_output_in_the_same_order(tmp_path, rulebook, fixture_matters, output):
    source = write_jsonl(tmp_path / "in.jsonl", many(fixture_matters, 6))  # several chunks per worker
    one, two = tmp_path / f"1-{output}", tmp_path / f"2-{output}"
    s1 = run_batch(str(source), str(one), rules=rulebook, as_of=AS_OF, workers=1)
    s2 = run_batch(str(source), str(two), rules=rulebook, as_of=AS_OF, workers=2)
    assert one.read_bytes() == two.read_bytes()
    assert s1.to_dict()["by_status"] == s2.to_dict()["by_status"] and s1.by_lead == s2.by_lead
    assert s2.workers == 2


def test_workers_load_the_rulebook_from_a_path_too(tmp_path, fixture_matters):
    rules = write_rulebook(tmp_path / "rb", {"assign/a.yaml": """
        stage: assign
        rules:
          - {id: a, title: t, cite: c, when: {category: construction_dust}, lead: zjw}
        """})
    source = write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "title": "x", "category": "construction_dust"}
                                                for i in range(100)])
    out = tmp_path / "out.jsonl"
    summary = run_batch(str(source), str(out), rules=str(rules), workers=2)
    assert summary.by_status == {"resolved": 100}
    assert {r["lead"]["id"] for r in jsonl(out)} == {"sh.zjw"}


# ------------------------------------------------------------------ nothing lost
def test_invalid_rows_keep_their_row_and_the_rest_resolve(tmp_path, rulebook):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "title": "工地扬尘", "category": "construction_dust"}\nnot json\n\n[1]\n'
                      '{"id": "5", "title": "t", "district": "火星区"}\n{"id": "6", "title": "ok"}\n', encoding="utf-8")
    out, errors = tmp_path / "out.jsonl", tmp_path / "bad.jsonl"
    summary = run_batch(str(source), str(out), rules=rulebook, errors=str(errors))
    results = jsonl(out)
    assert [r["status"] == "invalid" for r in results] == [False, True, True, True, False]
    assert [r["error"]["row"] for r in results if r["error"]] == [2, 4, 5]
    assert results[3]["error"]["field"] == "district" and results[1]["id"] is None
    assert errors.read_text(encoding="utf-8").splitlines() == [
        "not json", "[1]", '{"id": "5", "title": "t", "district": "火星区"}']  # as read, to fix and re-run
    assert summary.invalid == 3 and [i["row"] for i in summary.invalid_rows] == [2, 4, 5]
    assert summary.exit_code == 3


def test_errors_file_in_csv_can_be_fixed_and_run_again(tmp_path, rulebook, expected, invalid_ids):
    errors = tmp_path / "bad.csv"
    run_batch(str(FIXTURES / "matters.csv"), str(tmp_path / "out.jsonl"), rules=rulebook, errors=str(errors))
    rows = list(csv.DictReader(io.StringIO(errors.read_text(encoding="utf-8-sig"), newline="")))
    assert [r["id"] for r in rows] == invalid_ids
    assert rows[0]["id"] == "fx-051" and rows[0]["行号"] == str(list(expected).index("fx-051") + 2)
    assert list(rows[0])[-3:] == list(ERROR_COLUMNS) and rows[0]["错误字段"] == "title"
    assert sum("火星区" in r["district"] for r in rows) == 1  # fx-052
    fixed = errors.read_text(encoding="utf-8-sig").replace("火星区", "黄浦区")
    errors.write_text(fixed, encoding="utf-8-sig")
    again = run_batch(str(errors), str(tmp_path / "again.jsonl"), rules=rulebook)
    # the district row is fixed; error columns are not facts
    assert again.rows == len(invalid_ids) and again.invalid == len(invalid_ids) - 1


def test_errors_file_in_xlsx(tmp_path, rulebook, invalid_ids):
    errors = tmp_path / "bad.xlsx"
    run_batch(str(FIXTURES / "matters.xlsx"), str(tmp_path / "out.csv"), rules=rulebook, errors=str(errors))
    rows = list(load_workbook(errors, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][-3:] == ERROR_COLUMNS and [r[0] for r in rows[1:]] == invalid_ids


def test_an_empty_errors_file_replaces_a_stale_one(tmp_path, rulebook):
    errors = tmp_path / "bad.csv"
    errors.write_text("stale\n")
    run_batch(str(FIXTURES / "matters-gbk.csv"), str(tmp_path / "o.jsonl"), rules=rulebook, errors=str(errors))
    assert errors.read_text(encoding="utf-8-sig").splitlines() == [
        ",".join(["编号", "标题", "所属区", "来源", "日期", "备注", *ERROR_COLUMNS])]


def test_a_broken_rulebook_fails_before_anything_is_written(tmp_path):
    rules = write_rulebook(tmp_path / "rb", {"assign/bad.yaml": """
        stage: assign
        rules:
          - {id: a, title: t, cite: c, lead: sthjj}
        """})
    out = tmp_path / "out.jsonl"
    with pytest.raises(RulebookError):
        run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=str(rules))
    assert not out.exists() and not part_path(out).exists()


def test_a_bad_header_fails_before_anything_is_written(tmp_path, rulebook):
    source = tmp_path / "dup.csv"
    source.write_text("编号,标题,事项\n1,a,b\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    with pytest.raises(FormatError):
        run_batch(str(source), str(out), rules=rulebook)
    assert not out.exists() and not part_path(out).exists()


# ------------------------------------------------------------------ summary and progress
def test_summary_counts_and_json(tmp_path, rulebook, expected, invalid_ids):
    summary = run_batch(str(FIXTURES / "matters.jsonl"), str(tmp_path / "o.jsonl"), rules=rulebook, as_of=AS_OF)
    report = json.loads(json.dumps(summary.to_dict(), ensure_ascii=False))
    statuses = [e["status"] for e in expected.values()]
    assert report["by_status"] == {s: statuses.count(s) for s in STATUS_ZH}
    leads = [e["lead"]["id"] for e in expected.values() if e["lead"]]
    assert sum(item["count"] for item in report["by_lead"]) == len(leads)
    assert {item["id"] for item in report["by_lead"]} == set(leads)
    assert report["escalations"]["count"] == sum(1 for e in expected.values() if e["escalation"])
    assert [i["id"] for i in report["invalid_rows"]] == invalid_ids
    assert report["rulebook"]["hash"] == rulebook.hash and report["as_of"] == "2024-06-01"
    assert report["rows"] == report["written"] == len(expected) and report["exit_code"] == 3
    lines = summary.lines()
    assert lines[0].startswith(f"共 {len(expected)} 行") and f"{len(invalid_ids)} 行无效（invalid），其余已判断。" in lines


def test_progress_is_reported_through_a_callback(tmp_path, rulebook, fixture_matters):
    source = write_jsonl(tmp_path / "in.jsonl", many(fixture_matters, 4))
    seen: list[Progress] = []
    run_batch(str(source), str(tmp_path / "o.jsonl"), rules=rulebook, on_progress=seen.append, progress_every=0)
    assert len(seen) >= 3
    rows = 4 * len(fixture_matters)
    assert [p.done for p in seen] == sorted(p.done for p in seen) and seen[-1].done == rows
    assert seen[-1].fraction == 1.0 and seen[-1].eta == 0 and seen[-1].rate > 0
    line = format_progress(seen[-1])
    assert f"已处理 {rows} 行" in line and "100%" in line and "预计剩余 0:00:00" in line


def test_progress_line_without_a_known_size():
    line = format_progress(Progress(done=10, skipped=2, elapsed=1, rate=10, fraction=None, eta=None))
    assert line == "已处理 10 行 · 跳过 2 行 · 10 行/秒"


# ------------------------------------------------------------------ interruption and --resume
def stop_after(chunks: int):
    calls = []

    def on_progress(progress):
        calls.append(progress)
        if len(calls) == chunks:
            raise KeyboardInterrupt
    return on_progress


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("output", ["out.jsonl", "out.csv", "out.xlsx"])
def test_an_interrupted_run_leaves_only_a_part_and_resume_completes_it(tmp_path, rulebook, fixture_matters,
                                                                        workers, output):
    source = write_jsonl(tmp_path / "in.jsonl", many(fixture_matters, 6))
    clean = tmp_path / f"clean-{output}"
    run_batch(str(source), str(clean), rules=rulebook, as_of=AS_OF)
    out = tmp_path / output
    with pytest.raises(BatchInterrupted) as info:
        run_batch(str(source), str(out), rules=rulebook, as_of=AS_OF, workers=workers,
                  on_progress=stop_after(2), progress_every=0)
    assert info.value.exit_code == EXIT_INTERRUPTED and info.value.partial == part_path(out)
    assert not out.exists() and part_path(out).exists()  # never a half-written file that looks complete
    summary = run_batch(str(source), str(out), rules=rulebook, as_of=AS_OF, workers=workers, resume=True)
    rows = 6 * len(fixture_matters)
    assert summary.skipped == info.value.done > 0 and summary.rows == rows
    assert summary.skipped + summary.written == rows and summary.resumed_from == str(part_path(out))
    assert not part_path(out).exists()
    if output.endswith(".xlsx"):
        read = lambda p: list(load_workbook(p, read_only=True).worksheets[0].iter_rows(values_only=True))  # noqa: E731
        assert read(out) == read(clean)
    else:
        assert out.read_bytes() == clean.read_bytes()


def test_resume_after_new_rows_were_added_to_the_input(tmp_path, rulebook, fixture_matters):
    source = write_jsonl(tmp_path / "in.jsonl", fixture_matters[:20])
    out = tmp_path / "out.csv"
    run_batch(str(source), str(out), rules=rulebook, as_of=AS_OF)
    write_jsonl(source, fixture_matters)
    summary = run_batch(str(source), str(out), rules=rulebook, as_of=AS_OF, resume=True)
    assert summary.skipped == 20 and summary.written == len(fixture_matters) - 20
    ids = [r["编号"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline=""))]
    assert ids == [m["id"] for m in fixture_matters]


def test_resume_matches_rows_without_an_id_by_row_number(tmp_path, rulebook):
    source = tmp_path / "in.jsonl"
    source.write_text('{"title": "no id"}\n{"id": "2", "title": "工地扬尘"}\nbroken\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run_batch(str(source), str(out), rules=rulebook)
    again = run_batch(str(source), str(out), rules=rulebook, resume=True)
    assert again.skipped == 3 and again.written == 0 and len(jsonl(out)) == 3


def test_an_interrupted_run_before_any_row_leaves_nothing(tmp_path, rulebook, monkeypatch):
    out = tmp_path / "out.jsonl"

    def interrupt(self, size):
        raise KeyboardInterrupt
        yield  # pragma: no cover
    monkeypatch.setattr("ecorules.batch._Run.chunks", interrupt)
    with pytest.raises(BatchInterrupted) as info:
        run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=rulebook)
    assert info.value.partial is None and not part_path(out).exists() and not out.exists()


def test_summary_lines_point_to_the_errors_file():
    summary = Summary(input="in", input_format="jsonl", encoding=None, output=None, output_format="jsonl",
                      rulebook=RulebookStamp(name="n", version="1", hash="h"), as_of=AS_OF, workers=1,
                      written=12, errors_file="bad.jsonl")
    summary.by_status["invalid"] = 12
    summary.invalid_rows = [{"row": i, "id": None, "field": None, "message": "m"} for i in range(12)]
    assert summary.lines()[-1] == "  …… 另有 2 行，全部见 bad.jsonl"
    assert summary.exit_code == 3


def test_a_row_that_does_not_decode_stops_the_run_and_keeps_the_part(tmp_path, rulebook):
    source = tmp_path / "mixed.csv"
    # more than one read buffer of rows (without a title: invalid, so quick), then a GB18030 row
    head = "".join(f"{i},工地扬尘\r\n" for i in range(8000)).encode("utf-8")
    source.write_bytes("编号,备注\r\n".encode("utf-8") + head + "999,油烟\r\n".encode("gb18030"))
    out = tmp_path / "out.jsonl"
    with pytest.raises(FormatError, match="--encoding"):
        run_batch(str(source), str(out), rules=rulebook, encoding="utf-8")
    assert not out.exists() and part_path(out).exists()


def test_a_bad_errors_file_name_never_removes_a_part_being_resumed(tmp_path, rulebook):
    out = tmp_path / "out.jsonl"
    part_path(out).write_text('{"id": "fx-001"}\n', encoding="utf-8")
    with pytest.raises(FormatError):
        run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=rulebook, resume=True,
                  errors=str(tmp_path / "bad.csv"))
    assert part_path(out).read_text(encoding="utf-8") == '{"id": "fx-001"}\n'


# ------------------------------------------------------------------ spreadsheet columns operators can read
def test_status_in_chinese_with_its_code_category_name_and_reliability(tmp_path, rulebook, expected):
    out = tmp_path / "out.csv"
    run_batch(str(FIXTURES / "matters.jsonl"), str(out), rules=rulebook, as_of=AS_OF)
    rows = {r["编号"]: r for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline=""))}
    for matter_id, want in expected.items():
        row = rows[matter_id]
        assert row["状态代码"] == want["status"] and row["判断状态"] == STATUS_ZH[want["status"]]
        assert row["类别代码"] == (want["category"] or "")
        if want["category"] in rulebook.categories:
            assert row["判定类别"] == rulebook.categories[want["category"]].name
        adopted = [b for b in want["basis"] if b["outcome"] == "adopted" and b["stage"] == "assign"]
        if any(b["provenance"] == "disputed" for b in adopted):
            assert row["结论可靠性"] == "有争议", matter_id
        elif (want["lead"] or {}).get("inferred") or any(b["provenance"] == "inference" for b in adopted):
            assert row["结论可靠性"] == "推定", matter_id
        else:
            assert row["结论可靠性"] == "", matter_id
    assert {r["结论可靠性"] for r in rows.values()} == {"", "推定", "有争议"}  # the fixtures hold all three


def test_warnings_fill_the_notes_column_and_are_counted_by_code(tmp_path, rulebook, monkeypatch):
    from ecorules.model import MatterWarning
    real = Engine.resolve

    def resolve(self, matter):
        result = real(self, matter)
        if result.status != "invalid" and matter.get("id") != "fx-010":
            result.warnings = [MatterWarning(code="W499", message="未给出区，按市级判断"),
                               MatterWarning(code="W498", message="另一条提示")]
        return result
    monkeypatch.setattr(Engine, "resolve", resolve)
    out = tmp_path / "out.csv"
    summary = run_batch(str(FIXTURES / "matters-gbk.csv"), str(out), rules=rulebook, as_of=AS_OF)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    noted = [r for r in rows if r["提示"]]
    assert noted and all(r["提示"] == "W499 未给出区，按市级判断；W498 另一条提示" for r in noted)
    assert summary.warnings == {"W499": len(noted), "W498": len(noted)}
    assert summary.to_dict()["warnings"] == {"W498": len(noted), "W499": len(noted)}
    assert f"提示（按代码）：W498 {len(noted)} 行，W499 {len(noted)} 行；详见结果的“提示”列" in summary.lines()


def test_xlsx_output_has_a_frozen_header_widths_and_an_autofilter(tmp_path, rulebook):
    out = tmp_path / "out.xlsx"
    run_batch(str(FIXTURES / "matters-gbk.csv"), str(out), rules=rulebook, as_of=AS_OF)
    sheet = load_workbook(out).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}8"
    widths = {name: sheet.column_dimensions[sheet.cell(1, i + 1).column_letter].width for i, name in enumerate(header)}
    assert widths["判断说明"] >= 40 and widths["提示"] >= 30 and widths["标题"] >= 30
