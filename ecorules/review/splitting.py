"""Splitting a draft into tasks by its own numbering (一、（一）1.（1）①) or by the rows of a task table.

A numbered paragraph opens a node at its level; unnumbered paragraphs continue the node above them; a node with no
numbered children is a task, with the path of headings above it. Parts that state aims rather than tasks (总体要求、
指导思想、基本原则、主要目标) are not tasks. A unit clause written at a heading applies to the tasks under it that
name none of their own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from .reading import Draft, ReviewError, Table
from .units import NO_ORDER, UNIT_LINE, Clause, find_clauses, parse_clause

_CN = "一二三四五六七八九十百零〇两"
# (level, pattern, how the label is written back); 章 / 节 / 条 of an 办法 or 规定 sit above 一、
NUMBERING = (
    (0.0, re.compile(rf"^第([{_CN}\d]{{1,4}})章\s*"), "第{}章 "),
    (0.5, re.compile(rf"^第([{_CN}\d]{{1,4}})节\s*"), "第{}节 "),
    (0.8, re.compile(rf"^第([{_CN}\d]{{1,4}})条\s*"), "第{}条 "),
    (1, re.compile(rf"^([{_CN}]{{1,3}})\s*[、．.]\s*"), "{}、"),
    (2, re.compile(rf"^[（(]\s*([{_CN}]{{1,3}})\s*[）)]\s*"), "（{}）"),
    (3, re.compile(r"^(\d{1,3})\s*(?:[、．]|\.(?!\d))\s*"), "{}."),
    (4, re.compile(r"^[（(]\s*(\d{1,3})\s*[）)]\s*"), "（{}）"),
    (5, re.compile(r"^([①-⑳])\s*"), "{}"),
)
_LABEL_FORM = {level: form for level, _, form in NUMBERING}
# parts of a plan that set out aims, not tasks (their numbered items are not reviewed)
NOT_TASKS = re.compile(r"^(总体要求|指导思想|基本原则|工作原则|主要目标|工作目标|总体目标|总体思路|编制依据|适用范围|目标指标|总则|附则)")
_APPENDIX = re.compile(r"^附件\s*\d*\s*[：:]?")

TASK_COLUMNS = ("任务", "任务名称", "工作任务", "重点任务", "主要任务", "任务内容", "具体任务", "工作内容", "任务措施",
                "工作措施", "主要措施", "具体措施", "重点工作", "工作事项", "事项", "事项名称", "主要内容", "具体内容")
NUMBER_COLUMNS = ("序号", "编号", "任务编号", "任务序号")
SECTION_COLUMNS = ("章节", "类别", "领域", "任务类别", "重点领域", "方面", "板块", "专项", "分类")
LEAD_COLUMNS = ("牵头单位", "牵头部门", "主责单位", "主责部门", "主办单位", "牵头")
ASSIST_COLUMNS = ("配合单位", "配合部门", "协办单位", "协同单位", "参与单位", "配合")
UNIT_COLUMNS = ("责任单位", "责任部门", "实施单位", "责任主体", "责任单位（牵头单位列第一位）")


@dataclass
class DraftTask:
    """One task of the draft, as the draft writes it."""

    number: str                 # the draft's own numbering, e.g. 二、（三）2.
    path: list[str]             # the headings above it
    text: str                   # its text, without the unit clauses
    where: str                  # 第12段 / 第5行 / 工作表“任务表”第7行
    clauses: list[Clause] = field(default_factory=list)
    inherited_from: Optional[str] = None   # the heading whose units it takes, when it names none itself


@dataclass
class Split:
    tasks: list[DraftTask]
    preamble: list[str]         # text before the first task (title, 发文 lines): where the level is read from
    first_is_lead: bool         # False when the draft says its lists are 排名不分先后
    source: str                 # "numbering" | "table"
    skipped: int = 0            # numbered items under 总体要求 / 主要目标 … (not tasks)


def normal_header(text: str) -> str:
    return re.sub(r"[\s*＊:：]", "", text or "")


def numbering(text: str) -> Optional[tuple[float, str, str]]:
    """(level, label, rest) when a paragraph opens with a number of the draft's numbering."""
    for level, pattern, form in NUMBERING:
        match = pattern.match(text)
        if match and text[match.end():].strip():
            return level, form.format(match.group(1)), text[match.end():].strip()
    return None


@dataclass
class _Node:
    level: float
    label: str
    texts: list[str]
    where: str
    parent: Optional["_Node"]
    unit_lines: list[str] = field(default_factory=list)
    children: int = 0

    def ancestors(self) -> list["_Node"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


def split_draft(draft: Draft, is_unit: Callable[[str], bool]) -> Split:
    """The draft's tasks: from its task tables when it has any, else from its numbered paragraphs."""
    whole = "\n".join(b.text for b in draft.blocks) + "\n".join(
        " ".join(cells) for t in draft.tables for _, cells in t.rows[:12])
    first_is_lead = not NO_ORDER.search(whole)
    tables = [(t, _header_index(t)) for t in draft.tables]
    task_tables = [(t, h) for t, h in tables if h is not None]
    if task_tables:
        tasks, preamble = [], [b.text for b in draft.blocks[:8]]
        for table, header in task_tables:
            preamble += [" ".join(c for c in cells if c) for _, cells in table.rows[:header]]
            tasks += _table_tasks(table, header, is_unit)
        return Split(tasks, preamble, first_is_lead, "table")
    split = _numbered_tasks(draft, is_unit, first_is_lead)
    if split.tasks:
        return split
    if draft.tables and not any(b.text for b in draft.blocks if numbering(b.text)):
        table = draft.tables[0]
        header = next((cells for _, cells in table.rows[:10] if len({c for c in cells if c}) >= 2),
                      table.rows[0][1] if table.rows else [])
        found = [c for c in header if c]
        raise ReviewError(f"表格中没有任务列（{table.where}找到的列：{'、'.join(found) or '无'}）。"
                          f"任务列的列名应为 {'、'.join(TASK_COLUMNS[:8])} 等之一。", draft.path, found)
    first = next((b.text for b in draft.blocks if b.text.strip()), "")
    raise ReviewError(f"未找到编号的任务：共读到 {len(draft.blocks)} 段文字（首段“{first[:30]}”），但没有"
                      "“一、”“（一）”“1.”“（1）”式编号的任务段落，也没有含“任务”列的表格。", draft.path,
                      [b.text[:30] for b in draft.blocks[:5]])


# ------------------------------------------------------------------ numbered paragraphs
def _numbered_tasks(draft: Draft, is_unit, first_is_lead: bool) -> Split:
    nodes: list[_Node] = []
    stack: list[_Node] = []
    preamble: list[str] = []
    for block in draft.blocks:
        text = block.text.strip()
        if _APPENDIX.match(text) and nodes:
            break
        found = numbering(text)
        if found:
            level, label, rest = found
            while stack and stack[-1].level >= level:
                stack.pop()
            parent = stack[-1] if stack else None
            if parent:
                parent.children += 1
            node = _Node(level, label, [rest], block.where, parent)
            nodes.append(node)
            stack.append(node)
        elif stack and UNIT_LINE.match(text):
            stack[-1].unit_lines.append(UNIT_LINE.match(text).group(1))
        elif stack:
            stack[-1].texts.append(text)
        else:
            preamble.append(text)
    tasks, skipped = [], 0
    clauses_of: dict[int, tuple[str, list[Clause]]] = {}
    for node in nodes:
        text, clauses = find_clauses("".join(node.texts), is_unit)
        clauses += [parse_clause(line) for line in node.unit_lines]
        clauses_of[id(node)] = (text, clauses)
    for node in nodes:
        if node.children:
            continue
        chain = node.ancestors()
        if any(NOT_TASKS.match(n.texts[0]) for n in chain + [node]):
            skipped += 1
            continue
        text, clauses = clauses_of[id(node)]
        inherited = None
        if not clauses:
            for above in reversed(chain):
                if clauses_of[id(above)][1]:
                    clauses = clauses_of[id(above)][1]
                    inherited = "".join(n.label for n in above.ancestors()) + above.label
                    break
        tasks.append(DraftTask(number=("".join(n.label for n in chain) + node.label).strip(),
                               path=[n.label + _headline(clauses_of[id(n)][0]) for n in chain],
                               text=text, where=node.where, clauses=clauses, inherited_from=inherited))
    return Split(tasks, preamble, first_is_lead, "numbering", skipped)


def _headline(text: str) -> str:
    """A heading's title: its text up to the first full stop."""
    head = re.split(r"[。；;]", text, maxsplit=1)[0]
    return head[:40] + ("…" if len(head) > 40 else "")


# ------------------------------------------------------------------ task tables
def column_kind(header: str) -> Optional[str]:
    """What a column holds, from its header: task, number, section, units, lead, assist (None: not read).

    Exact names first; then words inside a longer header (`主要任务和措施`, `责任单位（排名第一的为牵头单位）`).
    """
    h = normal_header(header)
    for kind, names in (("task", TASK_COLUMNS), ("number", NUMBER_COLUMNS), ("section", SECTION_COLUMNS),
                        ("units", UNIT_COLUMNS), ("lead", LEAD_COLUMNS), ("assist", ASSIST_COLUMNS)):
        if h in names:
            return kind
    if not h or re.search(r"时限|时间|进度|期限|备注|成效|目标值|指标值|资金|投资", h):
        return None
    if re.search(r"序号|编号", h):
        return "number"
    if re.search(r"责任单位|责任部门|实施单位|责任主体", h):
        return "units"
    if re.search(r"牵头|主责|主办", h):
        return "lead"
    if re.search(r"配合|协办|协同|参与", h):
        return "assist"
    if re.search(r"任务|措施|工作内容|具体内容|事项", h):
        return "task"
    return None


def _header_index(table: Table) -> Optional[int]:
    """The first of the first ten rows that names a task column (a title row above it has a single cell)."""
    for index, (_, cells) in enumerate(table.rows[:10]):
        if len({c for c in cells if c}) >= 2 and any(column_kind(c) == "task" for c in cells):
            return index
    return None


def _table_tasks(table: Table, header_index: int, is_unit) -> list[DraftTask]:
    kinds = [column_kind(c) for c in table.rows[header_index][1]]

    def columns(kind):
        return [i for i, k in enumerate(kinds) if k == kind]
    task_cols, number_cols, section_cols = columns("task"), columns("number"), columns("section")
    lead_cols, assist_cols, unit_cols = columns("lead"), columns("assist"), columns("units")
    tasks: list[DraftTask] = []
    heading: list[str] = []
    sections: dict[int, str] = {}

    def cell(cells, i):
        return cells[i].strip() if i < len(cells) and cells[i] else ""
    for where, cells in table.rows[header_index + 1:]:
        filled = {c.strip() for c in cells if c and c.strip()}
        texts = [cell(cells, i) for i in task_cols if cell(cells, i)]
        units_given = any(cell(cells, i) for i in lead_cols + assist_cols + unit_cols)
        if len(filled) == 1 and not units_given:        # a merged row across the table: a section heading
            title = next(iter(filled))
            found = numbering(title)
            level = found[0] if found else 1
            heading = heading[:max(0, int(level) - 1)] + [title]
            continue
        if not texts:
            continue
        number = next((cell(cells, i) for i in number_cols if cell(cells, i)), "")
        level = _chapter_level(number, texts[0])
        if not units_given and level:   # 一、深化大气污染防治 on a row of its own
            label = "" if numbering(texts[0]) else _LABEL_FORM[level].format(number.strip("、．.（）()"))
            heading = heading[:level - 1] + [label + texts[0]]
            continue
        for i in section_cols:
            if cell(cells, i):
                sections[i] = cell(cells, i)
        text = dict.fromkeys(texts)   # docx merged cells repeat their text
        body, clauses = find_clauses("：".join(text), is_unit)
        for i in lead_cols:
            if cell(cells, i):
                clauses.append(parse_clause("牵头单位：" + cell(cells, i)))
        for i in assist_cols:
            if cell(cells, i):
                clauses.append(parse_clause("配合单位：" + cell(cells, i)))
        for i in unit_cols:
            if cell(cells, i):
                clauses.append(parse_clause(cell(cells, i)))
        number = number or str(len(tasks) + 1)
        path = heading + [sections[i] for i in section_cols if i in sections]
        tasks.append(DraftTask(number=number, path=path, text=body, where=where, clauses=clauses))
    return tasks


def _chapter_level(number: str, text: str) -> Optional[int]:
    """1 or 2 when a table row is a chapter heading (序号 一 / （一）, or text opening with 一、 / （一）)."""
    if re.fullmatch(f"[{_CN}]{{1,3}}[、．.]?", number):
        return 1
    if re.fullmatch(f"[（(][{_CN}]{{1,3}}[）)]", number):
        return 2
    found = numbering(text)
    return max(1, int(found[0])) if found and found[0] <= 2 else None
