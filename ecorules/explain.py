"""Resolution → Chinese (or English) text. Returns strings; never prints.

`explanation_text` is the short paragraph stored on every Resolution; `explain_lines` is the longer
rendering of `ecorules explain`: which rules fired, their citations, why the winner won and why each
other candidate lost. Both read only the Resolution and the rulebook, so text and JSON cannot disagree.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from .statutes import quotes

_STATUS_ZH = {"resolved": "已明确牵头部门", "conflict": "牵头部门存在冲突", "unassigned": "尚未明确牵头部门",
              "out_of_scope": "不属于生态环境保护事项", "invalid": "事项无效"}
_STATUS_EN = {"resolved": "lead found", "conflict": "conflicting leads", "unassigned": "no lead",
              "out_of_scope": "not an environmental-protection matter", "invalid": "invalid matter"}
# what became of a rule that fired (model.Outcome), worded only here
OUTCOME_ZH = {"adopted": "采用", "overridden": "被例外规则覆盖", "lower_priority": "优先级较低，未采用",
              "tied": "同一优先级下牵头部门不一致（冲突）", "absent": "本辖区无对应部门",
              "ambiguous": "同一优先级下分类结果不一致，未采用", "superseded": "输入已给出，未采用"}
OUTCOME_EN = {"adopted": "adopted", "overridden": "overridden by an exception rule",
              "lower_priority": "lower priority, not adopted", "tied": "same priority, different lead (conflict)",
              "absent": "no such body in this jurisdiction", "ambiguous": "same priority, different category, not adopted",
              "superseded": "given in the input, not adopted"}


def outcome_text(code: str, lang: str = "zh") -> str:
    return (OUTCOME_ZH if lang == "zh" else OUTCOME_EN).get(code, code)


def _names(departments) -> str:
    return "、".join(d.short_name for d in departments)


def _category(resolution, rulebook) -> str:
    if not resolution.category:
        return "未分类"
    spec = rulebook.categories.get(resolution.category)
    return f"{spec.name}（{resolution.category}）" if spec else resolution.category


def _rule_cite(resolution, rule_id: str) -> str:
    return next((b.cite for b in resolution.basis if b.rule == rule_id), "")


# how the jurisdiction was found (places.Place.how), worded only here; a plain district field says nothing
PLACE_ZH = {"former": "所属区按旧区名“{e}”的今属区确定", "place": "所属区由地名“{e}”确定",
            "district_place": "所属区由“{e}”确定", "title": "所属区据标题中的“{e}”判断",
            "citywide": "标题有“{e}”，按市级处理", "none": "未填所属区，标题中也无地点，按市级处理",
            "open": "地点“{e}”无法确定属于哪个区，暂按市级处理"}


def place_text(place) -> str:
    """One short phrase on how the jurisdiction was found, or '' when the district field said it plainly."""
    template = PLACE_ZH.get(getattr(place, "how", None))
    return template.format(e=place.evidence) + "。" if template else ""


def explanation_text(resolution, rulebook, notes: Optional[list] = None, place=None) -> str:
    """One Chinese paragraph: the decision, its citation, then escalation, transfers, obligations."""
    parts = []
    category = _category(resolution, rulebook)
    adopted = [b for b in resolution.basis if b.stage == "assign" and b.outcome == "adopted"]
    if resolution.status == "resolved" and resolution.lead:
        cites = "；".join(dict.fromkeys(b.cite for b in adopted))
        parts.append(f"事项类别：{category}。由{resolution.lead.short_name}牵头，依据{cites}"
                     f"（规则 {'、'.join(b.rule for b in adopted)}）。")
        if resolution.assist:
            parts.append(f"配合部门：{_names(resolution.assist)}。")
    elif resolution.status == "conflict":
        tied = [b for b in resolution.basis if b.stage == "assign" and b.outcome == "tied"]
        detail = "；".join(f"规则 {b.rule} 依据{b.cite}" for b in tied)
        parts.append(f"事项类别：{category}。同一优先级的规则指定了不同的牵头部门（{_names(resolution.candidates)}），"
                     f"不作猜测：{detail}。")
    else:
        parts.append(f"事项类别：{category}。没有适用的分工规则，尚未明确牵头部门。")
    for note in notes or []:
        parts.append(note + "。")
    escalation = resolution.escalation
    if escalation:
        text = f"依据{escalation.cite}，上报{_names(escalation.to)}"
        if escalation.proposer:
            text += f"，由{escalation.proposer.short_name}"
            text += f"会同{_names(escalation.consult)}" if escalation.consult else ""
            text += "提出意见"
        if escalation.steps:
            text += "：" + "；".join(escalation.steps)
        parts.append(text + "。")
    for transfer in resolution.transfers:
        parts.append(f"移交{transfer.to.short_name}：{transfer.reason}（依据{transfer.cite}）。")
    for item in resolution.obligations:
        text = f"义务：{item.what}"
        if item.due:
            text += f"，期限 {item.due}"
        if item.to:
            text += f"，报送{_names(item.to)}"
        if item.copy_to:
            text += f"，抄送{_names(item.copy_to)}"
        parts.append(text + f"（依据{item.cite}）。")
    if place is not None:
        parts.append(place_text(place))
    return "".join(parts)


def explain_lines(resolution, rulebook, lang: str = "zh", why_not: Optional[str] = None,
                  quote: bool = False) -> list[str]:
    """The readable rendering of one resolution, line by line; `quote` adds the cited text under the conclusion."""
    zh = lang == "zh"
    lines = [f"事项 {resolution.id}：{_STATUS_ZH[resolution.status]}" if zh else
             f"Matter {resolution.id}: {_STATUS_EN[resolution.status]}"]
    if resolution.status == "invalid":
        lines.append(("错误：" if zh else "Error: ") + resolution.error.message)
        return lines
    level = {"municipal": "市级", "district": "区级"}.get(resolution.level, "")
    lines.append((f"层级：{level}（{resolution.jurisdiction}），判断日期：{resolution.as_of}" if zh else
                  f"Level: {resolution.level} ({resolution.jurisdiction}), as of {resolution.as_of}"))
    lines.extend(("提示 " if zh else "Warning ") + f"{w.code}：{w.message}" for w in resolution.warnings)
    if resolution.lead:
        lines.append(("牵头部门：" if zh else "Lead: ") + f"{resolution.lead.name}（{resolution.lead.id}）")
    if resolution.assist:
        lines.append(("配合部门：" if zh else "Assisting: ") + "、".join(d.name for d in resolution.assist))
    if resolution.candidates:
        lines.append(("候选牵头部门：" if zh else "Candidates: ") + "、".join(d.name for d in resolution.candidates))
    lines.append("适用的规则：" if zh else "Rules that fired:")
    rules = rulebook.rules_at
    for basis in resolution.basis:
        rule = rules.get((basis.file, basis.line))
        priority = f"，优先级 {rule.priority}" if rule else ""
        provenance = f"，来源可靠性 {basis.provenance}" if basis.provenance else ""
        lines.append(f"  - [{basis.stage}] {basis.rule}（{rule.title if rule else ''}）"
                     f"{priority}{provenance}：{outcome_text(basis.outcome, lang)}")
        lines.append(f"    依据：{basis.cite}；{basis.file}:{basis.line}")
        if rule and rule.note:
            lines.append(f"    说明：{rule.note}")
    lines.append(("结论：" if zh else "Summary: ") + resolution.explanation)
    if quote:
        lines.extend(quote_lines(resolution, rulebook, lang))
    if why_not:
        lines.extend(why_not_lines(resolution, rulebook, why_not))
    return lines


def quote_lines(resolution, rulebook, lang: str = "zh") -> list[str]:
    """The cited sentences of every adopted rule, quoted from the statute texts that travel with the rulebook
    (citations.quotes), so that a memo can quote the law itself; what cannot be quoted says why."""
    zh = lang == "zh"
    collection = getattr(rulebook, "statutes", None)
    lines = ["引用条文：" if zh else "Cited text (quoted from the statute texts shipped with the rulebook):"]
    if collection is None:
        return lines + ["  规则库未附法规文本（statutes/index.yaml），无法引用原文。" if zh else
                        "  The rulebook carries no statute texts (statutes/index.yaml)."]
    day = _as_date(resolution.as_of)
    rules = rulebook.rules_at
    seen = set()
    for basis in resolution.basis:
        if basis.outcome != "adopted" or basis.cite in seen:
            continue
        seen.add(basis.cite)
        rule = rules.get((basis.file, basis.line))
        lines.append(f"  规则 {basis.rule}（{rule.title if rule else ''}）依据{basis.cite}：")
        found = quotes(basis.cite, collection, day)
        if not found:
            lines.append("    （依据中没有可引用的条文）")
        for item in found:
            if not item.lines:
                lines.append(f"    《{item.title}》{item.label}：{item.problem}")
                continue
            lines.append(f"    《{item.title}》{item.label}（{item.version}）：")
            lines.extend(f"      {text}" for text in item.lines)
            if item.problem:
                lines.append(f"      注：{item.problem}")
    return lines


def _as_date(value) -> Optional[dt.date]:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def why_not_lines(resolution, rulebook, reference: str) -> list[str]:
    """Why is `reference` not the lead? Answered from the basis, never by re-evaluating."""
    org = rulebook.org
    jurisdiction = resolution.jurisdiction or "sh"
    try:
        node = org.node_named(reference) or org.resolve(reference, jurisdiction)
    except KeyError:
        return [f"为何不是 {reference}：未知的部门。"]
    if node is None:
        return [f"为何不是 {reference}：本辖区没有对应部门。"]
    name = org.department(node).short_name
    if resolution.lead and resolution.lead.id == node:
        return [f"{name} 就是牵头部门。"]
    proposing = [b for b in resolution.basis if b.stage == "assign" and _proposes(rulebook, b, node, jurisdiction)]
    if not proposing:
        return [f"为何不是{name}：没有任何适用的规则提出由{name}牵头。"]
    return [f"为何不是{name}：规则 {b.rule}（依据{b.cite}）提出由其牵头，但{outcome_text(b.outcome)}。" for b in proposing]


def _proposes(rulebook, basis, node: str, jurisdiction: str) -> bool:
    rule = rulebook.rules_at.get((basis.file, basis.line))
    if not rule or not rule.lead or rule.lead.startswith("$"):
        return False
    return rulebook.org.resolve(rule.lead, jurisdiction) == node
