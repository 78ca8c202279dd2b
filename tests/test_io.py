"""Readers and writers: JSONL, CSV (UTF-8 ± BOM, GB18030), XLSX — both ways, row numbers, aliases, .part files."""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from ecorules.io import (ALIASES, ERROR_COLUMNS, JSONL_COLUMNS, RESULT_COLUMNS, FormatError, format_of, open_reader,
                        part_path)
from ecorules.io.columns import cell_text, column_target, iso_date
from ecorules.io.writers import open_errors_writer, open_writer

from conftest import FIXTURES


def rows_of(path, **kwargs):
    with open_reader(str(path), **kwargs) as reader:
        return reader, list(reader)


def write_csv(path, rows, encoding="utf-8", bom=False):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def write_xlsx(path, rows, title=None):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# ------------------------------------------------------------------ choosing a format
@pytest.mark.parametrize("name, fmt", [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv"),
                                       ("a.xlsx", "xlsx"), ("a.XLSM", "xlsx")])
def test_format_from_extension(name, fmt):
    assert format_of(name, None) == fmt


def test_format_given_wins_and_unknown_extension_is_refused():
    assert format_of("a.txt", "csv") == "csv"
    assert format_of("-", None, default="jsonl") == "jsonl"
    with pytest.raises(FormatError) as info:
        format_of("a.txt", None)
    assert "--input-format" in str(info.value)


# ------------------------------------------------------------------ JSONL
def test_jsonl_rows_carry_line_numbers_and_bad_lines_are_rows(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "title": "t"}\n\n  \nnot json\n[1]\n{"id": 7, "title": "u"}', encoding="utf-8")
    reader, rows = rows_of(source)
    assert [r.number for r in rows] == [1, 4, 5, 6]
    assert rows[0].matter == {"id": "1", "title": "t"} and rows[0].line == '{"id": "1", "title": "t"}'
    assert rows[1].matter is None and "第 4 行不是有效的 JSON" in rows[1].error
    assert rows[2].matter is None and "应为 JSON 对象" in rows[2].error
    assert rows[3].id == "7" and rows[3].key == ("id", "7")
    assert reader.columns is None and reader.format == "jsonl"


def test_jsonl_with_bom_and_in_gb18030(tmp_path):
    line = '{"id": "g", "title": "工地扬尘"}\n'
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(codecs.BOM_UTF8 + line.encode("utf-8"))
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(line.encode("gb18030"))
    for path, encoding in ((bom, "utf-8-sig"), (gbk, "gb18030")):
        reader, rows = rows_of(path)
        assert rows[0].matter == {"id": "g", "title": "工地扬尘"} and reader.encoding == encoding


def test_jsonl_fixture_reads_every_row(fixture_matters):
    _, rows = rows_of(FIXTURES / "matters.jsonl")
    assert [r.matter for r in rows] == fixture_matters


# ------------------------------------------------------------------ CSV
def test_csv_fixture_with_field_name_headers(fixture_matters):
    reader, rows = rows_of(FIXTURES / "matters.csv")
    assert reader.format == "csv" and reader.encoding == "utf-8-sig"
    assert [r.number for r in rows] == list(range(2, 2 + len(fixture_matters)))  # header = row 1
    by_id = {r.id: r.matter for r in rows}
    fx004 = by_id["fx-004"]
    assert fx004["facts"] == {"significant_impact": "true"}  # cells are text; the engine converts
    assert "title" not in by_id["fx-051"]  # empty cell = absent
    for matter in fixture_matters:
        got = by_id[matter["id"]]
        for field in ("title", "district", "level", "category", "approved_by", "source", "as_of"):
            assert got.get(field) == matter.get(field), (matter["id"], field)


def test_gb18030_csv_with_chinese_headers_is_detected():
    reader, rows = rows_of(FIXTURES / "matters-gbk.csv")
    assert reader.encoding == "gb18030"
    assert reader.columns == ["编号", "标题", "所属区", "来源", "日期", "备注"]
    first = rows[0]
    assert first.number == 2
    assert first.matter == {"id": "fx-010", "title": "南京东路附近饭店油烟熏人，窗户都不敢开", "district": "黄浦区",
                            "source": "12345", "as_of": "2024-08-15", "facts": {"备注": "夜间反复投诉"}}
    assert "as_of" not in rows[1].matter and "facts" not in rows[1].matter


def test_gb18030_given_explicitly_and_gbk_is_read_as_gb18030():
    for given in ("gb18030", "GBK", "gb2312"):
        reader, rows = rows_of(FIXTURES / "matters-gbk.csv", encoding=given)
        assert reader.encoding == "gb18030" and rows[0].matter["title"].startswith("南京东路")


def test_utf8_bom_csv_as_excel_saves_it(tmp_path):
    path = write_csv(tmp_path / "bom.csv", [["编号", "标题"], ["1", "工地扬尘"]], bom=True)
    reader, rows = rows_of(path)
    assert reader.columns == ["编号", "标题"]  # the BOM is not part of the first header
    assert rows[0].matter == {"id": "1", "title": "工地扬尘"}


def test_gbk_after_a_long_ascii_prefix_is_still_detected(tmp_path):
    lines = [["id", "title"]] + [[str(i), "x" * 100] for i in range(12_000)] + [["last", "最后一行"]]
    path = write_csv(tmp_path / "late.csv", lines, encoding="gb18030")
    assert path.stat().st_size > 1 << 20
    reader, rows = rows_of(path)
    assert reader.encoding == "gb18030" and rows[-1].matter["title"] == "最后一行"


def test_wrong_encoding_given_is_a_format_error_naming_the_row(tmp_path):
    path = write_csv(tmp_path / "g.csv", [["id", "title"], ["1", "工地扬尘"]], encoding="gb18030")
    with pytest.raises(FormatError) as info:
        rows_of(path, encoding="utf-8")
    assert "utf-8" in str(info.value) and "--encoding" in str(info.value)


def test_unknown_encoding_name():
    with pytest.raises(FormatError, match="未知的编码"):
        rows_of(FIXTURES / "matters.csv", encoding="klingon")


def test_aliases_facts_columns_and_reserved_columns(tmp_path):
    path = write_csv(tmp_path / "a.csv", [
        ["工单编号", "事项名称", "区县", "层级", "事项类别", "审批机关", "渠道", "受理日期", "事实", "facts.suspected_crime",
         "噪声分贝", "判断状态", ""],
        ["T1", "工地扬尘", "黄浦", "区级", "construction_dust", "市生态环境局", "12345", "2024年9月1日",
         '{"public_interest": true}', "是", "75", "resolved", "ignored"],
    ])
    _, rows = rows_of(path)
    assert rows[0].matter == {
        "id": "T1", "title": "工地扬尘", "district": "黄浦", "level": "district", "category": "construction_dust",
        "approved_by": "市生态环境局", "source": "12345", "as_of": "2024-09-01",
        "facts": {"public_interest": True, "suspected_crime": "是", "噪声分贝": "75"}}
    assert rows[0].cells[-1] == "ignored"  # a column without a header is carried, not read


def test_every_documented_alias_maps_to_its_field():
    for field, aliases in ALIASES.items():
        for alias in (field, field.upper(), field.replace("_", " "), *aliases):
            expected = ("facts", None) if field == "facts" else ("field", field)
            assert column_target(alias) == expected, alias
    assert column_target("Approved-By") == ("field", "approved_by")
    assert column_target("标题*") == ("field", "title")  # a template's required-column marker
    assert column_target("事实.significant_impact") == ("fact", "significant_impact")
    for reserved in RESULT_COLUMNS:
        assert column_target(reserved) is None


def test_two_columns_for_one_field_is_refused(tmp_path):
    path = write_csv(tmp_path / "dup.csv", [["编号", "区", "所属区", "标题"], ["1", "黄浦", "黄浦", "t"]])
    with pytest.raises(FormatError) as info:
        rows_of(path)
    assert "'区'" in str(info.value) and "'所属区'" in str(info.value)


def test_header_below_a_title_row_and_blank_rows_keep_excel_row_numbers(tmp_path):
    path = write_csv(tmp_path / "t.csv", [["2024年积压事项清单"], [], ["编号", "标题"], ["1", "a"], [], ["2", "b"],
                                          ["", ""]])
    reader, rows = rows_of(path)
    assert reader.columns == ["编号", "标题"]
    assert [(r.number, r.id) for r in rows] == [(4, "1"), (6, "2")]


def test_cells_beyond_the_header_make_the_row_invalid_not_shifted(tmp_path):
    path = write_csv(tmp_path / "shift.csv", [["编号", "标题", "区"], ["1", "工地扬尘", "噪声", "黄浦区"], ["2", "ok", ""]])
    _, rows = rows_of(path)
    assert rows[0].matter is None and rows[0].id == "1" and "多出 1 个" in rows[0].error and "黄浦区" in rows[0].error
    assert rows[1].matter == {"id": "2", "title": "ok"}


def test_bad_facts_json_cell_is_a_row_error(tmp_path):
    path = write_csv(tmp_path / "f.csv", [["id", "title", "facts"], ["1", "t", "[1, 2]"]])
    _, rows = rows_of(path)
    assert rows[0].matter is None and "JSON 对象" in rows[0].error and rows[0].key == ("id", "1")


def test_tab_separated_utf16_as_excel_unicode_text(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + "编号\t标题\r\n1\t工地扬尘\r\n".encode("utf-16-le"))
    reader, rows = rows_of(path)
    assert reader.encoding == "utf-16" and rows[0].matter == {"id": "1", "title": "工地扬尘"}


@pytest.mark.parametrize("text, iso", [("2024/9/1", "2024-09-01"), ("2024-09-01", "2024-09-01"),
                                       ("2024.9.1", "2024-09-01"), ("2024年9月1日", "2024-09-01"),
                                       ("2024-09-01 00:00:00", "2024-09-01"), ("2024/13/45", "2024/13/45"),
                                       ("next week", "next week")])
def test_iso_date(text, iso):
    assert iso_date(text) == iso


def test_empty_file_has_no_rows(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    reader, rows = rows_of(path)
    assert rows == [] and reader.columns == []


# ------------------------------------------------------------------ XLSX
def test_xlsx_fixture_with_chinese_headers(fixture_matters):
    reader, rows = rows_of(FIXTURES / "matters.xlsx")
    assert reader.format == "xlsx" and reader.columns[:8] == JSONL_COLUMNS[:8]
    assert [r.number for r in rows] == list(range(2, 2 + len(fixture_matters)))
    by_id = {r.id: r.matter for r in rows}
    for matter in fixture_matters:
        got = by_id[matter["id"]]
        for field in ("title", "district", "level", "category", "approved_by", "source", "as_of"):
            assert got.get(field) == matter.get(field), (matter["id"], field)
        assert got.get("facts", {}) == {k: cell_text(v) for k, v in matter.get("facts", {}).items()}


def test_xlsx_typed_cells_become_text_and_a_sheet_can_be_chosen(tmp_path):
    path = tmp_path / "typed.xlsx"
    book = Workbook()
    book.active.append(["ignored"])
    sheet = book.create_sheet("工单")
    sheet.append(["台账"])
    sheet.append(["编号", "标题", "日期", "涉嫌犯罪", "面积"])
    sheet.append([20240001, "工地扬尘", dt.datetime(2024, 9, 1), True, 12.5])
    book.save(path)
    reader, rows = rows_of(path, sheet="工单")
    assert rows[0].number == 3
    assert rows[0].matter == {"id": "20240001", "title": "工地扬尘", "as_of": "2024-09-01",
                              "facts": {"涉嫌犯罪": "true", "面积": "12.5"}}
    with pytest.raises(FormatError, match="没有名为"):
        open_reader(str(path), sheet="nope")


def test_xlsx_not_a_workbook(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_text("not a zip")
    with pytest.raises(FormatError, match="XLSX"):
        open_reader(str(path))


@pytest.mark.parametrize("value, text", [(None, ""), (12, "12"), (12.0, "12"), (0.5, "0.5"), (True, "true"),
                                         (dt.datetime(2024, 1, 2), "2024-01-02"),
                                         (dt.datetime(2024, 1, 2, 3, 4), "2024-01-02 03:04:00"),
                                         (dt.date(2024, 1, 2), "2024-01-02")])
def test_cell_text(value, text):
    assert cell_text(value) == text


# ------------------------------------------------------------------ writers
CELLS = [str(i) for i in range(len(RESULT_COLUMNS))]


def test_jsonl_writer_writes_part_then_renames(tmp_path):
    out = tmp_path / "out.jsonl"
    writer = open_writer(str(out), "jsonl", None)
    writer.write(None, '{"id":"1"}')
    writer.flush()
    assert part_path(out).read_text() == '{"id":"1"}\n' and not out.exists()
    assert writer.commit() == out
    assert out.read_text() == '{"id":"1"}\n' and not part_path(out).exists()


def test_csv_writer_has_bom_crlf_and_reads_back(tmp_path):
    out = tmp_path / "out.csv"
    writer = open_writer(str(out), "csv", ["编号", "标题"])
    writer.write(["1", "工地扬尘，夜间"], CELLS)
    writer.commit()
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8) and b"\r\n" in data
    header, row = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert header == ["编号", "标题", *RESULT_COLUMNS] and row == ["1", "工地扬尘，夜间", *CELLS]
    reader, rows = rows_of(out)  # an output is a valid input: its result columns are not read
    assert rows[0].matter == {"id": "1", "title": "工地扬尘，夜间"} and reader.columns == ["编号", "标题"]


def test_xlsx_writer_readable_columns_and_text_never_formulas(tmp_path):
    out = tmp_path / "out.xlsx"
    writer = open_writer(str(out), "xlsx", ["编号", "标题"])
    writer.write(["1", "=HYPERLINK(\"http://x\")"], ["2", "bad\x01char", *CELLS[2:]])
    writer.commit()
    book = load_workbook(out)
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == ["编号", "标题", *RESULT_COLUMNS]
    assert sheet[1][0].font.bold and sheet.freeze_panes == "A2"
    assert sheet["B2"].value == '=HYPERLINK("http://x")' and sheet["B2"].data_type == "s"
    assert sheet["D2"].value == "badchar"
    headers = [c.value for c in sheet[1]]
    explanation = sheet.column_dimensions[chr(ord("A") + headers.index("判断说明"))].width
    assert explanation >= 40


def test_xlsx_cannot_go_to_stdout():
    with pytest.raises(FormatError, match="标准输出"):
        open_writer("-", "xlsx", [])


def test_abort_keeps_the_part_and_discard_removes_it(tmp_path):
    out = tmp_path / "out.csv"
    writer = open_writer(str(out), "csv", ["编号"])
    writer.write(["1"], CELLS)
    assert writer.abort() == part_path(out) and part_path(out).exists() and not out.exists()
    writer = open_writer(str(out), "csv", ["编号"])
    writer.discard()
    assert not part_path(out).exists()


def test_jsonl_resume_drops_a_cut_off_last_line(tmp_path):
    out = tmp_path / "out.jsonl"
    part_path(out).write_bytes(b'{"id":"a"}\n{"id":null,"error":{"row":4}}\n{"id":"c","sta')
    writer = open_writer(str(out), "jsonl", None, resume=True)
    assert writer.done.keys == {("id", "a"), ("row", 4)} and writer.done.rows == 2
    writer.write(None, '{"id":"c"}')
    writer.commit()
    assert out.read_text().splitlines() == ['{"id":"a"}', '{"id":null,"error":{"row":4}}', '{"id":"c"}']


def test_csv_resume_from_a_complete_output_and_from_a_cut_off_part(tmp_path):
    out = tmp_path / "out.csv"
    writer = open_writer(str(out), "csv", ["编号", "标题"])
    writer.write(["1", "多行\n标题"], CELLS)
    writer.write(["", "无编号"], ["7", *CELLS[1:]])
    writer.commit()
    resumed = open_writer(str(out), "csv", ["编号", "标题"], resume=True)
    assert resumed.done.keys == {("id", "1"), ("row", 7)}
    resumed.write(["2", "b"], CELLS)
    resumed.abort()
    assert out.exists() and part_path(out).exists()  # the complete file stays until the new one is
    with open(part_path(out), "ab") as f:
        f.write('3,"半行'.encode())
    again = open_writer(str(out), "csv", ["编号", "标题"], resume=True)
    assert again.done.keys == {("id", "1"), ("row", 7), ("id", "2")}
    again.commit()
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert [r[0] for r in rows[1:]] == ["1", "", "2"] and rows[1][1] == "多行\n标题"


def test_csv_resume_refuses_different_columns(tmp_path):
    out = tmp_path / "out.csv"
    open_writer(str(out), "csv", ["编号"]).commit()
    with pytest.raises(FormatError, match="列与本次不同"):
        open_writer(str(out), "csv", ["编号", "标题"], resume=True)


def test_xlsx_resume_copies_existing_rows(tmp_path):
    out = tmp_path / "out.xlsx"
    writer = open_writer(str(out), "xlsx", ["编号"])
    writer.write(["1"], CELLS)
    writer.abort()  # a stopped XLSX run still saves a readable .part
    resumed = open_writer(str(out), "xlsx", ["编号"], resume=True)
    assert resumed.done.keys == {("id", "1")}
    resumed.write(["2"], CELLS)
    resumed.commit()
    values = [[c for c in row] for row in load_workbook(out).worksheets[0].iter_rows(values_only=True)]
    assert [v[0] for v in values] == ["编号", "1", "2"]
    assert not part_path(out).exists() and not (tmp_path / "out.xlsx.part.prev").exists()


def test_resume_needs_a_file():
    with pytest.raises(FormatError, match="--resume"):
        open_writer("-", "jsonl", None, resume=True)


def test_errors_writer_uses_the_input_format(tmp_path):
    with open_reader(str(FIXTURES / "matters-gbk.csv")) as reader:
        with pytest.raises(FormatError, match="扩展名"):
            open_errors_writer(str(tmp_path / "bad.jsonl"), reader)
        writer = open_errors_writer(str(tmp_path / "bad.csv"), reader)
        writer.write(["1", "t", "", "", "", ""], ["2", "缺少必填字段", "title"])
        writer.commit()
    header = (tmp_path / "bad.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    assert header == ["编号", "标题", "所属区", "来源", "日期", "备注", *ERROR_COLUMNS]
    _, rows = rows_of(tmp_path / "bad.csv")  # the error columns are not read back as facts
    assert rows[0].matter == {"id": "1", "title": "t"}


def test_stdin_jsonl_is_the_default(monkeypatch):
    class Stdin:
        buffer = io.BytesIO('{"id": "s", "title": "标准输入"}\n'.encode("utf-8"))
    monkeypatch.setattr("sys.stdin", Stdin())
    reader, rows = rows_of("-")
    assert reader.format == "jsonl" and rows[0].matter["title"] == "标准输入"
    assert json.dumps(rows[0].matter, ensure_ascii=False)


def test_a_fact_given_twice_in_one_row_is_an_error(tmp_path):
    path = write_csv(tmp_path / "f.csv", [["id", "title", "事实", "suspected_crime"],
                                          ["1", "t", '{"suspected_crime": true}', "否"]])
    _, rows = rows_of(path)
    assert rows[0].matter is None and "suspected_crime" in rows[0].error


@pytest.mark.parametrize("name", ["big.csv", "big.jsonl"])
def test_readers_stream_in_constant_memory(tmp_path, name):
    """Regression: encoding detection once held the whole file in memory (a 1,000,000-row run peaked at 196 MB)."""
    import tracemalloc
    path = tmp_path / name
    row = "x" * 90
    with open(path, "w", encoding="utf-8") as f:
        if name.endswith(".csv"):
            f.write("id,title\n" + "".join(f"{i},{row}\n" for i in range(85_000)))
        else:
            f.write("".join(f'{{"id": "{i}", "title": "{row}"}}\n' for i in range(70_000)))
    assert path.stat().st_size > 7 << 20
    tracemalloc.start()
    try:
        with open_reader(str(path)) as reader:
            count = sum(1 for _ in reader)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count >= 70_000
    assert peak < 4 << 20, f"peak {peak / 2**20:.1f} MiB while reading a {path.stat().st_size / 2**20:.0f} MiB file"


def test_rows_are_never_written_twice_when_a_write_is_interrupted(tmp_path):
    out = tmp_path / "out.jsonl"
    writer = open_writer(str(out), "jsonl", None)
    writer.write(None, '{"id":"1"}')
    real = writer._write

    def interrupted(text):
        real(text)
        raise KeyboardInterrupt  # e.g. Ctrl-C right after the data reached the file
    writer._write = interrupted
    with pytest.raises(KeyboardInterrupt):
        writer.flush()
    writer._write = real
    writer.abort()
    assert part_path(out).read_text() == '{"id":"1"}\n'
