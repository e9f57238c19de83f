"""The export's zip of CSV files, read back for an import: checked on the server before anything is read.

A browser's file-type filter is only a hint, and a zip is a classic carrier of tricks: member names that
climb out of the folder (``../``, absolute paths, drive letters), links, encrypted members, and
"zip bombs" whose members inflate far beyond the upload. Python's standard :mod:`zipfile` reads the
archive (a well-kept reader; no hand-written parsing); this module decides what is acceptable and
extracts only that, by writing each member's bytes to a name it chose itself, never to the member's own
path. Every problem is reported in words, and nothing is extracted unless all members pass.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Collection
from pathlib import Path

from kdash.interchange.rows import FILES, ImportRefused, Problem

__all__ = ["MAX_MEMBER_BYTES", "MAX_ZIP_BYTES", "unpack_csv_zip"]

#: The largest upload accepted (the same limit as for separate CSV files).
MAX_ZIP_BYTES = 50 * 1024 * 1024
#: The largest a member may inflate to: far above the largest export of a big clinic (tens of MB),
#: far below what would fill the server's disk.
MAX_MEMBER_BYTES = 200 * 1024 * 1024

CSV_NAMES: tuple[str, ...] = tuple(spec.name for spec in FILES)


def _member_problem(info: zipfile.ZipInfo, allowed: Collection[str]) -> str | None:
    name = info.filename
    if info.is_dir():
        return "is a folder; the zip must hold only the CSV files, with no folders"
    if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or ":" in name:
        return "points outside the folder; refused"
    if "/" in name or "\\" in name:
        return "is inside a folder; put the CSV files at the top of the zip"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a link; refused"
    if info.flag_bits & 0x1:
        return "is encrypted; export again without a password"
    if not name.lower().endswith(".csv"):
        return "is not a CSV file; the zip may hold only CSV files"
    if name not in allowed:
        return f"is not one of kdash's CSV files ({', '.join(allowed)})"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"inflates to {info.file_size:,} bytes, above {MAX_MEMBER_BYTES:,}"
    return None


def unpack_csv_zip(
    data: bytes, folder: Path, *, source: str = "upload.zip", allowed: Collection[str] = CSV_NAMES
) -> list[str]:
    """Check the zip ``data`` and write its CSV members into ``folder``; returns the names written.

    Raises :class:`ImportRefused` listing every problem (too large, not a zip, a member outside the
    folder, a link, an encrypted or non-CSV member, a name twice, nothing to import); then nothing is
    written to ``folder``.
    """
    if len(data) > MAX_ZIP_BYTES:
        raise ImportRefused(
            [
                Problem(
                    source, "", f"is {len(data):,} bytes, above the {MAX_ZIP_BYTES // (1024 * 1024)} MB limit"
                )
            ]
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ImportRefused([Problem(source, "", "is not a zip file (or is damaged)")]) from None
    with archive:
        members = archive.infolist()
        problems = [
            Problem(f"{source}: {info.filename}", "", said)
            for info in members
            if (said := _member_problem(info, allowed)) is not None
        ]
        names = [m.filename for m in members]
        problems += [
            Problem(f"{source}: {name}", "", "is in the zip twice")
            for name in sorted({n for n in names if names.count(n) > 1})
        ]
        if not members:
            problems.append(Problem(source, "", "is empty: it holds no CSV file"))
        if problems:
            raise ImportRefused(problems)
        contents: dict[str, bytes] = {}
        for info in members:
            # Read with the size checked again while inflating: the header's size can lie.
            with archive.open(info) as member:
                content = member.read(MAX_MEMBER_BYTES + 1)
            if len(content) > MAX_MEMBER_BYTES:
                raise ImportRefused(
                    [Problem(f"{source}: {info.filename}", "", f"inflates above {MAX_MEMBER_BYTES:,} bytes")]
                )
            contents[info.filename] = content
    for name, content in contents.items():
        # The file name is ours (one of ``allowed``, checked above), never a path from the archive.
        (folder / Path(name).name).write_bytes(content)
    return list(contents)
