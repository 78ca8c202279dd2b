"""Columns: which format a path means, what a header names, and the columns ecorules writes.

A matter file's header names each column by the field name (any case, spaces or hyphens for `_`) or a
Chinese alias; every other named column is a fact. The result columns (RESULT_COLUMNS) follow the input's
own columns in CSV / XLSX output; on input they are ignored, so an output can be read again.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Mapping, Optional, Sequence

from ..errors import FormatError
from ..explain import reliability_text

FORMATS = ("jsonl", "csv", "xlsx")
EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}
XLSX_MAX_ROWS = 1_048_576  # Excel's own limit, header included
XLSX_MAX_CELL = 32_767     # characters one Excel cell holds

# Column headers accepted for each matter field (besides the field name itself, in any case, with
# spaces or hyphens for underscores). The first alias is the header ecorules writes for JSONL input.
ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("编号", "事项编号", "工单编号", "工单号", "任务编号"),
    "title": ("标题", "事项", "事项名称", "事项标题", "工单标题", "任务名称"),
    "district": ("区", "所属区", "区县", "所在区", "行政区"),
    "level": ("层级", "级别"),
    "category": ("类别", "事项类别"),
    "approved_by": ("审批部门", "审批机关"),
    "source": ("来源", "事项来源", "工单来源", "渠道"),
    "as_of": ("日期", "受理日期", "登记日期"),
    "facts": ("事实",),
}
FIELDS = tuple(ALIASES)
FACT_PREFIXES = ("facts.", "事实.")
LEVEL_VALUES = {"市级": "municipal", "市": "municipal", "区级": "district", "区": "district"}

# Columns ecorules writes after the input's own columns. On input they are ignored (never facts), so an
# output file can be read again: its result columns are replaced, not doubled.
RESULT_COLUMNS = ("行号", "判断状态", "状态代码", "牵头部门", "牵头部门编码", "配合部门", "冲突候选部门", "判定类别",
                  "类别代码", "结论可靠性", "上报至", "移交", "义务", "依据条款", "判断说明", "提示", "错误说明", "错误字段",
                  "判断日期", "规则库版本", "规则库哈希")
ERROR_COLUMNS = ("行号", "错误说明", "错误字段")  # added to the rows of an --errors file (CSV / XLSX)
RESERVED = frozenset(RESULT_COLUMNS)
ROW_COLUMN = RESULT_COLUMNS.index("行号")
NOTE_COLUMN = "提示"

STATUS_ZH = {"resolved": "已明确牵头", "conflict": "存在冲突", "unassigned": "尚未明确",
             "out_of_scope": "不属于生态环境事项", "invalid": "无效"}

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
                   r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")  # a time of day, as Excel adds, is dropped


# ------------------------------------------------------------------ formats
def format_of(path: Optional[str], given: Optional[str], default: Optional[str] = None, what: str = "输入") -> str:
    """The format named by `given`, else by the file's extension, else `default`."""
    if given:
        return given
    if path and path != "-":
        found = EXTENSIONS.get(Path(path).suffix.lower())
        if found:
            return found
    if default:
        return default
    allowed = "、".join(sorted(EXTENSIONS))
    raise FormatError(f"无法从扩展名判断{what}格式（可用：{allowed}）；请用 --{'input-' if what == '输入' else ''}format "
                      f"指定 jsonl / csv / xlsx", path)


# ------------------------------------------------------------------ headers
def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().rstrip("*").strip().lower()
    return re.sub(r"[\s\-]+", "_", text)


_BY_HEADER = {normalize_header(name): field for field, aliases in ALIASES.items() for name in (field, *aliases)}


def column_target(header: str) -> Optional[tuple[str, Optional[str]]]:
    """What a column means: ('field', name) | ('fact', name) | ('facts', None); None = not read."""
    if not header.strip() or header.strip() in RESERVED:
        return None
    key = normalize_header(header)
    field = _BY_HEADER.get(key)
    if field == "facts":
        return ("facts", None)
    if field:
        return ("field", field)
    for prefix in FACT_PREFIXES:
        if key.startswith(prefix) and key[len(prefix):]:
            return ("fact", header.strip()[len(prefix):].strip())
    return ("fact", unicodedata.normalize("NFKC", header).strip())


def names_a_field(cells: Sequence[str], fields: Sequence[str] = ("id", "title")) -> bool:
    """Whether a row of cells names one of `fields` (the header ecorules looks for)."""
    return any(_BY_HEADER.get(normalize_header(c)) in fields for c in cells if c.strip())


def id_column(columns: Sequence[str]) -> Optional[int]:
    """Which carried column holds the id (by the same aliases the reader uses), if any."""
    return next((i for i, h in enumerate(columns) if column_target(h) == ("field", "id")), None)


# ------------------------------------------------------------------ cells
def iso_date(text: str) -> str:
    """Dates as Excel writes them in CSV on Chinese Windows (2024/9/1, 2024年9月1日, 2024-09-01 00:00:00) → ISO."""
    match = _DATE.match(text.strip())
    if not match:
        return text
    try:
        return dt.date(*map(int, match.groups())).isoformat()
    except ValueError:
        return text  # an impossible date: the engine says so


def cell_text(value) -> str:
    """An XLSX cell as text (CSV and XLSX are read alike): 12 → '12', 12.0 → '12', dates → ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A CSV cell that a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, tab, CR first)
    gets a leading `'`, the OWASP way; `restore` takes it off again when ecorules reads the file back."""
    if text and (text.startswith(FORMULA_START) or _NEUTRALISED.match(text)):  # "'=x" → "''=x", read back as "'=x"
        return "'" + text
    return text


_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")


def restore(text: str) -> str:
    """The inverse of `neutralise`, for cells read from CSV: one `'` comes off a cell of quotes then a formula
    character (a hand-written `'=x` is thus read as `=x`)."""
    if text[:1] == "'" and _NEUTRALISED.match(text):
        return text[1:]
    return text


# ------------------------------------------------------------------ results → cells
def _names(departments) -> str:
    return "、".join(d.name for d in departments)


def reliability(resolution) -> str:
    """结论可靠性: 有争议 when an adopted assign rule is disputed; 推定 when the lead body is an inference or
    the adopted assign rule's provenance is; empty otherwise — the words of the conclusion sentence itself
    (explain.reliability)."""
    return reliability_text(resolution, "zh")


def notes(resolution) -> str:
    """The 提示 column: each warning as `code message`, separated by '；'."""
    return "；".join(f"{w.code} {w.message}" for w in resolution.warnings)


def result_cells(resolution, row: int, categories: Optional[Mapping] = None) -> list[str]:
    """The RESULT_COLUMNS of one resolution, as readable text; `categories` (id → spec with `.name`) gives
    the category's Chinese name."""
    r = resolution
    cites = []
    for basis in r.basis:
        if basis.outcome == "adopted" and basis.cite not in cites:
            cites.append(basis.cite)
    if r.escalation and r.escalation.cite not in cites:
        cites.append(r.escalation.cite)
    escalation = ""
    if r.escalation:
        escalation = _names(r.escalation.to)
        if r.escalation.proposer:
            escalation += f"（由{r.escalation.proposer.name}提出意见）"
    transfers = "；".join(f"{t.to.name}（{t.reason}）" for t in r.transfers)
    obligations = "；".join(o.what + (f"（{o.due}前）" if o.due else "") for o in r.obligations)
    category = categories.get(r.category) if categories and r.category else None
    return [
        str(row), STATUS_ZH.get(r.status, r.status), r.status, r.lead.name if r.lead else "",
        r.lead.id if r.lead else "", _names(r.assist), _names(r.candidates),
        getattr(category, "name", "") or (r.category or ""), r.category or "", reliability(r), escalation, transfers,
        obligations, "；".join(cites), r.explanation, notes(r), r.error.message if r.error else "",
        (r.error.field or "") if r.error else "", r.as_of.isoformat() if r.as_of else "",
        f"{r.rulebook.name} {r.rulebook.version}", r.rulebook.hash,
    ]


def jsonl_carried(matter: Optional[dict]) -> list[str]:
    """For JSONL input written as a table: the matter's fields under their Chinese headers."""
    if not matter:
        return [""] * len(FIELDS)
    cells = []
    for field in FIELDS:
        value = matter.get(field)
        if value is None or value == {}:
            cells.append("")
        elif isinstance(value, str):
            cells.append(value)
        else:
            cells.append(json.dumps(value, ensure_ascii=False, default=str))
    return cells


JSONL_COLUMNS = [ALIASES[field][0] for field in FIELDS]
