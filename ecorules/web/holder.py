"""The service's one rulebook: loaded and checked, leased to requests, swapped atomically on reload.

A reload builds a complete new Engine beside the one in service, runs the same checks as `ecorules check`
(errors refuse it, warnings are logged), and only then replaces the reference in one assignment. Requests
lease the engine they started with, so a swap never pulls an engine from under a request; the old engine's
C rulesets are freed when its last lease ends. A broken rulebook never replaces a good one: the failure is
logged and kept for `/readyz`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from ..engine import Engine, default_rules_path
from ..errors import Diagnostic, RulebookError, summary_line
from ..lint import lint_rulebook
from ..rulebook import Rulebook

logger = logging.getLogger("ecorules.web")


def stamp_text(rulebook: Rulebook) -> str:
    """`name version hash` for the X-Ecorules-Rulebook header: the name percent-encoded (headers are
    Latin-1, the shipped name is Chinese), so the three fields stay separated by single spaces."""
    from urllib.parse import quote
    return f"{quote(rulebook.name, safe='')} {rulebook.version} {rulebook.hash}"


def load_checked(path: str | os.PathLike) -> Engine:
    """An Engine for `path` after the checks of `ecorules check` (errors refuse it; warnings are logged)."""
    rulebook, diagnostics = lint_rulebook(path)
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors or rulebook is None:
        raise RulebookError(errors or diagnostics)
    for warning in diagnostics:
        logger.warning("规则库警告 %s", warning.format())
    return Engine(rulebook)


@dataclass
class _Lease:
    engine: Engine
    users: int = 0
    retired: bool = False
    stamp_text: str = ""

    def __post_init__(self):
        self.stamp_text = stamp_text(self.engine.rulebook)  # computed once: it goes on every response


@dataclass
class ReloadStatus:
    """The outcome of the last reload attempt (None before the first)."""

    ok: bool
    at: str
    seconds: float
    message: str
    diagnostics: list[dict] = field(default_factory=list)
    rulebook: Optional[dict] = None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "at": self.at, "seconds": round(self.seconds, 3), "message": self.message,
                "diagnostics": self.diagnostics, "rulebook": self.rulebook}


class RulebookHolder:
    """Holds the engine in service. Thread-safe; one per app (no module-level state)."""

    def __init__(self, rules: str | os.PathLike | None = None, engine: Optional[Engine] = None):
        self.path = Path(rules) if rules else self.default_path()
        self._lock = threading.Lock()          # guards _current and the lease counts
        self._reloading = threading.Lock()     # one reload at a time
        self._current = _Lease(engine if engine is not None else load_checked(self.path))
        self.loaded_at = _now()
        self.last_reload: Optional[ReloadStatus] = None
        logger.info("规则库已加载：%s（%d 条规则，目录 %s）", self.label, len(self.rulebook.rules), self.path)

    @staticmethod
    def default_path() -> Path:
        return default_rules_path()

    # ---------------------------------------------------------------- reading
    @property
    def engine(self) -> Engine:
        return self._current.engine

    @property
    def rulebook(self) -> Rulebook:
        return self._current.engine.rulebook

    @property
    def stamp_text(self) -> str:
        return self._current.stamp_text

    @property
    def label(self) -> str:
        """How logs name the rulebook: name, version and the first 12 hex digits of its hash."""
        return _label(self.rulebook)

    @contextlib.contextmanager
    def lease(self) -> Iterator[Engine]:
        """The engine in service, kept open until the block ends even if a reload swaps it meanwhile."""
        with self._lock:
            lease = self._current
            lease.users += 1
        try:
            yield lease.engine
        finally:
            with self._lock:
                lease.users -= 1
                done = lease.retired and lease.users == 0
            if done:
                lease.engine.close()

    # ---------------------------------------------------------------- reloading
    def reload(self) -> ReloadStatus:
        """Load and check the rulebook directory again; swap only if it is clean. Never raises."""
        with self._reloading:
            started = time.monotonic()
            try:
                engine = load_checked(self.path)
            except RulebookError as exc:
                status = self._failed(started, exc.diagnostics, exc.format_message())
            except Exception as exc:  # noqa: BLE001 — a reload must never take the service down
                logger.exception("重新加载规则库时出错")
                status = self._failed(started, (), f"{type(exc).__name__}: {exc}")
            else:
                status = self._swap(engine, started)
            self.last_reload = status
            return status

    def _swap(self, engine: Engine, started: float) -> ReloadStatus:
        with self._lock:
            old, self._current = self._current, _Lease(engine)
            old.retired = True
            idle = old.users == 0
            self.loaded_at = _now()
        if idle:
            old.engine.close()
        logger.info("规则库已重新加载：%s（此前 %s）", self.label, _label(old.engine.rulebook))
        return ReloadStatus(True, _now(), time.monotonic() - started,
                            f"已重新加载 / reloaded: {self.label}", rulebook=self.stamp())

    def _failed(self, started: float, diagnostics, text: str) -> ReloadStatus:
        summary = summary_line(diagnostics) if diagnostics else text
        logger.error("重新加载规则库失败，继续使用 %s：\n%s", self.label, text)
        return ReloadStatus(False, _now(), time.monotonic() - started,
                            f"规则库有错误，未替换，仍使用原规则库 / reload refused, still serving the old rulebook: "
                            f"{summary}",
                            diagnostics=[d.to_dict() for d in diagnostics if isinstance(d, Diagnostic)],
                            rulebook=self.stamp())

    def stamp(self) -> dict:
        rulebook = self.rulebook
        return {"name": rulebook.name, "version": rulebook.version, "hash": rulebook.hash}

    def close(self):
        with self._lock:
            lease = self._current
            lease.retired = True
            idle = lease.users == 0
        if idle:
            lease.engine.close()


def _label(rulebook: Rulebook) -> str:
    return f"{rulebook.name} {rulebook.version} {rulebook.hash[:12]}"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
