"""Properties of the SHIPPED rulebook (rules/), checked with hypothesis.

The rulebook is being written while these tests are written, so nothing here names a rule, a category
or a fact kind: everything is read from the loaded rulebook at run time (categories, field kinds, the
literals the rules compare facts with, the org graph).
"""
from __future__ import annotations

import concurrent.futures
import json
import random
import shutil
import threading

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, RULES

STATUSES = {"resolved", "conflict", "unassigned", "out_of_scope", "invalid"}
KEYWORDS = ["油烟", "扬尘", "噪音", "工地", "河道", "垃圾", "渣土", "夜间施工", "偷排", "黑臭", "异味", "焚烧"]
FILLER = ["楼下", "饭店", "附近", "严重", "反映", "市民", "投诉", "的", "有", "，", "小区", "路口", "x", "12"]
FACTS = ("suspected_crime", "public_interest", "obstruction", "land_type", "noise_source", "caught_on_road")
AS_OF = [None, None, "2015-06-01", "2019-01-01", "2024-12-31"]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------ what the loaded rulebook offers
def _literals(when, found: dict):
    """field → the literals rules compare it with (plain values, `in` lists, `not` values)."""
    if not isinstance(when, dict):
        return
    for key, test in when.items():
        if key in ("any", "all") and isinstance(test, list):
            for item in test:
                _literals(item, found)
        elif key == "not":
            _literals(test, found)
        else:
            _test_literals(key, test, found)


def _test_literals(key, test, found):
    if isinstance(test, dict):
        for op, arg in test.items():
            if op == "in" and isinstance(arg, list):
                found.setdefault(key, set()).update(v for v in arg if isinstance(v, (str, int, float, bool)))
            elif op == "not":
                _test_literals(key, arg, found)
    elif isinstance(test, (str, int, float, bool)):
        found.setdefault(key, set()).add(test)


class Universe:
    """Strategies built from one loaded engine."""

    def __init__(self, engine):
        rulebook = engine.rulebook
        self.engine = engine
        self.org = rulebook.org
        self.kinds = rulebook.compiled.field_kinds
        self.literals: dict = {}
        for rule in rulebook.rules:
            _literals(rule.when, self.literals)
        self.categories = sorted(rulebook.categories) or sorted(
            str(v) for v in self.literals.get("category", ()))
        self.districts = []
        for code, spec in sorted(self.org.districts.items()):
            self.districts += [code, spec.name, spec.short_name]
        self.sources = sorted(str(v) for v in self.literals.get("source", ())) + ["12345", "一网统管"]

    def fact_values(self, name: str):
        kind = self.kinds.get(f"facts.{name}")
        seen = sorted(self.literals.get(f"facts.{name}", ()), key=repr)
        if kind == "bool":
            return st.booleans()
        if kind == "num":
            return st.one_of(st.sampled_from([v for v in seen if isinstance(v, (int, float))] or [0]),
                             st.integers(-5, 100))
        if kind == "str":
            return st.sampled_from([str(v) for v in seen] + ["其他"])
        return st.one_of(st.booleans(), st.sampled_from(["是", "其他"]))

    def matters(self):
        titles = st.lists(st.sampled_from(KEYWORDS + FILLER), min_size=1, max_size=8).map("".join)
        facts = st.fixed_dictionaries({}, optional={name: self.fact_values(name) for name in FACTS})
        return st.fixed_dictionaries(
            {"id": st.just("m"), "title": titles},
            optional={"district": st.sampled_from(self.districts),
                      "category": st.sampled_from(self.categories) if self.categories else st.nothing(),
                      "source": st.sampled_from(self.sources),
                      "as_of": st.sampled_from([d for d in AS_OF if d]),
                      "facts": facts})


@pytest.fixture(scope="module")
def universe(default_engine) -> Universe:
    return Universe(default_engine)


# ------------------------------------------------------------------ (a) well-formed resolutions
def check_resolution(universe: Universe, matter: dict, resolution):
    graph = universe.org.graph
    department = universe.org.department
    assert resolution.status in STATUSES
    assert resolution.status != "invalid", (matter, resolution.error)
    assert resolution.id == matter["id"]

    def node(dep, what):
        assert dep.id in graph, f"{what} {dep.id} is not a node of the org graph"
        assert dep == department(dep.id), f"{what} {dep} does not match the graph's node"
        return dep.id

    lead = node(resolution.lead, "lead") if resolution.lead else None
    assist = [node(d, "assist") for d in resolution.assist]
    candidates = [node(d, "candidate") for d in resolution.candidates]
    assert lead not in assist, f"the lead {lead} is also an assistant"
    assert len(assist) == len(set(assist)), f"duplicate assistants {assist}"
    assert len(candidates) == len(set(candidates)), f"duplicate candidates {candidates}"
    if resolution.escalation:
        escalation = resolution.escalation
        for dep in escalation.to:
            node(dep, "escalation.to")
        for dep in escalation.consult:
            node(dep, "escalation.consult")
        if escalation.proposer:
            node(escalation.proposer, "escalation.proposer")
        assert escalation.to, "an escalation with nobody to escalate to"
    for transfer in resolution.transfers:
        node(transfer.to, "transfer.to")
    for obligation in resolution.obligations:
        for dep in [*obligation.to, *obligation.copy_to]:
            node(dep, "obligation")
    if resolution.status == "resolved":
        assert lead is not None, "resolved without a lead"
    if resolution.status == "conflict":
        assert lead is None and len(candidates) >= 2, (lead, candidates)
    if resolution.status == "unassigned":
        assert lead is None, "unassigned with a lead"
    # the basis lists each fired rule once per stage
    fired = [(b.stage, b.rule) for b in resolution.basis]
    assert len(fired) == len(set(fired)), f"a rule is reported twice: {fired}"


def check_district_escalation(resolution):
    """（七）: a district matter is decided by the district's own 党委和政府 — superior departments must not."""
    if resolution.escalation is None or resolution.jurisdiction in (None, "sh"):
        return
    escalation = resolution.escalation
    deciders = [*escalation.to, *([escalation.proposer] if escalation.proposer else [])]
    outside = [d.id for d in deciders if d.jurisdiction != resolution.jurisdiction]
    assert not outside, (f"district matter in {resolution.jurisdiction} escalates to {outside} "
                         f"(rule {escalation.rule})")


@SETTINGS
@given(data=st.data())
def test_random_matters_resolve_to_graph_nodes(universe, data):
    matter = data.draw(universe.matters(), label="matter")
    resolution = universe.engine.resolve(matter)
    event(f"status={resolution.status}")
    event(f"escalation={'yes' if resolution.escalation else 'no'}")
    check_resolution(universe, matter, resolution)
    check_district_escalation(resolution)


@pytest.mark.parametrize("title", ["无法归类的其他事项", "油烟扬尘噪音工地河道垃圾渣土"])
def test_district_escalations_stay_in_the_district(universe, title):
    """(e) deterministically, for every district (the random test above may rarely escalate)."""
    for code in sorted(universe.org.districts):
        for fact in (None, "public_interest", "obstruction", "suspected_crime"):
            matter = {"id": "e", "title": title, "district": code}
            if fact and universe.kinds.get(f"facts.{fact}") in ("bool", None):
                matter["facts"] = {fact: True}
            resolution = universe.engine.resolve(matter)
            check_resolution(universe, matter, resolution)
            check_district_escalation(resolution)


@SETTINGS
@given(data=st.data())
def test_district_matters_never_escalate_outside_the_district(universe, data):
    matter = data.draw(universe.matters(), label="matter")
    matter["district"] = data.draw(st.sampled_from(universe.districts), label="district")
    if data.draw(st.booleans()):
        matter.pop("category", None)   # unclassified matters escalate more often
    resolution = universe.engine.resolve(matter)
    event(f"escalation={'yes' if resolution.escalation else 'no'}")
    check_district_escalation(resolution)


# ------------------------------------------------------------------ (b) order independence
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_results_do_not_depend_on_input_order(universe, data):
    matters = data.draw(st.lists(universe.matters(), min_size=1, max_size=12), label="matters")
    matters = [{**m, "id": f"m{i}"} for i, m in enumerate(matters)]
    if data.draw(st.booleans()):
        matters.append({"id": "bad", "title": "x", "district": "火星区"})   # an invalid row in the batch
    order = data.draw(st.permutations(range(len(matters))), label="order")
    engine = universe.engine
    first = [r.model_dump(mode="json") for r in engine.resolve_many(matters)]
    shuffled = [matters[i] for i in order]
    second = [r.model_dump(mode="json") for r in engine.resolve_many(shuffled)]
    assert [r["id"] for r in first] == [m["id"] for m in matters], "results not in input order"
    assert [r["id"] for r in second] == [m["id"] for m in shuffled], "results not in input order"
    by_id = {r["id"]: r for r in second}
    for result in first:
        assert result == by_id[result["id"]]


# ------------------------------------------------------------------ (c) deterministic compilation
_COMPILE_SCRIPT = """
import hashlib, json, sys
from ecorules.rulebook import load_rulebook
rulebook = load_rulebook(sys.argv[1])
definitions = rulebook.compiled.definitions()
print(json.dumps({
    "hash": rulebook.hash,
    "sorted": hashlib.sha256(json.dumps(definitions, sort_keys=True, ensure_ascii=False).encode()).hexdigest(),
    "ordered": hashlib.sha256(json.dumps(definitions, ensure_ascii=False).encode()).hexdigest(),
    "rules": sum(len(r) for r in definitions.values()),
}))
"""


def test_compile_is_deterministic(tmp_path):
    """Compiling the same rulebook twice gives the same durable definitions (also in key order, which is
    durable's agenda order) and the same hash — in separate processes with different PYTHONHASHSEED, so
    set/dict iteration order cannot leak into the output — and a copy of the rulebook elsewhere gets the
    same hash (it is over relative paths) and definitions."""
    import os
    import subprocess
    import sys
    snapshot = shutil.copytree(RULES, tmp_path / "a" / "rules")      # immune to edits while the test runs
    elsewhere = shutil.copytree(snapshot, tmp_path / "b" / "elsewhere")
    root = str(RULES.parent)
    runs = []
    for seed, path in (("1", snapshot), ("2", snapshot), ("3", elsewhere)):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": root}
        runs.append(subprocess.Popen([sys.executable, "-c", _COMPILE_SCRIPT, str(path)], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = []
    for process in runs:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        outputs.append(json.loads(out))
    first, second, third = outputs
    assert first["rules"] > 0
    assert first == second, "the same rulebook compiled twice differs"
    assert third == first, "a copy of the rulebook in another directory compiles differently"


# ------------------------------------------------------------------ (d) escalation chains
def test_escalation_chains_never_repeat_a_node(universe):
    org = universe.org
    for node in org.graph.nodes:
        chain = org.escalation_chain(node)
        assert len(chain) == len(set(chain)), f"{node}: {chain}"
        assert node not in chain, f"{node} escalates to itself: {chain}"
        assert all(n in org.graph for n in chain)


# ------------------------------------------------------------------ (f) thread safety
def _thread_matters(universe: Universe) -> list[dict]:
    """The fixture matters (when fixtures/matters.jsonl exists) plus 200 seeded random matters and a few bad rows."""
    path = FIXTURES / "matters.jsonl"
    matters = []
    if path.exists():
        matters = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(20241123)
    for i in range(200):
        matter = {"id": f"gen{i}", "title": "".join(rng.choices(KEYWORDS + FILLER, k=rng.randint(1, 8)))}
        if rng.random() < 0.6:
            matter["district"] = rng.choice(universe.districts)
        if rng.random() < 0.5 and universe.categories:
            matter["category"] = rng.choice(universe.categories)
        facts = {}
        for name in FACTS:
            if rng.random() < 0.3:
                kind = universe.kinds.get(f"facts.{name}")
                seen = [v for v in universe.literals.get(f"facts.{name}", ()) if not isinstance(v, bool)]
                facts[name] = rng.random() < 0.5 if kind in ("bool", None) else (rng.choice(sorted(map(str, seen))) if seen else "其他")
        if facts:
            matter["facts"] = facts
        matters.append(matter)
    matters += [{"id": "bad1", "title": "x", "district": "火星区"}, {"id": "bad2"},
                {"id": "bad3", "title": "x", "level": "municipal", "district": "黄浦区"}]
    return matters


def test_thread_safety(universe):
    engine = universe.engine
    matters = _thread_matters(universe)
    expected = [r.model_dump(mode="json") for r in engine.resolve_many(matters)]
    assert len(expected) == len(matters)
    barrier = threading.Barrier(4)

    def whole_list(offset: int):
        barrier.wait()
        rotated = matters[offset:] + matters[:offset]   # threads work on different matters at the same time
        results = [r.model_dump(mode="json") for r in engine.resolve_many(rotated)]
        return results[len(matters) - offset:] + results[:len(matters) - offset]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(whole_list, [0, 7, 13, 29]))
    for outcome in outcomes:
        assert outcome == expected

    def one(matter):
        return engine.resolve(matter).model_dump(mode="json")

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(one, matters)) == expected


# ------------------------------------------------------------------ bad rows never raise
_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                          st.text(max_size=5), st.sampled_from(["", " ", "黄浦区", "municipal", "district", "1e-05",
                                                                "2024-13-01", "油烟", "sthj"]))
_json_values = st.recursive(_json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                    st.dictionaries(st.text(max_size=3), inner, max_size=3)),
                            max_leaves=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_bad_rows_come_back_invalid_never_raise(universe, data):
    """DESIGN: every bad matter row becomes an `invalid` result with its error; `resolve` never raises."""
    fields = ["id", "title", "district", "level", "category", "approved_by", "source", "as_of", "facts", "extra"]
    row = data.draw(st.one_of(
        st.dictionaries(st.sampled_from(fields), _json_values, max_size=6),
        st.builds(lambda facts: {"id": "f", "title": "油烟", "facts": facts},
                  st.dictionaries(st.sampled_from(list(FACTS) + ["x"]), _json_scalars, max_size=4)),
        _json_values), label="row")
    resolution = universe.engine.resolve(row)
    assert resolution.status in STATUSES
    if resolution.status == "invalid":
        assert resolution.error is not None and resolution.error.message
    else:
        check_resolution(universe, {**(row if isinstance(row, dict) else {}), "id": resolution.id}, resolution)
