"""Stop the worker processes of ``campfire serve --workers N`` when their parent process dies.

uvicorn's parent process binds the port and starts N worker processes that
inherit the listening socket. A parent killed with SIGKILL cannot stop them,
so without this they keep serving as orphans and hold the port. On Linux
each worker requests SIGTERM on its parent's death (``PR_SET_PDEATHSIG``),
and on every platform a thread that polls ``getppid`` sends the same signal. SIGTERM
starts uvicorn's graceful shutdown, and a worker still running
``EXIT_GRACE_SECONDS`` later exits at once.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)

# Set by `campfire serve` to its own process id when it starts several
# workers; the workers inherit it. Internal, so not a CAMPFIRE_ setting.
SUPERVISOR_PID_VARIABLE = "_CAMPFIRE_SUPERVISOR_PID"
# How often the fallback thread compares the parent process id, in seconds.
POLL_SECONDS = 1.0
# Time a worker gets for its graceful shutdown after its parent died, in seconds.
EXIT_GRACE_SECONDS = 10.0

# From <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def mark_supervisor() -> None:
    """Record this process as the parent whose death stops the workers it starts."""
    os.environ[SUPERVISOR_PID_VARIABLE] = str(os.getpid())


def exit_with_supervisor() -> None:
    """In a worker started by ``mark_supervisor``'s process, stop when that process dies.

    Does nothing in a process started any other way, such as ``campfire
    serve`` with one worker, which keeps running when the shell that
    started it exits.
    """
    value = os.environ.get(SUPERVISOR_PID_VARIABLE)
    if not value or not value.isdigit():
        return
    supervisor = int(value)
    if supervisor == os.getpid():
        return
    _request_parent_death_signal()
    threading.Thread(
        target=_watch_parent, args=(supervisor,), name="campfire-parent-watch", daemon=True
    ).start()


def _request_parent_death_signal() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning(
                "prctl(PR_SET_PDEATHSIG) failed; the parent process watch still applies",
                extra={"errno": ctypes.get_errno()},
            )
    except (OSError, AttributeError) as error:
        log.warning(
            "prctl is unavailable; the parent process watch still applies",
            extra={"error": str(error)},
        )


def _watch_parent(supervisor: int) -> None:
    # The parent may have died before the death signal was requested; the
    # first comparison catches that too.
    while os.getppid() == supervisor:
        time.sleep(POLL_SECONDS)
    log.warning(
        "server parent process exited; stopping this worker",
        extra={"parent_pid": supervisor, "worker_pid": os.getpid()},
    )
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(EXIT_GRACE_SECONDS)
    log.error(
        "worker still running after its graceful shutdown time; exiting now",
        extra={"worker_pid": os.getpid(), "grace_seconds": EXIT_GRACE_SECONDS},
    )
    os._exit(1)
