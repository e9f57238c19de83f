"""Time the demo clinic: generate and load N patients into a fresh SQLite file (default 5,000).

python benchmarks/bench_seed.py [--patients N] [--seed S]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kdash.demo.clinic import generate
from kdash.demo.load import load
from kdash.storage.database import open_database


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        t0 = time.perf_counter()
        data = generate(args.patients, args.seed, date(2026, 11, 24))
        t1 = time.perf_counter()
        load(db, data)
        t2 = time.perf_counter()
    rows = sum(data.counts().values())
    timing = f"generate={t1 - t0:.2f}s load={t2 - t1:.2f}s total={t2 - t0:.2f}s"
    print(f"patients={args.patients} rows={rows} {timing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
