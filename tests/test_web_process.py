"""The real `ecorules serve` process, called over a socket: reload on SIGHUP, graceful SIGTERM, N workers."""
from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from ecorules import Engine

from conftest import RULES
from serving import Served, free_port

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")

MATTER = {"id": "T-1", "title": "工地半夜打桩灰尘大", "district": "黄浦区", "as_of": "2025-06-01"}
BIG_BATCH = 60_000


@pytest.fixture
def served(tmp_path):
    started = []

    def start(*args, env=None):
        server = Served(tmp_path, *args, env=env)
        started.append(server)
        return server.wait_ready()
    yield start
    for server in started:
        server.kill()


def test_the_real_process_answers_reloads_and_stops_gracefully(served, tmp_path):
    rules = shutil.copytree(RULES, tmp_path / "rules")
    token_file = tmp_path / "token"
    token_file.write_text("process-token\n", encoding="utf-8")
    # a batch big enough to be still in flight when SIGTERM comes (a matter takes ~0.05 ms since issue 14)
    server = served("--rules", str(rules), "--token-file", str(token_file), "--max-batch", str(BIG_BATCH))
    client = httpx.Client(base_url=server.url, headers={"authorization": "Bearer process-token"}, timeout=60)

    with Engine.from_directory(rules) as library:
        response = client.post("/v1/resolve", json=MATTER)
        assert response.status_code == 200
        assert response.json() == library.resolve(MATTER).model_dump(mode="json")
        good = library.rulebook.hash
    assert httpx.post(server.url + "/v1/resolve", json=MATTER).status_code == 401  # the token file is in force
    assert '"path": "/v1/resolve", "status": 200' in server.log()  # the access log line

    # SIGHUP with a broken rulebook: refused, logged, visible in /readyz, the good one still answers
    (rules / "assign" / "air-dust.yaml").write_text("rules:\n  - id: broken\n    lead: nobody\n", encoding="utf-8")
    server.process.send_signal(signal.SIGHUP)
    server.wait_for_log("重新加载规则库失败")
    ready = client.get("/readyz").json()
    assert ready["last_reload"]["ok"] is False and ready["rulebook"]["hash"] == good
    assert client.post("/v1/resolve", json=MATTER).json()["rulebook"]["hash"] == good

    # SIGHUP with a mended rulebook: swapped
    shutil.copy(RULES / "assign" / "air-dust.yaml", rules / "assign" / "air-dust.yaml")
    (rules / "rulebook.yaml").write_text((rules / "rulebook.yaml").read_text(encoding="utf-8") + "# v2\n",
                                         encoding="utf-8")
    server.process.send_signal(signal.SIGHUP)
    server.wait_for_log("规则库已重新加载")
    ready = client.get("/readyz").json()
    assert ready["last_reload"]["ok"] is True and ready["rulebook"]["hash"] != good

    # SIGTERM while a batch is in flight: the batch is answered in full, then the process exits
    batch = [{**MATTER, "id": f"b{i}"} for i in range(BIG_BATCH)]
    answers = {}
    caller = threading.Thread(target=lambda: answers.update(r=client.post("/v1/resolve", json=batch)))
    caller.start()
    time.sleep(0.7)
    assert caller.is_alive(), "the batch finished before SIGTERM; make it bigger"
    started = time.monotonic()  # the batch runs in a thread: the event loop still answers meanwhile
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
    assert time.monotonic() - started < 2 and caller.is_alive()
    code = server.stop(signal.SIGTERM)
    caller.join(60)
    assert answers["r"].status_code == 200 and len(answers["r"].json()) == BIG_BATCH
    assert code in (0, -signal.SIGTERM), server.log()  # uvicorn re-raises the signal after a clean shutdown
    assert "Finished server process" in server.log() and "Traceback" not in server.log()


def test_workers_run_as_processes_and_each_reloads_on_sighup(served):
    server = served("--workers", "2", env={"ECORULES_TOKEN": "workers-token"})
    server.wait_for_log("Application startup complete", count=2)
    workers = {line.split("[")[-1].rstrip("]") for line in server.log().splitlines()
               if "Started server process" in line}
    assert len(workers) == 2
    client = httpx.Client(base_url=server.url, headers={"authorization": "Bearer workers-token"}, timeout=30)
    assert client.post("/v1/resolve", json=MATTER).json()["status"] == "resolved"
    server.process.send_signal(signal.SIGHUP)  # forwarded by the supervisor: each worker reloads in place
    server.wait_for_log("规则库已重新加载", count=2)
    assert client.post("/v1/admin/reload").json()["ok"] is True  # this worker, then every worker via SIGHUP
    server.wait_for_log("规则库已重新加载", count=5)
    assert server.log().count("Started server process") == 2  # reloads never restart a worker
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    assert server.log().count("Finished server process") == 2


def test_a_broken_rulebook_stops_serve_before_it_listens(tmp_path):
    result = subprocess.run([sys.executable, "-m", "ecorules", "serve", "--rules", str(tmp_path / "none"),
                             "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "E100" in result.stderr and "Traceback" not in result.stderr


def test_serve_help():
    result = subprocess.run([sys.executable, "-m", "ecorules", "serve", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "--max-batch" in result.stdout and "--token-file" in result.stdout


def test_an_empty_token_file_is_refused(tmp_path):
    empty = tmp_path / "token"
    empty.write_text("\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ecorules", "serve", "--token-file", str(empty),
                             "--port", str(free_port())], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "令牌文件" in result.stderr and "Traceback" not in result.stderr
