"""The public responsibility list: every category, decided by the engine, rendered as Markdown, HTML and XLSX."""
from __future__ import annotations

import datetime as dt

import openpyxl
import pytest
from click.testing import CliRunner

from ecorules.cli import main
from ecorules.publish import (COLUMNS, PublishError, build_list, render_html, render_markdown, row_cells,
                              write_list)

DAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def huangpu(default_engine):
    return build_list(default_engine, "黄浦区", DAY)


def test_every_category_is_a_row_decided_by_the_engine(default_engine, huangpu):
    assert [row.category for row in huangpu.rows] == list(default_engine.rulebook.categories)
    for row in huangpu.rows:
        r = default_engine.resolve({"id": "x", "title": row.name, "category": row.category, "district": "huangpu",
                                    "as_of": DAY.isoformat()})
        assert row.status == r.status
        assert (row.lead.id if row.lead else None) == (r.lead.id if r.lead else None)
        assert [d.id for d in row.assist] == [d.id for d in r.assist]


def test_inferred_and_disputed_rows_are_marked(default_engine, huangpu):
    rules = {rule.id: rule for rule in default_engine.rulebook.rules}
    for row in huangpu.rows:
        provenances = {rules[rule].provenance for rule in row.rules}
        if "disputed" in provenances:
            assert row.reliability == "disputed"
        elif "inference" in provenances or (row.lead and row.lead.inferred):
            assert row.reliability == "inference"
        else:
            assert row.reliability is None
    assert {"inference", "disputed"} <= {row.reliability for row in build_list(default_engine, "sh", DAY).rows}


def test_markdown_html_and_xlsx_carry_the_same_rows(huangpu, tmp_path):
    md = render_markdown(huangpu)
    assert md.startswith("# 黄浦区生态环境保护具体事项责任清单\n")
    html = render_html(huangpu)
    assert "@media print" in html and "<link" not in html   # standalone: styles inline, nothing fetched
    target = write_list(huangpu, tmp_path / "list.xlsx", "xlsx")
    book = openpyxl.load_workbook(target)
    sheet = book["责任清单"]
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    for i, row in enumerate(huangpu.rows, start=2):
        cells = row_cells(row)
        assert [c.value or "" for c in sheet[i]] == cells
        assert "| " + cells[2] + " |" in md
        assert cells[2] in html
    assert "说明" in book.sheetnames


def test_unknown_jurisdiction_suggests(default_engine):
    with pytest.raises(PublishError) as caught:
        build_list(default_engine, "huangpuu", DAY)
    assert "huangpu" in caught.value.suggestion


def test_publish_command_files_and_all(tmp_path):
    runner = CliRunner()
    out = tmp_path / "黄浦.html"
    result = runner.invoke(main, ["publish", "--jurisdiction", "huangpu", "--as-of", "2025-06-01", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text(encoding="utf-8").startswith("<!doctype html>")
    result = runner.invoke(main, ["publish", "--all", "--format", "xlsx", "--as-of", "2025-06-01",
                                  "-o", str(tmp_path / "all")])
    assert result.exit_code == 0
    files = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert len(files) == 17 and "sh-责任清单.xlsx" in files and "huangpu-责任清单.xlsx" in files


@pytest.mark.parametrize("args", [["publish"], ["publish", "--jurisdiction", "sh", "--all", "-o", "x"],
                                  ["publish", "--all"], ["publish", "--jurisdiction", "sh", "--format", "xlsx"],
                                  ["publish", "--jurisdiction", "火星区"], ["publish", "--jurisdiction", "sh",
                                                                            "--format", "pdf"]])
def test_publish_usage_errors_exit_1(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
