"""Rewrite one section of BENCHMARKS.md, leaving the others as they are."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

HEADER = """# Benchmarks

Every figure comes from a script under `bench/` and is shown beside a bare
baseline measured in the same run on the same machine, so ratios carry over
between machines better than absolute numbers. `make bench` reruns them all.
"""


def machine() -> str:
    cpus = os.cpu_count()
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    processor = model or platform.processor() or "unknown"
    return f"{cpus} CPUs ({processor}), Python {platform.python_version()}"


def write_section(name: str, markdown: str) -> None:
    """Replace the block between the ``name`` markers, or append it."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text)
