"""Locations, diagnostics and the one exception tree of ecorules.

Every error carries structured fields (location, code, rule id, suggestion); messages are built
from them, so tests read attributes and the CLI renders them once.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based line and column in a file (column counts characters, not bytes)."""

    file: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a rulebook: what, where, which rule, and what to do instead."""

    code: str
    message: str
    location: Location
    rule_id: str | None = None
    suggestion: str | None = None
    severity: str = "error"  # "error" | "warning"

    def format(self) -> str:
        rule = f" [{self.rule_id}]" if self.rule_id else ""
        hint = f" {self.suggestion}" if self.suggestion else ""
        return f"{self.location}: {self.code}{rule} {self.message}{hint}"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.location.file,
            "line": self.location.line,
            "col": self.location.col,
            "rule": self.rule_id,
            "message": self.message,
            "suggestion": self.suggestion,
        }

    def sort_key(self) -> tuple:
        return (self.location.file, self.location.line, self.location.col, self.code, self.message)


def suggest(word: str, allowed: Iterable[str], what: str = "") -> str:
    """'Did you mean …?' when something close exists; otherwise list what is allowed."""
    allowed = sorted({str(a) for a in allowed})
    close = difflib.get_close_matches(str(word), allowed, n=1, cutoff=0.6)
    if close:
        return f"Did you mean '{close[0]}'?（是否应为 '{close[0]}'？）"
    if not allowed:
        return ""
    shown = ", ".join(allowed[:12]) + (" …" if len(allowed) > 12 else "")
    return f"可用的{what}：{shown}" if what else f"可用值：{shown}"


class EcorulesError(Exception):
    """Root of every error ecorules raises on purpose."""

    exit_code = 1

    def format_message(self) -> str:
        return str(self)


class RulebookError(EcorulesError):
    """A rulebook that cannot be used; carries every diagnostic found, not just the first."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = tuple(sorted(diagnostics, key=Diagnostic.sort_key))
        super().__init__(self.format_message())

    def format_message(self) -> str:
        lines = [d.format() for d in self.diagnostics]
        lines.append(summary_line(self.diagnostics))
        return "\n".join(lines)


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    errors = sum(1 for d in diagnostics if d.severity == "error")
    warnings = len(diagnostics) - errors
    files = len({d.location.file for d in diagnostics})
    return f"{errors} error(s), {warnings} warning(s) in {files} file(s)（{errors} 个错误，{warnings} 个警告）"


class MatterError(EcorulesError):
    """A matter that cannot be resolved as given (bad field, unknown district, text too long…)."""

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class EngineError(EcorulesError):
    """durable_rules refused or failed on something the guards did not foresee."""


class FormatError(EcorulesError):
    """A matter file or an output that cannot be read or written as asked (format, encoding, header,
    a path given twice, an unwritable directory, a --resume that would mix two runs); exit 1."""

    def __init__(self, message: str, path: str | None = None):
        self.message, self.path = message, path
        super().__init__(f"{path}: {message}" if path else message)
