"""Batch jobs of the workbench page 批量: an uploaded file resolved by `run_batch` (the code path of
`ecorules resolve`) in a background thread, with progress, results and errors to download.

Each job owns a temporary directory (input, results, errors); it is removed when the job is deleted, when it has
been finished for `keep_seconds`, or when the board is closed (the app shuts down). At most `max_running` jobs
run at once (the machine's cores are the engine's). No module-level state: one board per app.
"""
from __future__ import annotations

import datetime as dt
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Optional

from ..batch import Progress, Summary, format_progress, run_batch
from ..errors import EcorulesError
from ..io import format_of
from ..rulebook import Rulebook

SUFFIXES = (".csv", ".xlsx", ".xlsm", ".jsonl", ".ndjson")
STATE_ZH = {"running": "正在判断", "done": "已完成", "failed": "失败"}


class JobRefused(Exception):
    """The upload cannot become a job; `message` is one Chinese sentence for the page, `status` the HTTP status."""

    def __init__(self, message: str, status: int = 422):
        self.message, self.status = message, status
        super().__init__(message)


@dataclass
class BatchJob:
    id: str
    filename: str
    size: int
    directory: Path
    input: Path
    output: Path
    errors: Path
    state: str = "running"
    progress: Optional[Progress] = None
    summary: Optional[Summary] = None
    error: Optional[str] = None
    finished: Optional[float] = None       # time.monotonic() when it ended

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def state_zh(self) -> str:
        return STATE_ZH[self.state]

    @property
    def percent(self) -> int:
        if self.done:
            return 100
        fraction = self.progress.fraction if self.progress else None
        return int((fraction or 0) * 100)

    @property
    def progress_text(self) -> str:
        if self.done and self.summary:
            return f"已完成：{self.summary.written} 行，其中无效 {self.summary.invalid} 行。"
        if self.state == "failed":
            return "任务失败，未生成结果。"
        return format_progress(self.progress) if self.progress else "正在读取文件……"

    @property
    def invalid(self) -> int:
        return self.summary.invalid if self.summary else 0

    @property
    def size_text(self) -> str:
        return f"{self.size / 1024:,.1f} KB" if self.size < 1024 * 1024 else f"{self.size / 1024 / 1024:,.1f} MB"

    @property
    def summary_lines(self) -> list[str]:
        if not self.summary:
            return []
        # the server's temporary paths are nobody's business: name the downloads instead
        return [line.replace(str(self.errors), "“下载无效行”").replace(str(self.output), "“下载结果”")
                for line in self.summary.lines()]

    def download_name(self, which: str) -> str:
        stem = Path(self.filename).stem or "matters"
        return f"{stem}.{'结果' if which == 'results' else '无效行'}{self.output.suffix}"


class JobBoard:
    """The jobs of one app. Thread-safe."""

    def __init__(self, *, max_bytes: int, max_running: int = 2, keep_seconds: float = 1800):
        self.max_bytes = max_bytes
        self.max_running = max_running
        self.keep_seconds = keep_seconds
        self._jobs: dict[str, BatchJob] = {}
        self._lock = threading.Lock()

    def jobs(self) -> list[BatchJob]:
        self.sweep()
        with self._lock:
            return list(self._jobs.values())

    def get(self, job_id: str) -> Optional[BatchJob]:
        self.sweep()
        with self._lock:
            return self._jobs.get(job_id)

    def start(self, filename: str, stream: BinaryIO, rulebook: Rulebook, as_of: Optional[dt.date] = None,
              wait: float = 1.5) -> BatchJob:
        """Copy the upload into a fresh temporary directory and resolve it in a thread. Raises JobRefused for a
        file that is not a table of matters (its reader fails at once: the first `wait` seconds are awaited),
        too large, of an unknown kind, or when too many jobs are running."""
        self.sweep()
        suffix = Path(filename or "").suffix.lower()
        if suffix not in SUFFIXES:
            raise JobRefused(f"不支持的文件类型“{suffix or '（无扩展名）'}”：请上传 .csv、.xlsx 或 .jsonl 文件。", 415)
        with self._lock:
            if sum(job.running for job in self._jobs.values()) >= self.max_running:
                raise JobRefused(f"已有 {self.max_running} 个批量任务在运行，请稍后再试。", 429)
        directory = Path(tempfile.mkdtemp(prefix="ecorules-batch-"))
        job_id = secrets.token_hex(8)
        source = directory / f"input{suffix}"
        job = BatchJob(job_id, Path(filename).name, 0, directory, source, directory / f"results{suffix}",
                       directory / f"errors{suffix}")
        try:
            job.size = self._copy(stream, source)
            if job.size == 0:
                raise JobRefused("上传的文件是空的。")
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        with self._lock:
            self._jobs[job_id] = job
        thread = threading.Thread(target=self._run, args=(job, rulebook, as_of), name=f"ecorules-batch-{job_id}",
                                  daemon=True)
        thread.start()
        thread.join(wait)
        if job.state == "failed" and not job.progress:
            self.delete(job_id)
            raise JobRefused(job.error or "无法读取上传的文件。")
        return job

    def _copy(self, stream: BinaryIO, target: Path) -> int:
        size = 0
        with open(target, "wb") as out:
            while True:
                chunk = stream.read(1024 * 1024)
                if not chunk:
                    return size
                size += len(chunk)
                if size > self.max_bytes:
                    raise JobRefused(f"文件过大：超过上限 {self.max_bytes:,} 字节；请拆分后上传，或用命令行 ecorules resolve。",
                                     413)
                out.write(chunk)

    def _run(self, job: BatchJob, rulebook: Rulebook, as_of: Optional[dt.date]) -> None:
        def on_progress(progress: Progress):
            job.progress = progress
        try:
            fmt = format_of(str(job.input), None)
            job.summary = run_batch(str(job.input), str(job.output), rules=rulebook, input_format=fmt,
                                    output_format=fmt, workers=1, as_of=as_of, errors=str(job.errors),
                                    on_progress=on_progress, progress_every=0.25)
            job.state = "done"
        except EcorulesError as exc:
            job.error = exc.format_message().replace(str(job.input), job.filename)
            job.state = "failed"
        except Exception as exc:  # noqa: BLE001 — a job must never take the service down; the page says what
            job.error = f"处理文件时出错（{type(exc).__name__}）。"
            job.state = "failed"
        finally:
            job.finished = time.monotonic()

    def delete(self, job_id: str) -> bool:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.running:
                return False
            del self._jobs[job_id]
        shutil.rmtree(job.directory, ignore_errors=True)
        return True

    def sweep(self) -> None:
        """Remove jobs finished more than keep_seconds ago, with their files."""
        now = time.monotonic()
        with self._lock:
            old = [j for j in self._jobs.values() if j.finished is not None and now - j.finished > self.keep_seconds]
            for job in old:
                del self._jobs[job.id]
        for job in old:
            shutil.rmtree(job.directory, ignore_errors=True)

    def close(self) -> None:
        """Remove every job's files (running jobs' threads are daemons; their directory goes too)."""
        with self._lock:
            jobs, self._jobs = list(self._jobs.values()), {}
        for job in jobs:
            shutil.rmtree(job.directory, ignore_errors=True)


__all__ = ["BatchJob", "JobBoard", "JobRefused", "SUFFIXES"]
