"""The README is tested: its quick start, its examples, its error-code table, its commands."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
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


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every ```console block."""
    examples = []
    for example in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = example.strip("\n").splitlines()
        examples.append((lines[0], lines[1:]))
    return examples


def assert_output(expected: list[str], actual: list[str]):
    """Line by line; a line ending in … matches any line it begins."""
    for want, got in zip(expected, actual):
        if want.endswith("…"):
            assert got.startswith(want[:-1]), (want, got)
        else:
            assert got == want
    assert len(actual) >= len(expected), (expected, actual)


def test_console_examples_run_as_shown():
    examples = [(c, e) for c, e in console_examples() if not c.startswith(("$ ecorules serve", "$ curl "))]
    assert examples
    runner = CliRunner()
    for command, expected in examples:
        assert command.startswith("$ ecorules "), command
        result = runner.invoke(main, shlex.split(command[len("$ ecorules "):]))
        assert result.exit_code == 0, result.output
        assert_output(expected, result.stdout.splitlines())


def _curl(argv: list[str], base_url: str) -> str:
    """Run a README curl command against base_url: the real curl when installed, else the same request by httpx
    (the subset the README uses: -s, -H, -d, the URL)."""
    url = next(a for a in argv if a.startswith(("localhost:", "http://localhost:")))
    target = base_url + url.split(":8080", 1)[1]
    argv = [target if a == url else a for a in argv]
    if shutil.which("curl"):
        return subprocess.run(["curl", *argv], capture_output=True, text=True, timeout=60, check=True).stdout
    import httpx
    headers, data, args = {}, None, iter(argv)
    for arg in args:
        if arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(args).encode("utf-8")
        else:
            assert arg in ("-s", target), f"the README uses a curl option this test cannot replay: {arg}"
    assert target.isascii(), "curl sends a non-ASCII URL raw, and the server refuses it: percent-encode it"
    response = httpx.request("POST" if data is not None else "GET", target, headers=headers, content=data, timeout=60)
    return response.text


def test_service_examples_run_as_shown(tmp_path):
    """The README's `ecorules serve` example runs as the real process; its curl examples are called against it."""
    from serving import Served, free_port
    examples = console_examples()
    serve = [(c, e) for c, e in examples if c.startswith("$ ecorules serve")]
    curls = [(c, e) for c, e in examples if c.startswith("$ curl ")]
    assert len(serve) == 1 and curls
    (command, expected_log), = serve
    port = free_port()
    args = [str(port) if a == "8080" else a for a in shlex.split(command[len("$ ecorules serve "):])]
    assert str(port) in args, "the serve example names --port 8080"
    server = Served(tmp_path, *args, port=port)
    try:
        server.wait_ready()
        for command, expected in curls:
            output = _curl(shlex.split(command[len("$ curl "):]), server.url)
            assert_output(expected, output.splitlines())
        log = server.log().splitlines()
        for want in expected_log:  # each shown line matches a later log line; … stands for anything
            pattern = ".*".join(re.escape(part) for part in want.replace("8080", str(port)).split("…"))
            while log and not re.fullmatch(pattern, log[0]):
                log.pop(0)
            assert log, f"no log line like {want!r} in:\n{server.log()}"
    finally:
        server.stop()


def test_every_service_error_code_and_endpoint_is_documented():
    from ecorules.web.app import ERROR_CODES, create_app
    service = section("As a service")
    for code, status in ERROR_CODES.items():
        assert f"| {status} | `{code}` |" in service, code
    paths = {route.path for route in create_app().routes if route.path.startswith(("/v1", "/healthz", "/readyz"))}
    for path in paths:
        shown = path.replace("{name}", "{matter\\|resolution\\|rulebook}")
        assert f" {shown}` |" in service, path


def test_rulebook_format_doc_names_every_condition_test():
    from ecorules.compiler import TESTS
    doc = (ROOT / "docs" / "rulebook-format.md").read_text(encoding="utf-8")
    for test in TESTS:
        assert test in doc


def test_quick_start_states_the_true_number_of_invalid_sample_rows(default_engine, fixture_matters):
    stated = int(re.search(r"deliberately holds (\d+) invalid rows", section("Quick start")).group(1))
    assert stated == sum(r.status == "invalid" for r in default_engine.resolve_many(fixture_matters))


def test_rules_readme_says_how_each_article_of_the_policy_is_applied():
    """Issue 10: rules/README.md lists each article （一）…（二十一） with how the rulebook applies it, and every rule it
    names exists."""
    from ecorules.citations import cn_numeral
    from ecorules.rulebook import load_rulebook
    text = (ROOT / "rules" / "README.md").read_text(encoding="utf-8")
    table = text.split("## 实施意见各条款的适用", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| （")]
    assert [row.split("|")[1].strip() for row in rows] == [f"（{cn_numeral(n)}）" for n in range(1, 22)]
    assert all(row.rstrip(" |").rsplit("|", 1)[1].strip() in ("适用", "不属规则事项") or "部分适用" in row for row in rows)
    ids = set(load_rulebook(ROOT / "rules").versions)
    named = set(re.findall(r"（((?:route|oversight|justice|gov|eco|waste|water|cls|principle)\.[a-z0-9.\-]+[a-z0-9])",
                           table.replace("、", "（")))
    assert len(named) > 20 and named - {"principle.sector"} <= ids, named - ids   # principle.sector.* names a family


def test_the_architecture_table_names_every_module():
    """The README's architecture section matches the code: every module and subpackage of ecorules/ is in it."""
    section = README.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    package = Path(__file__).resolve().parents[1] / "ecorules"
    named = set(re.findall(r"`([a-z_]+/?)`", section))
    modules = {p.stem for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    packages = {f"{p.name}/" for p in package.iterdir() if (p / "__init__.py").exists()}
    assert modules | packages <= named, sorted((modules | packages) - named)
