"""The README is tested: its quick start, its examples, its error-code table, its commands."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from click.testing import CliRunner

from ecorules.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_quick_start_has_exactly_two_commands():
    blocks = re.findall(r"```sh\n(.*?)```", section("Quick start"), re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    assert "ecorules resolve fixtures/" in commands[0]
    assert commands[1].endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    test_command = re.findall(r"```sh\n(.*?)```", section("Quick start"), re.S)[1].strip()
    # .ci/run runs the same command with its virtual environment in a fresh temporary directory
    in_ci = re.sub(r"\.venv(/bin/\w+)?", lambda m: f'"$work/.venv{m.group(1) or ""}"', test_command)
    assert in_ci in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_error_code_is_documented_and_every_documented_code_exists():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "ecorules").glob("*.py"))
    emitted = set(re.findall(r'"([EW]\d{3})"', source))
    documented = set(re.findall(r"^\| ([EW]\d{3}) \|", section("Diagnostics (error codes)"), re.M))
    assert emitted == documented


def test_every_command_is_documented_and_has_help():
    runner = CliRunner()
    for name in main.commands:
        assert f"`ecorules {name}" in README, name
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0 and result.stdout.strip()


def test_every_command_has_an_example_that_is_checked():
    examples = re.findall(r"```console\n\$ ecorules (\S+)", README)
    assert set(main.commands) <= set(examples), set(main.commands) - set(examples)


def test_console_examples_run_as_shown():
    examples = re.findall(r"```console\n(.*?)```", README, re.S)
    assert examples
    runner = CliRunner()
    for example in examples:
        lines = example.strip("\n").splitlines()
        command, expected = lines[0], lines[1:]
        assert command.startswith("$ ecorules ")
        result = runner.invoke(main, shlex.split(command[len("$ ecorules "):]))
        assert result.exit_code == 0, result.output
        actual = result.stdout.splitlines()
        for want, got in zip(expected, actual):
            if want.endswith("…"):
                assert got.startswith(want[:-1]), (want, got)
            else:
                assert got == want
        assert len(actual) >= len(expected)


def test_rulebook_format_doc_names_every_condition_test():
    from ecorules.compiler import TESTS
    doc = (ROOT / "docs" / "rulebook-format.md").read_text(encoding="utf-8")
    for test in TESTS:
        assert test in doc


def test_quick_start_states_the_true_number_of_invalid_sample_rows(default_engine, fixture_matters):
    stated = int(re.search(r"deliberately holds (\d+) invalid rows", section("Quick start")).group(1))
    assert stated == sum(r.status == "invalid" for r in default_engine.resolve_many(fixture_matters))
