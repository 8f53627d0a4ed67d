"""Message POST and conversation GET throughput beside a bare FastAPI baseline.

Serves Campfire with ``campfire serve``, as users run it (one process,
uvloop, httptools with Campfire's protocol class that bounds request
heads, no access log), and the baseline with uvicorn's own command and
the same settings but uvicorn's plain httptools protocol. Drives each with
wrk at 64 connections, and writes
the figures into BENCHMARKS.md. Requests go round the ``--conversations``
open conversations, as a live inbox spreads its messages; one more POST
figure sends every message to a single conversation. Usage:
``python bench/messages.py [--seconds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port  # noqa: E402
from report import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = os.environ.get(
    "CAMPFIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
MESSAGE = {
    "content": "Hello, I need help with my billing. " * 7,
    "authorType": "customer",
    "authorId": "customer_123",
    "metadata": {"source": "widget", "timestamp": "2024-01-15T10:30:00Z"},
}
UVICORN_FLAGS = [
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--workers",
    "1",
    "--log-level",
    "warning",
]


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited during start-up")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not respond within 30 s")


def start(command: list[str], env: dict[str, str], ready_url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_ready(ready_url, process)
    return process


def cpu_seconds(pids: list[int]) -> float:
    """Return the user plus system CPU time that these processes have used, in seconds."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def thread_cpu_seconds(pid: int) -> float:
    """Return the user plus system CPU time of the thread ``pid``, the process's first thread.

    In a uvicorn server that thread runs the event loop, and the others are
    the database's writer and reader threads.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / ticks


def server_pids(process: subprocess.Popen[bytes], url: str) -> list[int]:
    """Return the server's pid and, on PostgreSQL, the pids of its database's backends."""
    pids = [process.pid]
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                (url.rpartition("/")[2],),
            ).fetchall()
        pids += [row[0] for row in rows]
    return pids


def wrk_script(paths: list[str], headers: dict[str, str], body: dict | None) -> str:
    """Return a wrk script whose requests go round ``paths`` in turn."""
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    if body is not None:
        payload = json.dumps(body).replace("\\", "\\\\").replace('"', '\\"')
        lines += ['wrk.method = "POST"', f'wrk.body = "{payload}"']
    lines += [
        "local paths = {" + ", ".join(f'"{path}"' for path in paths) + "}",
        "local turn = 0",
        "request = function()",
        "  turn = turn % #paths + 1",
        "  return wrk.format(nil, paths[turn])",
        "end",
    ]
    return "\n".join(lines) + "\n"


def wrk(
    base: str,
    paths: list[str],
    seconds: int,
    headers: dict[str, str],
    body: dict | None,
    pids: list[int] | None = None,
) -> dict[str, float]:
    """Run wrk with 64 connections over ``paths`` and return requests/s, p50 and p99 in ms.

    With ``pids``, also return the CPU milliseconds those processes spent
    per request during the run, and those of the first one's event-loop thread.
    """
    cpu_started = cpu_seconds(pids or [])
    loop_started = thread_cpu_seconds(pids[0]) if pids else 0.0
    script = wrk_script(paths, headers, body)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
        script_path = handle.name
    output = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", "-s", script_path, base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script_path)

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        if unit == "us":
            return value / 1000
        if unit == "s":
            return value * 1000
        return value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    cpu = loop_cpu = None
    if pids and requests:
        cpu = (cpu_seconds(pids) - cpu_started) * 1000 / requests
        loop_cpu = (thread_cpu_seconds(pids[0]) - loop_started) * 1000 / requests
    return {
        "rps": rps,
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "cpu_ms": cpu,
        "loop_cpu_ms": loop_cpu,
    }


def prepare_database(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    import psycopg

    name = f"campfire_bench_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return POSTGRES_ADMIN_URL.rpartition("/")[0] + f"/{name}"


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


def measure_campfire(
    engine: str, seconds: int, port: int, conversations: int, source: Path | None = None
) -> dict[str, dict[str, float]]:
    """Measure the server of this checkout, or of the checkout at ``source`` when given."""
    workdir = Path(tempfile.mkdtemp(prefix="campfire-bench-"))
    url = prepare_database(engine, workdir)
    env = {
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": url,
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        # The limiter still runs on every request; its limits are raised so the
        # load measures storage rather than 429s.
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000000",
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000000",
        "CAMPFIRE_WEBHOOK_WORKER": "false",
    }
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    subprocess.run(
        [sys.executable, "-m", "campfire_server.cli", "migrate", "--database-url", url],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    # `campfire serve` as users run it: its protocol class, keep-alive timeout
    # and logging set-up, one process, uvloop when installed (it is here).
    serve = [sys.executable, "-m", "campfire_server.cli", "serve"]
    process = start(
        [*serve, "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        env,
        f"http://127.0.0.1:{port}/api/v2/openapi.json",
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v2"
        headers = {"Authorization": "Bearer test_sk_123456789", "Content-Type": "application/json"}
        # A mailbox without AI auto-reply, so the figures are the write path alone.
        httpx.post(
            f"{base}/mailboxes", json={"id": "bench", "name": "Bench"}, headers=headers
        ).raise_for_status()
        ids = []
        with httpx.Client(headers=headers) as client:
            for _ in range(conversations):
                # A customer message must come from the conversation's customer,
                # so every conversation belongs to the customer that MESSAGE names.
                response = client.post(
                    f"{base}/conversations",
                    json={"customerId": MESSAGE["authorId"], "mailboxId": "bench"},
                )
                ids.append(response.raise_for_status().json()["id"])
        pids = server_pids(process, url)
        root = f"http://127.0.0.1:{port}"
        post = wrk(root, message_paths(ids), seconds, headers, MESSAGE, pids)
        get = wrk(root, conversation_paths(ids), seconds, headers, None, pids)
        hot = wrk(root, message_paths(ids[:1]), seconds, headers, MESSAGE, pids)
        return {"post": post, "get": get, "hot": hot}
    finally:
        process.terminate()
        process.wait(10)
        drop_database(url)
        shutil.rmtree(workdir, ignore_errors=True)


def message_paths(ids: list[str]) -> list[str]:
    return [f"/api/v2/conversations/{conversation}/messages" for conversation in ids]


def conversation_paths(ids: list[str]) -> list[str]:
    return [f"/api/v2/conversations/{conversation}" for conversation in ids]


def measure_baseline(seconds: int, port: int, conversations: int) -> dict[str, dict[str, float]]:
    process = start(
        [sys.executable, "-m", "uvicorn", "bench.baseline_app:app", "--port", str(port)]
        + UVICORN_FLAGS,
        {"PYTHONPATH": str(ROOT)},
        f"http://127.0.0.1:{port}/api/v2/conversations/x",
    )
    try:
        root = f"http://127.0.0.1:{port}"
        headers = {"Content-Type": "application/json"}
        pids = [process.pid]
        # The same number of paths as the Campfire runs, so wrk does the same work.
        ids = [f"conv_{number}" for number in range(conversations)]
        post = wrk(root, message_paths(ids), seconds, headers, MESSAGE, pids)
        get = wrk(root, conversation_paths(ids), seconds, headers, None, pids)
        return {"post": post, "get": get}
    finally:
        process.terminate()
        process.wait(10)


ENDPOINTS = (
    ("post", "POST message", "post"),
    ("get", "GET conversation", "get"),
    ("hot", "POST message, one conversation", "post"),
)


def render(
    results: dict[str, dict[str, dict[str, float]]],
    seconds: int,
    conversations: int,
    load: tuple[float, float],
    before_label: str | None = None,
) -> str:
    base = results["baseline"]
    lines = [
        "## Messages API (`bench/messages.py`)",
        "",
        f"Machine: {machine()}; 1-minute load average {load[0]:.2f} when the run started and "
        f"{load[1]:.2f} when it ended (which counts the run's own server and wrk). One "
        "uvicorn process (uvloop, httptools): Campfire served by `campfire serve`, with "
        "its protocol class that bounds request heads, and the baseline by uvicorn's "
        "plain httptools protocol. wrk with 2 threads and 64 connections, "
        f"{seconds} s per figure, a 300-byte customer message. Requests go round "
        f"{conversations} conversations in turn; the last row sends every message to one "
        "conversation. The baseline is a bare FastAPI endpoint, served with the same "
        "settings, that validates the same body and echoes it without storing it; the "
        "one-conversation row is compared with its POST. CPU ms per request is the user "
        "and system time of the server process (and, on PostgreSQL, of its database's "
        "backends) during the run, divided by the requests; the event loop's share is the CPU "
        "time of the server's first thread alone, and the rest of the server's own is its "
        "database threads' (on PostgreSQL, mostly the writer's)."
        + (
            f' Rows marked "{before_label}" ran the server of the checkout given with '
            "`--before`, in the same run and against the same baseline."
            if before_label
            else ""
        ),
        "",
        "| server | endpoint | requests/s | ratio to baseline | p50 ms | p99 ms | non-2xx "
        "| CPU ms per request | of it event loop |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name in results:
        for endpoint, label, compared in ENDPOINTS:
            if endpoint not in results[name]:
                continue
            figure = results[name][endpoint]
            ratio = figure["rps"] / base[compared]["rps"]
            cpu = "" if figure.get("cpu_ms") is None else f"{figure['cpu_ms']:.2f}"
            loop = "" if figure.get("loop_cpu_ms") is None else f"{figure['loop_cpu_ms']:.2f}"
            lines.append(
                f"| {name} | {label} | {figure['rps']:.0f} | {ratio:.2f} | "
                f"{figure['p50']:.1f} | {figure['p99']:.1f} | {figure['errors']} | {cpu} | {loop} |"
            )
    lines += [
        "",
        "Targets for message POST: at least 0.25 of the baseline on SQLite and 0.30 on "
        "PostgreSQL, with p99 under 50 ms.",
        "",
        "At 64 connections a p99 under 50 ms needs well over 1,280 requests/s, since the "
        "mean latency is the connection count divided by the throughput.",
        "",
        *target_lines(results),
        "",
        "What makes the POST tail: the database writer thread commits messages in groups, and "
        "it is busy for most or all of the run, so a request waits for the group in progress "
        "and then for its own, and p99 follows the spread of group durations, which other work "
        'on the machine widens (DESIGN.md, "What the message tail was made of", splits a '
        "request's time into its parts). The writer now wakes the event loop once per group "
        "rather than once per message, and the lean route builds its response without "
        "Starlette's response constructor.",
        "",
        "What bounds the PostgreSQL POST: the server's Python CPU under one GIL, which the "
        "event loop and the database writer thread share (the last two columns split the "
        "server's part), and the writer's group, which runs its Python and then waits for the "
        "database three times, never both at once. A message is one statement that locks the "
        "conversation, applies the rules and stores it, and one merged statement that logs "
        "its event and updates the analytics facts, so the writer waits for the database only "
        "at its syncs and at commit. The request pipeline calls a lean route's handler "
        "itself, without FastAPI's router: with the application driven in-process (no "
        "uvicorn), callgrind counted 911k instructions per message POST on the event loop "
        "against 1,266k through the router, and about 740k in the writer thread either way. "
        "The rest of the event loop's work is uvicorn and the socket, the pipeline's steps "
        "(request id, credential, rate limits, body checks, shared headers), validation and "
        "the response. More server processes (`--workers`) would use the second core.",
    ]
    return "\n".join(lines)


TARGETS = {"sqlite": 0.25, "postgresql": 0.30}
P99_TARGET_MS = 50.0


def target_lines(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """Return a line per measured engine on whether its message POST meets the targets."""
    base = results["baseline"]["post"]["rps"]
    lines = []
    for engine, ratio_target in TARGETS.items():
        if engine not in results:
            continue
        figure = results[engine]["post"]
        ratio = figure["rps"] / base
        misses = []
        if figure["p99"] >= P99_TARGET_MS:
            misses.append(f"its p99 is {figure['p99'] - P99_TARGET_MS:.1f} ms over the target")
        if ratio < ratio_target:
            misses.append(f"its ratio of {ratio:.3f} is under the target of {ratio_target:.2f}")
        verdict = "meets both targets" if not misses else "misses: " + " and ".join(misses)
        lines.append(f"- In this run the {engine} message POST {verdict}.")
    baseline_p99 = results["baseline"]["post"]["p99"]
    if baseline_p99 >= P99_TARGET_MS:
        lines.append(
            f"- The bare baseline's own POST p99 in this run was {baseline_p99:.1f} ms, "
            f"over the {P99_TARGET_MS:.0f} ms target without storing anything."
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    parser.add_argument("--engines", default="sqlite,postgresql", help="comma-separated engines")
    parser.add_argument(
        "--conversations",
        type=int,
        default=256,
        help="number of open conversations that the requests go round",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print without updating BENCHMARKS.md"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="DIR",
        help="also measure the server of another checkout of this repository (its root "
        "directory, which contains src/), such as the parent commit, before this one on "
        "each engine",
    )
    parser.add_argument(
        "--before-label",
        default="before",
        help="the name of the --before rows in the table, such as a commit id",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("error: wrk is not installed; install it with `apt-get install wrk`", file=sys.stderr)
        return 2

    if args.before is not None and not (args.before / "src" / "campfire_server").is_dir():
        # Without this check the server would import this checkout's package
        # instead, and the run would compare this code with itself.
        parser.error(
            f"--before {args.before}: {args.before / 'src' / 'campfire_server'} does not "
            "exist; pass the root directory of a checkout of this repository"
        )
    load = os.getloadavg()[0]
    spread = args.conversations
    results = {"baseline": measure_baseline(args.seconds, free_port(), spread)}
    for engine in args.engines.split(","):
        if args.before is not None:
            # The earlier code first, then this checkout, in the same run.
            label = f"{engine}, {args.before_label}"
            port = free_port()
            results[label] = measure_campfire(engine, args.seconds, port, spread, args.before)
        results[engine] = measure_campfire(engine, args.seconds, free_port(), spread)
    before_label = args.before_label if args.before is not None else None
    markdown = render(results, args.seconds, spread, (load, os.getloadavg()[0]), before_label)
    print(markdown)
    if not args.no_write:
        write_section("messages", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
