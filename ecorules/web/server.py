"""Run the service under uvicorn: logging, SIGHUP reload, N worker processes, graceful SIGTERM.

One process (`--workers 1`): the app is built here (a broken rulebook fails before the port opens) and
SIGHUP reloads it in a background thread. N processes: the rulebook is checked here first, then uvicorn's
supervisor spawns N workers that each build their own app from the options passed in the environment
(`ECORULES_SERVE_OPTIONS`; the token travels as `ECORULES_TOKEN`, never on a command line). SIGHUP to the
supervisor is forwarded to every worker, and each reloads in place exactly as a single process does — instead
of uvicorn's own SIGHUP (restart every worker), so a broken rulebook is refused and shown in each worker's
`/readyz` the same way. SIGTERM: uvicorn stops accepting, lets requests in flight finish (up to
`graceful_timeout` seconds), then exits.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional, Sequence

import uvicorn
from uvicorn.supervisors import Multiprocess

from ..errors import EcorulesError
from .app import DEFAULT_MAX_BATCH, DEFAULT_MAX_BODY, create_app
from .holder import RulebookHolder, load_checked

logger = logging.getLogger("ecorules.web")
OPTIONS_ENV = "ECORULES_SERVE_OPTIONS"
TOKEN_ENV = "ECORULES_TOKEN"
LOG_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s %(message)s"


def configure_logging(level: str = "info") -> None:
    """One stderr handler for ecorules' and uvicorn's loggers (uvicorn's own config is switched off)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for name in ("ecorules", "uvicorn"):
        log = logging.getLogger(name)
        log.handlers[:] = [handler]
        log.setLevel(level.upper())
        log.propagate = False
    logging.getLogger("uvicorn.access").disabled = True  # ecorules.web.access writes one line per request


def read_token(token_file: Optional[str] = None) -> Optional[str]:
    """The bearer token: the file's content (stripped) when given, else $ECORULES_TOKEN; None for no token."""
    if token_file:
        token = Path(token_file).read_text(encoding="utf-8").strip()
        if not token:
            raise EcorulesError(f"令牌文件 {token_file} 是空的。 The token file is empty.")
        return token
    return os.environ.get(TOKEN_ENV) or None


def install_sighup(holder: RulebookHolder) -> None:
    """SIGHUP → reload in a background thread (the signal handler itself only starts the thread)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGHUP"):
        return

    def on_hup(signum, frame):
        logger.info("收到 SIGHUP，重新加载规则库 / SIGHUP: reloading %s", holder.path)
        threading.Thread(target=holder.reload, name="ecorules-reload", daemon=True).start()
    signal.signal(signal.SIGHUP, on_hup)


def serve(rules=None, *, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, token: Optional[str] = None,
          max_body: int = DEFAULT_MAX_BODY, max_batch: int = DEFAULT_MAX_BATCH, cors: Sequence[str] = (),
          log_level: str = "info", graceful_timeout: int = 60) -> None:
    """Serve until SIGTERM / SIGINT. Raises RulebookError (before binding the port) for a broken rulebook."""
    configure_logging(log_level)
    common = dict(host=host, port=port, log_config=None, access_log=False, log_level=log_level,
                  timeout_graceful_shutdown=graceful_timeout, server_header=False)
    if workers <= 1:
        app = create_app(rules, token=token, max_body=max_body, max_batch=max_batch, cors=cors)
        install_sighup(app.state.rulebook)
        uvicorn.Server(uvicorn.Config(app, **common)).run()
        return
    load_checked(rules or RulebookHolder.default_path()).close()  # fail here, once, not in N workers
    os.environ[OPTIONS_ENV] = json.dumps({"rules": str(rules) if rules else None, "max_body": max_body,
                                          "max_batch": max_batch, "cors": list(cors), "log_level": log_level})
    if token:
        os.environ[TOKEN_ENV] = token
    config = uvicorn.Config("ecorules.web.server:worker_app", factory=True, workers=workers, **common)
    _Supervisor(config, sockets=[config.bind_socket()]).run()


def worker_app():
    """The app of one worker process (uvicorn calls this factory in each spawned worker)."""
    options = json.loads(os.environ[OPTIONS_ENV])
    configure_logging(options["log_level"])
    app = create_app(options["rules"], token=os.environ.get(TOKEN_ENV) or None, max_body=options["max_body"],
                     max_batch=options["max_batch"], cors=options["cors"], after_reload=_reload_siblings)
    install_sighup(app.state.rulebook)
    return app


def _reload_siblings(status) -> None:
    """After an admin reload in one worker, ask the supervisor to reload every worker (this one included)."""
    if hasattr(signal, "SIGHUP"):
        os.kill(os.getppid(), signal.SIGHUP)


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, except that SIGHUP is forwarded to the workers (each reloads in place)."""

    def handle_hup(self) -> None:
        logger.info("收到 SIGHUP，通知 %d 个工作进程重新加载规则库", len(self.processes))
        for process in self.processes:
            if process.pid is not None:
                try:
                    os.kill(process.pid, signal.SIGHUP)
                except ProcessLookupError:
                    pass
