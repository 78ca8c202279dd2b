"""Resolution → Chinese (or English) text. Returns strings; never prints. The only place wording lives.

`explanation_text` is the short paragraph stored on every Resolution (Chinese; `lang="en"` gives the same in
English for a reader); `explain_lines` is the longer rendering of `ecorules explain`: which rules fired, their
citations, why the winner won and why each other candidate lost. Both read only the Resolution and the rulebook
(codes: status, outcome, provenance, warning codes), so text and JSON cannot disagree.

A conclusion that rests on an inference or a disputed rule says so in the conclusion sentence itself
(推定由…牵头 / 牵头部门有争议：…; `reliability`), as the CSV/XLSX column 结论可靠性 does. In English, what the
program words is English; what legal staff wrote in the rulebook (rule titles, notes, steps, reasons, the
titles of the statutes cited) and the bodies' Chinese names stay as written, a body with its English gloss from
the org data (`name_en`).
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from .citations import parse_citation
from .orggraph import MUNICIPAL
from .statutes import quotes

_STATUS_ZH = {"resolved": "已明确牵头部门", "conflict": "牵头部门存在冲突", "unassigned": "尚未明确牵头部门",
              "out_of_scope": "不属于生态环境保护事项", "invalid": "事项无效"}
_STATUS_EN = {"resolved": "lead found", "conflict": "conflicting leads", "unassigned": "no lead",
              "out_of_scope": "not an environmental-protection matter", "invalid": "invalid matter"}
# what became of a rule that fired (model.Outcome), worded only here
OUTCOME_ZH = {"adopted": "采用", "overridden": "被例外规则覆盖", "lower_priority": "优先级较低，未采用",
              "tied": "同一优先级下牵头部门不一致（冲突）", "absent": "本辖区无对应部门",
              "ambiguous": "同一优先级下分类结果不一致，未采用", "superseded": "输入已给出，未采用",
              "outranked": "本辖区公布的责任清单优先，未采用"}
OUTCOME_EN = {"adopted": "adopted", "overridden": "overridden by an exception rule",
              "lower_priority": "lower priority, not adopted", "tied": "same priority, different lead (conflict)",
              "absent": "no such body in this jurisdiction", "ambiguous": "same priority, different category, not adopted",
              "superseded": "given in the input, not adopted",
              "outranked": "outranked by the jurisdiction's published list, not adopted"}
# how sure a conclusion is (reliability), worded only here; the CSV/XLSX column 结论可靠性 uses the Chinese words
RELIABILITY_ZH = {"inferred": "推定", "disputed": "有争议"}
RELIABILITY_EN = {"inferred": "presumed", "disputed": "disputed"}
PROVENANCE_EN = {"source": "explicit in the source", "partial": "partly explicit", "inference": "inference",
                 "disputed": "disputed"}
# the matter warnings (places.py), in English: the code says what happened; the Chinese message names the place
WARNING_EN = {
    "W401": "no district given; the district ({j}) was read from a place in the title — check it",
    "W402": "a former district name was taken as today's district ({j}) — update the sheet",
    "W403": "the place could be in several districts and was left open ({j}) — fill in the district",
    "W404": "no district and no place in the title: treated as municipal — fill in the district if it is a "
            "district matter",
    "W405": "the district was kept ({j}), but the 街道 / 镇 part is not in the gazetteer — check its spelling",
    "W406": "the title says city-wide and also names a place: treated as municipal — fill in the district if it "
            "is a district matter",
}


# an invalid matter, by the field at fault (the reason itself is reported in Chinese by the reader that found it)
_INVALID_EN = {
    "id": "the id is missing or not text", "title": "the title is missing, empty or too long",
    "district": "the district cannot be read, or contradicts itself", "level": "level and district contradict each other",
    "category": "unknown category", "approved_by": "unknown approving department, or none in this jurisdiction",
    "source": "the source is not text", "as_of": "as_of is not a date (YYYY-MM-DD)",
    "facts": "the facts are not a flat mapping of text, numbers or true/false, or too many",
}


def outcome_text(code: str, lang: str = "zh") -> str:
    return (OUTCOME_ZH if lang == "zh" else OUTCOME_EN).get(code, code)


def reliability(resolution) -> Optional[str]:
    """How sure the lead is, as a code: "disputed" when an adopted assign rule's provenance is `disputed`;
    "inferred" when one is `inference` (a sample list's rules always are) or the lead body's existence or name is
    an inference in the org data; None otherwise (and for every status but `resolved`)."""
    if resolution.status != "resolved" or resolution.lead is None:
        return None
    adopted = [b for b in resolution.basis if b.stage == "assign" and b.outcome == "adopted"]
    if any(b.provenance == "disputed" for b in adopted):
        return "disputed"
    if resolution.lead.inferred or any(b.provenance == "inference" for b in adopted):
        return "inferred"
    return None


def reliability_text(resolution, lang: str = "zh") -> str:
    """推定 / 有争议 / '' (the 结论可靠性 column); presumed / disputed in English."""
    code = reliability(resolution)
    return (RELIABILITY_ZH if lang == "zh" else RELIABILITY_EN).get(code, "") if code else ""


# ---------------------------------------------------------------- small renderers
def _names(departments) -> str:
    return "、".join(d.short_name for d in departments)


def _body_en(department, rulebook, full: bool = False) -> str:
    """A body in English text: its Chinese name with the English gloss from the org data."""
    name = department.name if full else department.short_name
    gloss = rulebook.org.name_en(department.id) if rulebook is not None else None
    return f"{name} ({gloss})" if gloss else name


def _names_en(departments, rulebook) -> str:
    return "; ".join(_body_en(d, rulebook) for d in departments)


def _category(resolution, rulebook) -> str:
    if not resolution.category:
        return "未分类"
    spec = rulebook.categories.get(resolution.category)
    return f"{spec.name}（{resolution.category}）" if spec else resolution.category


def cite_en(cite: str) -> str:
    """A citation with its article numbers in English (《title》 Art. 98(1), Art. 99; 《实施意见》 item (5)); the
    titles of the statutes stay as they are named, words that name no provision stay as written."""
    out, document, end = "", None, 0
    for piece in parse_citation(cite):
        between = cite[end:piece.start]
        if out:
            out += "; " if ("；" in between or ";" in between or piece.document != document) else ", "
        end = piece.start + len(piece.text)
        head = f"《{piece.document}》 " if piece.document and piece.document != document else ""
        document = piece.document or document
        ref = piece.reference
        if ref is None:
            text = piece.text
        elif ref.kind == "preamble":
            text = "General Requirements"
        elif ref.kind == "item":
            text = f"item ({ref.article})"
        else:
            text = f"Art. {ref.article}" + (f"-{ref.sub}" if ref.sub else "")
            text += f"({ref.paragraph})" if ref.paragraph else ""
            text += f" item {ref.item}" if ref.item else ""
        out += head + text
    return out or cite


def _cite(cite: str, lang: str) -> str:
    return cite if lang == "zh" else cite_en(cite)


# how the jurisdiction was found (places.Place.how), worded only here; a plain district field says nothing
PLACE_ZH = {"former": "所属区按旧区名“{e}”的今属区确定", "place": "所属区由地名“{e}”确定",
            "district_place": "所属区由“{e}”确定", "title": "所属区据标题中的“{e}”判断",
            "citywide": "标题有“{e}”，按市级处理", "none": "未填所属区，标题中也无地点，按市级处理",
            "open": "地点“{e}”无法确定属于哪个区，暂按市级处理"}


def place_text(place) -> str:
    """One short phrase on how the jurisdiction was found, or '' when the district field said it plainly."""
    template = PLACE_ZH.get(getattr(place, "how", None))
    return template.format(e=place.evidence) + "。" if template else ""


# ---------------------------------------------------------------- the explanation paragraph
def explanation_text(resolution, rulebook, notes: Optional[list] = None, place=None, lang: str = "zh") -> str:
    """One paragraph: the decision (saying 推定 / 有争议 where it rests on an inference or a disputed rule),
    its citation, classification ties, then escalation, transfers, obligations. `notes` are the resolver's
    sentences on classification ties (Chinese); without them (English, or a caller that has none) the ties are
    read back from the basis and worded here."""
    zh = lang == "zh"
    parts = _decision(resolution, rulebook, lang)
    if notes is None:
        parts += [_tie_text(name, values, lang) + ("。" if zh else ".") for name, values in _ties(resolution, rulebook)]
    else:
        parts += [note + "。" for note in notes]
    words, names, cite = _ROUTE_WORDS[lang], _namer(rulebook, lang), _citer(lang)
    footing = {b.rule: b.provenance for b in resolution.basis}
    escalation = resolution.escalation
    if escalation:
        text = words["escalate"].format(cite=cite(escalation.cite), to=names(escalation.to))
        if escalation.proposer:
            text += words["proposer"].format(who=names([escalation.proposer]))
            text += words["consult"].format(who=names(escalation.consult)) if escalation.consult else ""
            text += words["proposes"]
        if escalation.steps:
            text += words["steps"] + words["sep"].join(escalation.steps)
        parts.append(text + _mark(footing.get(escalation.rule), lang) + words["end"])
    for transfer in resolution.transfers:
        parts.append(words["transfer"].format(to=names([transfer.to]), reason=transfer.reason, cite=cite(transfer.cite))
                     + _mark(footing.get(transfer.rule), lang) + words["end"])
    for item in resolution.obligations:
        text = words["obligation"].format(what=item.what)
        text += words["due"].format(due=item.due) if item.due else ""
        text += words["report"].format(who=names(item.to)) if item.to else ""
        text += words["copy"].format(who=names(item.copy_to)) if item.copy_to else ""
        parts.append(text + words["under"].format(cite=cite(item.cite)) + _mark(footing.get(item.rule), lang)
                     + words["end"])
    if place is not None and zh:
        parts.append(place_text(place))
    return ("" if zh else " ").join(p for p in parts if p)


# the route effects' sentences, by language: {cite} {to} {who} {reason} {what} {due} are filled in
_ROUTE_WORDS = {
    "zh": {"escalate": "依据{cite}，上报{to}", "proposer": "，由{who}", "consult": "会同{who}", "proposes": "提出意见",
           "steps": "：", "sep": "；", "end": "。", "transfer": "移交{to}：{reason}（依据{cite}）",
           "obligation": "义务：{what}", "due": "，期限 {due}", "report": "，报送{who}", "copy": "，抄送{who}",
           "under": "（依据{cite}）"},
    "en": {"escalate": "Escalated to {to} under {cite}", "proposer": "; {who}", "consult": ", with {who},",
           "proposes": " proposes", "steps": ": ", "sep": "; ", "end": ".", "transfer": "Transfer to {to}: {reason} "
           "(under {cite})", "obligation": "Obligation: {what}", "due": ", due {due}", "report": ", report to {who}",
           "copy": ", copy to {who}", "under": " (under {cite})"},
}


def _namer(rulebook, lang: str):
    return _names if lang == "zh" else (lambda departments: _names_en(departments, rulebook))


def _citer(lang: str):
    return (lambda cite: cite) if lang == "zh" else cite_en


def _mark(provenance: Optional[str], lang: str) -> str:
    """（推定）/（有争议） after a route effect whose rule is an inference or disputed."""
    code = {"inference": "inferred", "disputed": "disputed"}.get(provenance or "")
    if not code:
        return ""
    return f"（{RELIABILITY_ZH[code]}）" if lang == "zh" else f" ({RELIABILITY_EN[code]})"


def _decision(resolution, rulebook, lang: str) -> list[str]:
    zh = lang == "zh"
    category = _category(resolution, rulebook) if zh else (resolution.category or "not classified")
    head = f"事项类别：{category}。" if zh else f"Category: {category}."
    assign = [b for b in resolution.basis if b.stage == "assign"]
    if resolution.status == "resolved" and resolution.lead:
        adopted = [b for b in assign if b.outcome == "adopted"]
        cites = ("；" if zh else "; ").join(dict.fromkeys(_cite(b.cite, lang) for b in adopted))
        ids = "、".join(b.rule for b in adopted) if zh else ", ".join(b.rule for b in adopted)
        lead = resolution.lead.short_name if zh else _body_en(resolution.lead, rulebook)
        code = reliability(resolution)
        if zh:
            sentence = {"inferred": f"推定由{lead}牵头，依据{cites}（规则 {ids}）。",
                        "disputed": f"牵头部门有争议：按规则 {ids}（依据{cites}）由{lead}牵头，该依据的解读存在争议，"
                                    "采用前须核实。"}.get(code, f"由{lead}牵头，依据{cites}（规则 {ids}）。")
        else:
            sentence = {"inferred": f"Presumed lead: {lead}, under {cites} (rule {ids}).",
                        "disputed": f"Lead disputed: rule {ids} (under {cites}) names {lead}; that reading is disputed "
                                    "and must be verified before it is relied on."}.get(
                code, f"Led by {lead}, under {cites} (rule {ids}).")
        parts = [head, sentence]
        if code == "inferred":
            parts.append(_why_inferred(resolution, adopted, rulebook, lang))
        elif resolution.lead.inferred:   # disputed, and the body itself is an inference too
            parts.append(f"另：{resolution.lead.name}的机构设置或名称系推定，须核实。" if zh else
                         f"Also, the existence or name of {resolution.lead.name} is an inference in the org data, "
                         "to be verified.")
        parts += _layer_sentences(adopted, assign, rulebook, lang)
        if resolution.assist:
            parts.append(f"配合部门：{_names(resolution.assist)}。" if zh else
                         f"Assisting: {_names_en(resolution.assist, rulebook)}.")
        return parts
    if resolution.status == "conflict":
        tied = [b for b in assign if b.outcome == "tied"]
        if zh:
            detail = "；".join(f"规则 {b.rule} 依据{b.cite}" for b in tied)
            return [head + f"同一优先级的规则指定了不同的牵头部门（{_names(resolution.candidates)}），不作猜测：{detail}。"]
        detail = "; ".join(f"rule {b.rule} under {cite_en(b.cite)}" for b in tied)
        return [head, f"Rules of the same priority name different leads ({_names_en(resolution.candidates, rulebook)}); "
                      f"no guess is made: {detail}."]
    if resolution.status == "out_of_scope":
        return [head + "不属于生态环境保护事项，不作为生态环境事项上报。" if zh else
                head + " Not an environmental-protection matter; it is not escalated as one."]
    return [head + "没有适用的分工规则，尚未明确牵头部门。" if zh else head + " No assignment rule applies; no lead yet."]


def _why_inferred(resolution, adopted, rulebook, lang: str) -> str:
    zh = lang == "zh"
    reasons = []
    for basis in adopted:
        if basis.provenance == "inference":
            reasons.append(f"规则 {basis.rule} 是推断（provenance: inference）" if zh else
                           f"rule {basis.rule} is an inference")
    if resolution.lead.inferred:
        reasons.append(f"{resolution.lead.name}的机构设置或名称系推定，须核实" if zh else
                       f"the existence or name of {resolution.lead.name} is an inference in the org data, to be verified")
    return ("推定的理由：" + "；".join(reasons) + "。") if zh else ("Presumed because " + "; ".join(reasons) + ".")


def _layer_sentences(adopted, assign, rulebook, lang: str) -> list[str]:
    """When a jurisdiction's published list decided: say so, name what it outranked, and flag a sample."""
    zh = lang == "zh"
    rules = rulebook.rules_at if rulebook is not None else {}
    layers = [r.layer for r in (rules.get((b.file, b.line)) for b in adopted) if r is not None and r.layer]
    if not layers:
        return []
    layer = layers[0]
    outranked = [b.rule for b in assign if b.outcome == "outranked"]
    place = ("本市" if zh else "the city") if layer.jurisdiction == MUNICIPAL else (
        rulebook.org.districts[layer.jurisdiction].name if zh else
        (rulebook.org.districts[layer.jurisdiction].name_en or layer.jurisdiction))
    if zh:
        not_adopted = f"（规则 {'、'.join(outranked)} 未采用）" if outranked else ""
        if layer.sample:
            text = (f"《{layer.title}》是{place}责任清单的示例（清单层，{layer.date}），按清单层优先于规则库对法规的解读"
                    f"{not_adopted}；该清单并非真实公布的文件，不得作为正式依据。")
        else:
            text = f"《{layer.title}》是{place}公布的责任清单（{layer.document}，{layer.date}），优先于规则库对法规的解读" \
                   f"{not_adopted}。"
    else:
        not_adopted = f" (rule {', '.join(outranked)} not adopted)" if outranked else ""
        if layer.sample:
            text = (f"《{layer.title}》 is a sample of a list of {place} (a list layer, {layer.date}); as a list layer it "
                    f"outranks the rulebook's readings of the statutes{not_adopted}. This list is a sample, not a "
                    "published document, and must not be relied on.")
        else:
            text = (f"《{layer.title}》 is the published list of {place} ({layer.date}); it outranks the rulebook's "
                    f"readings of the statutes{not_adopted}.")
    return [text]


def _ties(resolution, rulebook) -> list:
    """Classification ties read back from the basis: per field, the values the classify rules that were not
    overridden or outranked proposed at their top priority, when they differ."""
    rules = rulebook.rules_at if rulebook is not None else {}
    fired = [rules.get((b.file, b.line)) for b in resolution.basis if b.stage == "classify"
             and b.outcome in ("adopted", "ambiguous")]
    fired = [rule for rule in fired if rule is not None]
    found = []
    for name in dict.fromkeys(k for rule in fired for k in rule.set):
        setters = [rule for rule in fired if name in rule.set]
        top = max(rule.priority for rule in setters)
        values = tuple(dict.fromkeys(rule.set[name] for rule in setters if rule.priority == top))
        if len(values) > 1:
            found.append((name, values))
    return found


def _tie_text(name: str, values, lang: str) -> str:
    if lang == "zh":
        return f"分类有歧义：{name} 可能为 {'、'.join(map(str, values))}，未采用任何一个"
    return f"Ambiguous classification: {name} could be {' or '.join(map(str, values))}; neither was taken"


# ---------------------------------------------------------------- ecorules explain
def explain_lines(resolution, rulebook, lang: str = "zh", why_not: Optional[str] = None,
                  quote: bool = False) -> list[str]:
    """The readable rendering of one resolution, line by line; `quote` adds the cited text under the conclusion."""
    zh = lang == "zh"
    lines = [f"事项 {resolution.id}：{_STATUS_ZH[resolution.status]}" if zh else
             f"Matter {resolution.id}: {_STATUS_EN[resolution.status]}"]
    if resolution.status == "invalid":
        error = resolution.error
        lines.append(("错误：" + error.message) if zh else
                     f"Error: {_INVALID_EN.get(error.field, 'the matter cannot be read as given')}"
                     f"{f' (field {error.field})' if error.field else ''}. As reported: {error.message}")
        return lines
    level = {"municipal": "市级", "district": "区级"}.get(resolution.level, "")
    lines.append((f"层级：{level}（{resolution.jurisdiction}），判断日期：{resolution.as_of}" if zh else
                  f"Level: {resolution.level} ({resolution.jurisdiction}), as of {resolution.as_of}"))
    for warning in resolution.warnings:
        english = WARNING_EN.get(warning.code)
        lines.append(f"提示 {warning.code}：{warning.message}" if zh or not english else
                     f"Warning {warning.code}: " + english.format(j=resolution.jurisdiction))
    footing = reliability_text(resolution, lang)
    if resolution.lead:
        lines.append(f"牵头部门：{resolution.lead.name}（{resolution.lead.id}）" + (f"［{footing}］" if footing else "")
                     if zh else f"Lead: {_body_en(resolution.lead, rulebook, full=True)} [{resolution.lead.id}]"
                     + (f" — {footing}" if footing else ""))
    if resolution.assist:
        lines.append("配合部门：" + "、".join(d.name for d in resolution.assist) if zh else
                     "Assisting: " + "; ".join(_body_en(d, rulebook, full=True) for d in resolution.assist))
    if resolution.candidates:
        lines.append("候选牵头部门：" + "、".join(d.name for d in resolution.candidates) if zh else
                     "Candidates: " + "; ".join(_body_en(d, rulebook, full=True) for d in resolution.candidates))
    lines.append("适用的规则：" if zh else "Rules that fired:")
    rules = rulebook.rules_at
    for basis in resolution.basis:
        rule = rules.get((basis.file, basis.line))
        if zh:
            priority = f"，优先级 {rule.priority}" if rule else ""
            provenance = f"，来源可靠性 {basis.provenance}" if basis.provenance else ""
            layer = f"，{rule.layer.title}（清单层{'，示例' if rule.layer.sample else ''}）" if rule and rule.layer else ""
            lines.append(f"  - [{basis.stage}] {basis.rule}（{rule.title if rule else ''}）"
                         f"{priority}{provenance}{layer}：{outcome_text(basis.outcome, lang)}")
            lines.append(f"    依据：{basis.cite}；{basis.file}:{basis.line}")
            if rule and rule.note:
                lines.append(f"    说明：{rule.note}")
        else:
            priority = f", priority {rule.priority}" if rule else ""
            provenance = f", provenance: {PROVENANCE_EN.get(basis.provenance, basis.provenance)}" \
                if basis.provenance else ""
            layer = (f", published list of {rule.layer.jurisdiction}{' (sample)' if rule.layer.sample else ''}"
                     if rule and rule.layer else "")
            lines.append(f"  - [{basis.stage}] {basis.rule}{priority}{provenance}{layer} → "
                         f"{outcome_text(basis.outcome, lang)}")
            lines.append(f"    Basis: {cite_en(basis.cite)}; {basis.file}:{basis.line}")
    lines.append(("结论：" + resolution.explanation) if zh else
                 ("Summary: " + explanation_text(resolution, rulebook, lang="en")))
    if quote:
        lines.extend(quote_lines(resolution, rulebook, lang))
    if why_not:
        lines.extend(why_not_lines(resolution, rulebook, why_not, lang))
    return lines


def quote_lines(resolution, rulebook, lang: str = "zh") -> list[str]:
    """The cited sentences of every adopted rule, quoted from the statute texts that travel with the rulebook
    (statutes.quotes), so that a memo can quote the law itself; what cannot be quoted says why."""
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
        lines.append(f"  规则 {basis.rule}（{rule.title if rule else ''}）依据{basis.cite}：" if zh else
                     f"  Rule {basis.rule} under {cite_en(basis.cite)}:")
        found = quotes(basis.cite, collection, day)
        if not found:
            lines.append("    （依据中没有可引用的条文）" if zh else "    (the citation names no provision to quote)")
        for item in found:
            label = item.label if zh else cite_en(item.label) if item.label else ""
            if not item.lines:
                lines.append(f"    《{item.title}》{label}：{item.problem}" if zh else
                             f"    《{item.title}》{' ' + label if label else ''}: "
                             f"{_QUOTE_EN.get(item.status, item.status)}")
                continue
            lines.append(f"    《{item.title}》{label}（{item.version}）：" if zh else
                         f"    《{item.title}》 {label} ({_version_en(item.version)}):")
            lines.extend(f"      {text}" for text in item.lines)
            if item.problem:
                lines.append(f"      注：{item.problem}" if zh else
                             f"      Note: the shipped text took effect on {item.effective}, after the date of the "
                             f"matter ({day}); the text in force then may differ.")
    return lines


_QUOTE_EN = {"outside": "not among the shipped statute texts; not quoted",
             "no_number": "no article number written; not quoted",
             "no_article": "the shipped text has no such article", "no_paragraph": "the article has no such paragraph",
             "no_item": "the paragraph has no such item",
             "not_in_this_kind": "this document is not numbered that way; the provision cannot be found"}


def _version_en(label: str) -> str:
    day = re.search(r"\d{4}-\d{2}-\d{2}", label or "")
    return f"text of {day.group(0)}" if day else "undated text"


def _as_date(value) -> Optional[dt.date]:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def why_not_lines(resolution, rulebook, reference: str, lang: str = "zh") -> list[str]:
    """Why is `reference` not the lead? Answered from the basis, never by re-evaluating."""
    zh = lang == "zh"
    org = rulebook.org
    jurisdiction = resolution.jurisdiction or "sh"
    try:
        node = org.node_named(reference) or org.resolve(reference, jurisdiction)
    except KeyError:
        return [f"为何不是 {reference}：未知的部门。" if zh else f"Why not {reference}: no such department."]
    if node is None:
        return [f"为何不是 {reference}：本辖区没有对应部门。" if zh else
                f"Why not {reference}: this jurisdiction has no such body."]
    department = org.department(node)
    name = department.short_name if zh else _body_en(department, rulebook)
    if resolution.lead and resolution.lead.id == node:
        return [f"{name} 就是牵头部门。" if zh else f"{name} is the lead."]
    proposing = [b for b in resolution.basis if b.stage == "assign" and _proposes(rulebook, b, node, jurisdiction)]
    if not proposing:
        return [f"为何不是{name}：没有任何适用的规则提出由{name}牵头。" if zh else
                f"Why not {name}: no applicable rule proposes it as the lead."]
    if zh:
        return [f"为何不是{name}：规则 {b.rule}（依据{b.cite}）提出由其牵头，但{outcome_text(b.outcome)}。"
                for b in proposing]
    return [f"Why not {name}: rule {b.rule} (under {cite_en(b.cite)}) proposes it, but it was "
            f"{outcome_text(b.outcome, lang)}." for b in proposing]


def _proposes(rulebook, basis, node: str, jurisdiction: str) -> bool:
    rule = rulebook.rules_at.get((basis.file, basis.line))
    if not rule or not rule.lead or rule.lead.startswith("$"):
        return False
    return rulebook.org.resolve(rule.lead, jurisdiction) == node
