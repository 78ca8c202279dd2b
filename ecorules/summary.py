"""What a batch run reports: `Progress` while it runs, `Summary` when it ends (counts by status and by lead,
escalations, invalid rows), and their wording for a terminal. Data apart from its printing: the command renders
`Summary.lines()`, --summary writes `Summary.to_dict()`."""
from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

from .io.columns import STATUS_ZH
from .model import RulebookStamp

EXIT_OK, EXIT_ERROR, EXIT_INVALID_ROWS, EXIT_INTERRUPTED = 0, 1, 3, 130


@dataclass(frozen=True)
class Progress:
    """What a progress display needs; `fraction` and `eta` are None when the input size is unknown."""

    done: int                  # rows written in this run
    skipped: int               # rows already in the output (--resume)
    elapsed: float             # seconds
    rate: float                # rows per second
    fraction: Optional[float]  # of the input read, 0..1
    eta: Optional[float]       # seconds left, estimated


@dataclass
class Summary:
    """Counts of one run; `to_dict()` is what --summary writes, `lines()` what the command prints."""

    input: str
    input_format: str
    encoding: Optional[str]
    output: Optional[str]
    output_format: str
    rulebook: RulebookStamp
    as_of: dt.date
    workers: int
    rows: int = 0                                    # rows read (written + skipped)
    written: int = 0
    skipped: int = 0                                 # already in the output (--resume)
    by_status: collections.Counter = field(default_factory=collections.Counter)
    by_lead: dict = field(default_factory=dict)      # id → [name, count]
    escalations: collections.Counter = field(default_factory=collections.Counter)  # "市委、市政府" → count
    invalid_rows: list = field(default_factory=list)
    warnings: collections.Counter = field(default_factory=collections.Counter)  # warning code → rows
    truncated: int = 0                               # XLSX cells cut to Excel's 32,767-character limit
    errors_file: Optional[str] = None
    summary_file: Optional[str] = None
    resumed_from: Optional[str] = None
    elapsed: float = 0.0

    @property
    def invalid(self) -> int:
        return self.by_status.get("invalid", 0)

    @property
    def exit_code(self) -> int:
        return EXIT_INVALID_ROWS if self.invalid else EXIT_OK

    def to_dict(self) -> dict:
        leads = sorted(self.by_lead.items(), key=lambda item: (-item[1][1], item[0]))
        return {
            "input": {"path": self.input, "format": self.input_format, "encoding": self.encoding},
            "output": {"path": self.output, "format": self.output_format},
            "errors_file": self.errors_file,
            "rulebook": self.rulebook.model_dump(),
            "as_of": self.as_of.isoformat(),
            "workers": self.workers,
            "rows": self.rows,
            "written": self.written,
            "skipped_already_in_output": self.skipped,
            "resumed_from": self.resumed_from,
            "by_status": {s: self.by_status.get(s, 0) for s in STATUS_ZH},
            "warnings": dict(sorted(self.warnings.items())),
            "truncated_cells": self.truncated,
            "by_lead": [{"id": i, "name": name, "count": n} for i, (name, n) in leads],
            "escalations": {"count": sum(self.escalations.values()),
                            "by_target": [{"to": to, "count": n} for to, n in self.escalations.most_common()]},
            "invalid_rows": self.invalid_rows,
            "invalid_rows_not_listed": max(0, self.invalid - len(self.invalid_rows)),
            "elapsed_seconds": round(self.elapsed, 3),
            "rows_per_second": round(self.written / self.elapsed, 1) if self.elapsed else None,
            "exit_code": self.exit_code,
        }

    def lines(self, top: int = 10) -> list[str]:
        """The summary in Chinese (with the status codes), for stderr."""
        s = self.by_status
        rate = f"，{self.written / self.elapsed:,.0f} 行/秒" if self.elapsed else ""
        lines = [f"共 {self.written} 行：已明确牵头 resolved {s.get('resolved', 0)}，存在冲突 conflict {s.get('conflict', 0)}，"
                 f"尚未明确 unassigned {s.get('unassigned', 0)}，不属于生态环境事项 out_of_scope {s.get('out_of_scope', 0)}，"
                 f"无效 invalid {s.get('invalid', 0)}（用时 {self.elapsed:.1f} 秒{rate}）"]
        if self.skipped:
            lines.append(f"续跑：{self.skipped} 行已在 {self.resumed_from} 中，未重复判断")
        if self.by_lead:
            leads = sorted(self.by_lead.values(), key=lambda v: (-v[1], v[0]))
            shown = "，".join(f"{name} {n}" for name, n in leads[:top])
            more = f"，另有 {len(leads) - top} 个部门" if len(leads) > top else ""
            lines.append(f"牵头部门：{shown}{more}")
        if self.escalations:
            shown = "，".join(f"{to} {n}" for to, n in self.escalations.most_common(top))
            lines.append(f"上报：{sum(self.escalations.values())} 行（{shown}）")
        if self.warnings:
            shown = "，".join(f"{code} {n} 行" for code, n in sorted(self.warnings.items()))
            lines.append(f"提示（按代码）：{shown}；详见结果的“提示”列")
        if self.truncated:
            lines.append(f"注意：{self.truncated} 个单元格超出 Excel 单元格 32,767 字上限，已截断并在“提示”列注明；"
                         "完整内容请输出 CSV 或 JSONL")
        if self.invalid:
            lines.append(f"{self.invalid} 行无效（invalid），其余已判断。")
            for item in self.invalid_rows[:top]:
                where = f" {item['id']}" if item["id"] else ""
                field_name = f" [{item['field']}]" if item["field"] else ""
                lines.append(f"  第 {item['row']} 行{where}{field_name}：{item['message']}")
            if self.invalid > top:
                lines.append(f"  …… 另有 {self.invalid - top} 行" + ("，全部见 " + self.errors_file if self.errors_file else
                                                                   "；用 --errors FILE 收集全部无效行"))
        if self.output:
            lines.append(f"结果已写入 {self.output}")
        return lines


def format_progress(p: Progress) -> str:
    """One line for a terminal: rows done, share, rate, time left."""
    parts = [f"已处理 {p.done:,} 行"]
    if p.skipped:
        parts.append(f"跳过 {p.skipped:,} 行")
    if p.fraction is not None:
        parts.append(f"{p.fraction:.0%}")
    parts.append(f"{p.rate:,.0f} 行/秒")
    if p.eta is not None:
        minutes, seconds = divmod(int(p.eta + 0.5), 60)
        hours, minutes = divmod(minutes, 60)
        parts.append(f"预计剩余 {hours}:{minutes:02d}:{seconds:02d}")
    return " · ".join(parts)
