"""What the 规则 pages show about a rulebook: rules by the policy's article, by category and by file; each rule's
YAML as written (with line numbers) and the rule tests that exercise it. Built once per rulebook (the tests run
once, ≈ 0.2 s for the shipped one) and kept by the app until a reload brings another rulebook."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional
from urllib.parse import urlencode

from ..rulebook import Rule, Rulebook
from ..ruletests import POLICY_ARTICLES, RuleTestOutcome, cited_articles, run_rule_tests

STAGE_ZH = {"classify": "归类", "assign": "分工", "route": "上报移交"}
PROVENANCE_ZH = {"source": "条文明确", "partial": "部分有明文、部分推定", "inference": "推定，须核实",
                 "disputed": "有争议：来源指向不同"}


@dataclass(frozen=True)
class TestRef:
    name: str
    title: str
    file: str
    line: int
    passed: bool
    try_url: str


@dataclass(frozen=True)
class RuleView:
    rule: Rule
    lines: list            # (line number, text) of its YAML
    tests: list            # TestRef
    articles: list         # policy articles its cite names, in order
    overridden_by: list    # ids of rules that override it


def _categories_in(when) -> set:
    """Category ids a `when` tests (as an equality or inside `in`), wherever in the condition."""
    found = set()
    if isinstance(when, dict):
        for key, value in when.items():
            if key == "category":
                if isinstance(value, str):
                    found.add(value)
                elif isinstance(value, dict) and isinstance(value.get("in"), list):
                    found.update(v for v in value["in"] if isinstance(v, str))
            else:
                found |= _categories_in(value)
    elif isinstance(when, list):
        for item in when:
            found |= _categories_in(item)
    return found


def try_url(matter: dict) -> str:
    """The 试算 page's address for a matter (its shareable query string)."""
    query = {k: matter[k] for k in ("title", "district", "category", "source", "approved_by") if matter.get(k)}
    if matter.get("as_of"):
        query["as_of"] = str(matter["as_of"])
    facts = matter.get("facts") or {}
    if facts:
        query["facts"] = "\n".join(f"{k}={_fact_text(v)}" for k, v in facts.items())
    return "/try?" + urlencode(query)


def _fact_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class RuleIndex:
    def __init__(self, rulebook: Rulebook, lease):
        """`lease()`: a context manager giving the engine in service (RulebookHolder.lease), held while the
        rule tests run so a reload cannot close it under them."""
        self.rulebook = rulebook
        self._lease = lease
        self._outcomes: Optional[list[RuleTestOutcome]] = None
        self._lock = threading.Lock()
        self._file_lines: dict[str, list[str]] = {}

    # ---------------------------------------------------------------- indexes
    def by_article(self) -> list[tuple[str, list[Rule]]]:
        return [(article, [r for r in self._latest() if article in cited_articles(r.cite)])
                for article in POLICY_ARTICLES]

    def by_category(self) -> list[tuple[object, list[Rule]]]:
        return [(category, [r for r in self._latest() if category.id in _categories_in(r.when)])
                for category in self.rulebook.categories.values()]

    def by_file(self) -> list[tuple[str, list[Rule]]]:
        files: dict[str, list[Rule]] = {}
        for rule in self.rulebook.rules:
            files.setdefault(rule.file, []).append(rule)
        return sorted(files.items())

    def _latest(self) -> list[Rule]:
        """One entry per rule id (the first version), in rulebook order."""
        return [versions[0] for versions in self.rulebook.versions.values()]

    # ---------------------------------------------------------------- one rule
    def view(self, rule_id: str) -> list[RuleView]:
        versions = self.rulebook.versions.get(rule_id, ())
        overriders = [r.id for r in self.rulebook.rules if rule_id in r.overrides]
        return [RuleView(rule, self.yaml_lines(rule), self.tests_for(rule), sorted(cited_articles(rule.cite),
                         key=POLICY_ARTICLES.index), list(dict.fromkeys(overriders))) for rule in versions]

    def yaml_lines(self, rule: Rule) -> list[tuple[int, str]]:
        """The rule's lines as written: from its `- id:` line to the line before the next rule of the file,
        without the blank and comment lines that lead into the next rule."""
        lines = self._lines(rule.file)
        starts = sorted(r.line for r in self.rulebook.rules if r.file == rule.file and r.line > rule.line)
        end = (starts[0] - 1) if starts else len(lines)
        while end > rule.line and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        return [(number, lines[number - 1]) for number in range(rule.line, end + 1)]

    def _lines(self, relative: str) -> list[str]:
        if relative not in self._file_lines:
            path = Path(self.rulebook.root) / relative
            try:
                self._file_lines[relative] = path.read_text(encoding="utf-8").splitlines()
            except OSError:
                self._file_lines[relative] = []
        return self._file_lines[relative]

    def tests_for(self, rule: Rule) -> list[TestRef]:
        found = []
        for outcome in self._tests():
            if any((b.file, b.line) == rule.where for b in outcome.resolution.basis):
                matter = outcome.test.spec.matter
                found.append(TestRef(outcome.name, str(matter.get("title", "")), outcome.test.file,
                                     outcome.test.line, outcome.passed, try_url(matter)))
        return found

    def _tests(self) -> list[RuleTestOutcome]:
        with self._lock:
            if self._outcomes is None:
                with self._lease() as engine:
                    if engine.rulebook is not self.rulebook:   # reloaded meanwhile: the page is about to be rebuilt
                        return []
                    self._outcomes = run_rule_tests(engine, self.rulebook)
            return self._outcomes


__all__ = ["PROVENANCE_ZH", "RuleIndex", "RuleView", "STAGE_ZH", "TestRef", "try_url"]
