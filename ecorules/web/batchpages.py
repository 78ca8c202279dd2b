"""The 批量 pages: upload a CSV / XLSX / JSONL file, watch its progress, download results and errors.

The upload is parsed by Starlette (python-multipart; the body is already bounded by the service's --max-body) and
copied into the job's own temporary directory (web/jobs.py); the job runs `run_batch` exactly as
`ecorules resolve FILE -o RESULTS --errors ERRORS` does. The job page refreshes itself once a second while the
job runs (a <meta> refresh: no script needed).
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse

from .jobs import JobBoard, JobRefused
from .pages import Pages, parse_date

MEDIA = {".csv": "text/csv; charset=utf-8", ".jsonl": "application/x-ndjson; charset=utf-8",
         ".ndjson": "application/x-ndjson; charset=utf-8",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".xlsm": "application/vnd.ms-excel.sheet.macroEnabled.12"}


def install_batch_pages(app: FastAPI, pages: Pages, board: JobBoard) -> None:
    def limit_text() -> str:
        return f"{board.max_bytes / 1024 / 1024:,.1f} MB"

    @app.get("/batch", include_in_schema=False)
    async def batch_page():
        return pages.page("batch.html", "batch", "批量", jobs=board.jobs(), limit_text=limit_text(),
                          keep_minutes=int(board.keep_seconds // 60))

    @app.post("/batch", include_in_schema=False)
    async def upload(request: Request):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except Exception:  # noqa: BLE001 — a body that is not a form upload (python-multipart's own errors)
            return pages.error("无法读取上传", "请求不是文件上传表单（multipart/form-data）；请用本页的表单上传。", 400,
                               back="/batch")
        upload_file = form.get("file")
        if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
            return pages.error("没有选择文件", "请选择一个 .csv、.xlsx 或 .jsonl 文件后再上传。", 422, back="/batch")
        try:
            as_of = parse_date(str(form.get("as_of") or ""))
            # copying the file and waiting for its header to be read block: in a thread, off the event loop
            job = await run_in_threadpool(board.start, upload_file.filename, upload_file.file, pages.holder.rulebook,
                                          as_of)
        except ValueError as exc:
            return pages.error("无法开始批量判断", str(exc), 422, back="/batch")
        except JobRefused as exc:
            return pages.error("无法开始批量判断", exc.message, exc.status, back="/batch")
        finally:
            await form.close()
        return RedirectResponse(f"/batch/{job.id}", status_code=303)

    @app.get("/batch/{job_id}", include_in_schema=False)
    async def job_page(job_id: str):
        job = board.get(job_id)
        if job is None:
            return pages.error("没有这个任务", "任务不存在，或已完成超过保留时间、文件已删除。", 404, back="/batch")
        return pages.page("job.html", "batch", f"批量任务 {job.filename}", job=job)

    @app.get("/batch/{job_id}/{which}", include_in_schema=False)
    def job_file(job_id: str, which: str):
        job = board.get(job_id)
        if job is None or which not in ("results", "errors") or not job.done:
            return pages.error("没有这个文件", "任务不存在、尚未完成，或文件已删除。", 404, back="/batch")
        path = job.output if which == "results" else job.errors
        return FileResponse(path, media_type=MEDIA[path.suffix], filename=job.download_name(which))

    @app.post("/batch/{job_id}/delete", include_in_schema=False)
    async def job_delete(job_id: str):
        board.delete(job_id)
        return RedirectResponse("/batch", status_code=303)


__all__ = ["install_batch_pages"]
