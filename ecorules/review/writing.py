"""Writing a Review: the review table (序号 … 说明) and its summary as XLSX, Markdown, JSON or DOCX.

The words live here (verdict codes → 一致 / 不一致 / 草案未明确牵头 / 无法判断); every format renders the same rows
from `table_rows()` and the same summary from `summary_lines()`, so they cannot disagree. Files are written to a
temporary file beside the target and renamed into place.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Optional

from .core import VERDICTS_ZH, Review, ReviewedTask
from .reading import ReviewError

OUTPUT_FORMATS = ("xlsx", "md", "json", "docx")
_SUFFIX = {"xlsx": ".xlsx", "md": ".md", "json": ".json", "docx": ".docx"}
_BY_SUFFIX = {".xlsx": "xlsx", ".md": "md", ".markdown": "md", ".json": "json", ".docx": "docx"}
COLUMNS = ("序号", "草案编号", "所属章节", "任务", "草案所列牵头", "草案所列配合", "建议牵头", "建议配合", "依据", "结论", "说明")
_WIDTHS = (6, 12, 24, 48, 18, 24, 18, 30, 40, 14, 56)
_LEVEL_FROM = {"option": "据 --district", "document": "据草案标题", "default": "草案未写明区，按市级"}
_STATED = {"explicit": "草案写明", "first_listed": "列第一位", "unordered": "", "none": ""}


def _units(units) -> str:
    return "、".join(u.label + ("（未识别）" if u.scope == "unknown" else "") for u in units)


def table_rows(review: Review) -> list[list[str]]:
    """The review table, one row per task, in COLUMNS order (plain text)."""
    return [_row(t) for t in review.tasks]


def _row(task: ReviewedTask) -> list[str]:
    lead = _units(task.draft_lead)
    if lead and _STATED[task.lead_stated]:
        lead += f"（{_STATED[task.lead_stated]}）"
    if task.suggested_lead is not None:
        suggested = task.suggested_lead.short_name
    elif task.candidates:
        suggested = "冲突：" + "、".join(d.short_name for d in task.candidates)
    else:
        suggested = "—"
    return [str(task.seq), task.number, " › ".join(task.path), task.text, lead or "—", _units(task.draft_assist),
            suggested, "、".join(d.short_name for d in task.suggested_assist), "\n".join(task.basis),
            VERDICTS_ZH[task.verdict], "\n".join(n.message for n in task.notes)]


def level_text(review: Review) -> str:
    if review.level == "municipal":
        return f"市级（{_LEVEL_FROM[review.level_from]}）"
    return f"区级，{review.jurisdiction_name}（{_LEVEL_FROM[review.level_from]}）"


def summary_lines(review: Review) -> list[str]:
    """The summary in Chinese: counts, the tasks without a lead (（九）), every disagreement with its citation."""
    s = review.summary
    split = "按编号拆分" if review.split_by == "numbering" else "按表格行拆分"
    lines = [f"草案：{Path(review.draft).name}；层级：{level_text(review)}；判断日期：{review.as_of.isoformat()}",
             f"任务 {s.tasks} 项（{split}）；草案写明牵头单位 {s.with_draft_lead} 项；规则库给出建议牵头 {s.with_suggested_lead} 项",
             f"结论：一致 {s.agree}，不一致 {s.disagree}，草案未明确牵头 {len(s.without_draft_lead)}，无法判断 {s.undecidable}"]
    if not review.first_listed_is_lead:
        lines.append("草案声明责任单位“排名不分先后”：未写明“牵头”的任务视为未明确牵头。")
    missing = [t for t in review.tasks if t.verdict == "no_draft_lead"]
    if missing:
        lines.append(f"草案未明确牵头的任务（（九）：新制定的政策文件应明确牵头部门）{len(missing)} 项：")
        for t in missing:
            hint = f"，建议 {t.suggested_lead.short_name} 牵头" if t.suggested_lead else ""
            lines.append(f"  {t.number} {_short(t.text)}{hint}")
    disagree = [t for t in review.tasks if t.verdict == "disagree"]
    if disagree:
        lines.append(f"与规则库不一致的任务 {len(disagree)} 项：")
        for t in disagree:
            lines.append(f"  {t.number} {_short(t.text)}：草案 {_units(t.draft_lead)} → 建议 "
                         f"{t.suggested_lead.short_name}；依据 {'；'.join(t.basis) or '—'}")
    if s.unknown_units:
        lines.append(f"未能识别的单位名称：{'、'.join(s.unknown_units)}")
    if review.skipped:
        lines.append(f"另有 {review.skipped} 个编号条目属总体要求、主要目标等，不作为任务审查。")
    lines.append(f"规则库：{review.rulebook.name} {review.rulebook.version}（{review.rulebook.hash[:12]}）")
    return lines


def _short(text: str, n: int = 24) -> str:
    return text[:n] + ("…" if len(text) > n else "")


# ------------------------------------------------------------------ renderers
def render_markdown(review: Review) -> str:
    def cell(text: str) -> str:
        return (text or "").replace("|", "\\|").replace("\n", "<br>")
    out = [f"# 草案审查意见：{Path(review.draft).name}", ""]
    out += [("  - " if line.startswith("  ") else "- ") + line.strip() for line in summary_lines(review)]
    out += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in table_rows(review)]
    return "\n".join(out) + "\n"


def render_json(review: Review) -> str:
    data = review.model_dump(mode="json")
    data["summary_lines"] = summary_lines(review)
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _write_xlsx(review: Review, target: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "审查意见"
    sheet.append(list(COLUMNS))
    for row in table_rows(review):
        sheet.append([int(row[0]), *row[1:]])   # 序号 a number, so it sorts as one
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith("="):
                c.data_type = "s"   # text is text, never a formula
            c.alignment = wrap
    for c in sheet[1]:
        c.font = Font(bold=True)
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for i, width in enumerate(_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, sheet.max_row)}"
    summary = workbook.create_sheet("汇总")
    for line in summary_lines(review):
        summary.append([line])
        if line.startswith("="):
            summary.cell(summary.max_row, 1).data_type = "s"
    summary.column_dimensions["A"].width = 120
    workbook.save(target)


def _write_docx(review: Review, target: Path) -> None:
    import docx
    from docx.enum.section import WD_ORIENT
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(f"草案审查意见：{Path(review.draft).name}", level=1)
    for line in summary_lines(review):
        document.add_paragraph(line.strip(), style="List Bullet" if line.startswith("  ") else None)
    table = document.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, COLUMNS):
        cell.text = name
    for row in table_rows(review):
        for cell, text in zip(table.add_row().cells, row):
            cell.text = text
    document.save(target)


def output_format(output: Optional[str], given: Optional[str]) -> str:
    if given:
        return given
    if output and output != "-":
        suffix = Path(output).suffix.lower()
        if suffix in _BY_SUFFIX:
            return _BY_SUFFIX[suffix]
    return "xlsx"


def default_output(draft: str, fmt: str) -> str:
    """Beside the draft: 草案.审查意见.xlsx."""
    path = Path(draft)
    return str(path.with_name(f"{path.stem}.审查意见{_SUFFIX[fmt]}"))


def write_review(review: Review, output: str, fmt: str) -> Path:
    """Write `review` to `output` atomically (temporary file beside it, then rename); never over the draft."""
    target = Path(output)
    draft = Path(review.draft)
    if target.resolve() == draft.resolve() or (target.exists() and draft.exists() and os.path.samefile(target, draft)):
        raise ReviewError(f"输出文件 {output} 就是草案本身，拒绝覆盖。请用 -o 指定另一个文件。", None, [output])
    if target.is_dir():
        raise ReviewError(f"输出路径 {output} 是一个目录。", None, [output])
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        os.close(handle)
    except OSError as exc:
        raise ReviewError(f"无法写入 {output}：{exc.strerror}", None, [output]) from None
    try:
        if fmt == "xlsx":
            _write_xlsx(review, Path(temporary))
        elif fmt == "docx":
            _write_docx(review, Path(temporary))
        else:
            text = render_markdown(review) if fmt == "md" else render_json(review)
            Path(temporary).write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ReviewError(f"无法写入 {output}：{exc.strerror}", None, [output]) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
