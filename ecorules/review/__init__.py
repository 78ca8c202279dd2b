"""Reviewing a draft policy task by task (（九）): who should lead, who assists, on what basis — and where the
draft's own 责任单位 disagree.

    from ecorules.review import review_draft, write_review, summary_lines
    review = review_draft("三年行动计划（征求意见稿）.docx", district="黄浦区")
    review.summary.without_draft_lead      # tasks with no lead in the draft
    write_review(review, "审查意见.xlsx", "xlsx")

Modules: reading (DOCX / Markdown / text / XLSX → paragraphs and tables), splitting (numbering and task tables →
tasks), units (unit clauses, names → departments), core (resolve and compare), writing (XLSX / Markdown / JSON / DOCX).
"""
from .core import (VERDICTS_ZH, Review, ReviewedTask, ReviewNote, ReviewSummary, basis_citations, document_jurisdiction,
                   review_draft)
from .reading import INPUT_FORMATS, ReviewError, read_draft
from .splitting import DraftTask, split_draft
from .units import UnitMapper, UnitRef, parse_clause
from .writing import (COLUMNS, OUTPUT_FORMATS, default_output, output_format, render_json, render_markdown,
                      summary_lines, table_rows, write_review)

__all__ = [
    "COLUMNS",
    "DraftTask",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "Review",
    "ReviewError",
    "ReviewNote",
    "ReviewSummary",
    "ReviewedTask",
    "UnitMapper",
    "UnitRef",
    "VERDICTS_ZH",
    "basis_citations",
    "default_output",
    "document_jurisdiction",
    "output_format",
    "parse_clause",
    "read_draft",
    "render_json",
    "render_markdown",
    "review_draft",
    "split_draft",
    "summary_lines",
    "table_rows",
    "write_review",
]
