"""Benchmarks share one engine and the fixtures repeated to 10,000 matters.

Ratios are computed from means measured in the same run and written to benchmarks/last-run.json
(the machines are shared and noisy, so absolute numbers mean little; ratios travel better).
"""
from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest

from ecorules import Engine

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 10_000
MEANS: dict[str, float] = {}


@pytest.fixture(scope="session")
def engine():
    with Engine.from_directory(ROOT / "rules") as engine:
        yield engine


@pytest.fixture(scope="session")
def batch() -> list[dict]:
    rows = [json.loads(line) for line in (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    repeated = (rows * (BATCH_SIZE // len(rows) + 1))[:BATCH_SIZE]
    # distinct ids, so the batch looks like a real backlog
    return [{**row, "id": f"{row.get('id', 'x')}-{i}"} if "id" in row else row for i, row in enumerate(repeated)]


def record(name: str, benchmark) -> None:
    MEANS[name] = benchmark.stats.stats.mean


def pytest_sessionfinish(session, exitstatus):
    if "ecorules_batch" not in MEANS or "durable_floor" not in MEANS:
        return
    report = {
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
        "batch_size": BATCH_SIZE,
        "means_seconds": MEANS,
        "throughput_per_second": {k: BATCH_SIZE / v for k, v in MEANS.items() if k in ("ecorules_batch", "durable_floor")},
        "ratio_ecorules_to_floor": MEANS["durable_floor"] / MEANS["ecorules_batch"],
    }
    (ROOT / "benchmarks" / "last-run.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print("\nthroughput ratio ecorules / durable floor = %.2f" % report["ratio_ecorules_to_floor"])
