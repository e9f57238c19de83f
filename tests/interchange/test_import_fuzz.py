"""Fuzzing the CSV and FHIR importers through the command line, on SQLite and PostgreSQL.

Each example takes the example clinic (already imported) and breaks one thing: a cell or a FHIR value
replaced by hostile text (NUL bytes, look-alike letters, terminal escapes, formulas, very long text,
numbers far out of range), a cell added or dropped, or raw bytes. Whatever the input, the command either
imports (exit 0) or refuses with exit 2, every line of its message located (``file:line: column: …`` or
the Bundle's name), no traceback and no database exception text, and the database exactly as before.

Bounded and seeded (``derandomize``) so that CI runs the same examples in a few seconds per backend.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdash.cli.main import main
from kdash.services.interchange import export_fhir, import_path
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from tests.interchange_support import EXAMPLE, snapshot

HOSTILE = [
    "\x00",
    "KD-10\x0001",
    "KD-1ОО1",  # Cyrillic O twice
    "ＫＤ-１００１",  # full-width
    "\x1b[2J\x1b[31mred",
    '=HYPERLINK("http://x")',
    "<script>alert(1)</script>",
    "'; DROP TABLE patient; --",
    "https://example.org/x",
    "9" * 40,
    "-1",
    "1e309",
    "NaN",
    "2026-02-30T09:00",
    "2026-11-30T09:00\x00",
    "\u202eevil",
    "\ud800",
    "a" * 5000,
    "",
    " ",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))

_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def clinic_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database holding the example clinic, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    else:
        url = str(request.getfixturevalue("pg_url"))
    engine = make_engine(url)
    upgrade(engine)
    import_path(Database(engine=engine), EXAMPLE)
    engine.dispose()
    return url


def _run(url: str, path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["import", str(path), "--db", url])
    return code, capsys.readouterr().err


def _assert_refused_cleanly(code: int, err: str, names: tuple[str, ...], db: Database, before: Any) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    assert not re.search(r"Error\b|\[SQL|psycopg|sqlite3|DETAIL", err), err
    if code == 2:
        lines = [line for line in err.splitlines() if line and not line.startswith("error: ")]
        located = re.compile("^(" + "|".join(re.escape(n) for n in names) + r")(:\d+)?: ")
        assert all(located.match(line) or line.startswith("... and ") for line in lines), err
        assert snapshot(db) == before


def _csv_cells(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@st.composite
def csv_damage(draw: st.DrawFn) -> tuple[str, int, int, str, str]:
    """(file, line index, column index, how, value)."""
    files = sorted(p.name for p in EXAMPLE.glob("*.csv"))
    name = draw(st.sampled_from(files))
    rows = _csv_cells(EXAMPLE / name)
    line = draw(st.integers(0, len(rows) - 1))
    column = draw(st.integers(0, len(rows[0]) - 1))
    how = draw(st.sampled_from(["replace", "replace", "replace", "append", "drop", "bytes"]))
    return name, line, column, how, draw(hostile_text)


@pytest.mark.timeout(300)
@given(damage=csv_damage())
@_SETTINGS
def test_fuzzed_csv_import_is_imported_or_refused_in_located_words(
    damage: tuple[str, int, int, str, str],
    clinic_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, line, column, how, value = damage
    folder = tmp_path_factory.mktemp("csv")
    for file in EXAMPLE.glob("*.csv"):
        shutil.copy(file, folder)
    rows = _csv_cells(folder / name)
    if how == "replace":
        rows[line][column] = value
    elif how == "append":
        rows[line].append(value)
    elif how == "drop":
        del rows[line][column]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    data = buf.getvalue().encode("utf-8", errors="surrogatepass")
    if how == "bytes":
        data = data[: len(data) // 2] + b"\xff\xfe\x00\x1b[2J" + data[len(data) // 2 :]
    (folder / name).write_bytes(data)
    db = Database(engine=make_engine(clinic_url))
    before = snapshot(db)
    code, err = _run(clinic_url, folder, capsys)
    _assert_refused_cleanly(
        code, err, (*tuple(p.name for p in EXAMPLE.glob("*.csv")), str(folder)), db, before
    )
    db.engine.dispose()


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


@pytest.fixture
def bundle(clinic_url: str, tmp_path: Path) -> dict[str, Any]:
    out = tmp_path / "export.json"
    export_fhir(Database(clinic_url), out)
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    # A handful of entries keep each example quick; the damage lands anywhere in them.
    data["entry"] = data["entry"][:12]
    return data


fhir_value = st.one_of(
    hostile_text,
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
)


@pytest.mark.timeout(300)
@given(pick=st.integers(min_value=0), value=fhir_value)
@_SETTINGS
def test_fuzzed_fhir_import_is_imported_or_refused_in_located_words(
    pick: int,
    value: Any,
    bundle: dict[str, Any],
    clinic_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(json.dumps(bundle))
    paths = [p for p in _paths(data) if p]
    path = paths[pick % len(paths)]
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    out = tmp_path_factory.mktemp("fhir") / "bundle.json"
    out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    db = Database(engine=make_engine(clinic_url))
    before = snapshot(db)
    code, err = _run(clinic_url, out, capsys)
    _assert_refused_cleanly(code, err, ("bundle.json",), db, before)
    db.engine.dispose()
