"""Resolving rows for a batch, in-process or in worker processes: a `ChunkResolver` resolves a chunk of rows
and renders each result for the writer (so serialisation happens in the workers too); `init_worker` / `work`
are the pool's initializer and task; `pool_context` chooses how workers start. Each worker builds its own
Engine once (durable_rules' rulesets are per process)."""
from __future__ import annotations

import gc
import multiprocessing
import os
import re
import signal
import threading
import time
from typing import Optional, Union

from .engine import Engine
from .io.columns import result_cells
from .model import ErrorInfo
from .rulebook import Rulebook, load_rulebook


class ChunkResolver:
    """Resolves (row number, matter, read error, id) items and renders each result for the writer, so
    serialisation happens in the workers too. Returns plain tuples (cheap to pickle)."""

    def __init__(self, rulebook: Rulebook, table: bool):
        self.engine = Engine(rulebook)
        self.table = table
        self.categories = rulebook.categories

    def __call__(self, chunk: list[tuple]) -> list[tuple]:
        return [self.one(*item) for item in chunk]

    def one(self, number: int, matter: Optional[dict], problem: Optional[str], matter_id: Optional[str],
            problem_field: Optional[str] = None) -> tuple:
        if matter is None:
            result = self.engine.invalid(matter_id, problem, problem_field)
        else:
            result = self.engine.resolve(matter)
        error = None
        if result.error is not None:
            message = in_chinese(result.error.message)
            if message != result.error.message:
                result.explanation = result.explanation.replace(result.error.message, message)
            result.error = ErrorInfo(message=message, field=result.error.field, row=number)
            error = (result.error.message, result.error.field)
        payload = result_cells(result, number, self.categories) if self.table else result.model_dump_json()
        lead = (result.lead.id, result.lead.name) if result.lead else None
        escalation = "、".join(d.short_name for d in result.escalation.to) if result.escalation else None
        warnings = tuple(dict.fromkeys(w.code for w in result.warnings))
        return result.status, lead, escalation, error, payload, warnings


# pydantic's messages that reach an operator through the resolver's "值无效（…）", in Chinese
_PYDANTIC_ZH = (("Input should be a valid string", "应为文本"), ("Input should be a valid integer", "应为整数"),
                ("Input should be a valid number", "应为数字"), ("Input should be a valid boolean", "应为 true 或 false"),
                ("Input should be a valid dictionary", "应为 JSON 对象"), ("Input should be a valid list", "应为数组"),
                ("Input should be a valid date", "应为日期 YYYY-MM-DD"), ("String should have at most", "文字过长"),
                ("Input should be", "取值不在允许范围内"), ("Value error, ", ""))
_ENGLISH = re.compile(r"（([A-Z][^（）]*?)）")


def in_chinese(message: str) -> str:
    """A row's error message with the English pydantic text it may quote put into Chinese."""
    def translate(match: re.Match) -> str:
        english = match.group(1)
        for prefix, chinese in _PYDANTIC_ZH:
            if english.startswith(prefix):
                return f"（{chinese or english[len(prefix):]}）"
        return match.group(0)
    return _ENGLISH.sub(translate, message)


_WORKER: Union[ChunkResolver, BaseException, None] = None  # per worker process, set by the initializer


def init_worker(rulebook: Optional[Rulebook], rules_path: str, table: bool) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled once, by the parent
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler may have been inherited by fork
    _die_with_parent()
    global _WORKER
    try:
        _WORKER = ChunkResolver(rulebook if rulebook is not None else load_rulebook(rules_path), table)
    except Exception as exc:  # raised by the first task instead: a failing initializer makes Pool respawn forever
        _WORKER = exc
    # the rulebook and engine live as long as the worker: keep the cyclic GC from scanning them again and
    # again (and from touching pages shared with the parent by fork)
    gc.freeze()


def _die_with_parent() -> None:
    """A worker ends, silently, when the parent dies (`kill -9`): on Linux the kernel sends it SIGTERM
    (PR_SET_PDEATHSIG), elsewhere a thread watches the parent's pid. Without this, orphaned workers would go on
    and print BrokenPipe tracebacks into the operator's terminal."""
    parent = os.getppid()
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGTERM, 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # the parent died before prctl took effect
                os._exit(0)
            return
    except (OSError, AttributeError):
        pass

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)
    threading.Thread(target=watch, daemon=True, name="ecorules-parent-watch").start()


def work(chunk: list[tuple]) -> list[tuple]:
    if isinstance(_WORKER, BaseException):
        raise _WORKER
    return _WORKER(chunk)


def pool_context():
    # fork shares the already-loaded rulebook with the workers; elsewhere each worker loads it again
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")
