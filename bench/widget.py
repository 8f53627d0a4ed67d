"""The widget's size and its time to interactive on the demo page, in Chromium.

Starts a development server on SQLite, loads the demo page in a fresh
browser profile (cold cache) each round, and reads the ``campfire:ready``
User Timing mark that widget.js sets once the launcher works. The bare
baseline is the same demo page without the two embed snippets, on the same
origin in the same run; the browser's request interception returns it, so
the baseline has no network round trip. Writes the "Widget" section of
BENCHMARKS.md. Usage: ``python bench/widget.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port  # noqa: E402
from report import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WIDGET = ROOT / "src" / "campfire_server" / "static" / "widget.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Milliseconds since navigation start, measured inside the page.
READ_TIMINGS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const ready = performance.getEntriesByName('campfire:ready')[0];
  const script = performance.getEntriesByType('resource')
    .find(entry => entry.name.endsWith('/widget.js'));
  return {
    domContentLoaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    ready: ready ? ready.startTime : null,
    scriptFetch: script ? script.responseEnd - script.startTime : null,
    scriptBytes: script ? script.transferSize : null,
  };
}"""

# Time from a click on the launcher to the next painted frame with the panel shown.
MEASURE_OPEN = """() => new Promise(resolve => {
  const root = document.querySelector('campfire-widget').shadowRoot;
  const started = performance.now();
  root.querySelector('.launcher').click();
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const shown = !root.querySelector('.panel').hidden;
    resolve(shown ? performance.now() - started : null);
  }));
})"""


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": f"sqlite:///{directory / 'bench.db'}",
        "CAMPFIRE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "campfire_server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v2/openapi.json", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the development server did not start within 30 s")


def summarize(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return statistics.median(ordered), p90


async def measure(base: str, rounds: int) -> dict[str, list[float]]:
    demo_html = httpx.get(f"{base}/").text
    start = demo_html.index("\n    window.CampfireConfig")
    start = demo_html.rindex("<script", 0, start)
    end = demo_html.index("</body>")
    bare_html = demo_html[:start] + demo_html[end:]
    figures: dict[str, list[float]] = {
        "bare": [],
        "domContentLoaded": [],
        "ready": [],
        "scriptFetch": [],
        "open": [],
    }

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        for round_index in range(rounds + 1):
            context = await browser.new_context(viewport={"width": 1280, "height": 800})
            page = await context.new_page()

            # The baseline: the demo page's HTML without the embed snippets, same origin.
            await page.route(
                f"{base}/bare",
                lambda route: route.fulfill(status=200, content_type="text/html", body=bare_html),
            )
            await page.goto(f"{base}/bare")
            bare = await page.evaluate(READ_TIMINGS)

            await context.clear_cookies()
            page = await context.new_page()
            await page.goto(f"{base}/")
            await page.wait_for_function("performance.getEntriesByName('campfire:ready').length")
            timings = await page.evaluate(READ_TIMINGS)
            opened = await page.evaluate(MEASURE_OPEN)
            await context.close()
            if round_index == 0:
                continue  # The first round warms the server and the browser binary.
            figures["bare"].append(bare["domContentLoaded"])
            figures["domContentLoaded"].append(timings["domContentLoaded"])
            figures["ready"].append(timings["ready"])
            figures["scriptFetch"].append(timings["scriptFetch"])
            figures["open"].append(opened)
        await browser.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="page loads to measure")
    args = parser.parse_args()

    source = WIDGET.read_bytes()
    gzipped = len(gzip.compress(source, compresslevel=9))
    with tempfile.TemporaryDirectory() as directory:
        process, base = start_server(Path(directory))
        try:
            figures = asyncio.run(measure(base, args.rounds))
        finally:
            process.terminate()
            process.wait(10)

    rows = [
        ("baseline: demo page without the widget, DOMContentLoaded", figures["bare"]),
        ("demo page with the widget, DOMContentLoaded", figures["domContentLoaded"]),
        ("demo page with the widget, launcher ready (`campfire:ready`)", figures["ready"]),
        ("widget.js request to last byte (cold cache)", figures["scriptFetch"]),
        ("click on the launcher to the panel painted", figures["open"]),
    ]
    bare_median = summarize(figures["bare"])[0]
    ready_median = summarize(figures["ready"])[0]
    lines = [
        "## Widget",
        "",
        f"`python bench/widget.py --rounds {args.rounds}`: the demo page at `/` of a "
        "development server on 127.0.0.1, loaded in headless Chromium with a fresh profile "
        "(cold cache) each round. Times are milliseconds since navigation start unless the "
        "row says otherwise. The baseline page is returned by request interception, without "
        "a network round trip. The machine is shared with other work, so the p90 column "
        "is noisy.",
        "",
        f"- widget.js: {len(source):,} bytes, {gzipped:,} bytes gzipped (budget 30,720)",
        f"- time to interactive (launcher ready): {ready_median:.0f} ms median "
        f"(target under 300 ms), {ready_median / bare_median:.2f} times the bare page's "
        "DOMContentLoaded",
        "",
        "| measure | median ms | p90 ms |",
        "| --- | --- | --- |",
    ]
    for label, values in rows:
        median, p90 = summarize(values)
        lines.append(f"| {label} | {median:.1f} | {p90:.1f} |")
    lines += ["", f"Machine: {machine()}; {args.rounds} rounds after one warm-up round."]
    write_section("widget", "\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
