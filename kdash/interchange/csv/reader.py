"""Reading the CSV files of an import folder into validated rows (``docs/import-format.md``).

Every field of every line is checked before anything is written; each problem is reported as
``file:line: column: what is wrong`` where ``line`` is the physical line in the file (the header is line
1; a quoted cell spanning lines counts from the line where its record starts).
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from charset_normalizer import from_bytes

from kdash.interchange.rows import FILES, FileSpec, Kind, Problem, Row, RowInvalid

#: Largest cell accepted (a free-text note); the csv module's own default limit is 128 KiB.
MAX_CELL_CHARS = 100_000


@dataclass
class Parsed:
    """Rows that passed their own checks, problems found, and MRNs of patient lines that failed."""

    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    known_mrns: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)


def read_folder(
    folder: Path,
    zone: tzinfo | None,
    progress: Callable[[str, int], None] | None = None,
    *,
    encoding: str = "",
) -> Parsed:
    """Read whichever of the known files ``folder`` holds; refuse a folder with none of them.

    Files are UTF-8 (with or without a byte order mark); ``encoding`` names the one legacy encoding
    the clinic's system writes, if any (:func:`decode`).
    """
    parsed = Parsed()
    present = [spec for spec in FILES if (folder / spec.name).is_file()]
    if not present:
        names = ", ".join(spec.name for spec in FILES)
        parsed.problems.append(Problem(str(folder), "", f"holds none of the import files ({names})"))
        return parsed
    for spec in present:
        parsed.files.append(spec.name)
        try:
            content = decode(spec.name, (folder / spec.name).read_bytes(), encoding)
        except EncodingRefused as exc:
            parsed.problems.append(exc.problem)
            continue
        read_text(spec, content, zone, parsed, progress)
    return parsed


class EncodingRefused(Exception):
    """A file's bytes are not text in an encoding the clinic accepts; ``problem`` says so in words."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def decode(name: str, raw: bytes, encoding: str = "") -> str:
    """The text of a file: UTF-8 (a byte order mark is dropped), else the clinic's legacy ``encoding``.

    A legacy encoding maps nearly every byte to some character, so decoding alone would read a file
    from another system (KOI8-R Cyrillic, say, as Windows-1252) as garbled names without a word. The
    bytes must also read plausibly as that encoding: charset-normalizer (the detector ``requests`` uses)
    measures how garbled the decoded text is; a file that reads badly is refused, never guessed at.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        utf8_problem = Problem(
            f"{name}:{line}",
            "",
            "is not UTF-8 text; save the file as CSV UTF-8"
            + (f" (or as {encoding}, the clinic's legacy encoding)" if encoding else ""),
        )
    if not encoding:
        raise EncodingRefused(utf8_problem)
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        text = None
    if text is None or not from_bytes(raw, cp_isolation=[codecs.lookup(encoding).name]):
        raise EncodingRefused(
            Problem(
                name,
                "",
                f"is neither UTF-8 text nor readable as {encoding} (the clinic's legacy encoding): its "
                "letters would come out garbled; save the file as CSV UTF-8",
            )
        )
    return text


def read_text(
    spec: FileSpec,
    content: str,
    zone: tzinfo | None,
    parsed: Parsed,
    progress: Callable[[str, int], None] | None = None,
) -> None:
    """Parse one file's text into ``parsed`` (rows and problems)."""
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        parsed.problems.append(Problem(f"{spec.name}:1", "", f"cannot be read as CSV: {exc}"))
        return
    if not header:
        parsed.problems.append(
            Problem(f"{spec.name}:1", "", "is empty; the first line must name the columns")
        )
        return
    columns = [name.strip() for name in header]
    if not _header_ok(spec, columns, parsed):
        return
    line = reader.line_num + 1
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            parsed.problems.append(Problem(f"{spec.name}:{line}", "", f"cannot be read as CSV: {exc}"))
            return
        where = f"{spec.name}:{line}"
        line = reader.line_num + 1
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        count += 1
        if progress is not None and count % 1000 == 0:
            progress(spec.name, count)
        if len(cells) != len(columns):
            parsed.problems.append(
                Problem(where, "", f"has {len(cells)} cells but the header names {len(columns)} columns")
            )
            continue
        too_long = [col for col, cell in zip(columns, cells, strict=True) if len(cell) > MAX_CELL_CHARS]
        if too_long:
            parsed.problems += [
                Problem(where, col, f"is longer than {MAX_CELL_CHARS} characters") for col in too_long
            ]
            continue
        parse_cells(spec, dict(zip(columns, cells, strict=True)), where, zone, parsed)
    if progress is not None and count >= 1000:
        progress(spec.name, count)


def parse_cells(
    spec: FileSpec, cells: dict[str, str], where: str, zone: tzinfo | None, parsed: Parsed
) -> None:
    """Validate one record's cells and add its rows (or its problems) to ``parsed``."""
    try:
        rows = spec.parse(cells, zone)
    except RowInvalid as exc:
        parsed.problems += [Problem(where, col, msg) for col, msg in exc.errors]
        if spec.kind is Kind.PATIENT:
            parsed.known_mrns.add(cells.get("mrn", "").strip())
        return
    for row in rows:
        row.where, row.source = where, spec.name
        parsed.rows.append(row)


def _header_ok(spec: FileSpec, columns: list[str], parsed: Parsed) -> bool:
    where = f"{spec.name}:1"
    if not any(c in spec.columns for c in columns):
        # No known column at all: most likely a file without its header row, whose first line is a
        # patient's record. Its values are not repeated (they may be names, MRNs, birth dates).
        parsed.problems.append(
            Problem(
                where,
                "",
                f"names none of the columns of {spec.name}; the first line must be the header row "
                f"({', '.join(spec.columns)})",
            )
        )
        return False
    ok = True
    doubled = sorted({c for c in columns if columns.count(c) > 1})
    if doubled:
        parsed.problems.append(Problem(where, "", f"column(s) named twice: {', '.join(doubled)}"))
        ok = False
    unknown = [c for c in columns if c not in spec.columns]
    if unknown:
        parsed.problems.append(
            Problem(
                where,
                "",
                f"unknown column(s): {', '.join(unknown) or '(empty name)'}; "
                f"{spec.name} has the columns {', '.join(spec.columns)}",
            )
        )
        ok = False
    missing = [c for c in spec.required if c not in columns]
    if missing:
        parsed.problems.append(Problem(where, "", f"missing required column(s): {', '.join(missing)}"))
        ok = False
    return ok
