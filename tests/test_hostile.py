"""Hostile rulebooks: every case under tests/hostile/rulebook/ goes through the real command line.

Each case directory holds the YAML files of a broken rulebook (a small org file is added) and
`expected.txt`: one `CODE words` line per diagnostic that must appear (the words are part of its
message). What cannot live in git — a FIFO, a 5 MiB file, a thousand files, symlinks — is made by
MAKERS below. Every case must end with exit 1, its codes, no traceback, and quickly: none may hang
or grow memory (the alias bomb used to reach 10 GB, the FIFO used to block forever).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ecorules.files import MAX_FILE_BYTES, MAX_FILES

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "hostile" / "rulebook"
FIXTURES = HERE.parent / "fixtures"
TIMEOUT = 120   # seconds before the run counts as a hang (a normal one takes about one)
QUICK = 30      # seconds a case may take (the slow machine, two cores shared by several test processes)


def _dangling(rules: Path):
    (rules / "dangling.yaml").symlink_to("nowhere.yaml")


def _looping(rules: Path):
    (rules / "loop1.yaml").symlink_to("loop2.yaml")
    (rules / "loop2.yaml").symlink_to("loop1.yaml")


def _fifo(rules: Path):
    os.mkfifo(rules / "pipe.yaml")   # opening it for reading would block until a writer comes: never


def _big(rules: Path):
    (rules / "big.yaml").write_bytes(b"# " + b"x" * MAX_FILE_BYTES + b"\n")


def _many(rules: Path):
    for i in range(MAX_FILES + 1):
        (rules / f"f{i:04}.yaml").write_text("# placeholder\n", encoding="utf-8")


MAKERS = {"dangling-symlink": _dangling, "looping-symlink": _looping, "fifo": _fifo, "big-file": _big,
          "many-files": _many}
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def expected(case: Path) -> list[tuple[str, str]]:
    lines = (case / "expected.txt").read_text(encoding="utf-8").splitlines()
    return [tuple(line.split(" ", 1)) for line in lines if line.strip()]


def build(case: Path, directory: Path) -> Path:
    rules = directory / "rules"
    rules.mkdir(parents=True)
    shutil.copy(CORPUS / "org.yaml", rules / "org.yaml")
    for file in case.iterdir():
        if file.name != "expected.txt":
            shutil.copy(file, rules / file.name)
    if case.name in MAKERS:
        MAKERS[case.name](rules)
    return rules


def run(*args: str, cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "ecorules", *args], cwd=cwd, capture_output=True, text=True,
                            encoding="utf-8", timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    return result, time.monotonic() - started


def assert_refused(result: subprocess.CompletedProcess, elapsed: float, wanted: list[tuple[str, str]]):
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output and "Error:" not in output.split("E1", 1)[0], output
    assert elapsed < QUICK, f"took {elapsed:.1f}s"
    lines = output.splitlines()
    for code, words in wanted:
        assert any(re.search(rf"^\S+:\d+:\d+: {code} ", line) and words in line for line in lines), \
            f"no line with {code} and {words!r} in:\n{output}"
    # several expected lines with the same code and words need as many lines
    for code, words in set(wanted):
        count = sum(1 for line in lines if f": {code} " in line and words in line)
        assert count >= wanted.count((code, words)), output


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_check_refuses_each_hostile_rulebook(case: Path, tmp_path):
    rules = build(case, tmp_path)
    result, elapsed = run("check", "rules", cwd=tmp_path)
    assert_refused(result, elapsed, expected(case))


@pytest.mark.parametrize("name, command", [
    ("alias-bomb", "resolve"), ("alias-bomb", "diff"), ("alias-bomb", "fmt"), ("deep-nesting-flow", "fmt")])
def test_every_command_reading_rule_files_refuses_them(name: str, command: str, tmp_path):
    """`resolve --rules`, `diff` and `fmt` read rule files too: the same limits, the same codes."""
    case = CORPUS / name
    build(case, tmp_path)
    matters = str(FIXTURES / "matters.jsonl")
    args = {"resolve": ["resolve", matters, "--rules", "rules", "-o", str(tmp_path / "out.jsonl"), "--quiet"],
            "diff": ["diff", "rules", "rules", matters], "fmt": ["fmt", "rules"]}[command]
    result, elapsed = run(*args, cwd=tmp_path)
    assert_refused(result, elapsed, expected(case))


def test_fmt_refuses_a_fifo_and_a_dangling_symlink_given_by_name(tmp_path):
    rules = build(CORPUS / "fifo", tmp_path)
    _dangling(rules)
    result, elapsed = run("fmt", "rules/pipe.yaml", "rules/dangling.yaml", cwd=tmp_path)
    assert_refused(result, elapsed, [("E109", "FIFO"), ("E108", "不存在")])


def test_the_corpus_covers_every_file_and_yaml_limit():
    codes = {code for case in CASES for code, _ in expected(case)}
    assert {"E108", "E109", "E112", "E113", "E114", "E115", "E305", "E312", "E313"} <= codes


def test_a_huge_tree_is_not_walked_to_the_end(tmp_path, monkeypatch):
    from ecorules import check_rulebook, files
    rules = build(CORPUS / "no-when", tmp_path)
    for i in range(30):
        (rules / f"note{i}.txt").write_text("x", encoding="utf-8")
    monkeypatch.setattr(files, "MAX_ENTRIES", 20)
    _, diagnostics = check_rulebook(rules)
    assert "E113" in {d.code for d in diagnostics}
