"""Run ``campfire serve --workers N``: start the worker processes, report readiness and failures.

uvicorn 0.55's ``Multiprocess`` pings each worker every half second and
kills one that does not answer within ``timeout_worker_healthcheck``
seconds (5 by default), logging only ``Child process [pid] died`` at info
level. A worker answers from a thread that it starts only after the
spawned interpreter has imported uvicorn and read its configuration, so on
a loaded machine a starting worker misses the ping, is killed and is
replaced by another that misses it too. ``WorkerPool`` therefore pings a
starting worker only for readiness, gives it ``start_timeout`` seconds to
start serving, and logs why each worker stopped at warning or error level.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from socket import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger(__name__)

# How long one readiness ping of a starting worker waits for the reply, in seconds.
READY_PING_SECONDS = 0.2


def exit_reason(exit_code: int | None) -> str:
    """Describe how a worker process ended from its exit code, as ``multiprocessing`` reports it."""
    if exit_code is None:
        return "it is still running"
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"it was killed by {name}"
    if exit_code == STARTUP_FAILURE:
        return f"its start-up failed (exit code {exit_code}); the error is logged above"
    return f"it exited with code {exit_code}"


class WorkerPool(Multiprocess):
    """uvicorn's worker supervisor with a start-up grace period and logged failure reasons.

    ``on_ready`` is called once, when every worker first reports that it serves.
    """

    def __init__(
        self,
        config: Config,
        sockets: list[socket],
        *,
        start_timeout: float,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config, sockets)
        self.start_timeout = start_timeout
        self.on_ready = on_ready
        # The monotonic start time of each worker that has not reported ready yet, by index.
        self.starting: dict[int, float] = {}

    def init_processes(self) -> None:
        super().init_processes()
        now = time.monotonic()
        self.starting = {index: now for index in range(len(self.processes))}
        log.info(
            "starting worker processes",
            extra={"workers": len(self.processes), "start_timeout_seconds": self.start_timeout},
        )

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            problem = self._check(index, process)
            if problem is None:
                continue
            if self._replace(index, process, problem):
                return

    def _check(self, index: int, process: Process) -> str | None:
        """Return why worker ``index`` must be replaced, or None while it is healthy or starting."""
        if not process.process.is_alive():
            return "stopped"
        started = self.starting.get(index)
        if started is None:
            if process.ping(self.config.timeout_worker_healthcheck):
                return None
            return (
                f"it did not answer the health check within "
                f"{self.config.timeout_worker_healthcheck} s, so it was stopped"
            )
        if process.is_ready(timeout=READY_PING_SECONDS):
            self._mark_ready(index, process, started)
            return None
        if time.monotonic() - started < self.start_timeout:
            return None
        return (
            f"it did not start serving within {self.start_timeout:g} s, so it was stopped; "
            "raise CAMPFIRE_WORKER_START_TIMEOUT_SECONDS on a slow or loaded machine"
        )

    def _mark_ready(self, index: int, process: Process, started: float) -> None:
        del self.starting[index]
        log.info(
            "worker process ready",
            extra={"pid": process.pid, "start_seconds": round(time.monotonic() - started, 1)},
        )
        if not self.starting and self.on_ready is not None:
            on_ready, self.on_ready = self.on_ready, None
            on_ready()

    def _replace(self, index: int, process: Process, problem: str) -> bool:
        """Stop worker ``index``, log why, and start a new one. Returns True when the pool stops."""
        alive = process.process.is_alive()
        process.kill()
        process.join()
        reason = exit_reason(process.exitcode) if problem == "stopped" and not alive else problem
        if process.exitcode == STARTUP_FAILURE:
            log.error(
                "worker process failed to start, so the server stops",
                extra={"pid": process.pid, "reason": reason},
            )
            self.should_exit.set()
            return True
        if self.should_exit.is_set():
            return True
        log.warning(
            "worker process stopped; starting a new one",
            extra={"pid": process.pid, "reason": reason},
        )
        replacement = Process(self.config, self.sockets)
        replacement.start()
        self.processes[index] = replacement
        self.starting[index] = time.monotonic()
        return False
