"""Browser measure: Debian's Chromium against ``streamlit run app.py``, from navigation to idle.

A fresh server is started on the clinic's database; a provider signs in; then, repeatedly, the provider
goes to another page and back to the morning huddle, and the huddle is shown for D2 (the fixed full day of
32 infusions). The time runs from the click on the sidebar link until the huddle for D2 is on screen and
the app is idle (``data-test-script-state="notRunning"``). If the page does not reopen on the day chosen
before, picking D2 in its date box is part of the timed navigation. The first navigation after the
server start is the cold number (nothing cached on the server); the median of the rest is the warm one.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.clinic import Clinic, load_meta  # noqa: E402
from benchmarks.timing import empty_row  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
#: A demo login (kdash.demo.first_run): the benchmark clinic is synthetic like the demo clinic.
USER, PASSWORD = "provider", "demo-provider-pass"
HUDDLE_LINK = "Morning huddle"
#: The page visited between two huddle navigations: a light one (its sidebar link and its heading).
OTHER_LINK, OTHER_HEADING = "Courses", "Active courses"
TIMEOUT_MS = 300_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, KDASH_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return proc, base
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def _idle(page: Any) -> None:
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)


def _day_heading(clinic: Clinic) -> str:
    return f"{clinic.day2:%A %d %B %Y}"


def _navigate(page: Any, clinic: Clinic) -> tuple[float, bool]:
    """Another page, then the huddle for D2; returns (ms from the click to idle, day kept)."""
    page.get_by_role("link", name=OTHER_LINK).first.click()
    page.get_by_role("heading", name=OTHER_HEADING).first.wait_for(timeout=TIMEOUT_MS)
    _idle(page)
    start = time.perf_counter()
    page.get_by_role("link", name=HUDDLE_LINK).first.click()
    page.get_by_role("heading", name="Morning huddle").first.wait_for(timeout=TIMEOUT_MS)
    _idle(page)
    heading = page.get_by_text(_day_heading(clinic))
    shown = page.locator('[data-testid="stDateInput"] input').first.input_value()
    kept = shown == clinic.day2.isoformat()
    if not kept:
        # The page reopened on another day: pick D2 as a user would. The date box is a segmented field
        # (year, month, day): type the digits, close the calendar and leave the field to commit.
        page.get_by_role("spinbutton", name="year, Day").click()
        page.keyboard.type(clinic.day2.strftime("%Y%m%d"))
        page.keyboard.press("Escape")
        page.get_by_role("heading", name="Morning huddle").first.click()
    heading.first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("most urgent first, then by chair time").first.wait_for(timeout=TIMEOUT_MS)
    _idle(page)
    return (time.perf_counter() - start) * 1000.0, kept


def measure(clinic: Clinic, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    row = empty_row("browser_huddle")
    proc, base = start_server(clinic.url)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            try:
                page.goto(base, timeout=TIMEOUT_MS)
                page.get_by_label("User name").fill(USER)
                page.get_by_label("Password", exact=True).fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.get_by_role("link", name=HUDDLE_LINK).first.wait_for(timeout=TIMEOUT_MS)
                _idle(page)
                times, kept = [], []
                for _ in range(runs + 1):
                    ms, day_kept = _navigate(page, clinic)
                    times.append(ms)
                    kept.append(day_kept)
            except Exception:
                page.screenshot(path=str(ROOT / "benchmarks" / "out" / "browser-failure.png"))
                raise
            finally:
                browser.close()
        row.update(
            cold_ms=round(times[0], 1),
            median_ms=round(statistics.median(times[1:]), 1),
            rss_mb=_server_hwm(proc.pid),
            day_kept=all(kept[1:]),
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    return row


def _server_hwm(pid: int) -> float | None:
    """Peak resident memory of the streamlit server process (VmHWM), in MB."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024.0, 1)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the huddle page in Chromium against streamlit run.")
    parser.add_argument("--measure", default="browser_huddle", choices=["browser_huddle"])
    parser.add_argument("--scale", required=True)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=0, help="ignored: the browser has no naive way")
    args = parser.parse_args(argv)
    print(json.dumps(measure(load_meta(args.scale, args.db), args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
