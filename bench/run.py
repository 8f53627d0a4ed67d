"""Run every benchmark and rewrite BENCHMARKS.md, one section per script.

Each script measures its figures beside a bare baseline in the same run and
replaces its own section of BENCHMARKS.md. The AI evaluation needs the
labelled data sets: pass their folder with ``--data`` or in
CAMPFIRE_EVAL_DATA, or it is skipped with a message.

Usage: ``python bench/run.py [--quick] [--only messages,realtime,...] [--data DIR]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import write_section  # noqa: E402

BENCH = Path(__file__).resolve().parent
POSTGRES_URL = os.environ.get(
    "CAMPFIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def commands(quick: bool, data: str | None) -> dict[str, list[str] | None]:
    """Return each benchmark's command line; ``None`` marks one that cannot run here."""
    return {
        "messages": ["messages.py", "--seconds", "5" if quick else "10"],
        "realtime": [
            "realtime.py",
            *(["--subscribers", "200", "--rounds", "10", "--idle", "500"] if quick else []),
        ],
        "webhooks": ["webhooks.py", "--postgres", POSTGRES_URL],
        "analytics": ["analytics.py", *(["--conversations", "10000"] if quick else [])],
        "widget": ["widget.py", "--rounds", "3" if quick else "10"],
        "load": ["load.py", *(["--customers", "100", "--duration", "20"] if quick else [])],
        "ai": ["eval.py", data] if data else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs for a smoke check")
    parser.add_argument("--only", help="comma-separated benchmark names to run")
    parser.add_argument(
        "--data",
        default=os.environ.get("CAMPFIRE_EVAL_DATA"),
        help="folder with the labelled AI data sets (techqa/, wixqa/, mtrag/)",
    )
    args = parser.parse_args()

    plan = commands(args.quick, args.data)
    chosen = args.only.split(",") if args.only else list(plan)
    unknown = [name for name in chosen if name not in plan]
    if unknown:
        print(f"error: unknown benchmark {unknown}; choose from {sorted(plan)}", file=sys.stderr)
        return 2

    failures = []
    for name in chosen:
        command = plan[name]
        if command is None:
            print(f"skipping {name}: set --data or CAMPFIRE_EVAL_DATA to the data set folder")
            continue
        started = time.monotonic()
        print(f"running {name}: {' '.join(command)}", flush=True)
        if name == "ai":
            with tempfile.NamedTemporaryFile("r", suffix=".md") as output:
                result = subprocess.run(
                    [sys.executable, str(BENCH / command[0]), *command[1:], "--out", output.name]
                )
                if result.returncode == 0:
                    # The "ai" section carries a written analysis of the misses;
                    # fresh figures go beside it instead of over it.
                    write_section("ai-latest", Path(output.name).read_text())
        else:
            result = subprocess.run([sys.executable, str(BENCH / command[0]), *command[1:]])
        took = time.monotonic() - started
        print(f"{name}: exit {result.returncode} after {took:.0f} s", flush=True)
        if result.returncode != 0:
            failures.append(name)

    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
