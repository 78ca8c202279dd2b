"""Load and validate a rulebook directory, collecting every diagnostic before giving up.

Files are known by their top-level key (spec.FILE_KINDS). Loading runs in passes: files (files.py:
symlinks, FIFOs, sizes, counts; E108–E113) → YAML (_yaml.py, bounded: E1xx) → schema (pydantic, E1xx) →
org graph (E2xx/E3xx) → each rule's `when` parsed once (conditions.py) → references and semantics
(E2xx/E3xx, among them a rule without `when` E305 and `overrides` cycles E312) → compile (E3xx).
Everything found is reported at once, each at `file:line:col`.
"""
from __future__ import annotations

import datetime as dt
import difflib
import functools
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path as FsPath
from typing import Any, Iterable, Optional

import networkx as nx
from pydantic import ValidationError

from . import spec as S
from ._yaml import YamlDoc, load_yaml
from .cache import remembered
from .citations import Collection, WrittenCite, check_citations, check_index
from .compiler import Compiled, compile_rules
from .conditions import Condition, ConditionError, Context, parse_when
from .errors import Diagnostic, Location, RulebookError, suggest
from .files import MAX_FILES, FileProblem, read_bytes, too_many_files, yaml_files
from .orggraph import VARIABLES, Located, OrgGraph
from .schema_errors import schema_diagnostics

_EFFECTS = {
    "classify": ("set",),
    "assign": ("lead", "assist"),
    "route": ("escalate", "transfer", "obligation", "status"),
}


@dataclass(frozen=True)
class Rule:
    """One rule as loaded: its spec plus where it was written and its place in rulebook order."""

    id: str
    stage: str
    title: str
    cite: str                       # full citation: 《source》 + cite
    provenance: Optional[str]
    note: Optional[str]
    when: Optional[dict]
    priority: int
    effective_from: Optional[dt.date]
    effective_until: Optional[dt.date]
    overrides: tuple
    disputes: tuple
    lead: Optional[str]
    assist: tuple
    set: dict
    escalate: Optional[S.EscalateSpec]
    transfers: tuple
    obligations: tuple
    status: Optional[str]
    file: str
    line: int
    order: int
    condition: Optional[Condition] = field(default=None, compare=False, repr=False)  # `when`, parsed once

    def in_force(self, day: dt.date) -> bool:
        if self.effective_from and day < self.effective_from:
            return False
        if self.effective_until and day > self.effective_until:
            return False
        return True

    def overlaps(self, other: "Rule") -> bool:
        """Is there a day on which both rules are in force?"""
        starts = [d for d in (self.effective_from, other.effective_from) if d]
        ends = [d for d in (self.effective_until, other.effective_until) if d]
        return not starts or not ends or max(starts) <= min(ends)

    @property
    def where(self) -> tuple:
        """(file, line): names one version of a rule — the same id may have versions in force at different times."""
        return (self.file, self.line)

    @property
    def label(self) -> str:
        """The id, plus the window when it is dated: how a version is named in reports."""
        if not (self.effective_from or self.effective_until):
            return self.id
        return f"{self.id}@{self.effective_from or '…'}~{self.effective_until or '…'}"


@dataclass(frozen=True)
class RuleTest:
    spec: S.RuleTestSpec
    file: str
    line: int


@dataclass
class Rulebook:
    root: str
    name: str
    version: str
    hash: str
    rules: tuple
    org: OrgGraph
    categories: dict            # id → CategorySpec
    tests: tuple
    compiled: Compiled
    warnings: tuple = ()
    files: tuple = ()
    places: Any = None          # places.Places: the gazetteer (district field and title → jurisdiction)
    mentions: Any = None        # mentions.Mentions: department names read in titles
    statutes: Optional[Collection] = None   # the statute texts that travel with the rulebook (statutes/index.yaml)

    @functools.cached_property
    def versions(self) -> dict:
        """id → every version of that rule, in rulebook order (usually one; dated versions never overlap)."""
        found: dict[str, list] = {}
        for rule in self.rules:
            found.setdefault(rule.id, []).append(rule)
        return {rule_id: tuple(rules) for rule_id, rules in found.items()}

    @functools.cached_property
    def rules_at(self) -> dict:
        """(file, line) → rule: how a Basis entry (which records both) finds the exact version that fired."""
        return {rule.where: rule for rule in self.rules}


def full_cite(source: Optional[str], cite: str) -> str:
    if not source or "《" in cite:
        return cite
    title = source if source.startswith("《") else f"《{source}》"
    return f"{title}{cite}"


@dataclass
class _Loaded:
    path: str          # as shown in diagnostics (relative to the working directory when inside it)
    relative: str      # relative to the rulebook root: what results cite, wherever the rulebook lives
    doc: YamlDoc
    kind: str
    model: Any


class _Loader:
    def __init__(self, root: FsPath, display_root: str):
        self.root = root
        self.display_root = display_root
        self.diagnostics: list[Diagnostic] = []
        self.loaded: list[_Loaded] = []
        self.failed: set[str] = set()          # kinds of files that failed their schema
        self.broken_rule_ids: set[str] = set()  # rule ids written in rule files that failed their schema
        self.digest = hashlib.sha256()

    def display(self, path: FsPath) -> str:
        rel = path.relative_to(self.root).as_posix()
        return f"{self.display_root.rstrip('/')}/{rel}" if self.display_root else rel

    def read_all(self):
        paths = yaml_files(self.root, self.file_problem)
        if len(paths) > MAX_FILES:  # reported at the first file left unread
            self.file_problem(paths[MAX_FILES], too_many_files())
            paths = paths[:MAX_FILES]
        for path in paths:
            try:
                raw = read_bytes(path)
            except FileProblem as problem:
                self.file_problem(path, problem)
                continue
            self.digest.update(path.relative_to(self.root).as_posix().encode() + b"\0" + raw + b"\0")
            self.read_one(path, raw)

    def file_problem(self, path: FsPath, problem: FileProblem):
        try:
            shown = self.display(path)
        except ValueError:
            shown = str(path)
        self.diagnostics.append(Diagnostic(problem.code, problem.message, Location(shown, 1, 1),
                                           suggestion=problem.suggestion))

    def read_one(self, path: FsPath, raw: bytes):
        name = self.display(path)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            before = raw[:exc.start].decode("utf-8-sig", errors="replace")
            line = before.count("\n") + 1
            col = len(before) - (before.rfind("\n") + 1) + 1
            self.diagnostics.append(Diagnostic(
                "E107", f"文件不是 UTF-8 编码（第 {exc.start + 1} 字节无法按 UTF-8 读取）", Location(name, line, col),
                suggestion="用 UTF-8 重新保存该文件（Excel / WPS / 记事本“另存为”时选 UTF-8）。"))
            return
        doc, problems = load_yaml(text, name)
        self.diagnostics.extend(problems)
        if doc is None or problems:
            return
        if doc.data is None:
            return  # an empty file is allowed (e.g. a placeholder)
        if not isinstance(doc.data, dict):
            self.diagnostics.append(Diagnostic("E110", "文件顶层必须是映射", doc.where(()),
                                               suggestion="以 rules:、departments:、tests: 等键开头。"))
            return
        kind = next((k for k in doc.data if k in S.FILE_KINDS), None)
        if kind is None:
            # name the key that looks like a file kind (`rule:` for `rules:`), else the first key
            def likeness(k) -> float:  # how close a key comes to some file kind
                return max(difflib.SequenceMatcher(None, str(k), kind).ratio() for kind in S.FILE_KINDS)
            close = sorted((k for k in doc.data if likeness(k) >= 0.6), key=likeness, reverse=True)
            key = close[0] if close else next(iter(doc.data), "")
            self.diagnostics.append(Diagnostic(
                "E110", f"无法识别的文件：顶层键 '{key}' 不是 {', '.join(S.FILE_KINDS)} 之一",
                doc.where((key,), key=True), suggestion=suggest(str(key), S.FILE_KINDS, "顶层键")))
            self.failed.add("unknown")
            return
        model_cls = S.FILE_KINDS[kind]
        try:
            model = model_cls.model_validate(doc.data)
        except ValidationError as exc:
            self.diagnostics.extend(schema_diagnostics(doc, model_cls, exc))
            self.failed.add(kind)
            self.broken_rule_ids.update(_raw_rule_ids(doc.data) if kind == "rules" else ())
            return
        self.loaded.append(_Loaded(name, path.relative_to(self.root).as_posix(), doc, kind, model))

    def of_kind(self, *kinds) -> Iterable[_Loaded]:
        return [item for item in self.loaded if item.kind in kinds]


# ---------------------------------------------------------------- the rulebook
def _located(item: _Loaded, key: str, index: int, spec) -> Located:
    path = (key, index)
    return Located(spec, item.doc.where(path), _Where(item.doc, path))


@dataclass(frozen=True)
class _Where:
    """Where a part of one org-data entry is written (a callable object, not a closure: a loaded rulebook is
    pickled into the compiled-rulebook cache)."""

    doc: YamlDoc
    path: tuple

    def __call__(self, *parts, key: bool = True) -> Location:
        return self.doc.where(self.path + parts, key=key)


def load_rulebook(path: str | os.PathLike, strict: bool = False) -> Rulebook:
    """Load, validate and compile a rulebook directory. Raises RulebookError listing every error.

    Warnings are kept on `Rulebook.warnings`; with `strict=True` they are errors too.
    """
    rulebook, diagnostics = check_rulebook(path)
    errors = [d for d in diagnostics if d.severity == "error" or strict]
    if errors or rulebook is None:
        raise RulebookError(errors or diagnostics)
    return rulebook


def _display(root: FsPath) -> str:
    """How to show the rulebook's paths: relative to the working directory when inside it."""
    try:
        relative = os.path.relpath(root)
    except ValueError:  # another drive on Windows
        return str(root)
    return str(root) if relative.startswith("..") else relative


def check_rulebook(path: str | os.PathLike) -> tuple[Optional[Rulebook], list[Diagnostic]]:
    """Every diagnostic for a rulebook directory, and the Rulebook when there is no error."""
    root = FsPath(path)
    display_root = _display(root)
    if not root.is_dir():
        return None, [Diagnostic("E100", f"规则库目录不存在：{path}", Location(display_root),
                                 suggestion="检查路径：ecorules check / test / diff 的参数，或 resolve / explain 的 --rules，"
                                            "应是含规则文件的目录。")]
    # the same bytes, code and display give the same result: kept in the compiled-rulebook cache (cache.py)
    return remembered(root, display_root, lambda: _check(root, display_root), keep=lambda result: _self_contained(
        root, result[0]))


def _check(root: FsPath, display_root: str) -> tuple[Optional[Rulebook], list[Diagnostic]]:
    loader = _Loader(root, display_root)
    loader.read_all()
    return _Assembler(loader).assemble()


def _self_contained(root: FsPath, rulebook: Optional[Rulebook]) -> bool:
    """Did loading read only files under `root` (what the cache key covers)? Statute texts are named in the
    index and could lie elsewhere."""
    if rulebook is None or rulebook.statutes is None:
        return True
    inside = root.resolve()
    return all(statute.path.resolve().is_relative_to(inside) for statute in rulebook.statutes.statutes)


class _Assembler:
    def __init__(self, loader: _Loader):
        self.loader = loader
        self.diagnostics = loader.diagnostics

    def error(self, code, message, where, rule_id=None, suggestion=None, severity="error"):
        self.diagnostics.append(Diagnostic(code, message, where, rule_id, suggestion, severity))

    def assemble(self) -> tuple[Optional[Rulebook], list[Diagnostic]]:
        loader = self.loader
        departments, districts = [], []
        for item in loader.of_kind("departments", "districts"):
            departments += [_located(item, "departments", i, d) for i, d in enumerate(item.model.departments)]
            districts += [_located(item, "districts", i, d) for i, d in enumerate(item.model.districts)]
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
        statutes = self._statutes()
        tests = self._tests()
        compiled, problems = compile_rules(rules, self._locate_when)
        self.diagnostics.extend(problems)
        meta = next((item.model.rulebook for item in loader.of_kind("rulebook")), None)
        if any(d.severity == "error" for d in self.diagnostics):
            return None, self.diagnostics
        rulebook = Rulebook(
            root=loader.display_root, name=meta.name if meta else FsPath(loader.root).resolve().name,
            version=meta.version if meta else "0", hash=loader.digest.hexdigest(), rules=tuple(rules), org=org,
            categories=self.categories, tests=tuple(tests), compiled=compiled,
            warnings=tuple(d for d in self.diagnostics if d.severity == "warning"),
            files=tuple(item.relative for item in loader.loaded), places=places, mentions=mentions,
            statutes=statutes)
        return rulebook, self.diagnostics

    def _places_and_mentions(self):
        """The gazetteer (`places:` files) and the department names read in titles (`aliases:` files)."""
        from .mentions import Mentions  # local: these modules import orggraph, as rulebook does
        from .places import Places
        entries = [_located(item, "places", i, p) for item in self.loader.of_kind("places")
                   for i, p in enumerate(item.model.places)]
        aliases = [_located(item, "aliases", i, a) for item in self.loader.of_kind("aliases")
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
            for i, spec in enumerate(file_model.rules):
                where = item.doc.where(("rules", i))
                effective = spec.effective or S.Effective()
                rule = Rule(
                    id=spec.id, stage=file_model.stage, title=spec.title,
                    cite=full_cite(spec.source or file_model.source, spec.cite), provenance=spec.provenance,
                    note=spec.note, when=spec.when, priority=spec.priority, effective_from=effective.from_,
                    effective_until=effective.until, overrides=tuple(spec.overrides), disputes=tuple(spec.disputes),
                    lead=spec.lead,
                    assist=tuple(spec.assist), set=dict(spec.set or {}), escalate=spec.escalate,
                    transfers=tuple(spec.transfer), obligations=tuple(spec.obligation), status=spec.status,
                    file=item.relative, line=where.line, order=len(rules))
                if not self._new_version(rule, versions.get(spec.id, ()), item.doc.where(("rules", i, "id"))):
                    continue
                versions.setdefault(spec.id, []).append((rule, where))
                docs[rule.order] = (item.doc, ("rules", i), spec)
                rules.append(self._parse_when(rule, item.doc, ("rules", i), context))
        return rules, docs

    def _parse_when(self, rule: Rule, doc: YamlDoc, base: tuple, context: Context) -> Rule:
        """The one parse of a rule's `when` (conditions.py); the compiler, the checks and lint read its tree."""
        if rule.when is None:
            return rule  # E305, reported by _check_conditions_present
        try:
            return replace(rule, condition=parse_when(rule.when, rule.stage, context, rule.id))
        except ConditionError as exc:
            self.error(exc.code, exc.message, doc.where(base + ("when",) + tuple(exc.where), key=True), rule.id,
                       exc.suggestion)
            return rule

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


def _raw_rule_ids(data) -> set:
    rules = data.get("rules") if isinstance(data, dict) else None
    return {r["id"] for r in rules if isinstance(r, dict) and isinstance(r.get("id"), str)} \
        if isinstance(rules, list) else set()
