"""Page measures: one Streamlit AppTest run of a page, cold and with a warm cache, in a fresh process.

The first run in the process is cold: nothing cached, the page's own imports (Plotly, pandas) not yet
loaded, the database connection not yet open — what the first user after a server start waits for.
Later runs use a new AppTest each (a new session, as a second user or a reload would be) over the
process-wide ``st.cache_data``: the warm number.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.clinic import Clinic, load_meta  # noqa: E402
from benchmarks.timing import empty_row, vmhwm_mb  # noqa: E402

PAGES_DIR = ROOT / "pages"
#: What each page measure opens, and the session state it starts with (the huddle on D2).
PAGE_FILES = {"page_huddle": "huddle.py", "page_roster": "roster.py"}


def _state(measure: str, clinic: Clinic) -> dict[str, Any]:
    if measure == "page_huddle":
        return {"huddle_day": clinic.day2}
    return {}


def run_page(file: str, state: dict[str, Any]) -> tuple[float, Any]:
    """One run of ``pages/<file>`` as a signed-in provider; returns (ms, the finished AppTest)."""
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    from kdash.domain.access import Actor

    set_log_level("error")  # bare-mode warnings, one per cached call, would drown the progress lines
    from kdash.domain.vocab import Role

    at = AppTest.from_file(str(PAGES_DIR / file), default_timeout=300)
    at.session_state["kdash_actor"] = Actor("provider", Role.PROVIDER, "Dr A. Demo")
    at.session_state["kdash_last_activity"] = time.time()
    for key, value in state.items():
        at.session_state[key] = value
    start = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - start) * 1000.0
    if at.exception:
        raise RuntimeError(f"{file} raised: {at.exception[0].message}")
    return elapsed, at


_INFUSIONS = re.compile(r"· ([\d,]+) infusions ·")


def _rows(measure: str, at: Any) -> int | None:
    """What the page showed: the huddle's infusion count, the roster's table length."""
    if measure == "page_huddle":
        # The huddle's count line: "**Monday 07 December 2026** · 16 infusions · 10 ready · …".
        for element in at.markdown:
            found = _INFUSIONS.search(str(element.value))
            if found:
                return int(found.group(1).replace(",", ""))
        return 0
    frames = [el for el in at.dataframe]
    return len(frames[0].value) if frames else None


def measure(name: str, clinic: Clinic, runs: int) -> dict[str, Any]:
    file = PAGE_FILES[name]
    row = empty_row(name)
    if not (PAGES_DIR / file).exists():
        row["missing"] = f"pages/{file} is not in the code base"
        return row
    os.environ["KDASH_DATABASE_URL"] = clinic.url
    state = _state(name, clinic)
    cold, at = run_page(file, state)
    warm = [run_page(file, state)[0] for _ in range(runs)]
    row.update(
        median_ms=round(statistics.median(warm), 2),
        cold_ms=round(cold, 2),
        rss_mb=None if vmhwm_mb() is None else round(vmhwm_mb() or 0.0, 1),
        rows=_rows(name, at),
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time one page through AppTest in this process.")
    parser.add_argument("--measure", required=True, choices=sorted(PAGE_FILES))
    parser.add_argument("--scale", required=True)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=0, help="ignored: pages have no naive way")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.measure, load_meta(args.scale, args.db), args.runs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
