"""Load time, single-matter latency, batch throughput — and the floor: durable_rules alone.

The floor asserts and retracts exactly the facts the engine builds, against the same compiled
rulesets, on a bare Host whose actions only record rule names. ecorules/floor is reported in the
README; no test here fails on a time.
"""
from __future__ import annotations

import copy

from durable import engine as durable_engine

from ecorules import Engine
from ecorules.engine import _PrivateHost
from ecorules.rulebook import load_rulebook

from conftest import BATCH_SIZE, ROOT, record


def test_load_and_compile(benchmark):
    def load():
        engine = Engine.from_directory(ROOT / "rules")
        engine.close()
        return engine.rulebook
    rulebook = benchmark.pedantic(load, rounds=5, iterations=1)
    assert len(rulebook.rules) > 0
    record("load_compile", benchmark)


def test_single_matter_latency(benchmark, engine):
    matter = {"id": "b1", "title": "楼下饭店油烟熏人，晚上排烟很大", "district": "黄浦区"}
    resolution = benchmark(engine.resolve, matter)
    assert resolution.status in ("resolved", "conflict", "unassigned")
    record("single_resolve", benchmark)


def test_batch_throughput(benchmark, engine, batch):
    results = benchmark.pedantic(lambda: list(engine.resolve_many(batch)), rounds=3, iterations=1)
    assert len(results) == BATCH_SIZE
    assert [r.id for r in results] == [m.get("id") for m in batch]
    record("ecorules_batch", benchmark)


def _captured_facts(engine, batch) -> list[tuple[str, dict]]:
    """Every (stage, fact) the engine hands to durable for the batch, copied as asserted."""
    captured = []
    original = engine._matcher.match

    def spy(stage, fact):
        captured.append((stage, copy.deepcopy(fact)))
        return original(stage, fact)
    engine._resolver.match = spy
    try:
        list(engine.resolve_many(batch))
    finally:
        engine._resolver.match = original
    return captured


def test_durable_floor(benchmark, engine, batch):
    """durable_rules alone: same compiled rulesets, same facts, assert + retract, names recorded."""
    facts = _captured_facts(engine, batch)
    definitions = copy.deepcopy(load_rulebook(ROOT / "rules").compiled.definitions())
    fired = []
    for ruleset in definitions.values():
        for name, rule in ruleset.items():
            rule["run"] = (lambda n: lambda c: fired.append(n))(name)
    host = _PrivateHost()
    host.register_rulesets(definitions)
    stage_rulesets = {}
    for name in definitions:
        stage_rulesets.setdefault(name.rstrip("0123456789"), []).append(name)
    counter = iter(range(1, 10**9))

    def floor():
        fired.clear()
        for stage, fact in facts:
            for ruleset in stage_rulesets.get(stage, ()):
                fact["id"], fact["sid"] = next(counter), "0"
                try:
                    host.assert_fact(ruleset, fact)
                except durable_engine.MessageNotHandledException:
                    pass
                host.retract_fact(ruleset, {"id": fact["id"], "sid": "0"})
        return len(fired)
    benchmark.pedantic(floor, rounds=3, iterations=1)
    assert len(facts) >= BATCH_SIZE  # at least one stage per matter reached durable
    record("durable_floor", benchmark)
    for ruleset in host._ruleset_list:
        durable_engine.durable_rules_engine.delete_ruleset(ruleset._handle)
