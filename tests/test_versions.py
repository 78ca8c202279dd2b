"""Dated versions of one rule id: the version in force on the matter's date decides (issue 5 §6)."""
from __future__ import annotations

from ecorules import Engine, Matter, check_rulebook
from ecorules.explain import explain_lines
from ecorules.lint import lint_rulebook
from ecorules.ruletests import coverage, run_rule_tests

# The same rule, amended on 2025-01-01: construction dust moves from 建设管理委 to 生态环境局 (a made-up amendment).
VERSIONS = """
    stage: assign
    rules:
      - id: air.dust
        title: 工地扬尘（2024 年版）
        cite: 第九十八条
        when: {category: construction_dust}
        lead: zjw
        effective: {until: 2024-12-31}
      - id: air.dust
        title: 工地扬尘（2025 年版）
        cite: 第九十八条
        when: {category: construction_dust}
        lead: sthj
        effective: {from: 2025-01-01}
"""
TESTS = """
    tests:
      - name: 2024 年的工单按 2024 年版
        matter: {id: t1, title: 工地扬尘, category: construction_dust, district: 黄浦区, as_of: 2024-06-01}
        expect: {lead: zjw}
"""


def _matter(as_of: str) -> Matter:
    return Matter(id="m", title="工地扬尘", category="construction_dust", district="huangpu", as_of=as_of)


def test_versions_with_windows_that_do_not_overlap_load_cleanly(make_rulebook):
    rulebook, diagnostics = check_rulebook(make_rulebook({"assign/dust.yaml": VERSIONS}))
    assert diagnostics == []
    assert [r.label for r in rulebook.versions["air.dust"]] == [
        "air.dust@…~2024-12-31", "air.dust@2025-01-01~…"]


def test_the_version_in_force_on_the_matters_date_decides(make_rulebook):
    with Engine.from_directory(make_rulebook({"assign/dust.yaml": VERSIONS})) as engine:
        old, new = engine.resolve(_matter("2024-12-31")), engine.resolve(_matter("2025-01-01"))
    assert old.lead.id == "huangpu.zjw" and new.lead.id == "huangpu.sthj"
    assert [(b.rule, b.line) for b in old.basis] == [("air.dust", 3)]
    assert [(b.rule, b.line) for b in new.basis] == [("air.dust", 9)]


def test_explain_names_the_version_that_fired(make_rulebook):
    directory = make_rulebook({"assign/dust.yaml": VERSIONS})
    with Engine.from_directory(directory) as engine:
        resolution = engine.resolve(_matter("2025-03-01"))
        text = "\n".join(explain_lines(resolution, engine.rulebook))
    assert "工地扬尘（2025 年版）" in text and "2024 年版" not in text


def test_coverage_counts_each_version(make_rulebook):
    directory = make_rulebook({"assign/dust.yaml": VERSIONS, "tests/dust.yaml": TESTS})
    with Engine.from_directory(directory) as engine:
        outcomes = run_rule_tests(engine)
        report = coverage(engine.rulebook, outcomes)
    assert all(o.passed for o in outcomes)
    assert report.untested_rules == ["air.dust@2025-01-01~…"]  # only the 2024 version was exercised


def test_versions_never_in_force_together_are_not_a_static_conflict(make_rulebook):
    _, diagnostics = lint_rulebook(make_rulebook({"assign/dust.yaml": VERSIONS}))
    assert [d.code for d in diagnostics if d.code != "W330"] == []  # W330: no route rules in this small rulebook


def test_an_override_holds_against_whichever_version_is_in_force(make_rulebook):
    override = """
        stage: assign
        rules:
          - id: air.dust.road
            title: 道路工程扬尘
            cite: 第九十八条
            when: {category: construction_dust, facts.project: road}
            lead: jtw
            priority: 60
            overrides: [air.dust]
            effective: {from: 2025-06-01}
    """
    directory = make_rulebook({"assign/dust.yaml": VERSIONS, "assign/road.yaml": override})
    _, diagnostics = lint_rulebook(directory)
    assert [d.code for d in diagnostics if d.code != "W330"] == []  # overlaps the 2025 version: not a dead override
    with Engine.from_directory(directory) as engine:
        road = _matter("2025-07-01").model_copy(update={"facts": {"project": "road"}})
        resolution = engine.resolve(road)
    assert resolution.lead.id == "huangpu.zjw"  # 区建设管理委 holds the transport function in every district
    assert {b.rule: b.outcome for b in resolution.basis}["air.dust"] == "overridden"
