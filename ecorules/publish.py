"""The public responsibility list (责任清单, （五）（六）（七） "依法依规向社会公开"): for one jurisdiction, every matter
category of the rulebook with its lead, assists and basis, as the engine decides it on a given day.

Each row is a real decision: the category is resolved through `Engine.resolve` as a matter of that jurisdiction
(`{category, district | level: municipal, as_of}`), so the list moves with the rules. Rows keep codes (status,
provenance); words are chosen only when rendering (`render_markdown`, `render_html`, `write_xlsx`). The workbench
page 责任清单 and `ecorules publish` both call `build_list` and render from the same template.
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .engine import Engine
from .errors import EcorulesError, suggest
from .io.columns import STATUS_ZH
from .io.writers import write_text
from .model import Department, Resolution, RulebookStamp
from .orggraph import MUNICIPAL

FORMATS = ("html", "xlsx", "md")
EXTENSIONS = {"html": ".html", "xlsx": ".xlsx", "md": ".md"}
RELIABILITY_ZH = {"inference": "推定", "disputed": "有争议"}
RELIABILITY_NOTE = {"inference": "推定：所依据规则的来源为推断，或牵头机构的名称、设置为推定，须核实",
                    "disputed": "有争议：来源对牵头部门的指向不一致"}
SECTOR_ZH = {"air": "大气", "water": "水", "soil": "土壤", "solid_waste": "固体废物", "noise": "噪声", "ecology": "生态",
             "development": "发展规划", "governance": "综合管理", "justice": "司法衔接", "oversight": "监督"}
COLUMNS = ("序号", "领域", "事项类别", "类别代码", "判断状态", "牵头部门", "配合部门", "依据", "规则", "结论可靠性", "说明")


class PublishError(EcorulesError):
    """A usage error of publish (unknown jurisdiction, format): one Chinese sentence, exit 1."""

    def __init__(self, message: str, suggestion: Optional[str] = None):
        self.suggestion = suggestion
        super().__init__(message + (f" {suggestion}" if suggestion else ""))


@dataclass(frozen=True)
class ListRow:
    number: int
    category: str
    name: str
    sector: Optional[str]
    status: str                          # a Resolution status code
    lead: Optional[Department]
    assist: tuple
    candidates: tuple
    rules: tuple                         # adopted assign rule ids
    cites: tuple                         # their citations (and the escalation's), in order, no repeats
    reliability: Optional[str]           # "disputed" | "inference" | None
    category_provenance: Optional[str]
    resolution: Resolution

    @property
    def marked(self) -> bool:
        return self.reliability is not None


@dataclass(frozen=True)
class ResponsibilityList:
    jurisdiction: str
    jurisdiction_name: str
    as_of: dt.date
    rulebook: RulebookStamp
    rows: tuple

    @property
    def counts(self) -> dict:
        found: dict = {}
        for row in self.rows:
            found[row.status] = found.get(row.status, 0) + 1
        return found


def jurisdiction_code(engine: Engine, given: str) -> str:
    """`sh`, a district code or a Chinese name (黄浦区, 黄浦, 上海市) → the jurisdiction code; PublishError if none."""
    org = engine.rulebook.org
    text = (given or "").strip()
    if text in (MUNICIPAL, "上海", "上海市", "市级", "全市"):
        return MUNICIPAL
    code = org.jurisdiction_of(text) if text else None
    if code is None:
        raise PublishError(f"未知的辖区 '{given}'：应为 sh 或区代码、区名（如 huangpu、黄浦区）。",
                           suggest(text, [*org.jurisdictions, *org.district_choices()], "辖区"))
    return code


def jurisdiction_label(engine: Engine, code: str) -> str:
    return "上海市（市级）" if code == MUNICIPAL else engine.rulebook.org.districts[code].name


def reliability_of(resolution: Resolution) -> Optional[str]:
    """disputed when an adopted assign rule is disputed; inference when the lead body is an inference or an
    adopted assign rule's provenance is; else None (the same reading as the 结论可靠性 column of `resolve`)."""
    adopted = [b for b in resolution.basis if b.outcome == "adopted" and b.stage == "assign"]
    if any(b.provenance == "disputed" for b in adopted):
        return "disputed"
    if (resolution.lead is not None and resolution.lead.inferred) or any(b.provenance == "inference" for b in adopted):
        return "inference"
    return None


def build_list(engine: Engine, jurisdiction: str, as_of: Optional[dt.date] = None) -> ResponsibilityList:
    """The responsibility list of `jurisdiction` (a code or Chinese name) on `as_of` (default today)."""
    code = jurisdiction_code(engine, jurisdiction)
    day = as_of or dt.date.today()
    rulebook = engine.rulebook
    rows = []
    for number, category in enumerate(rulebook.categories.values(), start=1):
        matter = {"id": category.id, "title": category.name, "category": category.id, "as_of": day.isoformat()}
        matter.update({"level": "municipal"} if code == MUNICIPAL else {"district": code})
        r = engine.resolve(matter)
        adopted = [b for b in r.basis if b.stage == "assign" and b.outcome == "adopted"]
        cites = list(dict.fromkeys(b.cite for b in adopted))
        if r.escalation and r.escalation.cite not in cites:
            cites.append(r.escalation.cite)
        rows.append(ListRow(number, category.id, category.name, category.sector, r.status, r.lead, tuple(r.assist),
                            tuple(r.candidates), tuple(dict.fromkeys(b.rule for b in adopted)), tuple(cites),
                            reliability_of(r), category.provenance, r))
    stamp = RulebookStamp(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
    return ResponsibilityList(code, jurisdiction_label(engine, code), day, stamp, tuple(rows))


# ---------------------------------------------------------------- rendering (words are chosen here)
def _names(departments) -> str:
    return "、".join(d.name for d in departments)


def row_cells(row: ListRow) -> list[str]:
    """One row as the COLUMNS' text."""
    r = row.resolution
    note = ""
    if row.status == "conflict":
        note = "候选牵头部门：" + _names(row.candidates)
    if r.escalation:
        note += ("；" if note else "") + "上报至" + _names(r.escalation.to)
        if r.escalation.proposer:
            note += f"（由{r.escalation.proposer.name}提出意见）"
    return [str(row.number), SECTOR_ZH.get(row.sector or "", row.sector or ""), row.name, row.category,
            STATUS_ZH.get(row.status, row.status), row.lead.name if row.lead else "", _names(row.assist),
            "；".join(row.cites), "、".join(row.rules), RELIABILITY_ZH.get(row.reliability or "", ""), note]


def heading(lst: ResponsibilityList) -> str:
    return f"{lst.jurisdiction_name}生态环境保护具体事项责任清单"


def summary_line(lst: ResponsibilityList) -> str:
    counts = lst.counts
    order = list(STATUS_ZH)   # resolved, conflict, unassigned, out_of_scope, invalid
    parts = "，".join(f"{STATUS_ZH.get(s, s)} {n} 类" for s, n in
                     sorted(counts.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))
    marked = sum(row.marked for row in lst.rows)
    return f"共 {len(lst.rows)} 类事项：{parts}；标注推定或有争议 {marked} 类。"


def render_markdown(lst: ResponsibilityList) -> str:
    out = [f"# {heading(lst)}", "",
           f"- 辖区：{lst.jurisdiction_name}（{lst.jurisdiction}）；判断日期：{lst.as_of.isoformat()}",
           f"- 规则库：{lst.rulebook.name} {lst.rulebook.version}（{lst.rulebook.hash[:12]}）",
           f"- {summary_line(lst)}", "- " + "；".join(RELIABILITY_NOTE.values()) + "。", "",
           "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in lst.rows:
        cells = [c.replace("|", "\\|").replace("\n", " ") for c in row_cells(row)]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def template_context(lst: ResponsibilityList) -> dict:
    """What the list template needs: the list, its rows as cells, and the words for codes."""
    return {"lst": lst, "heading": heading(lst), "summary": summary_line(lst), "columns": COLUMNS,
            "rows": [(row, row_cells(row)) for row in lst.rows], "notes": RELIABILITY_NOTE,
            "reliability_zh": RELIABILITY_ZH}


def render_html(lst: ResponsibilityList) -> str:
    """A standalone, printable HTML page (styles inline: the file works alone, offline)."""
    from .templating import render
    return render("publish.html", **template_context(lst))


def xlsx_bytes(lst: ResponsibilityList) -> bytes:
    """The list as an XLSX workbook: sheet 责任清单 (bold frozen header, filter, widths, wrapped text; every cell
    text) and sheet 说明 (jurisdiction, date, rulebook stamp, what the marks mean)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    book = Workbook()
    sheet = book.active
    sheet.title = "责任清单"
    sheet.append(list(COLUMNS))
    widths = (6, 10, 30, 22, 12, 28, 40, 44, 30, 10, 36)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(1, i).column_letter].width = width
        sheet.cell(1, i).font = Font(bold=True)
    mark = PatternFill("solid", fgColor="FFF5D6")
    for row in lst.rows:
        sheet.append(row_cells(row))
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if row.marked:
                cell.fill = mark
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    about = book.create_sheet("说明")
    for pair in (("清单", heading(lst)), ("辖区", f"{lst.jurisdiction_name}（{lst.jurisdiction}）"),
                 ("判断日期", lst.as_of.isoformat()), ("规则库", f"{lst.rulebook.name} {lst.rulebook.version}"),
                 ("规则库哈希", lst.rulebook.hash), ("汇总", summary_line(lst)),
                 *(("标注", note) for note in RELIABILITY_NOTE.values())):
        about.append(list(pair))
    about.column_dimensions["A"].width = 12
    about.column_dimensions["B"].width = 90
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rendered(lst: ResponsibilityList, fmt: str) -> bytes:
    if fmt not in FORMATS:
        raise PublishError(f"未知的格式 '{fmt}'。", suggest(fmt, FORMATS, "格式"))
    if fmt == "xlsx":
        return xlsx_bytes(lst)
    return (render_html(lst) if fmt == "html" else render_markdown(lst)).encode("utf-8")


def write_list(lst: ResponsibilityList, path: str | Path, fmt: str) -> Path:
    """Write through a temporary file and rename (never a half-written list under the real name)."""
    data = rendered(lst, fmt)
    if fmt == "xlsx":
        target = Path(path)
        part = target.with_name(target.name + ".part")
        try:
            part.write_bytes(data)
            part.replace(target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise PublishError(f"无法写入 {target}：{exc.strerror or exc}") from None
        return target
    return write_text(path, data.decode("utf-8"))


def publish_all(engine: Engine, directory: str | Path, fmt: str, as_of: Optional[dt.date] = None) -> list[Path]:
    """One file per jurisdiction (sh and every district) in `directory`, named `<code>-责任清单.<ext>`."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise PublishError(f"--all 需要一个目录，{folder} 是文件。")
    folder.mkdir(parents=True, exist_ok=True)
    return [write_list(build_list(engine, code, as_of), folder / f"{code}-责任清单{EXTENSIONS[fmt]}", fmt)
            for code in engine.rulebook.org.jurisdictions]


__all__ = ["COLUMNS", "FORMATS", "ListRow", "PublishError", "ResponsibilityList", "build_list", "heading",
           "jurisdiction_code", "jurisdiction_label", "publish_all", "reliability_of", "render_html",
           "render_markdown", "rendered", "row_cells", "summary_line", "template_context", "write_list", "xlsx_bytes"]
