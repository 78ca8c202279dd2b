"""Reviewing a draft: each task resolved as a policy matter, set beside the draft's own 责任单位 (（九）).

`review_draft(path)` reads the draft, splits it into tasks, maps the units it names to departments, resolves each
task through the public `Engine.resolve` (`source: policy`, the level of the draft) and compares. The result is data
(codes, departments, the full Resolution of every task); `writing.py` renders it.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from ..engine import Engine, default_rules_path
from ..errors import suggest
from ..model import Department, Resolution, RulebookStamp
from ..orggraph import MUNICIPAL, OrgGraph
from .reading import ReviewError, read_draft
from .splitting import DraftTask, split_draft
from .units import Clause, UnitMapper, UnitRef, lead_and_assist

Verdict = Literal["agree", "disagree", "no_draft_lead", "undecidable"]
VERDICTS_ZH = {"agree": "一致", "disagree": "不一致", "no_draft_lead": "草案未明确牵头", "undecidable": "无法判断"}
LeadStated = Literal["explicit", "first_listed", "unordered", "none"]
_MUNICIPAL_WORDS = ("sh", "市", "市级", "全市", "上海市", "municipal")


class ReviewNote(BaseModel):
    """A remark on one task: a stable code for programs, the Chinese sentence for the reviewer (as MatterWarning)."""

    model_config = ConfigDict(frozen=True)

    code: str = Field(description="no_lead_named, unordered, no_suggestion, disagree, level_differs, unknown_lead, "
                                  "several_leads, inherited_units, heading_retry, unknown_units, vague_units, "
                                  "absent_units, assist_missing")
    message: str


def _note(notes: list[ReviewNote], code: str, message: str) -> None:
    notes.append(ReviewNote(code=code, message=message))


class ReviewedTask(BaseModel):
    """One task of the draft: what the draft says, what the rulebook suggests, and the verdict (a code)."""

    seq: int = Field(description="1-based position among the draft's tasks / 序号")
    number: str = Field(description="the draft's own numbering, e.g. 二、（三）2. / 草案编号")
    path: list[str] = Field(description="the headings above the task / 所属章节")
    text: str = Field(description="the task's text, without its unit clause / 任务")
    where: str = Field(description="where the task is in the draft (paragraph, line or sheet row) / 位置")
    draft_units: str = Field("", description="the unit clause as the draft writes it / 草案原文责任单位")
    lead_stated: LeadStated = Field(description="explicit (X牵头 / 牵头单位：X), first_listed (first of 责任单位), "
                                                "unordered (the draft says 排名不分先后), none (no unit named)")
    units_inherited_from: Optional[str] = Field(None, description="the heading whose units the task takes")
    draft_lead: list[UnitRef] = Field(default_factory=list)
    draft_assist: list[UnitRef] = Field(default_factory=list)
    suggested_lead: Optional[Department] = None
    suggested_assist: list[Department] = Field(default_factory=list)
    candidates: list[Department] = Field(default_factory=list, description="tied leads when status is conflict")
    basis: list[str] = Field(default_factory=list, description="citations (rule id) of the suggestion / 依据")
    verdict: Verdict
    notes: list[ReviewNote] = Field(default_factory=list, description="remarks for the reviewer / 说明")
    resolution: Resolution


class ReviewSummary(BaseModel):
    tasks: int
    with_draft_lead: int
    without_draft_lead: list[str] = Field(description="numbers of tasks with no lead in the draft (（九）)")
    with_suggested_lead: int
    agree: int
    disagree: int
    undecidable: int
    unknown_units: list[str] = Field(description="unit names the org graph does not know, as written")


class Review(BaseModel):
    draft: str
    format: str
    split_by: Literal["numbering", "table"]
    jurisdiction: str
    jurisdiction_name: str = Field(description="上海市, or the district's name / 层级名称")
    level: Literal["municipal", "district"]
    level_from: Literal["option", "document", "default"] = Field(
        description="--district, the draft's own title, or municipal by default")
    first_listed_is_lead: bool
    skipped: int = Field(0, description="numbered items under 总体要求 / 主要目标 …, not reviewed as tasks")
    as_of: dt.date
    tasks: list[ReviewedTask]
    summary: ReviewSummary
    rulebook: RulebookStamp


def review_draft(path: str | os.PathLike, *, engine: Optional[Engine] = None, rules: Optional[str] = None,
                 district: Optional[str] = None, as_of: Optional[dt.date] = None,
                 input_format: Optional[str] = None) -> Review:
    """Review the draft at `path`. ReviewError (exit 1) when it cannot be read or holds no tasks."""
    path = os.fspath(path)
    draft = read_draft(path, input_format)
    own = engine is None
    engine = engine or Engine.from_directory(rules or default_rules_path())
    try:
        return _review(engine, draft, path, district, as_of or dt.date.today())
    finally:
        if own:
            engine.close()


def _review(engine: Engine, draft, path: str, district: Optional[str], as_of: dt.date) -> Review:
    org: OrgGraph = engine.rulebook.org
    jurisdiction = _option_jurisdiction(org, district) if district else None
    # the level decides how names map (区生态环境局 in a district draft is that district's body)
    probe = UnitMapper(org, MUNICIPAL)
    split = split_draft(draft, probe.is_unit)
    level_from = "option" if jurisdiction else "default"
    if jurisdiction is None:
        jurisdiction = document_jurisdiction(org, split.preamble)
        level_from = "document" if jurisdiction else "default"
        jurisdiction = jurisdiction or MUNICIPAL
    mapper = UnitMapper(org, jurisdiction)
    tasks = [_review_task(engine, mapper, seq, task, split.first_is_lead, jurisdiction, as_of)
             for seq, task in enumerate(split.tasks, 1)]
    name = "上海市" if jurisdiction == MUNICIPAL else org.districts[jurisdiction].name
    return Review(draft=path, format=draft.format, split_by=split.source, jurisdiction=jurisdiction,
                  jurisdiction_name=name,
                  level="municipal" if jurisdiction == MUNICIPAL else "district", level_from=level_from,
                  first_listed_is_lead=split.first_is_lead, skipped=split.skipped, as_of=as_of, tasks=tasks,
                  summary=_summary(tasks), rulebook=tasks[0].resolution.rulebook)


def _option_jurisdiction(org: OrgGraph, district: str) -> str:
    if district.strip() in _MUNICIPAL_WORDS:
        return MUNICIPAL
    code = org.jurisdiction_of(district)
    merged = org.merged_into(district) if code is None else None
    if merged:
        raise ReviewError(f"--district：“{district}”已撤销并入{org.districts[merged].name}，请写 --district "
                          f"{org.districts[merged].name}。", None, [district])
    if code is None:
        raise ReviewError(f"--district：未知的区“{district}”。{suggest(district, org.district_choices(), '区')}",
                          None, [district])
    return code


def document_jurisdiction(org: OrgGraph, preamble: list[str]) -> Optional[str]:
    """The district a draft's title names (黄浦区…实施方案), else None (a municipal draft)."""
    names = sorted(((spec.name, code) for code, spec in org.districts.items()), key=lambda p: -len(p[0]))
    for line in preamble[:6]:
        hits = [(line.find(name), code) for name, code in names if name in line]
        if hits:
            return min(hits)[1]
    return None


def _review_task(engine: Engine, mapper: UnitMapper, seq: int, task: DraftTask, first_is_lead: bool,
                 jurisdiction: str, as_of: dt.date) -> ReviewedTask:
    clause = Clause("")
    for part in task.clauses:
        clause = clause.merge(part)
    leads, assists, stated = lead_and_assist(clause, first_is_lead)
    if stated == "none" and assists:
        stated = "unordered"
    draft_lead = [mapper.map(n) for n in leads]
    draft_assist = [mapper.map(n) for n in assists]
    notes: list[ReviewNote] = []
    resolution = _resolve(engine, seq, task.text or task.number, jurisdiction, as_of)
    if resolution.status == "unassigned" and resolution.category is None and task.path:
        # a sub-item often leaves its subject to the heading above it (（三）加强扬尘管控 › 1. 推进在线监测全覆盖)
        heading = re.sub(r"^\S*?[、）)．.]", "", task.path[-1], count=1)
        retry = _resolve(engine, seq, f"{heading}：{task.text}", jurisdiction, as_of)
        if retry.lead is not None:
            resolution = retry
            _note(notes, "heading_retry", f"本条文字未能归类，按上级标题“{heading}”一并判断。")
    verdict = _judge(draft_lead, stated, resolution, notes)
    if task.inherited_from:
        _note(notes, "inherited_units", f"本条未单列责任单位，沿用上级标题 {task.inherited_from} 所列单位。")
    if len(draft_lead) > 1:
        names = "、".join(u.label for u in draft_lead)
        _note(notes, "several_leads", f"草案列了 {len(draft_lead)} 个牵头单位（{names}）；（九）要求明确牵头部门，宜只列一个。")
    _unit_notes(draft_lead + draft_assist, notes)
    _assist_notes(draft_lead + draft_assist, resolution, notes)
    return ReviewedTask(seq=seq, number=task.number, path=task.path, text=task.text, where=task.where,
                        draft_units=clause.text, lead_stated=stated, units_inherited_from=task.inherited_from,
                        draft_lead=draft_lead, draft_assist=draft_assist, suggested_lead=resolution.lead,
                        suggested_assist=resolution.assist, candidates=resolution.candidates,
                        basis=basis_citations(resolution), verdict=verdict, notes=notes, resolution=resolution)


def _resolve(engine: Engine, seq: int, title: str, jurisdiction: str, as_of: dt.date) -> Resolution:
    matter = {"id": str(seq), "title": re.sub(r"\s+", " ", title).strip(), "source": "policy",
              "as_of": as_of.isoformat()}
    if jurisdiction == MUNICIPAL:
        matter["level"] = "municipal"
    else:
        matter["district"] = jurisdiction
    return engine.resolve(matter)


def basis_citations(resolution: Resolution) -> list[str]:
    """The citations behind the suggestion: the adopted assign rules, else the adopted route rules (（七）（九）…)."""
    for stage in ("assign", "route"):
        cites = [f"{b.cite}（{b.rule}）" for b in resolution.basis if b.stage == stage and b.outcome == "adopted"]
        if cites:
            return list(dict.fromkeys(cites))
    return []


def _judge(draft_lead: list[UnitRef], stated: str, resolution: Resolution, notes: list[ReviewNote]) -> str:
    lead = resolution.lead
    if not draft_lead:
        if stated == "unordered":
            _note(notes, "unordered", "草案声明所列单位排名不分先后，未明确谁牵头；（九）要求政策文件明确牵头部门。")
        else:
            _note(notes, "no_lead_named", "草案未写明牵头单位；（九）要求政策文件明确承担具体事项的责任部门特别是牵头部门。")
        if lead is None:
            _note(notes, "no_suggestion", _why_no_lead(resolution))
        return "no_draft_lead"
    if lead is None:
        _note(notes, "no_suggestion", _why_no_lead(resolution))
        return "undecidable"
    for unit in draft_lead:
        if unit.department is not None and unit.department.id == lead.id:
            return "agree"
    for unit in draft_lead:
        if unit.role == lead.role and unit.scope in ("body", "each_district"):
            _note(notes, "level_differs", f"职能一致、层级不同：草案为“{unit.label}”，规则库按本文件层级建议“{lead.short_name}”。")
            return "agree"
    first = draft_lead[0]
    if first.scope in ("unknown", "vague"):
        _note(notes, "unknown_lead", f"草案所列牵头单位“{first.text}”无法对应到组织图中的部门，无法比对。")
        return "undecidable"
    assist_ids = {d.id for d in resolution.assist}
    where = "（规则库列为配合部门）" if first.department is not None and first.department.id in assist_ids else ""
    cites = "；".join(basis_citations(resolution)) or "—"
    _note(notes, "disagree", f"草案由“{first.label}”牵头{where}，规则库建议由“{lead.short_name}”牵头，依据：{cites}。")
    return "disagree"


def _why_no_lead(resolution: Resolution) -> str:
    status = resolution.status
    if status == "conflict":
        names = "、".join(d.short_name for d in resolution.candidates)
        up = "、".join(d.short_name for d in resolution.escalation.to) if resolution.escalation else "同级党委、政府"
        return f"规则库无法确定牵头：适用规则冲突（候选：{names}），按（七）由{up}研究明确。"
    if status == "out_of_scope":
        return "规则库判断该事项不属于生态环境保护事项，未给出牵头部门。"
    if status == "invalid":
        return f"无法作为事项判断：{resolution.error.message if resolution.error else '输入无效'}。"
    up = "、".join(d.short_name for d in resolution.escalation.to) if resolution.escalation else ""
    tail = f"按（七）报{up}研究明确" if up else "须另行研究明确"
    return f"规则库没有适用于本条的分工规则（未能归类），无法建议牵头部门；{tail}。"


def _unit_notes(units: list[UnitRef], notes: list[ReviewNote]) -> None:
    unknown = [u.text for u in units if u.scope == "unknown"]
    vague = [u.text for u in units if u.scope == "vague"]
    absent = [u.text for u in units if u.scope == "absent"]
    if unknown:
        _note(notes, "unknown_units", f"未能识别的单位（不在组织图中，按原文保留，请核实名称）：{'、'.join(unknown)}。")
    if vague:
        _note(notes, "vague_units", f"“{'、'.join(vague)}”未指明具体部门。")
    if absent:
        _note(notes, "absent_units", f"本级没有对应机构（据组织数据）：{'、'.join(absent)}。")


def _assist_notes(units: list[UnitRef], resolution: Resolution, notes: list[ReviewNote]) -> None:
    if not units or not resolution.assist:
        return
    named_roles = {u.role for u in units if u.role}
    missing = [d.short_name for d in resolution.assist if d.role not in named_roles]
    if missing:
        _note(notes, "assist_missing", f"规则库建议的配合部门中草案未列：{'、'.join(missing)}。")


def _summary(tasks: list[ReviewedTask]) -> ReviewSummary:
    unknown = list(dict.fromkeys(u.text for t in tasks for u in t.draft_lead + t.draft_assist if u.scope == "unknown"))
    return ReviewSummary(
        tasks=len(tasks),
        with_draft_lead=sum(bool(t.draft_lead) for t in tasks),
        without_draft_lead=[t.number for t in tasks if not t.draft_lead],
        with_suggested_lead=sum(t.suggested_lead is not None for t in tasks),
        agree=sum(t.verdict == "agree" for t in tasks),
        disagree=sum(t.verdict == "disagree" for t in tasks),
        undecidable=sum(t.verdict == "undecidable" for t in tasks),
        unknown_units=unknown)
