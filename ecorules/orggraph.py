"""The department graph (networkx): who exists where, who holds what, who reports to whom.

Nodes are bodies (`sh.sthj`, `huangpu.zjw`); edges carry a `type`:
  reports_to         body → same-level 党委/政府 (and a district's 党委/政府 → the city's)
  guides             municipal body → its district counterpart
  holds_function_of  district body → the municipal body whose function it carries in that district
  transfers_to       body → same-level 公安 / 检察院 (（十八）（十九） enforcement linkage)
Role references are resolved here, once per (role, jurisdiction), at build time.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import networkx as nx

from .errors import Diagnostic, Location, suggest
from .model import Department, Hop
from .spec import DepartmentSpec, DistrictSpec

MUNICIPAL = "sh"
DISTRICT_CODES = ("pudong", "huangpu", "xuhui", "changning", "jingan", "putuo", "hongkou", "yangpu",
                  "minhang", "baoshan", "jiading", "jinshan", "songjiang", "qingpu", "fengxian", "chongming")
LEADERSHIP = ("party", "gov")
# relations a rule reference may name after a variable ($lead.leadership); any role code names the same-level body
RELATIONS = {"leadership": "同级党委和政府", "supervisor": "上级主管部门"}
# $named: the first department the title names (named.id; mentions.py) — a rule must test named.id to use it
VARIABLES = {"assign": ("$approved_by", "$named"), "route": ("$approved_by", "$named", "$lead", "$candidates", "$assist")}
# bodies outside the administrative chain do not report to the same-level 党委/政府 in this graph
_NO_REPORTING = {"central_agency"}
_FUNCTIONAL = "functional_department"
_TRANSFER_ROLES = ("gaj", "jcy")   # a functional department's same-level enforcement linkage (（十八）（十九）)


def _inferred(confidence) -> bool:
    return confidence == "inference"


def _hop(source: Optional[str], kind: str, target: str) -> Hop:
    return Hop.model_construct(source=source, type=kind, target=target)


@dataclass(frozen=True)
class Located:
    """A spec together with where it was written: `where("held_by", "jtw")` → Location of that key."""

    spec: object
    location: Location
    where: Callable[..., Location]


class OrgGraph:
    """Built once per rulebook; read-only afterwards (safe to share between threads)."""

    def __init__(self, departments: Iterable[Located], districts: Iterable[Located]):
        self.graph = nx.DiGraph()
        self.diagnostics: list[Diagnostic] = []
        self.roles: dict[str, DepartmentSpec] = {}
        self.districts: dict[str, DistrictSpec] = {}
        self._role_where: dict[str, Located] = {}
        self._names: dict[str, tuple[str, str]] = {}      # name → ("role", role) | ("node", id)
        self._departments: dict[str, Department] = {}
        self._district_aliases: dict[str, str] = {}
        self._former_districts: dict[str, str] = {}   # name of a merged district → the district it is part of
        self._node_names: dict[str, str] = {}   # exact full / short name of a body → node id
        self._add_roles(departments)
        self._add_districts(districts)
        if not self.diagnostics:
            self._build_nodes()
            self._build_edges()
            self._index_names()
            self._check_invariants()

    # ---------------------------------------------------------------- building
    def _error(self, code, message, where, suggestion=None, severity="error"):
        self.diagnostics.append(Diagnostic(code, message, where, suggestion=suggestion, severity=severity))

    def _add_roles(self, departments):
        for item in departments:
            spec: DepartmentSpec = item.spec
            if spec.role in self.roles:
                first = self._role_where[spec.role].location
                self._error("E302", f"职能代码 '{spec.role}' 重复（第一次在 {first}）", item.where("role"),
                            "每个职能只写一条，区级差异写在 districts 的 held_by / absent / names 中。")
                continue
            self._check_template(spec.district, item.where, ("district",))
            if spec.role in LEADERSHIP and (spec.district in ("none", "shared") or not spec.municipal):
                self._error("E207", f"'{spec.role}'（党委 / 政府）必须在市级和每个区都有机构（district 写名称模板，"
                                    "municipal 为 true）", item.where("district"), "上报对象是同级党委和政府。")
            self.roles[spec.role] = spec
            self._role_where[spec.role] = item
        for role, spec in self.roles.items():
            for i, target in enumerate(spec.reports_to or []):
                if target not in self.roles:
                    self._error("E206", f"职能 {role} 的 reports_to 中有未知职能 '{target}'",
                                self._role_where[role].where("reports_to", i, key=False),
                                suggest(target, self.roles, "职能代码"))
        missing = [r for r in LEADERSHIP if r not in self.roles]
        if self.roles and missing:
            any_where = next(iter(self._role_where.values())).location
            self._error("E207", f"组织数据缺少职能 {', '.join(missing)}（党委 party、政府 gov 是上报的对象）", any_where,
                        "添加 role: party 与 role: gov 两条。")

    def _check_template(self, template, where, path):
        if template in (None, "none", "shared"):
            return
        for key in ("name", "short_name"):
            text = getattr(template, key)
            try:
                text.format(区="区", 区简="区")
            except (KeyError, ValueError, IndexError, AttributeError):
                self._error("E105", f"名称模板 '{text}' 只能使用 {{区}} 和 {{区简}} 两个占位符，且大括号要成对",
                            where(*path, key), "例如 上海市{区}生态环境局。")

    def _add_districts(self, districts):
        for item in districts:
            spec: DistrictSpec = item.spec
            where = item.where
            if spec.code not in DISTRICT_CODES:
                self._error("E207", f"未知的区代码 '{spec.code}'", where("code"), suggest(spec.code, DISTRICT_CODES, "区代码"))
                continue
            if spec.code in self.districts:
                self._error("E302", f"区 '{spec.code}' 重复", where("code"))
                continue
            for role, holder in spec.held_by.items():
                if role not in self.roles:
                    self._error("E206", f"区 {spec.code} 的 held_by 中有未知职能 '{role}'", where("held_by", role),
                                suggest(role, self.roles, "职能代码"))
                if holder not in self.roles:
                    self._error("E206", f"区 {spec.code} 的 held_by 中有未知职能 '{holder}'",
                                where("held_by", role, key=False), suggest(holder, self.roles, "职能代码"))
                elif holder in spec.held_by or holder in spec.absent:
                    self._error("E206", f"区 {spec.code}：'{role}' 由 '{holder}' 承担，但 '{holder}' 本身在该区不存在",
                                where("held_by", role, key=False), "让 held_by 指向该区实际存在的部门。")
            for i, role in enumerate(spec.absent):
                if role not in self.roles:
                    self._error("E206", f"区 {spec.code} 的 absent 中有未知职能 '{role}'", where("absent", i, key=False),
                                suggest(role, self.roles, "职能代码"))
            for role, names in spec.names.items():
                if role not in self.roles:
                    self._error("E206", f"区 {spec.code} 的 names 中有未知职能 '{role}'", where("names", role),
                                suggest(role, self.roles, "职能代码"))
                self._check_template(names, where, ("names", role))
            self.districts[spec.code] = spec

    def _district_node_names(self, spec: DepartmentSpec, district: DistrictSpec) -> tuple[str, str, bool]:
        """(name, short name, inferred): a district's own name wins over the template; either may be an inference."""
        if spec.role in district.names:
            override = district.names[spec.role]
            return override.name, override.short_name, _inferred(override.confidence or spec.confidence)
        template = spec.district
        fill = {"区": district.name, "区简": district.short_name}
        return (template.name.format(**fill), template.short_name.format(**fill),
                _inferred(template.confidence or spec.confidence))

    @staticmethod
    def _district_name_en(spec: DepartmentSpec, district: DistrictSpec) -> Optional[str]:
        """The English gloss of a district body: the template's (`District Bureau of …`) with the district's own
        English name in front (`Huangpu District Bureau of …`); None when the org data gives none."""
        override = district.names.get(spec.role)
        gloss = (override.name_en if override else None) or spec.district.name_en
        if not gloss or override is not None and override.name_en:
            return gloss
        place = district.name_en or district.short_name
        if re.search(r"\bDistrict\b", gloss):
            return re.sub(r"\bDistrict\b", place, gloss, count=1)   # CPC District Committee → CPC Huangpu District …
        return f"{place} {gloss}"

    def _build_nodes(self):
        for role, spec in self.roles.items():
            if spec.municipal:
                self._add_node(f"{MUNICIPAL}.{role}", spec, MUNICIPAL, spec.name, spec.short_name,
                               _inferred(spec.confidence), spec.name_en)
        for code, district in self.districts.items():
            for role, spec in self.roles.items():
                if spec.district in ("none", "shared") or role in district.absent or role in district.held_by:
                    continue
                name, short, inferred = self._district_node_names(spec, district)
                self._add_node(f"{code}.{role}", spec, code, name, short, inferred,
                               self._district_name_en(spec, district))

    def _add_node(self, node_id, spec: DepartmentSpec, jurisdiction, name, short, inferred: bool,
                  name_en: Optional[str] = None):
        level = "municipal" if jurisdiction == MUNICIPAL else "district"
        self.graph.add_node(node_id, role=spec.role, jurisdiction=jurisdiction, level=level, name=name,
                            short_name=short, kind=spec.kind, enforcement=spec.enforcement, inferred=inferred,
                            name_en=name_en)
        self._departments[node_id] = Department(id=node_id, role=spec.role, jurisdiction=jurisdiction,
                                                name=name, short_name=short, inferred=inferred)

    def _build_edges(self):
        g = self.graph
        # held_by first: every later look-up of a role in a district may go through these edges
        for code, district in self.districts.items():
            for role, holder_role in district.held_by.items():
                holder, upper = self.body_for(holder_role, code), f"{MUNICIPAL}.{role}"
                if holder and upper in g:
                    g.add_edge(holder, upper, type="holds_function_of", role=role)
        for jurisdiction in self.jurisdictions:
            party, gov = self.body_for("party", jurisdiction), self.body_for("gov", jurisdiction)
            linked = [self.body_for(role, jurisdiction) for role in _TRANSFER_ROLES if role in self.roles]
            for node, data in list(g.nodes(data=True)):
                if data["jurisdiction"] != jurisdiction or node == party:
                    continue
                if node == gov:
                    g.add_edge(node, party, type="reports_to")
                    continue
                for leader in self._leaders_of(data["role"], data["kind"], jurisdiction):
                    g.add_edge(node, leader, type="reports_to")
                if data["kind"] == _FUNCTIONAL:
                    for target in linked:
                        if target:
                            g.add_edge(node, target, type="transfers_to")
            if jurisdiction != MUNICIPAL:
                for role in LEADERSHIP:
                    g.add_edge(f"{jurisdiction}.{role}", f"{MUNICIPAL}.{role}", type="reports_to")
        for code in self.districts:
            for role in self.roles:
                upper, own = f"{MUNICIPAL}.{role}", f"{code}.{role}"
                if upper in g and own in g:
                    g.add_edge(upper, own, type="guides")

    def _leaders_of(self, role: str, kind: str, jurisdiction: str) -> list[str]:
        """The same-level bodies a body reports to: its org data's `reports_to`, by default 党委 and 政府."""
        declared = self.roles[role].reports_to
        if declared is None:
            declared = [] if kind in _NO_REPORTING else list(LEADERSHIP)
        return [n for n in (self.body_for(r, jurisdiction) for r in declared) if n]

    def _index_names(self):
        def claim(name, target, where):
            previous = self._names.get(name)
            if previous and previous != target:
                self._error("E302", f"名称 '{name}' 同时指向 {previous[1]} 和 {target[1]}", where,
                            "名称与别名在全部机构中必须唯一。")
                return
            self._names[name] = target
        for role, spec in self.roles.items():
            where = self._role_where[role].location
            names = [spec.name, spec.short_name, *spec.aliases]
            if isinstance(spec.district, type(None)) or spec.district in ("none", "shared"):
                pass
            else:
                names += [spec.district.name.format(区="区", 区简="区"), spec.district.short_name.format(区="区", 区简="区")]
            for name in names:
                claim(name, ("role", role), where)
        for node, data in self.graph.nodes(data=True):
            for name in (data["name"], data["short_name"]):
                self._node_names.setdefault(name, node)
            if data["jurisdiction"] != MUNICIPAL:
                for name in (data["name"], data["short_name"]):
                    if name not in self._names:
                        self._names[name] = ("node", node)
        for code, district in self.districts.items():
            for alias in (code, district.name, district.short_name, "上海市" + district.name):
                self._district_aliases[alias] = code
            for former in district.former_names:  # 南汇区 / 南汇 → pudong, for the message only
                self._former_districts[former] = self._former_districts[former.rstrip("区县")] = code

    def _check_invariants(self):
        reporting = nx.DiGraph((u, v) for u, v, t in self.graph.edges(data="type") if t == "reports_to")
        try:
            cycle = nx.find_cycle(reporting)
        except nx.NetworkXNoCycle:
            return
        where = next(iter(self._role_where.values())).location
        self._error("E350", "上报关系出现循环：" + " → ".join(u for u, _ in cycle), where,
                    "上报链必须终止于党委、政府。")

    # ---------------------------------------------------------------- queries
    @property
    def jurisdictions(self) -> list[str]:
        return [MUNICIPAL, *self.districts]

    def jurisdiction_of(self, district: Optional[str]) -> Optional[str]:
        """A district code from a code or Chinese name (黄浦区 / 黄浦 / huangpu); None if unknown."""
        if district is None:
            return MUNICIPAL
        return self._district_aliases.get(district.strip())

    def merged_into(self, district: str) -> Optional[str]:
        """The code of the district a former (merged) district is now part of, e.g. 南汇区 → pudong."""
        return self._former_districts.get(district.strip())

    def district_choices(self) -> list[str]:
        return sorted(self._district_aliases)

    def department(self, node: str) -> Department:
        return self._departments[node]

    def name_en(self, node: str) -> Optional[str]:
        """The body's English gloss from the org data (`name_en`), or None."""
        return self.graph.nodes[node].get("name_en") if node in self.graph else None

    def node(self, node: str) -> dict:
        return self.graph.nodes[node]

    def has_node(self, node: str) -> bool:
        return node in self.graph

    def node_named(self, name: str) -> Optional[str]:
        """The body a node id or exact full/short name denotes (literal: 市生态环境局 is sh.sthj)."""
        if name in self.graph:
            return name
        return self._node_names.get(name)

    def role_of(self, reference: str) -> Optional[str]:
        """The role a reference names (role code or any Chinese name of a role), else None."""
        if reference in self.roles:
            return reference
        target = self._names.get(reference)
        return target[1] if target and target[0] == "role" else None

    def kind_of(self, reference: str) -> Optional[str]:
        """The kind of body a plain reference names (`court`, `functional_department` …), else None."""
        if reference in self.graph:
            return self.graph.nodes[reference]["kind"]
        role = self.role_of(reference)
        if role is None and self._names.get(reference, ("", ""))[0] == "node":
            return self.graph.nodes[self._names[reference][1]]["kind"]
        return self.roles[role].kind if role else None

    def is_known(self, reference: str) -> bool:
        return (reference in self.roles or reference in self._names or reference in self.graph)

    def reference_names(self) -> list[str]:
        return sorted({*self.roles, *self._names})

    def resolve(self, reference: str, jurisdiction: str) -> Optional[str]:
        """A plain reference (role, name or node id) → the body that answers for it in `jurisdiction`."""
        if reference in self.graph:
            return reference
        role = reference if reference in self.roles else None
        if role is None:
            target = self._names.get(reference)
            if target is None:
                raise KeyError(reference)
            if target[0] == "node":
                return target[1]
            role = target[1]
        return self.body_for(role, jurisdiction)

    def locate(self, reference: str, jurisdiction: str) -> tuple[Optional[str], list[Hop]]:
        """A plain reference → (body, hops): an explicit body has no hops; a role is looked up in `jurisdiction`
        (an `in_jurisdiction` hop, or the `holds_function_of` edge of the body that carries the function there)."""
        node = self.resolve(reference, jurisdiction)
        role = self.role_of(reference)
        if node is None or role is None:
            return node, []
        _, hops = self._body_and_hops(role, jurisdiction)
        return node, hops or [_hop(None, "in_jurisdiction", node)]

    def body_for(self, role: str, jurisdiction: str) -> Optional[str]:
        """The body that answers for `role` in `jurisdiction`: its own node, the municipal body of a role shared by
        all districts, or the district body with a `holds_function_of` edge to the municipal one; else None."""
        return self._body_and_hops(role, jurisdiction)[0]

    def _body_and_hops(self, role: str, jurisdiction: str) -> tuple[Optional[str], list[Hop]]:
        spec = self.roles.get(role)
        if spec is None:
            return None, []
        own, upper = f"{jurisdiction}.{role}", f"{MUNICIPAL}.{role}"
        if own in self.graph:
            return own, []
        if upper not in self.graph:
            return None, []
        if jurisdiction == MUNICIPAL or spec.district == "shared":
            return upper, []
        for holder, _, kind in self.graph.in_edges(upper, data="type"):
            if kind == "holds_function_of" and self.graph.nodes[holder]["jurisdiction"] == jurisdiction:
                return holder, [_hop(holder, kind, upper)]
        return None, []

    def declared_absent(self, reference: str, jurisdiction: str) -> bool:
        return self.resolve(reference, jurisdiction) is None

    def leadership(self, jurisdiction: str) -> list[str]:
        """The 党委 and 政府 of a jurisdiction (the bodies its departments report to)."""
        return [n for n in (self.body_for(r, jurisdiction) for r in LEADERSHIP) if n]

    def reports_to(self, node: str) -> list[str]:
        return sorted(v for _, v, t in self.graph.out_edges(node, data="type") if t == "reports_to")

    def escalation_chain(self, node: str) -> list[str]:
        """Every body above `node` along reports_to edges, nearest first, no repeats."""
        seen: list[str] = []
        frontier = [node]
        while frontier:
            nxt = []
            for current in frontier:
                for parent in self.reports_to(current):
                    if parent not in seen:
                        seen.append(parent)
                        nxt.append(parent)
            frontier = nxt
        return seen

    def counterpart(self, node: str, jurisdiction: str) -> Optional[str]:
        """The body that answers in `jurisdiction` for the role of `node` (its own node or a function holder)."""
        return self.body_for(self.graph.nodes[node]["role"], jurisdiction)

    # ---------------------------------------------------------------- relations (rule references like $lead.leadership)
    def related(self, anchor: Optional[str], relation: str, jurisdiction: str) -> list[tuple[str, list[Hop]]]:
        """The bodies in `relation` to `anchor`, each with the graph hops that found it.

        leadership  同级党委和政府: the anchor's same-level `reports_to` targets
        supervisor  上级主管部门: the municipal body that `guides` the anchor
        <role>      the same-level body of that role: a `transfers_to` target of that role, else the role's body in
                    the anchor's jurisdiction
        With no anchor (a matter without a lead) the relation is taken at the matter's own level (`jurisdiction`):
        its 党委和政府 or the role's body there; a supervisor is then nobody.
        """
        if anchor is None:
            if relation == "supervisor":
                return []
            roles = LEADERSHIP if relation == "leadership" else (relation,)
            found = [self._body_and_hops(role, jurisdiction) for role in roles]
            return [(node, hops or [_hop(None, "in_jurisdiction", node)]) for node, hops in found if node]
        g = self.graph
        if relation == "leadership":
            here = g.nodes[anchor]["jurisdiction"]
            targets = [v for _, v, t in g.out_edges(anchor, data="type")
                       if t == "reports_to" and g.nodes[v]["jurisdiction"] == here]
            targets.sort(key=lambda v: LEADERSHIP.index(g.nodes[v]["role"]) if g.nodes[v]["role"] in LEADERSHIP else 9)
            return [(v, [_hop(anchor, "reports_to", v)]) for v in targets]
        if relation == "supervisor":
            return [(u, [_hop(u, "guides", anchor)]) for u, _, t in g.in_edges(anchor, data="type") if t == "guides"]
        for _, v, t in g.out_edges(anchor, data="type"):
            if t == "transfers_to" and g.nodes[v]["role"] == relation:
                return [(v, [_hop(anchor, t, v)])]
        node, hops = self._body_and_hops(relation, g.nodes[anchor]["jurisdiction"])
        return [(node, hops or [_hop(anchor, "same_level", node)])] if node else []

    def relation_names(self) -> list[str]:
        return [*RELATIONS, *sorted(self.roles)]

    def is_municipal_functional(self, node: str) -> bool:
        data = self.graph.nodes[node]
        return data["jurisdiction"] == MUNICIPAL and data["kind"] not in ("party_committee", "government")
