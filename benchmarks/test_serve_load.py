"""Load test of `ecorules serve`: 16 concurrent clients for 30 s against the real server process.

    python -m pytest benchmarks/test_serve_load.py -s        (ECORULES_LOAD_SECONDS=10 for a quicker look)

The server runs as a subprocess (`ecorules serve --workers 1`, logging at info to a file, as in production);
16 httpx.AsyncClient tasks each post one matter per request (a hotline ticket at a time), cycling through the
fixture matters (13 of 214 invalid on purpose: they are 200 responses too). In the same run the library's
`engine.resolve` is timed on the same matters in this process, one thread, so the ratio served / library says
what HTTP, JSON and the event loop cost. RSS of the server is read from /proc before (after a warm-up) and after
the load; so is the CPU time the server and the load client spend per request (the load client shares
the machine's cores, so on a small machine it limits the wall-clock rate). A second phase posts arrays of 50
matters, where HTTP's cost per matter is small. Results go to benchmarks/last-serve-run.json; the README quotes them. Nothing fails on a time: the
test asserts zero errors, every answer's id, and RSS flat (growth under 25 MB).

It lives under benchmarks/ (outside `testpaths`), so the normal test run does not spend 30 s on it.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time

import httpx
import pytest

from conftest import ROOT

CLIENTS = 16
BATCH = 50  # the second phase: arrays of this many matters per request, for a third of the time
SECONDS = float(os.environ.get("ECORULES_LOAD_SECONDS", "30"))
LIBRARY_SECONDS = min(10.0, SECONDS)
REPORT = ROOT / "benchmarks" / "last-serve-run.json"
AS_OF = "2025-06-01"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc/PID/stat)."""
    fields = open(f"/proc/{pid}/stat", encoding="ascii").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status", encoding="ascii"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def matters() -> list[dict]:
    lines = (ROOT / "fixtures" / "matters.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [{**row, "as_of": row.get("as_of") or AS_OF} for row in rows]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = open(tmp_path_factory.mktemp("serve") / "serve.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "ecorules", "serve", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline, "server did not start"
        try:
            if httpx.get(url + "/healthz").status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield url, process.pid
    process.send_signal(signal.SIGTERM)
    process.wait(60)
    log.close()


async def _load(url: str, matters: list[dict], seconds: float, per_request: int = 1, pid: int = 0,
                rss: list | None = None):
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(10**9))
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def one_client():
            while time.perf_counter() < deadline:
                i = next(counter)
                if per_request == 1:
                    body = {**matters[i % len(matters)], "id": f"load-{i}"}
                    ids = body["id"]
                else:
                    body = [{**matters[(i * per_request + k) % len(matters)], "id": f"load-{i}-{k}"}
                            for k in range(per_request)]
                    ids = [m["id"] for m in body]
                started = time.perf_counter()
                try:
                    response = await client.post("/v1/resolve", json=body)
                    answer = response.json() if response.status_code == 200 else None
                    got = (answer["id"] if per_request == 1 else [r["id"] for r in answer]) if answer else None
                    if got != ids:
                        errors.append(f"{response.status_code} {response.text[:200]}")
                except httpx.HTTPError as exc:
                    errors.append(repr(exc))
                latencies.append(time.perf_counter() - started)
        async def sample_rss():  # the server's RSS every 5 s while the load runs
            while pid and rss is not None and time.perf_counter() < deadline:
                rss.append(round(_rss_mb(pid), 1))
                await asyncio.sleep(5)
        started = time.perf_counter()
        await asyncio.gather(sample_rss(), *(one_client() for _ in range(CLIENTS)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def _library_rate(engine, matters: list[dict], seconds: float) -> tuple[float, float]:
    """(matters per second of wall time, CPU seconds per matter) of `engine.resolve` in this thread."""
    done, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        for i, matter in enumerate(matters):
            engine.resolve({**matter, "id": f"lib-{done + i}"})
        done += len(matters)
    return done / (time.perf_counter() - started), (time.process_time() - cpu) / done


def test_sixteen_clients_for_thirty_seconds(server, engine, matters):
    url, pid = server
    asyncio.run(_load(url, matters, 2.0))  # warm-up: connections, lazy imports, allocator
    rss_before = _rss_mb(pid)  # "after_single" is read after the one-matter phase, "after" after both
    server_cpu, client_cpu = _cpu_seconds(pid), time.process_time()
    samples: list[float] = []
    latencies, errors, elapsed = asyncio.run(_load(url, matters, SECONDS, pid=pid, rss=samples))
    server_cpu, client_cpu = _cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
    rss_single = _rss_mb(pid)
    batch_latencies, batch_errors, batch_elapsed = asyncio.run(_load(url, matters, SECONDS / 3, BATCH, pid, samples))
    rss_after = _rss_mb(pid)
    library, library_cpu = _library_rate(engine, matters, LIBRARY_SECONDS)
    batch_served = len(batch_latencies) * BATCH / batch_elapsed

    quantiles = statistics.quantiles(latencies, n=100)
    served = len(latencies) / elapsed
    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared), "
                   f"{platform.python_implementation()} {platform.python_version()}",
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
        "server": "ecorules serve --workers 1 (uvicorn, h11, asyncio), logging at info to a file",
        "clients": CLIENTS, "seconds": round(elapsed, 1), "matters_per_request": 1,
        "requests": len(latencies), "errors": len(errors),
        "latency_ms": {"p50": round(quantiles[49] * 1000, 2), "p99": round(quantiles[98] * 1000, 2),
                       "max": round(max(latencies) * 1000, 2)},
        "requests_per_second": round(served, 1),
        "cpu_ms_per_request": {"server": round(server_cpu / len(latencies) * 1000, 2),
                               "load_client": round(client_cpu / len(latencies) * 1000, 2),
                               "library_per_matter": round(library_cpu * 1000, 2)},
        "library_matters_per_second": round(library, 1),
        # the same ratio in CPU instead of wall time: what the server itself spends per one-matter request
        # against the library's per matter (the wall ratio also pays for the load client on the same cores)
        "ratio_cpu_library_to_server": round(library_cpu / (server_cpu / len(latencies)), 2),
        "ratio_served_to_library": round(served / library, 2),
        "batch": {"matters_per_request": BATCH, "seconds": round(batch_elapsed, 1),
                  "requests": len(batch_latencies), "errors": len(batch_errors),
                  "latency_ms_p50": round(statistics.median(batch_latencies) * 1000, 1),
                  "matters_per_second": round(batch_served, 1),
                  "ratio_served_to_library": round(batch_served / library, 2)},
        "rss_mb": {"before": round(rss_before, 1), "after_single": round(rss_single, 1),
                   "after": round(rss_after, 1), "growth": round(rss_after - rss_before, 1),
                   "every_5s": samples},
    }
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n" + json.dumps(report, indent=2, ensure_ascii=False))
    assert not errors and not batch_errors, (errors + batch_errors)[:5]
    assert rss_after - rss_before < 25, report["rss_mb"]
