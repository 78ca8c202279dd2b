"""Benchmarks share one engine and the fixtures repeated to 10,000 matters.

`test_engine_speed.py` measures, in one run, everything issue 14 asks for and writes it to
benchmarks/last-run.json: start-up, single-matter latency (p50 / p99), batch throughput, a fixed reference
(durable_rules' own Python API asserting one trivial fact against 195 simple rules) and the ratio of ecorules to
it, the Host-based reference matcher on the same batch (the path ecorules took before the direct matcher), and
`--workers 2` against `--workers 1`. The machines are shared and noisy, so absolute numbers mean little: ratios
are taken within the run, from each measurement's fastest round (other work only ever slows a round down) and
from the means. Nothing here fails on a time.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ecorules import Engine

ROOT = Path(__file__).resolve().parent.parent
BATCH_SIZE = 10_000


@pytest.fixture(scope="session")
def engine():
    with Engine.from_directory(ROOT / "rules") as engine:
        yield engine


@pytest.fixture(scope="session")
def fixture_rows() -> list[dict]:
    return [json.loads(line) for line in (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]


@pytest.fixture(scope="session")
def batch(fixture_rows) -> list[dict]:
    repeated = (fixture_rows * (BATCH_SIZE // len(fixture_rows) + 1))[:BATCH_SIZE]
    # distinct ids, so the batch looks like a real backlog
    return [{**row, "id": f"{row.get('id', 'x')}-{i}"} if "id" in row else row for i, row in enumerate(repeated)]
