"""Rule tests: the shipped rulebook's own `tests:` run as pytest cases; coverage and JUnit output."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ecorules import Engine, load_rulebook
from ecorules.ruletests import cited_articles, coverage, junit_xml, run_rule_tests

from conftest import RULES

SHIPPED = load_rulebook(RULES)


@pytest.mark.parametrize("test", SHIPPED.tests, ids=[f"{t.file}:{t.line}" for t in SHIPPED.tests])
def test_shipped_rule_test(default_engine, test):
    (outcome,) = [o for o in run_rule_tests(default_engine, _only(test))]
    assert outcome.passed, f"{test.spec.name}: " + "；".join(outcome.differences)


def _only(test):
    import dataclasses
    return dataclasses.replace(SHIPPED, tests=(test,))


@pytest.mark.parametrize("cite, articles", [
    ("《上海市推动职能部门做好生态环境保护工作的实施意见》（七）", {"七"}),
    ("第九十八条；实施意见（五）（八）", {"五", "八"}),
    ("实施意见（十八）、（十九）", {"十八", "十九"}),
    ("《上海市大气污染防治条例》第六十条（三）", set()),   # a statute's item, not the policy's article
    ("实施意见 总体要求（谁审批谁负责）", set()),
])
def test_cited_articles(cite, articles):
    assert cited_articles(cite) == articles


RULEBOOK = {
    "assign.yaml": """
        stage: assign
        source: 《上海市推动职能部门做好生态环境保护工作的实施意见》
        rules:
          - {id: a, title: t, cite: （五）, when: {category: x}, lead: sthj, assist: [lhsr]}
          - {id: b, title: t, cite: （七）, when: {category: y}, lead: zjw}
    """,
    "tests.yaml": """
        tests:
          - name: 通过的测试
            matter: {id: t1, title: t, category: x, district: 黄浦区}
            expect: {status: resolved, lead: sthj, assist: [lhsr], escalation: null}
          - name: 失败的测试
            matter: {id: t2, title: t, category: x}
            expect: {lead: zjw, assist: [], category: z, transfers: [gaj]}
    """,
}


@pytest.fixture
def small(make_rulebook):
    with Engine.from_directory(make_rulebook(RULEBOOK)) as engine:
        yield engine


def test_outcomes_show_expected_and_actual(small):
    passed, failed = run_rule_tests(small)
    assert passed.passed and not failed.passed
    assert failed.differences == [
        "lead: 期望 sh.zjw，实际 sh.sthj",
        "assist: 期望 （无），实际 sh.lhsr",
        "category: 期望 z，实际 x",
        "transfers: 期望 sh.gaj，实际 （无）",
    ]


def test_coverage_lists_untested_rules_and_uncited_articles(small):
    report = coverage(small.rulebook, run_rule_tests(small))
    assert report.untested_rules == ["b"] and (report.tested, report.total) == (1, 2)
    assert "（五）" not in report.uncited_articles and "（七）" not in report.uncited_articles
    assert "（一）" in report.uncited_articles and len(report.uncited_articles) == 19


def test_junit_xml(small):
    root = ET.fromstring(junit_xml(run_rule_tests(small)))
    assert root.get("tests") == "2" and root.get("failures") == "1"
    failure = root.findall("testcase")[1].find("failure")
    assert "lead: 期望 sh.zjw" in failure.text


def test_shipped_rulebook_has_no_untested_rule(default_engine):
    report = coverage(default_engine.rulebook, run_rule_tests(default_engine))
    assert report.untested_rules == []
