"""The hot path (issue 14), measured in one run: `python -m pytest benchmarks/test_engine_speed.py -s`.

* start-up: `Engine.default()` with the compiled-rulebook cache warm and with it off; `ecorules check rules`
  (a subprocess: interpreter start included);
* single matter: `engine.resolve` timed call by call — one ticket repeated, and the fixture matters in turn —
  p50 / p99;
* batch: `engine.resolve_many` over the 214 fixture matters repeated to 10,000 (13 invalid on purpose);
* the reference: durable_rules' own Python API (a private Host, one recording action per rule) asserting and
  retracting one trivial fact against 195 simple rules — fixed, whatever the rulebook says — and
  **ecorules / reference** (throughput);
* the Host-based reference matcher (`Engine(..., matcher="reference")`, the path before issue 14) on the batch;
* `run_batch` (what `ecorules resolve` does) on 20,000 JSONL rows with `workers=1` and `workers=2`.

Results go to benchmarks/last-run.json; the README's Performance table is written from it.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import pytest
from durable import engine as durable_engine

from ecorules import Engine
from ecorules.batch import run_batch

from conftest import BATCH_SIZE, ROOT

REPORT = ROOT / "benchmarks" / "last-run.json"
REFERENCE_RULES = 195
REFERENCE_FACTS = 20_000
WORKER_ROWS = 20_000
LATENCY_CALLS = 5_000
ONE_MATTER = {"id": "b1", "title": "楼下饭店油烟熏人，晚上排烟很大", "district": "黄浦区"}
TARGETS = {"single_p50_us": 50, "batch_per_second": 15_000, "ecorules_to_reference": 0.5,
           "ecorules_to_reference_stretch": 1.0, "workers2_to_workers1": 1.8, "default_ready_seconds": 0.3,
           "check_wall_seconds": 1.0}
TIMES: dict[str, dict] = {}     # name → {"min": s, "mean": s, "rounds": n} (seconds per whole measurement)
CPU: dict[str, list] = {}       # name → the process's CPU seconds of each round
LATENCY: dict[str, dict] = {}   # name → p50 / p99 / mean in µs
WORKERS_CPU: dict[str, dict] = {}


def record(name: str, benchmark) -> None:
    stats = benchmark.stats.stats
    TIMES[name] = {"min": stats.min, "mean": stats.mean, "rounds": stats.rounds}
    if name in CPU:
        TIMES[name]["cpu_min"] = min(CPU[name])
        TIMES[name]["cpu_mean"] = statistics.fmean(CPU[name])


def on_cpu(name: str, function):
    """`function`, recording the CPU time of each call: on a machine shared with other work, wall time also counts
    the moments the process waited for a core, which fall on one measurement or the other by chance."""
    def timed():
        start = time.process_time()
        try:
            return function()
        finally:
            CPU.setdefault(name, []).append(time.process_time() - start)
    return timed


# ---------------------------------------------------------------- start-up
def test_default_engine_ready_with_the_cache(benchmark):
    Engine.default().close()  # fills the cache if it was empty

    def ready():
        Engine.default().close()
    benchmark.pedantic(ready, rounds=5, iterations=1)
    record("default_ready_cached", benchmark)


def test_default_engine_ready_without_the_cache(benchmark, monkeypatch):
    monkeypatch.setenv("ECORULES_CACHE_DIR", "off")

    def ready():
        Engine.default().close()
    benchmark.pedantic(ready, rounds=3, iterations=1)
    record("default_ready_uncached", benchmark)


def test_check_command_wall(benchmark):
    def check():
        return subprocess.run([sys.executable, "-m", "ecorules", "check", "rules"], cwd=ROOT, capture_output=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode
    check()  # the cache is warm for the timed rounds, as for anyone who checks twice
    assert benchmark.pedantic(check, rounds=3, iterations=1) in (0, 1)
    record("check_command", benchmark)


# ---------------------------------------------------------------- one matter
def _latencies(engine, matters: list[dict]) -> dict:
    for matter in matters[:200]:
        engine.resolve(matter)  # warm: the engine's remembered decisions are part of its steady state
    times = []
    clock = time.perf_counter
    for matter in itertools.islice(itertools.cycle(matters), LATENCY_CALLS):
        start = clock()
        engine.resolve(matter)
        times.append(clock() - start)
    times.sort()
    return {"p50_us": times[len(times) // 2] * 1e6, "p99_us": times[int(len(times) * 0.99)] * 1e6,
            "mean_us": statistics.fmean(times) * 1e6, "calls": len(times)}


def test_single_matter_latency(benchmark, engine, fixture_rows):
    LATENCY["one_ticket"] = _latencies(engine, [ONE_MATTER])
    LATENCY["fixture_matters"] = _latencies(engine, fixture_rows)
    resolution = benchmark(engine.resolve, ONE_MATTER)
    assert resolution.status == "resolved"
    record("single_resolve", benchmark)


# ---------------------------------------------------------------- batches
def test_batch_throughput(benchmark, engine, batch):
    """Results consumed as they come, as `ecorules resolve` does (each is written, then dropped)."""
    seen = []

    def stream():
        seen.clear()
        for resolution in engine.resolve_many(batch):
            seen.append(resolution.id)
    benchmark.pedantic(on_cpu("ecorules_batch", stream), rounds=5, iterations=1)
    assert seen == [m.get("id") for m in batch]
    record("ecorules_batch", benchmark)


def test_batch_throughput_results_kept(benchmark, engine, batch):
    """The same batch with every Resolution kept in a list: 10,000 results alive make Python's cyclic garbage
    collector walk them again and again (≈ 6 µs a matter here), a cost of the caller's choice to keep them."""
    results = benchmark.pedantic(on_cpu("ecorules_batch_kept", lambda: list(engine.resolve_many(batch))), rounds=5,
                                 iterations=1)
    assert [r.id for r in results] == [m.get("id") for m in batch]
    record("ecorules_batch_kept", benchmark)


def test_batch_on_the_reference_matcher(benchmark, engine, batch):
    """The same batch through durable's Python Host (the path before issue 14); same answers."""
    with Engine(engine.rulebook, matcher="reference") as reference:
        results = benchmark.pedantic(on_cpu("reference_matcher_batch", lambda: list(reference.resolve_many(batch))),
                                     rounds=2, iterations=1)
        assert [r.model_dump_json() for r in results[:500]] == \
            [r.model_dump_json() for r in engine.resolve_many(batch[:500])]
    record("reference_matcher_batch", benchmark)


class _QuietHost(durable_engine.Host):
    def _run(self):  # no dispatch timers, as ecorules' own reference matcher
        pass


def test_reference_durable_python_api(benchmark):
    """The fixed yardstick: one trivial fact (fires one rule) asserted and retracted against 195 simple rules."""
    fired = []
    rules = {f"r{i}": {"all": [{"m": {"$and": [{"_m": 1}, {"k": i}]}}],
                       "run": (lambda name: lambda c: fired.append(name))(f"r{i}")} for i in range(REFERENCE_RULES)}
    host = _QuietHost()
    host.register_rulesets({"reference": rules})
    ids = itertools.count(1)

    def run():
        for _ in range(REFERENCE_FACTS):
            fact_id = next(ids)
            host.assert_fact("reference", {"id": fact_id, "sid": "0", "_m": 1, "k": 7})
            host.retract_fact("reference", {"id": fact_id, "sid": "0"})
    benchmark.pedantic(on_cpu("reference", run), rounds=5, iterations=1)
    assert fired and set(fired) == {"r7"}
    record("reference", benchmark)
    for ruleset in host._ruleset_list:
        durable_engine.durable_rules_engine.delete_ruleset(ruleset._handle)


@pytest.fixture(scope="module")
def rows_file(tmp_path_factory, fixture_rows):
    path = tmp_path_factory.mktemp("workers") / "rows.jsonl"
    rows = [{**fixture_rows[i % len(fixture_rows)], "id": f"w{i:05d}"} for i in range(WORKER_ROWS)]
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_run_batch_workers(benchmark, rows_file, tmp_path, workers):
    out = tmp_path / f"out{workers}.jsonl"

    cpu = {"parent": [], "workers": []}

    def run():
        if out.exists():
            out.unlink()
        before = os.times()
        summary = run_batch(str(rows_file), str(out), workers=workers, as_of=dt.date(2025, 6, 1))
        after = os.times()
        cpu["parent"].append(after.user - before.user + after.system - before.system)
        cpu["workers"].append(after.children_user - before.children_user + after.children_system - before.children_system)
        return summary
    summary = benchmark.pedantic(run, rounds=3, iterations=1)
    assert summary.written == WORKER_ROWS
    record(f"run_batch_workers_{workers}", benchmark)
    # CPU spent per row, in the parent and in the workers: the cost of parallelism, whatever the machine's load
    WORKERS_CPU[f"workers_{workers}"] = {k: min(v) / WORKER_ROWS * 1e6 for k, v in cpu.items()}


# ---------------------------------------------------------------- the report
def _ratios(pick: str) -> dict:
    t = {name: value.get(pick, value["min" if pick.endswith("min") else "mean"]) for name, value in TIMES.items()}
    per_second = {"ecorules_batch": BATCH_SIZE / t["ecorules_batch"],
                  "ecorules_batch_kept": BATCH_SIZE / t["ecorules_batch_kept"],
                  "reference_matcher_batch": BATCH_SIZE / t["reference_matcher_batch"],
                  "reference": REFERENCE_FACTS / t["reference"],
                  "run_batch_workers_1": WORKER_ROWS / t["run_batch_workers_1"],
                  "run_batch_workers_2": WORKER_ROWS / t["run_batch_workers_2"]}
    return {"per_second": per_second,
            "ecorules_to_reference": per_second["ecorules_batch"] / per_second["reference"],
            "ecorules_kept_to_reference": per_second["ecorules_batch_kept"] / per_second["reference"],
            # both keep their results (the Host-matcher run checks its answers against the direct one's)
            "direct_to_reference_matcher": per_second["ecorules_batch_kept"] / per_second["reference_matcher_batch"],
            "workers2_to_workers1": per_second["run_batch_workers_2"] / per_second["run_batch_workers_1"]}


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    wanted = {"default_ready_cached", "default_ready_uncached", "check_command", "single_resolve", "ecorules_batch",
              "ecorules_batch_kept",
              "reference_matcher_batch", "reference", "run_batch_workers_1", "run_batch_workers_2"}
    if not wanted <= TIMES.keys():
        return  # a partial run (-k) does not overwrite the report
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "rulebook": _rulebook_shape(),
        "batch_size": BATCH_SIZE, "reference_facts": REFERENCE_FACTS, "worker_rows": WORKER_ROWS,
        "seconds": TIMES,
        "latency": LATENCY,
        "fastest_round": _ratios("min"),
        "mean_of_rounds": _ratios("mean"),
        # the same on the process's CPU time (batch and reference; worker runs stay on the clock)
        "fastest_round_cpu": _ratios("cpu_min"),
        "workers_cpu_us_per_row": WORKERS_CPU,
        "targets": TARGETS,
    }
    REPORT.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    best, cpu = result["fastest_round"], result["fastest_round_cpu"]
    print("\necorules / reference = %.2f on the clock, %.2f on CPU (%.0f vs %.0f per second on CPU); direct / Host "
          "matcher = %.2f; workers 2 / 1 = %.2f; one ticket p50 %.1f µs p99 %.1f µs" % (
              best["ecorules_to_reference"], cpu["ecorules_to_reference"], cpu["per_second"]["ecorules_batch"],
              cpu["per_second"]["reference"], cpu["direct_to_reference_matcher"], best["workers2_to_workers1"],
              LATENCY["one_ticket"]["p50_us"], LATENCY["one_ticket"]["p99_us"]))


def _rulebook_shape() -> dict:
    with Engine.default() as engine:
        stages = engine.rulebook.compiled.stages
        return {"rules": len(engine.rulebook.rules),
                "stages": {name: {"compiled_rules": len(stage.rules), "rulesets": len(stage.rulesets),
                                  "rulesets_when_features_allow": len(stage.merged) or len(stage.rulesets),
                                  "text_features": len(stage.features.features)} for name, stage in stages.items()}}
