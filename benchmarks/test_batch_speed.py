"""Batch throughput of `ecorules resolve`: --workers 2 against --workers 1, and the command line against the
library's `Engine.resolve_many`, all on the same 20,000 rows (the fixture matters cycled, distinct ids).

The command line runs as a real subprocess (JSONL file in, JSONL file out), so its time includes starting
Python and loading the rulebook (≈ 1.5–2 s); `cli_startup` (the same command on an empty file) measures that
fixed cost and the "steady" throughputs subtract it. Ratios are computed in the same run and written to
benchmarks/last-batch-run.json; the README quotes them. They use each benchmark's fastest round as well as
its mean: on a shared machine other processes only ever slow a round down, so the minimum is the better
estimate of what the code can do, and the mean shows the noise. Targets from the issue: workers 2 /
workers 1 ≥ 1.6 on a 2-core machine; CLI (1 worker) / library ≥ 0.7. Like every benchmark here, nothing
fails on a time: the tests assert that rows out = rows in and that both worker counts agree.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from conftest import ROOT

AS_OF = "2024-06-01"
ROWS = 20_000
MEANS: dict[str, float] = {}
MINS: dict[str, float] = {}
REPORT = ROOT / "benchmarks" / "last-batch-run.json"


@pytest.fixture(scope="module")
def matters() -> list[dict]:
    lines = (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    fixtures = [json.loads(line) for line in lines if line.strip()]
    return [{**fixtures[i % len(fixtures)], "id": f"b{i:05d}"} for i in range(ROWS)]


@pytest.fixture(scope="module")
def rows(matters) -> list[dict]:
    """The rows as the command line will see them: --as-of applied to rows without a date."""
    return [{**row, "as_of": row.get("as_of") or AS_OF} for row in matters]


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory, matters):
    path = tmp_path_factory.mktemp("batch") / "rows.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in matters), encoding="utf-8")
    return path


def record(name: str, benchmark) -> None:
    MEANS[name] = benchmark.stats.stats.mean
    MINS[name] = benchmark.stats.stats.min


def ratios(times: dict[str, float]) -> dict:
    startup = times["cli_startup"]
    end_to_end = {name: ROWS / times[name] for name in ("library_resolve_many", "cli_workers_1", "cli_workers_2")}
    steady = {name: ROWS / (times[name] - startup) for name in ("cli_workers_1", "cli_workers_2")}
    steady["library_resolve_many"] = end_to_end["library_resolve_many"]
    return {
        "seconds": times,
        "rows_per_second_end_to_end": end_to_end,
        "rows_per_second_steady": steady,
        "workers2_to_workers1": end_to_end["cli_workers_2"] / end_to_end["cli_workers_1"],
        "workers2_to_workers1_steady": steady["cli_workers_2"] / steady["cli_workers_1"],
        "cli_to_library": end_to_end["cli_workers_1"] / end_to_end["library_resolve_many"],
        "cli_to_library_steady": steady["cli_workers_1"] / steady["library_resolve_many"],
    }


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    wanted = {"library_resolve_many", "cli_startup", "cli_workers_1", "cli_workers_2"}
    if not wanted <= MEANS.keys():
        return
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "rows": ROWS,
        "fastest_round": ratios(MINS),
        "mean_of_rounds": ratios(MEANS),
        "targets": {"workers2_to_workers1": 1.6, "cli_to_library": 0.7},
    }
    REPORT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    best, mean = result["fastest_round"], result["mean_of_rounds"]
    print("\nworkers 2 / workers 1 = %.2f end to end, %.2f steady (means: %.2f, %.2f); "
          "CLI / library = %.2f end to end, %.2f steady (means: %.2f, %.2f)" % (
              best["workers2_to_workers1"], best["workers2_to_workers1_steady"], mean["workers2_to_workers1"],
              mean["workers2_to_workers1_steady"], best["cli_to_library"], best["cli_to_library_steady"],
              mean["cli_to_library"], mean["cli_to_library_steady"]))


def cli(source, output, workers: int) -> int:
    """`ecorules resolve` as an operator runs it; returns the rows written."""
    completed = subprocess.run(
        [sys.executable, "-m", "ecorules", "resolve", str(source), "-o", str(output), "--workers", str(workers),
         "--as-of", AS_OF, "--quiet"],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT, capture_output=True)
    assert completed.returncode in (0, 3), completed.stderr.decode()  # the fixtures hold invalid rows on purpose
    with open(output, "rb") as f:
        return sum(1 for _ in f)


def test_library_resolve_many(benchmark, engine, rows):
    results = benchmark.pedantic(lambda: list(engine.resolve_many(rows)), rounds=3, iterations=1)
    assert [r.id for r in results] == [row["id"] for row in rows]
    record("library_resolve_many", benchmark)


def test_cli_startup(benchmark, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    written = benchmark.pedantic(cli, args=(empty, tmp_path / "out.jsonl", 1), rounds=3, iterations=1)
    assert written == 0
    record("cli_startup", benchmark)


@pytest.mark.parametrize("workers", [1, 2])
def test_cli_workers(benchmark, rows_file, tmp_path, workers):
    written = benchmark.pedantic(cli, args=(rows_file, tmp_path / "out.jsonl", workers), rounds=3, iterations=1)
    assert written == ROWS
    record(f"cli_workers_{workers}", benchmark)


def test_workers_give_identical_output(rows_file, tmp_path):
    one, two = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    cli(rows_file, one, 1)
    cli(rows_file, two, 2)
    assert one.read_bytes() == two.read_bytes()
