"""The command line: exit codes, stdout/stderr, no tracebacks without --debug."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from ecorules.cli import main

from conftest import FIXTURES, ROOT, RULES, write_rulebook

BROKEN = {"assign/bad.yaml": """
stage: assign
rules:
  - {id: a, title: t, cite: c, when: {category: construction_dust}, lead: sthjj}
"""}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture(scope="module")
def fixture_invalid(default_engine, fixture_matters) -> list[str]:
    """Ids of the fixture matters that are invalid on purpose, in file order (as the library says)."""
    return [r.id for r in default_engine.resolve_many(fixture_matters) if r.status == "invalid"]


def test_resolve_jsonl_to_stdout(runner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "title": "工地扬尘", "district": "黄浦区", "category": "construction_dust"}\n'
                      '\n{"id": "2", "title": "工地扬尘", "category": "construction_dust"}\n', encoding="utf-8")
    result = runner.invoke(main, ["resolve", str(source)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2"]
    assert rows[0]["lead"]["id"] == "huangpu.zjw" and rows[1]["lead"]["id"] == "sh.zjw"
    assert all(r["rulebook"]["hash"] for r in rows)


def test_resolve_bad_rows_exit_3_and_keep_every_row(runner, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "1", "title": "工地扬尘"}\nnot json\n[1, 2]\n{"id": "4"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(main, ["resolve", str(source), "-o", str(out)])
    assert result.exit_code == 3
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == ["unassigned", "invalid", "invalid", "invalid"] or \
        [r["status"] for r in rows][1:] == ["invalid", "invalid", "invalid"]
    assert "第 2 行" in rows[1]["error"]["message"]
    assert "3 行无效" in result.stderr


def test_resolve_from_stdin(runner):
    result = runner.invoke(main, ["resolve", "-"], input='{"id": "s", "title": "工地扬尘", "category": "construction_dust"}\n')
    assert result.exit_code == 0
    assert json.loads(result.stdout)["lead"]["id"] == "sh.zjw"


def test_broken_rulebook_exit_1_without_traceback(runner, tmp_path):
    rules = write_rulebook(tmp_path / "rb", BROKEN)
    result = runner.invoke(main, ["resolve", "-", "--rules", str(rules)], input="")
    assert result.exit_code == 1
    assert "E201" in result.stderr and "Did you mean 'sthj'" in result.stderr
    assert "Traceback" not in result.output


def test_debug_shows_the_exception(runner, tmp_path):
    rules = write_rulebook(tmp_path / "rb", BROKEN)
    result = runner.invoke(main, ["--debug", "resolve", "-", "--rules", str(rules)], input="")
    assert result.exit_code != 0
    assert result.exception is not None and type(result.exception).__name__ == "RulebookError"


def test_check_clean_shipped_rulebook(runner):
    result = runner.invoke(main, ["check", str(RULES)])
    assert result.exit_code == 0, result.output
    # no errors; the warnings left are the sources no shipped statute text can check (W241)
    assert "OK" in result.stdout or result.stdout.splitlines()[-1].startswith("0 error(s)")


def test_check_reports_every_problem_and_exits_1(runner, tmp_path):
    rules = write_rulebook(tmp_path / "rb", {**BROKEN, "assign/more.yaml": """
stage: assign
rules:
  - {id: b, title: t, cite: c, when: {catgory: x}, lead: zjw}
"""})
    result = runner.invoke(main, ["check", str(rules)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(":3:" in line and "E201" in line for line in lines)
    assert any("E202" in line and "Did you mean 'category'" in line for line in lines)
    assert "2 error(s)" in lines[-1]


def test_check_json_format(runner, tmp_path):
    rules = write_rulebook(tmp_path / "rb", BROKEN)
    result = runner.invoke(main, ["check", str(rules), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 1 and report["diagnostics"][0]["code"] == "E201"
    assert report["diagnostics"][0]["line"] == 3


def test_check_strict_turns_warnings_into_failure(runner, tmp_path):
    rules = write_rulebook(tmp_path / "rb", {"assign/w.yaml": """
stage: assign
rules:
  - {id: w, title: t, cite: c, when: always, lead: $approved_by}
"""})
    assert runner.invoke(main, ["check", str(rules)]).exit_code == 0
    strict = runner.invoke(main, ["check", str(rules), "--strict"])
    assert strict.exit_code == 1 and "W301" in strict.stdout


def test_check_missing_directory(runner, tmp_path):
    result = runner.invoke(main, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "E100" in result.stdout


def test_explain_in_chinese_with_citations(runner):
    result = runner.invoke(main, ["explain", "--title", "工地扬尘", "--district", "黄浦区",
                                  "--category", "construction_dust", "--why-not", "sthj"])
    assert result.exit_code == 0, result.output
    assert "牵头部门：上海市黄浦区建设和管理委员会（huangpu.zjw）" in result.stdout
    assert "《上海市大气污染防治条例》" in result.stdout
    assert "为何不是黄浦区生态环境局" in result.stdout


def test_explain_from_file_and_english(runner, tmp_path):
    matter = tmp_path / "m.json"
    matter.write_text(json.dumps({"id": "f1", "title": "工地扬尘", "category": "construction_dust"}), encoding="utf-8")
    result = runner.invoke(main, ["explain", "--file", str(matter), "--lang", "en"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Matter f1: lead found")


def test_explain_needs_a_matter(runner):
    result = runner.invoke(main, ["explain"])
    assert result.exit_code == 1 and "--title" in result.output  # usage errors exit 1 (README)


def test_explain_invalid_matter_exit_1(runner):
    result = runner.invoke(main, ["explain", "--title", "x", "--district", "火星区"])
    assert result.exit_code == 1 and "未知的区" in result.stdout


def test_explain_facts_are_typed(runner):
    result = runner.invoke(main, ["explain", "--title", "工地扬尘", "--category", "construction_dust",
                                  "--fact", "suspected_crime=true", "--json"])
    assert result.exit_code == 0
    assert any(t["to"]["role"] == "gaj" for t in json.loads(result.stdout)["transfers"])


@pytest.mark.parametrize("which", ["matter", "resolution", "rulebook", "all"])
def test_schema(runner, which):
    result = runner.invoke(main, ["schema", which])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    if which == "all":
        assert set(schema) == {"matter", "resolution", "rulebook"}
    else:
        assert schema["type"] == "object" if which != "rulebook" else len(schema["anyOf"]) == 8


def test_rule_tests_command(runner):
    result = runner.invoke(main, ["test", str(RULES)])
    assert result.exit_code == 0, result.stdout[-2000:]
    assert "0 失败" in result.stdout.splitlines()[-1]


def test_version_and_help(runner):
    assert runner.invoke(main, ["--version"]).exit_code == 0
    help_text = runner.invoke(main, ["--help"]).stdout
    for command in ("resolve", "check", "explain", "schema", "test"):
        assert command in help_text


# ------------------------------------------------------------------ resolve: formats, options, exit codes
def test_resolve_csv_in_csv_out_with_summary_file(runner, tmp_path, fixture_matters, fixture_invalid):
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = runner.invoke(main, ["resolve", str(FIXTURES / "matters.csv"), "-o", str(out), "--as-of", "2024-06-01",
                                  "--summary", str(summary)])
    assert result.exit_code == 3  # some fixture rows are invalid on purpose
    assert result.stdout == "" and out.read_bytes().startswith(b"\xef\xbb\xbf")
    report = json.loads(summary.read_text(encoding="utf-8"))
    rows, invalid = len(fixture_matters), len(fixture_invalid)
    assert report["rows"] == rows and report["by_status"]["invalid"] == invalid and report["exit_code"] == 3
    assert report["input"]["format"] == "csv" and report["output"]["format"] == "csv"
    first = fixture_invalid[0]
    line = [m["id"] for m in fixture_matters].index(first) + 2  # CSV: the header is line 1
    assert f"共 {rows} 行" in result.stderr and f"{invalid} 行无效" in result.stderr
    assert f"第 {line} 行 {first}" in result.stderr


def test_resolve_gbk_csv_to_stdout_exit_0(runner):
    result = runner.invoke(main, ["resolve", str(FIXTURES / "matters-gbk.csv"), "--as-of", "2024-06-01", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows][:2] == ["fx-010", "fx-011"] and result.stderr == ""


def test_resolve_xlsx_in_xlsx_out_with_two_workers(runner, tmp_path):
    out = tmp_path / "out.xlsx"
    result = runner.invoke(main, ["resolve", str(FIXTURES / "matters.xlsx"), "-o", str(out), "--workers", "2",
                                  "--errors", str(tmp_path / "bad.xlsx"), "-q"])
    assert result.exit_code == 3 and out.exists() and (tmp_path / "bad.xlsx").exists()


def test_resolve_format_option_and_input_format_for_stdin(runner):
    result = runner.invoke(main, ["resolve", "-", "--input-format", "csv", "--format", "csv", "-q"],
                           input="编号,标题,类别\nc1,工地扬尘,construction_dust\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("编号,标题,类别,行号,判断状态") and lines[1].startswith("c1,工地扬尘,construction_dust,2,")


@pytest.mark.parametrize("args, message", [
    (["resolve", "in.txt"], "--input-format"),
    (["resolve", "missing.jsonl"], "无法打开"),
    (["resolve", "-", "--format", "xml"], "xml"),
    (["resolve", "-", "--format", "xlsx"], "标准输出"),
    (["resolve", "-", "--resume"], "--resume"),
    (["resolve", "-", "--encoding", "klingon"], "未知的编码"),
])
def test_resolve_usage_errors_exit_1(runner, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.txt").write_text("x")
    result = runner.invoke(main, args, input="")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    if message:
        assert message in result.output


def test_resolve_resume_and_errors_via_the_command(runner, tmp_path, fixture_invalid):
    source = tmp_path / "in.jsonl"
    lines = (FIXTURES / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    source.write_text("\n".join(lines[:10]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert runner.invoke(main, ["resolve", str(source), "-o", str(out), "-q"]).exit_code == 0
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(main, ["resolve", str(source), "-o", str(out), "--resume", "--errors",
                                  str(tmp_path / "bad.jsonl")])
    assert result.exit_code == 3
    assert "续跑：10 行已在" in result.stderr
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == \
        [json.loads(line).get("id") for line in lines]
    skipped = {json.loads(line).get("id") for line in lines[:10]}
    assert len((tmp_path / "bad.jsonl").read_text(encoding="utf-8").splitlines()) == \
        len([i for i in fixture_invalid if i not in skipped])


def _cli(*args):
    return [sys.executable, "-m", "ecorules", *args]


@pytest.mark.parametrize("workers, signum", [("1", signal.SIGTERM), ("2", signal.SIGINT)])
def test_resolve_interrupted_then_resumed(tmp_path, workers, signum):
    """A real interruption: the input is a pipe left open, so the run is certainly mid-way when signalled."""
    lines = (FIXTURES / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    matters = [{**json.loads(line), "id": f"{json.loads(line)['id']}-{i}"} for i in range(8) for line in lines]
    text = "".join(json.dumps(m, ensure_ascii=False) + "\n" for m in matters)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(_cli("resolve", "-", "-o", str(out), "--workers", workers, "--as-of", "2024-06-01"),
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    part = tmp_path / "out.jsonl.part"
    try:
        half = text.splitlines(keepends=True)[:200]
        process.stdin.write("".join(half).encode("utf-8"))
        process.stdin.flush()
        deadline = time.monotonic() + 60
        while (not part.exists() or part.stat().st_size == 0) and time.monotonic() < deadline:
            time.sleep(0.1)  # results are written as they come, though the input is still open
        assert part.exists() and part.stat().st_size > 0
        process.send_signal(signum)
        # the input stays open until the process has exited: closing it here would race the signal with an EOF
        # (a run that reaches the end of its input first finishes normally, and the test would not test interruption)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass   # still running: the assertions below report how it ended once its input is closed
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr.decode()
    assert "--resume" in stderr.decode() and "Traceback" not in stderr.decode()
    assert part.exists() and not out.exists()
    kept = part.read_text(encoding="utf-8").splitlines()
    assert 0 < len(kept) <= 200 and all(json.loads(line) for line in kept)

    source = tmp_path / "in.jsonl"
    source.write_text(text, encoding="utf-8")
    again = subprocess.run(_cli("resolve", str(source), "-o", str(out), "--workers", workers, "--as-of", "2024-06-01",
                                "--resume", "-q"), capture_output=True, env=env, cwd=ROOT, timeout=300)
    assert again.returncode == 3, again.stderr.decode()  # the fixtures hold invalid rows on purpose
    clean = tmp_path / "clean.jsonl"
    subprocess.run(_cli("resolve", str(source), "-o", str(clean), "--as-of", "2024-06-01", "-q"), env=env, cwd=ROOT,
                   timeout=300)
    assert out.read_bytes() == clean.read_bytes() and not part.exists()


def test_explain_a_row_of_a_batch_file_by_id_or_row_number(runner):
    by_id = runner.invoke(main, ["explain", "--file", str(FIXTURES / "matters.xlsx"), "--row", "fx-012"])
    assert by_id.exit_code == 0 and by_id.stdout.startswith("事项 fx-012：")
    by_number = runner.invoke(main, ["explain", "--file", str(FIXTURES / "matters.csv"), "--row", "3"])
    assert by_number.exit_code == 0 and by_number.stdout.startswith("事项 fx-002：")  # CSV row 3 = second matter
    invalid = runner.invoke(main, ["explain", "--file", str(FIXTURES / "matters.jsonl"), "--row", "fx-051"])
    assert invalid.exit_code == 1 and "fx-051" in invalid.stdout  # an invalid row is explained, exit 1
    missing = runner.invoke(main, ["explain", "--file", str(FIXTURES / "matters.csv"), "--row", "nope"])
    assert missing.exit_code == 1 and "没有编号或行号为 nope 的事项" in missing.output  # a usage error: 1


def test_fmt_on_a_missing_path_is_e100(runner, tmp_path):
    result = runner.invoke(main, ["fmt", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "E100" in result.output and "Traceback" not in result.output
