"""Authority layers: a jurisdiction's own published list, added to the rulebook without editing city rules.

A rule file with a `list:` header (conventionally `lists/<jurisdiction>/*.yaml`) is the published list of one
jurisdiction — a department's list under （五）, a district's list under （六）: official decisions. Its rules
  * are assign rules only (E371), in force from the list's `date` unless they say otherwise;
  * apply only to matters of that jurisdiction: every rule's condition is joined with `district: <code>`
    (or `level: municipal` for a municipal list, `sh`) when it is parsed;
  * outrank the city rulebook's readings and inferences there, whatever their priority numbers: the decision
    helper (resolver.pick) compares `Rule.authority` before priority (overrides → authority → priority);
  * take the list's provenance unless they give their own; a sample list (`sample: true`) must be `inference`
    (E371), so every conclusion resting on it says 推定.
`departures` reports, for `check`, every place where a list departs from the city's reading of the same
category (W340). Nothing here prints.
"""
from __future__ import annotations

from typing import Callable, Optional

from . import spec as S
from .conditions import AllOf, Condition, FieldTest
from .errors import Diagnostic, Location, suggest
from .orggraph import MUNICIPAL, OrgGraph
from .rule import ListLayer, Rule

FOLDER = "lists"   # lists/<jurisdiction>/*.yaml: where a rulebook keeps its list layers


def read_layer(header: Optional[S.ListHeader], relative: str, stage: str, org: OrgGraph,
               where: Callable[..., Location]) -> tuple[Optional[ListLayer], list[Diagnostic]]:
    """The layer a rule file declares (None for a city rule file), with what is wrong about it.
    `where(*path, key=True)` locates a part of the file."""
    problems: list[Diagnostic] = []
    parts = relative.split("/")
    folder = parts[1] if len(parts) > 2 and parts[0] == FOLDER else None
    if header is None:
        if folder is not None:
            problems.append(Diagnostic(
                "E370", f"清单目录 {FOLDER}/{folder}/ 中的规则文件没有 list: 头", where(), None,
                f"在文件开头写明 list: {{jurisdiction: {folder}, title: …, document: …, date: …, provenance: …}}；"
                "不是某一辖区公布的清单的规则，放到 assign/ 等目录中。"))
        return None, problems
    code = header.jurisdiction
    known = [MUNICIPAL, *org.districts]
    if code not in known:
        problems.append(Diagnostic("E207", f"未知的辖区代码 '{code}'（list.jurisdiction）",
                                   where("list", "jurisdiction", key=False), None, suggest(code, known, "辖区代码")))
    elif folder is not None and folder != code:
        problems.append(Diagnostic(
            "E370", f"清单属于 '{code}'，却放在 {FOLDER}/{folder}/ 中", where("list", "jurisdiction", key=False), None,
            f"把文件移到 {FOLDER}/{code}/，或改正 list.jurisdiction。"))
    if stage != "assign":
        problems.append(Diagnostic(
            "E371", f"清单层只能含 assign 规则（本文件为 {stage}）", where("stage", key=False), None,
            "清单决定牵头与配合部门；分类（classify）和上报、移交（route）规则写在规则库的 classify/、route/ 中。"))
    if header.sample and header.provenance != "inference":
        problems.append(Diagnostic(
            "E371", "示例清单（sample: true）的 provenance 必须为 inference：示例不是公布的文件",
            where("list", "provenance", key=False), None, "改为 provenance: inference。"))
    layer = ListLayer(jurisdiction=code, title=header.title, document=header.document, date=header.date,
                      provenance=header.provenance, sample=header.sample, file=relative, issuer=header.issuer,
                      url=header.url)
    return layer, problems


def rule_problems(layer: ListLayer, spec: S.RuleSpec, where: Callable[..., Location]) -> list[Diagnostic]:
    """A rule of a sample list claiming a published source (E371)."""
    if layer.sample and spec.provenance in ("source", "partial"):
        return [Diagnostic("E371", f"示例清单中的规则不能标为 provenance: {spec.provenance}",
                           where("provenance", key=False), spec.id, "示例清单的规则为 inference（或不写，随清单）。")]
    return []


def restrict(condition: Condition, layer: ListLayer) -> Condition:
    """The rule's condition, joined with the test that the matter is in the layer's jurisdiction."""
    if layer.jurisdiction == MUNICIPAL:
        test = FieldTest("level", "level", "eq", "municipal", ())
    else:
        test = FieldTest("district", "district", "eq", layer.jurisdiction, ())
    items = (test,) if condition.always else (test, condition.root)
    return Condition(AllOf(items), always=False, kinds={**condition.kinds, test.field: "str"})


def departures(rules: list[Rule], org: OrgGraph, categories: dict,
               where_lead: Callable[[Rule], Location]) -> list[Diagnostic]:
    """W340: a list rule whose lead differs from the city rulebook's reading of the same category in the same
    jurisdiction (one warning per city rule read otherwise)."""
    found = []
    city = [r for r in rules if r.stage == "assign" and r.layer is None and r.lead and not r.lead.startswith("$")
            and r.condition is not None]
    for rule in rules:
        layer = rule.layer
        if layer is None or not rule.lead or rule.lead.startswith("$") or rule.condition is None:
            continue
        code = layer.jurisdiction
        mine = _categories(rule)
        lead = org.resolve(rule.lead, code) if org.is_known(rule.lead) else None
        if not mine or lead is None:
            continue
        for other in city:
            shared = [c for c in _categories(other) if c in mine]
            if not shared or not rule.overlaps(other) or not _applies_in(other, code):
                continue
            theirs = org.resolve(other.lead, code) if org.is_known(other.lead) else None
            if theirs is None or theirs == lead:
                continue
            names = "、".join(_category_name(c, categories) for c in dict.fromkeys(shared))
            place = "市级" if code == MUNICIPAL else org.districts[code].name
            sample = "（示例清单）" if layer.sample else ""
            found.append(Diagnostic(
                "W340", f"清单与市级规则库的解读不同：《{layer.title}》{sample}规定{names}由{org.department(lead).short_name}"
                        f"牵头，规则 {other.id}（{other.file}:{other.line}，优先级 {other.priority}，来源可靠性 "
                        f"{other.provenance or '未标注'}）读为由{org.department(theirs).short_name}牵头；{place}的事项按清单办理",
                where_lead(rule), rule.id,
                f"请核对清单原文（{layer.document}）与该规则所引条文（{other.cite}）；清单与法律法规明文不一致的，"
                "报清单制定机关研究；核对无误的，在清单规则的 note 中说明。", "warning"))
    return found


def _categories(rule: Rule) -> list:
    return [value for value, _ in rule.condition.literals("category")] if rule.condition else []


def _applies_in(rule: Rule, code: str) -> bool:
    """Can a city rule fire on a matter of jurisdiction `code` (as far as its top-level tests pin it)?"""
    level = rule.condition.pinned("level")
    if level == "municipal" and code != MUNICIPAL or level == "district" and code == MUNICIPAL:
        return False
    district = rule.condition.pinned("district")
    return district is None or (code != MUNICIPAL and district == code)


def _category_name(code: str, categories: dict) -> str:
    spec = categories.get(code)
    return f"“{spec.name}”（{code}）" if spec else f"“{code}”"
