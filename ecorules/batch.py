"""Batch resolution: stream rows from a reader through one or more engines into a writer.

`run_batch` is what `ecorules resolve` does, as a library call. It never prints: progress goes to an
`on_progress(Progress)` callback, and the result is a `Summary` (counts by status and by lead,
escalations, invalid rows; summary.py) that the caller renders.

- Streaming: rows are read, resolved and written in chunks; at most a few chunks per worker are in
  flight, so memory stays flat however long the input is.
- Parallel: `workers=N` runs N processes; chunks are submitted in input order and collected in the same
  order (output order = input order). Each worker builds its own Engine once, in the pool initializer
  (workers.py; durable_rules' rulesets are per process). The same ChunkResolver resolves a chunk in-process
  for `workers=1`, so results do not depend on N.
- Nothing lost: a row that cannot be read or resolved becomes an `invalid` result carrying its row
  number; rows out = rows in. The output is written to `<name>.part` and renamed when complete.
"""
from __future__ import annotations

import collections
import contextlib
import datetime as dt
import gc
import json
import os
import queue
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from .engine import default_rules_path
from .errors import EcorulesError, FormatError
from .io import JSONL_COLUMNS, Reader, Row, format_of, open_reader
from .io.columns import jsonl_carried
from .io.resume import (check_manifest, check_stamps, manifest_path, new_manifest, part_path, read_manifest,
                        remove_manifest, write_manifest)
from .io.writers import check_distinct, check_writable, error_payload, open_errors_writer, open_writer, write_text
from .model import RulebookStamp
from .rulebook import Rulebook, load_rulebook
from .summary import (EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID_ROWS, EXIT_OK, Progress, Summary,  # noqa: F401
                      format_progress)
from .workers import ChunkResolver, init_worker, pool_context, work

__all__ = ["BatchInterrupted", "Progress", "Summary", "format_progress", "run_batch",
           "EXIT_OK", "EXIT_ERROR", "EXIT_INVALID_ROWS", "EXIT_INTERRUPTED"]

CHUNK_ROWS = 256           # rows per task sent to a worker (fewer, larger messages: the parent's work per row counts)
STREAM_CHUNK_ROWS = 64     # from a pipe: a chunk is sent when full, and the rows already read should not wait long
CHUNKS_PER_WORKER = 4      # tasks in flight per worker (bounds memory: imap alone would read ahead without limit)
INVALID_LISTED = 1000      # invalid rows listed in the summary (all of them go to the --errors file)


class BatchInterrupted(EcorulesError):
    """The run was stopped (Ctrl-C / SIGTERM); what was done is kept in `partial` for --resume."""

    exit_code = EXIT_INTERRUPTED

    def __init__(self, done: int, partial: Optional[Path]):
        self.done, self.partial = done, partial
        where = f"，已写入 {partial}（未完成，不会被当作结果）；加 --resume 重跑可从中断处继续" if partial else ""
        super().__init__(f"已中断：本次已处理 {done} 行{where}。 Interrupted after {done} rows.")


# ------------------------------------------------------------------ the driver
def run_batch(source: Optional[str], output: Optional[str] = None, *,
              rules: Union[str, os.PathLike, Rulebook, None] = None,
              input_format: Optional[str] = None, output_format: Optional[str] = None,
              encoding: Optional[str] = None, sheet: Optional[str] = None,
              workers: int = 1, as_of: Optional[dt.date] = None, errors: Optional[str] = None,
              summary_file: Optional[str] = None, resume: bool = False,
              on_progress: Optional[Callable[[Progress], None]] = None,
              progress_every: float = 0.5, today: Callable[[], dt.date] = dt.date.today) -> Summary:
    """Resolve every row of `source` ('-' or None: stdin) into `output` (None or '-': stdout).

    Formats come from the extensions or `input_format` / `output_format` (stdin: JSONL; stdout: JSONL).
    `as_of` applies to rows without their own (default: today, fixed once for the whole run; when resuming,
    the interrupted run's). `errors` names a file that receives the invalid rows in the input's own format;
    `summary_file` one that receives `Summary.to_dict()` as JSON. `resume` skips rows whose id (or, for rows
    without one, row number) is already in the output or its `.part` — after checking that the rulebook,
    `as_of` and the input are the interrupted run's. Raises RulebookError / FormatError (two of the files are
    one, an unwritable output, a resume that would mix two runs, …) before anything is written,
    BatchInterrupted on Ctrl-C / SIGTERM.
    """
    try:
        return _run_batch(source, output, rules=rules, input_format=input_format, output_format=output_format,
                          encoding=encoding, sheet=sheet, workers=workers, as_of=as_of, errors=errors,
                          summary_file=summary_file, resume=resume, on_progress=on_progress,
                          progress_every=progress_every, today=today)
    except KeyboardInterrupt:  # before the first row (loading the rulebook, opening files): nothing to keep
        raise BatchInterrupted(0, None) from None


def _run_batch(source, output, *, rules, input_format, output_format, encoding, sheet, workers, as_of, errors,
               summary_file, resume, on_progress, progress_every, today) -> Summary:
    started = time.monotonic()
    workers = max(1, int(workers or os.cpu_count() or 1))
    summary_file = None if summary_file in (None, "-") else summary_file
    check_distinct({"输入文件": source, "输出文件（-o）": output, "无效行文件（--errors）": errors,
                    "汇总文件（--summary）": summary_file})
    if isinstance(rules, Rulebook):
        rulebook, rules_path = rules, rules.root
    else:
        rules_path = str(default_rules_path() if rules is None else rules)
        rulebook = load_rulebook(rules_path)
    out_format = format_of(output, output_format, default="jsonl" if output in (None, "-") else None, what="输出")
    stamp = RulebookStamp(name=rulebook.name, version=rulebook.version, hash=rulebook.hash)
    target = None if output in (None, "-") else Path(output)
    if resume and target is not None:
        as_of = _resumed_as_of(target, source, stamp, as_of)
    default_date = as_of or today()
    table = out_format != "jsonl"
    if summary_file:
        check_writable(summary_file)

    reader = open_reader(source, input_format, encoding, sheet)
    errors_writer = None
    try:
        columns = (reader.columns if reader.columns is not None else JSONL_COLUMNS) if table else None
        if errors:  # first: it is a new file, safe to remove if opening the output fails (a resumed .part is not)
            errors_writer = open_errors_writer(errors, reader)
        try:
            writer = open_writer(output, out_format, columns, resume=resume)
        except BaseException:
            if errors_writer:
                errors_writer.discard()
            raise
        try:
            check_stamps(writer.done, rulebook.hash, target or Path("-"))
            if target is not None:
                write_manifest(target, new_manifest(rulebook.hash, f"{rulebook.name} {rulebook.version}",
                                                    default_date, source))
        except BaseException:
            _close_unstarted(writer)
            if errors_writer:
                errors_writer.discard()
            raise
        summary = Summary(input=source or "-", input_format=reader.format, encoding=reader.encoding,
                          output=None if target is None else str(output), output_format=out_format,
                          rulebook=stamp, as_of=default_date, workers=workers, errors_file=errors,
                          summary_file=summary_file, resumed_from=writer.done.source)
        run = _Run(reader, writer, errors_writer, summary, writer.done.keys, default_date, table)
        try:
            if workers == 1:
                run.serial(ChunkResolver(rulebook, table), on_progress, progress_every, started)
            else:
                run.parallel(rulebook, rules_path, workers, on_progress, progress_every, started)
        except BaseException as exc:
            # keep what was written (or was there before: --resume) as OUTPUT.part; an empty one goes
            partial = writer.abort() if writer.rows or writer.done.rows else None
            if partial is None:
                writer.discard()
                if target is not None:
                    remove_manifest(target)
            if errors_writer:
                errors_writer.discard()
            if isinstance(exc, KeyboardInterrupt):
                raise BatchInterrupted(summary.written, partial) from None
            raise
        summary.elapsed = time.monotonic() - started
        summary.truncated = writer.truncated
        writer.commit()
        if target is not None:
            remove_manifest(target)
        if errors_writer:
            errors_writer.commit()
        if summary_file:
            write_text(summary_file, json.dumps(summary.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return summary
    finally:
        reader.close()


def _resumed_as_of(target: Path, source, stamp: RulebookStamp, as_of: Optional[dt.date]) -> Optional[dt.date]:
    """Check an unfinished output's manifest against this run; the date to use (the interrupted run's when
    none is given)."""
    saved = read_manifest(target)
    if saved is None:
        if part_path(target).exists():
            raise FormatError(f"找不到续跑清单 {manifest_path(target).name}，无法确认 {part_path(target).name} 是用同一"
                              "规则库、同一 --as-of、同一输入写出的；请删除它后重新运行（不加 --resume）", str(target))
        return as_of
    if as_of is None:
        as_of = dt.date.fromisoformat(saved.as_of)
    check_manifest(saved, new_manifest(stamp.hash, f"{stamp.name} {stamp.version}", as_of, source), target)
    return as_of


def _close_unstarted(writer) -> None:
    """A writer opened but refused before any row: keep a resumed `.part`, remove anything new."""
    if writer.part is not None and writer.done.source and Path(writer.done.source).name.startswith(writer.part.name):
        writer.abort()
    else:
        writer.discard()


class _Run:
    """The state of one batch: reading with skip/as_of, writing in order, counting."""

    def __init__(self, reader: Reader, writer, errors_writer, summary: Summary, done: set, as_of: dt.date,
                 table: bool):
        self.reader, self.writer, self.errors_writer = reader, writer, errors_writer
        self.summary, self.done, self.as_of, self.table = summary, done, as_of.isoformat(), table
        self.streaming = reader.streaming  # a pipe: write each result at once, more input may be slow to come

    def chunks(self, size: int) -> Iterator[list[Row]]:
        """Rows to resolve, in chunks; rows already in the output are counted and skipped."""
        chunk: list[Row] = []
        summary = self.summary
        for row in self.reader:
            summary.rows += 1
            if self.done and row.key in self.done:
                summary.skipped += 1
                continue
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def task(self, chunk: list[Row]) -> list[tuple]:
        """What a worker needs: row number, the matter (with --as-of for a row without a date; the row itself
        is left as read, since its cells are carried to the output), why it was unreadable, its id."""
        return [(row.number, self._dated(row.matter), row.error, row.id, row.field) for row in chunk]

    def _dated(self, matter: Optional[dict]) -> Optional[dict]:
        if matter is None or not _blank(matter.get("as_of")):
            return matter
        return {**matter, "as_of": self.as_of}

    def emit(self, chunk: list[Row], outcomes: list[tuple]) -> None:
        summary, writer = self.summary, self.writer
        for row, (status, lead, escalation, error, payload, warnings) in zip(chunk, outcomes):
            if self.table:
                carried = row.cells if row.cells is not None else jsonl_carried(row.matter)
                writer.write(carried, payload)
            else:
                writer.write(None, payload)
            summary.written += 1
            summary.by_status[status] += 1
            if lead:
                entry = summary.by_lead.setdefault(lead[0], [lead[1], 0])
                entry[1] += 1
            if escalation:
                summary.escalations[escalation] += 1
            summary.warnings.update(warnings)
            if error:
                if len(summary.invalid_rows) < INVALID_LISTED:
                    summary.invalid_rows.append({"row": row.number, "id": row.id, "field": error[1],
                                                 "message": error[0]})
                if self.errors_writer:
                    self.errors_writer.write(*error_payload(row, *error))
        if self.streaming:
            writer.flush()

    def progress(self, started: float) -> Progress:
        elapsed = time.monotonic() - started
        done = self.summary.written
        rate = done / elapsed if elapsed > 0 else 0.0
        fraction = self.reader.fraction()
        eta = None
        if fraction and rate:
            total = (self.summary.rows) / fraction  # rows read so far, scaled to the whole input
            eta = max(0.0, (total - self.summary.skipped - done) / rate)
        return Progress(done, self.summary.skipped, elapsed, rate, fraction, eta)

    def serial(self, resolver: ChunkResolver, on_progress, every: float, started: float) -> None:
        last = time.monotonic()
        with _gc_frozen():
            self._serial(resolver, on_progress, every, started, last)

    def _serial(self, resolver: ChunkResolver, on_progress, every: float, started: float, last: float) -> None:
        try:
            for chunk in self.chunks(1 if self.streaming else CHUNK_ROWS):
                with _signals_deferred():  # a row is resolved and written whole, or not at all
                    self.emit(chunk, resolver(self.task(chunk)))
                if on_progress and time.monotonic() - last >= every:
                    last = time.monotonic()
                    on_progress(self.progress(started))
        finally:
            resolver.engine.close()
        if on_progress:
            on_progress(self.progress(started))

    def parallel(self, rulebook: Rulebook, rules_path: str, workers: int, on_progress, every: float,
                 started: float) -> None:
        """Chunks go to the pool in input order and come back through a FIFO of pending results, so the
        output order is the input order; at most CHUNKS_PER_WORKER chunks per worker are pending.

        A reader thread reads the input into a bounded queue while the main thread submits chunks and
        writes finished ones, so results are written as they come even when the input is a pipe that
        pauses. (With `imap`, the pool's own feeder thread would read the input: a read blocked on a
        pipe would then hang `terminate()` on Ctrl-C.)"""
        context = pool_context()
        shared = rulebook if context.get_start_method() == "fork" else None
        window = workers * CHUNKS_PER_WORKER
        pending: collections.deque = collections.deque()
        feed: queue.Queue = queue.Queue(maxsize=window)
        last = time.monotonic()

        def emit_oldest():
            nonlocal last
            chunk, result = pending.popleft()
            outcomes = result.get()  # waiting here can be interrupted
            with _signals_deferred():  # writing cannot: no row is written twice or half
                self.emit(chunk, outcomes)
            if on_progress and time.monotonic() - last >= every:
                last = time.monotonic()
                on_progress(self.progress(started))

        # the pool forks its workers before the reader thread exists (fork and threads do not mix)
        pool = context.Pool(workers, initializer=init_worker, initargs=(shared, rules_path, self.table))
        try:
            size = STREAM_CHUNK_ROWS if self.streaming else CHUNK_ROWS
            threading.Thread(target=self._read_into, args=(feed, size), daemon=True,
                             name="ecorules-batch-reader").start()
            while True:
                while pending and pending[0][1].ready():
                    emit_oldest()
                try:
                    item = feed.get(timeout=0.05 if pending else 0.5)
                except queue.Empty:
                    if self.streaming:
                        self.writer.flush()
                    continue
                if item is _END:
                    break
                if isinstance(item, BaseException):
                    raise item
                pending.append((item, pool.apply_async(work, (self.task(item),))))
                while len(pending) >= window:
                    emit_oldest()
            while pending:
                emit_oldest()
            pool.close()
        except BaseException:
            pool.terminate()
            raise
        finally:
            pool.join()
        if on_progress:
            on_progress(self.progress(started))

    def _read_into(self, feed: queue.Queue, size: int) -> None:
        try:
            for chunk in self.chunks(size):
                feed.put(chunk)
            feed.put(_END)
        except BaseException as exc:  # raised again in the main thread
            feed.put(exc)


_END = object()


@contextlib.contextmanager
def _gc_frozen():
    """During a serial run, objects that existed before it (the rulebook, the engine) are not scanned by the
    cyclic GC, which otherwise walks them at every full collection (measured: ~7% of the run). Restored
    afterwards; left alone if the caller already uses gc.freeze()."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _signals_deferred():
    """Hold SIGINT / SIGTERM while a chunk is resolved and written, then act on them as their handlers would.

    An exception raised inside a durable_rules callback (as Ctrl-C raises KeyboardInterrupt) is turned
    into an engine error by its C code, and one raised between writing a buffer and clearing it would
    write rows twice. Handlers are swapped only in the main thread and always restored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for signum in _DEFERRED:
        previous[signum] = signal.signal(signum, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


_DEFERRED = (signal.SIGINT, signal.SIGTERM)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


