"""The zip of CSV files an import accepts: only kdash's CSV files at the top, nothing that escapes."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kdash.interchange.csv import archive
from kdash.interchange.csv.archive import unpack_csv_zip
from kdash.interchange.rows import ImportRefused


def make_zip(members: dict[str, bytes], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, content in members.items():
            out.writestr(name, content)
        if link is not None:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            out.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def said(exc: pytest.ExceptionInfo[ImportRefused]) -> list[str]:
    return [f"{p.where} {p.message}" for p in exc.value.problems]


def test_the_csv_files_are_written_by_their_own_names(tmp_path: Path) -> None:
    data = make_zip({"patients.csv": b"mrn\n", "courses.csv": b"mrn\n"})
    assert sorted(unpack_csv_zip(data, tmp_path)) == ["courses.csv", "patients.csv"]
    assert (tmp_path / "patients.csv").read_bytes() == b"mrn\n"


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("../patients.csv", "points outside the folder"),
        ("/etc/patients.csv", "points outside the folder"),
        ("C:patients.csv", "points outside the folder"),
        ("sub/patients.csv", "inside a folder"),
        ("notes.txt", "is not a CSV file"),
        ("other.csv", "is not one of kdash's CSV files"),
    ],
)
def test_a_member_that_is_not_one_of_the_csv_files_refuses_the_whole_zip(
    tmp_path: Path, name: str, words: str
) -> None:
    data = make_zip({"patients.csv": b"mrn\n", name: b"x"})
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(data, tmp_path)
    assert any(words in line for line in said(exc))
    assert list(tmp_path.iterdir()) == []  # nothing extracted, not even the good member


def test_a_link_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(make_zip({}, link="patients.csv"), tmp_path)
    assert any("is a link" in line for line in said(exc))


def test_not_a_zip_empty_and_too_large_are_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(b"mrn,first_name\n", tmp_path)
    assert "is not a zip file" in said(exc)[0]
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(make_zip({}), tmp_path)
    assert "holds no CSV file" in said(exc)[0]
    data = make_zip({"patients.csv": b"x" * 100})
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", len(data) - 1)
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(data, tmp_path)
    assert "above the" in said(exc)[0]
    monkeypatch.setattr(archive, "MAX_ZIP_BYTES", len(data))
    assert unpack_csv_zip(data, tmp_path) == ["patients.csv"]


def test_a_member_that_inflates_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(ImportRefused) as exc:
        unpack_csv_zip(make_zip({"patients.csv": b"0" * 1001}), tmp_path)
    assert "inflates" in said(exc)[0]
    assert unpack_csv_zip(make_zip({"patients.csv": b"0" * 1000}), tmp_path) == ["patients.csv"]


@settings(max_examples=60, deadline=None)
@given(name=st.text(min_size=1, max_size=40))
def test_any_member_name_is_written_inside_the_folder_or_refused(name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        try:
            data = make_zip({name: b"mrn\n"})
        except (ValueError, UnicodeEncodeError):
            return  # zipfile itself refuses such a name
        try:
            written = unpack_csv_zip(data, folder)
        except ImportRefused:
            written = []
        assert all(p.parent == folder for p in Path(tmp).rglob("*") if p.is_file())
        assert set(written) <= set(archive.CSV_NAMES)
