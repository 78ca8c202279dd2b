"""Assembling a rulebook from its loaded files: org graph (E2xx/E3xx) → places and department names → categories
→ rules, each `when` parsed once (conditions.py) → references and semantics (E2xx/E3xx, among them a rule
without `when` E305 and `overrides` cycles E312) → citations against the statute texts (citecheck.py) →
rule tests → compile (E3xx). Every problem is collected, each at `file:line:col`; rulebook.py builds the
Rulebook from the parts when there is no error."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path as FsPath
from typing import Any, Optional

import networkx as nx

from . import spec as S
from ._yaml import YamlDoc
from .citecheck import WrittenCite, check_citations, check_index
from .compiler import Compiled, compile_rules
from .conditions import ConditionError, Context, parse_when
from .errors import Diagnostic, Location, suggest
from .layers import departures, read_layer, restrict, rule_problems
from .loader import Loader, located
from .orggraph import VARIABLES, OrgGraph
from .rule import Rule, RuleTest, full_cite
from .statutes import Collection


_EFFECTS = {
    "classify": ("set",),
    "assign": ("lead", "assist"),
    "route": ("escalate", "transfer", "obligation", "status"),
}



@dataclass(frozen=True)
class Assembled:
    """The parts of a rulebook without errors, for rulebook.py to build the Rulebook from."""

    name: str
    version: str
    hash: str
    rules: tuple
    org: OrgGraph
    categories: dict
    tests: tuple
    compiled: Compiled
    files: tuple
    places: Any
    mentions: Any
    statutes: Optional[Collection]


class Assembler:
    def __init__(self, loader: Loader):
        self.loader = loader
        self.diagnostics = loader.diagnostics

    def error(self, code, message, where, rule_id=None, suggestion=None, severity="error"):
        self.diagnostics.append(Diagnostic(code, message, where, rule_id, suggestion, severity))

    def assemble(self) -> tuple[Optional[Assembled], list[Diagnostic]]:
        loader = self.loader
        departments, districts = [], []
        for item in loader.of_kind("departments", "districts"):
            departments += [located(item, "departments", i, d) for i, d in enumerate(item.model.departments)]
            districts += [located(item, "districts", i, d) for i, d in enumerate(item.model.districts)]
        if not departments:
            if self.loader.failed & {"departments", "districts"}:
                return None, self.diagnostics  # the org file's own errors say it all
            self.error("E111", "规则库中没有组织数据（departments:）", Location(loader.display_root),
                       suggestion="添加一个含 departments: 与 districts: 的 YAML 文件。")
            return None, self.diagnostics
        org = OrgGraph(departments, districts)
        self.diagnostics.extend(org.diagnostics)
        if org.diagnostics:
            return None, self.diagnostics
        self.org = org
        places, mentions = self._places_and_mentions()
        self.categories = self._categories()
        rules, self.rule_docs = self._rules()
        self.rules = rules
        self._check_rules()
        self._check_conditions_present()
        self._check_override_cycles()
        self.diagnostics.extend(departures(rules, org, self.categories, lambda rule: self._where(rule, "lead")))
        statutes = self._statutes()
        tests = self._tests()
        compiled, problems = compile_rules(rules, self._locate_when)
        self.diagnostics.extend(problems)
        if any(d.severity == "error" for d in self.diagnostics):
            return None, self.diagnostics
        meta = next((item.model.rulebook for item in loader.of_kind("rulebook")), None)
        return Assembled(
            name=meta.name if meta else FsPath(loader.root).resolve().name, version=meta.version if meta else "0",
            hash=loader.digest.hexdigest(), rules=tuple(rules), org=org, categories=self.categories,
            tests=tuple(tests), compiled=compiled, files=tuple(item.relative for item in loader.loaded),
            places=places, mentions=mentions, statutes=statutes), self.diagnostics

    def _places_and_mentions(self):
        """The gazetteer (`places:` files) and the department names read in titles (`aliases:` files)."""
        from .mentions import Mentions  # local: these modules import orggraph, as rulebook does
        from .places import Places
        entries = [located(item, "places", i, p) for item in self.loader.of_kind("places")
                   for i, p in enumerate(item.model.places)]
        aliases = [located(item, "aliases", i, a) for item in self.loader.of_kind("aliases")
                   for i, a in enumerate(item.model.aliases)]
        ignore = [word for item in self.loader.of_kind("aliases") for word in item.model.ignore]
        places, mentions = Places(self.org, entries), Mentions(self.org, aliases, ignore)
        self.diagnostics.extend(places.diagnostics + mentions.diagnostics)
        return places, mentions

    # -- pieces
    def _categories(self) -> dict:
        found = {}
        for item in self.loader.of_kind("categories"):
            for i, category in enumerate(item.model.categories):
                if category.id in found:
                    self.error("E301", f"事项类别 '{category.id}' 重复", item.doc.where(("categories", i, "id")))
                found[category.id] = category
        return found

    def _rules(self):
        rules, docs, versions = [], {}, {}
        context = Context()  # the type of each field's literals, fixed by the first rule that compares it
        for item in self.loader.of_kind("rules"):
            file_model: S.RuleFile = item.model
            layer, problems = read_layer(file_model.layer, item.relative, file_model.stage, self.org,
                                         lambda *path, key=True, doc=item.doc: doc.where(path, key=key))
            self.diagnostics.extend(problems)
            for i, spec in enumerate(file_model.rules):
                where = item.doc.where(("rules", i))
                effective = spec.effective or S.Effective()
                source = spec.source or file_model.source or (layer.title if layer else None)
                rule = Rule(
                    id=spec.id, stage=file_model.stage, title=spec.title, cite=full_cite(source, spec.cite),
                    provenance=spec.provenance or (layer.provenance if layer else None),
                    note=spec.note, when=spec.when, priority=spec.priority,
                    effective_from=effective.from_ or (layer.date if layer else None),
                    effective_until=effective.until, overrides=tuple(spec.overrides), disputes=tuple(spec.disputes),
                    lead=spec.lead,
                    assist=tuple(spec.assist), set=dict(spec.set or {}), escalate=spec.escalate,
                    transfers=tuple(spec.transfer), obligations=tuple(spec.obligation), status=spec.status,
                    file=item.relative, line=where.line, order=len(rules), layer=layer)
                if layer:
                    self.diagnostics.extend(rule_problems(
                        layer, spec, lambda *path, key=True, doc=item.doc, i=i: doc.where(("rules", i) + path, key=key)))
                if not self._new_version(rule, versions.get(spec.id, ()), item.doc.where(("rules", i, "id"))):
                    continue
                versions.setdefault(spec.id, []).append((rule, where))
                docs[rule.order] = (item.doc, ("rules", i), spec)
                rules.append(self._parse_when(rule, item.doc, ("rules", i), context))
        return rules, docs

    def _parse_when(self, rule: Rule, doc: YamlDoc, base: tuple, context: Context) -> Rule:
        """The one parse of a rule's `when` (conditions.py); the compiler, the checks and lint read its tree.
        A list layer's rule is joined with its jurisdiction's test here (layers.restrict)."""
        if rule.when is None:
            return rule  # E305, reported by _check_conditions_present
        try:
            condition = parse_when(rule.when, rule.stage, context, rule.id)
        except ConditionError as exc:
            self.error(exc.code, exc.message, doc.where(base + ("when",) + tuple(exc.where), key=True), rule.id,
                       exc.suggestion)
            return rule
        return replace(rule, condition=restrict(condition, rule.layer) if rule.layer else condition)

    def _new_version(self, rule: Rule, earlier: list, where: Location) -> bool:
        """The same id may be written again as a new version, dated so that no two versions are in force at once."""
        for other, other_where in earlier:
            if other.stage != rule.stage:
                self.error("E301", f"规则编号 '{rule.id}' 重复（第一次在 {other_where}，属于 {other.stage} 阶段）", where,
                           rule.id, "每条规则的 id 在整个规则库中必须唯一；同一规则的新旧版本须在同一阶段。")
                return False
            if rule.overlaps(other):
                self.error("E301", f"规则编号 '{rule.id}' 重复（第一次在 {other_where}），两个版本的生效期间重叠", where,
                           rule.id, "若是同一规则的新旧版本，用 effective 的 from / until 使生效期间不重叠"
                                    "（如旧版 until: 2024-12-31，新版 from: 2025-01-01）；否则改用不同的 id。")
                return False
        return True

    def _where(self, rule: Rule, *path, key=True) -> Location:
        doc, base, _ = self.rule_docs[rule.order]
        return doc.where(base + tuple(path), key=key)

    def _locate_when(self, rule: Rule, path: tuple) -> Location:
        return self._where(rule, "when", *path)

    def _check_reference(self, rule: Rule, ref: str, where: Location, what: str):
        if ref.startswith("$"):
            variable, _, relation = ref.partition(".")
            allowed = VARIABLES.get(rule.stage, ())
            if variable not in allowed:
                self.error("E311", f"{what} 中的变量 '{variable}' 在 {rule.stage} 阶段不可用", where, rule.id,
                           suggest(variable, allowed, "变量") if allowed else "此阶段不能使用变量。")
            elif relation and relation not in self.org.relation_names():
                self.error("E314", f"{what} 中的关系 '{relation}' 未定义（{ref}）", where, rule.id,
                           suggest(relation, self.org.relation_names(), "关系") +
                           " 可用：leadership 同级党委和政府、supervisor 上级主管部门，或职能代码（同级的该职能部门）。")
            return
        if not self.org.is_known(ref):
            self.error("E201", f"未知的部门 '{ref}'（{what}）", where, rule.id,
                       suggest(ref, self.org.reference_names(), "部门"))

    def _check_rules(self):
        ids = {r.id: r for r in self.rules}
        for rule in self.rules:
            _, _, spec = self.rule_docs[rule.order]
            present = [k for k in ("set", "lead", "assist", "escalate", "transfer", "obligation", "status")
                       if getattr(spec, k) not in (None, [], {})]
            for key in present:
                if key not in _EFFECTS[rule.stage]:
                    self.error("E307", f"'{key}' 不能用于 {rule.stage} 阶段", self._where(rule, key), rule.id,
                               f"{rule.stage} 阶段可用：{', '.join(_EFFECTS[rule.stage])}")
            if not any(k in _EFFECTS[rule.stage] for k in present):
                self.error("E307", f"规则没有任何效果（{rule.stage} 阶段应有 {' / '.join(_EFFECTS[rule.stage])}）",
                           self._where(rule, key=False), rule.id)
            if rule.stage == "assign" and rule.assist and not rule.lead:
                self.error("E307", "有 assist 却没有 lead", self._where(rule, "assist"), rule.id, "补上 lead:。")
            refs = []
            if rule.lead:
                refs.append((rule.lead, self._where(rule, "lead"), "lead"))
            refs += [(a, self._where(rule, "assist", i, key=False), "assist") for i, a in enumerate(rule.assist)]
            if rule.escalate:
                refs += [(t, self._where(rule, "escalate", "to", i, key=False), "escalate.to")
                         for i, t in enumerate(rule.escalate.to)]
                refs += [(t, self._where(rule, "escalate", "with", i, key=False), "escalate.with")
                         for i, t in enumerate(rule.escalate.with_)]
                if rule.escalate.proposer:
                    refs.append((rule.escalate.proposer, self._where(rule, "escalate", "proposer"), "escalate.proposer"))
            for i, t in enumerate(rule.transfers):
                refs.append((t.to, self._where(rule, "transfer", i, "to"), "transfer.to"))
            for i, o in enumerate(rule.obligations):
                refs += [(t, self._where(rule, "obligation", i, "to"), "obligation.to") for t in o.to]
                refs += [(t, self._where(rule, "obligation", i, "copy"), "obligation.copy") for t in o.copy_]
            for ref, where, what in refs:
                self._check_reference(rule, ref, where, what)
            for i, ref in enumerate(rule.assist):
                kind = self.org.kind_of(ref)
                if kind in _NEVER_ASSIST:
                    self.error("E315", f"'{ref}' 不能作为配合部门（{_NEVER_ASSIST[kind]}）",
                               self._where(rule, "assist", i, key=False), rule.id,
                               "法院、检察院依法定职能介入，党委、纪检监察机关和组织部门依干部管理权限处理，党委和政府研究决定，"
                               "都不是职能部门的配合部门；需要它们的，写成 route 阶段的移交（transfer）或义务（obligation）。")
            for i, other in enumerate(rule.overrides):
                if other in self.loader.broken_rule_ids and other not in ids:
                    continue  # written in a file with errors of its own; reported there
                if other not in ids:
                    self.error("E205", f"overrides 中的规则 '{other}' 不存在", self._where(rule, "overrides", i, key=False),
                               rule.id, suggest(other, [i for i in ids if i != rule.id], "规则编号"))
                elif ids[other].stage != rule.stage:
                    self.error("E307", f"只能覆盖同一阶段的规则（'{other}' 属于 {ids[other].stage}）",
                               self._where(rule, "overrides", i, key=False), rule.id)
                elif other == rule.id:
                    self.error("E307", "规则不能覆盖自己", self._where(rule, "overrides", i, key=False), rule.id)
            for i, other in enumerate(rule.disputes):
                if other not in ids and other not in self.loader.broken_rule_ids:
                    self.error("E205", f"disputes 中的规则 '{other}' 不存在", self._where(rule, "disputes", i, key=False),
                               rule.id, suggest(other, [i for i in ids if i != rule.id], "规则编号"))
            if rule.effective_from and rule.effective_until and rule.effective_from > rule.effective_until:
                self.error("E308", f"生效期间无效：from {rule.effective_from} 晚于 until {rule.effective_until}",
                           self._where(rule, "effective"), rule.id)
            for key, value in rule.set.items():
                if key != "category" and not key.startswith("facts."):
                    self.error("E202", f"set 只能设定 category 或 facts.<名称>，不能设定 '{key}'",
                               self._where(rule, "set", key), rule.id, suggest(key, ["category"], "字段"))
                elif key == "category":
                    self._check_category(value, self._where(rule, "set", key, key=False), rule.id)
            for value, path in rule.condition.literals("category") if rule.condition else ():
                if isinstance(value, str):
                    self._check_category(value, self._where(rule, "when", *path, key=False), rule.id)
            if rule.lead == "$approved_by" and "approved_by" not in (rule.condition.fields() if rule.condition else ()):
                self.error("W301", "lead 为 $approved_by，但条件中没有检查 approved_by", self._where(rule, "lead"),
                           rule.id, "加上 when: {approved_by: {exists: true}}，否则没有审批部门的事项不会有牵头部门。",
                           severity="warning")
            self._check_escalation_invariant(rule)

    def _check_conditions_present(self):
        """A rule without `when` would fire on every matter: say so, unless the author wrote `when: always`."""
        for rule in self.rules:
            if rule.when is None:
                self.error("E305", "规则没有条件（when），会对每一个事项触发", self._where(rule, "id"), rule.id,
                           "写出条件，如 when: {category: construction_dust}；确实适用于所有事项时写 when: always。")

    def _check_override_cycles(self):
        """`overrides` must not loop (a ↔ b): two rules that override each other silently cancel each other."""
        graph = nx.DiGraph()
        stages = {rule.id: rule.stage for rule in self.rules}
        first = {}
        for rule in self.rules:
            first.setdefault(rule.id, rule)
            for other in rule.overrides:
                if other != rule.id and stages.get(other) == rule.stage:
                    graph.add_edge(rule.id, other)
        for component in nx.strongly_connected_components(graph):
            if len(component) < 2:
                continue
            start = min(component, key=lambda rule_id: first[rule_id].order)
            rule = next(r for r in self.rules if r.id == start and set(r.overrides) & (component - {start}))
            within = graph.subgraph(component)
            following = next(o for o in rule.overrides if o in component and o != start)
            cycle = [start] + nx.shortest_path(within, following, start)
            index = list(rule.overrides).index(cycle[1])
            self.error("E312", f"overrides 构成循环：{' → '.join(cycle)}（互相覆盖的规则会互相抵消，都不起作用）",
                       self._where(rule, "overrides", index, key=False), rule.id,
                       "例外关系只能是单向的：删除其中一条规则的 overrides，或改用 priority 区分。")
    def _statutes(self) -> Optional[Collection]:
        """The statute texts (a `statutes:` index and the files it names), and every rule's citation checked
        against them (citations.py); None when the rulebook carries no texts."""
        index = next(iter(self.loader.of_kind("statutes")), None)
        if index is None:
            return None
        collection = Collection.from_spec(index.model, (self.loader.root / index.relative).parent, index.path)
        self.diagnostics.extend(check_index(collection, lambda i: index.doc.where(("statutes", i, "file"))))
        written = []
        for rule in self.rules:
            doc, base, spec = self.rule_docs[rule.order]
            source = spec.source or doc.data.get("source")
            if rule.layer and source in (None, rule.layer.title):
                source = None   # the list itself: its items are checked against its own document, not a statute
            source_at = doc.where(base + ("source",)) if spec.source else doc.where(("source",)) if source else None
            written.append(WrittenCite(rule.id, rule.title, source, spec.cite, doc.where(base + ("cite",)), source_at,
                                       rule.effective_until))
        self.diagnostics.extend(check_citations(collection, written))
        return collection

    def _check_category(self, value, where, rule_id):
        if self.categories and value not in self.categories:
            self.error("E204", f"未知的事项类别 '{value}'", where, rule_id, suggest(str(value), self.categories, "类别"))

    def _check_escalation_invariant(self, rule: Rule):
        """（七）: a district matter is decided by the district's own 党委和政府, never by a superior body."""
        if not rule.escalate or (rule.condition and rule.condition.pinned("level")) == "municipal":
            return
        named = [*rule.escalate.to, *([rule.escalate.proposer] if rule.escalate.proposer else [])]
        for code in self.org.districts:
            for ref in named:
                if ref.startswith("$") or not self.org.is_known(ref):
                    continue
                node = self.org.resolve(ref, code)
                if node and self.org.node(node)["jurisdiction"] != code:
                    self.error("E351", f"区级事项的上报会交给 {self.org.node(node)['name']}（{node}），违反实施意见（七）"
                                       "“上级有关职能部门不应干预”", self._where(rule, "escalate"), rule.id,
                               "区级事项由本区党委和政府研究明确；在 when 中加 level: municipal，或改为 party / gov。")
                    return

    def _tests(self) -> list[RuleTest]:
        tests = []
        for item in self.loader.of_kind("tests"):
            for i, test in enumerate(item.model.tests):
                where = item.doc.where(("tests", i))
                expect = test.expect
                refs = [("lead", expect.lead)] if expect.lead else []
                refs += [("assist", a) for a in (expect.assist or [])] + [("assist_includes", a) for a in expect.assist_includes]
                refs += [("candidates", a) for a in (expect.candidates or [])] + [("transfers", a) for a in (expect.transfers or [])]
                if expect.escalation:
                    refs += [("escalation.to", a) for a in expect.escalation.to]
                    refs += [("escalation.proposer", expect.escalation.proposer)] if expect.escalation.proposer else []
                for what, ref in refs:
                    if not self.org.is_known(ref):
                        self.error("E201", f"测试“{test.name}”中未知的部门 '{ref}'（{what}）",
                                   item.doc.where(("tests", i, "expect", what.split(".")[0]), key=True),
                                   suggestion=suggest(ref, self.org.reference_names(), "部门"))
                if expect.category:
                    self._check_category(expect.category, item.doc.where(("tests", i, "expect", "category")), None)
                tests.append(RuleTest(test, item.relative, where.line))
        return tests


# kinds of body that are never a 配合部门 of a functional department (issue 10, finding 8)
_NEVER_ASSIST = {"court": "人民法院", "procuratorate": "人民检察院", "party_committee": "党委及其工作机关",
                 "discipline_inspection": "纪检监察机关", "government": "党委和政府研究决定，不配合职能部门"}
