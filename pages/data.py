"""Import / export: CSV files and FHIR R4 Bundles in, the same out."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from kdash import ui
from kdash.domain.access import Action
from kdash.interchange.csv.archive import MAX_ZIP_BYTES, unpack_csv_zip
from kdash.interchange.rows import FILES, ImportRefused
from kdash.services.interchange import export_csv, export_fhir, import_path

actor = ui.guard(Action.EXPORT)

#: Uploads larger than this are refused before they are read (the browser's type filter is only a hint).
MAX_UPLOAD_BYTES = MAX_ZIP_BYTES
CSV_NAMES = [spec.name for spec in FILES]

st.title("Import / export")
st.caption(
    "CSV files in kdash's format (see docs/import-format.md), the zip of them this page exports, or a "
    "FHIR R4 transaction Bundle. "
    "An import is all or nothing: a file with any bad row writes nothing and lists every problem."
)


def _check_uploads(files: list) -> str | None:  # type: ignore[type-arg]
    """Server-side checks of the uploaded names and sizes; None when they are acceptable."""
    names = [f.name for f in files]
    if len(names) != len(set(names)):
        return "The same file name was uploaded twice. Upload each file once."
    single = [n for n in names if n.lower().endswith((".json", ".zip"))]
    if single and len(names) > 1:
        return "Upload one FHIR Bundle (.json), one zip of CSV files, or CSV files: one kind at a time."
    unknown = [n for n in names if not n.lower().endswith((".json", ".zip")) and n not in CSV_NAMES]
    if unknown:
        return f"Unknown file name(s): {', '.join(unknown)}. CSV files must be named {', '.join(CSV_NAMES)}."
    too_big = [f.name for f in files if f.size > MAX_UPLOAD_BYTES]
    if too_big:
        return f"File(s) larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: {', '.join(too_big)}."
    return None


def _show_problems(exc: ImportRefused) -> None:
    st.error(f"{len(exc.problems)} problem(s) found; nothing was written. Fix them and try again.")
    st.dataframe(
        pd.DataFrame(
            [{"where": p.where or "", "column": p.field, "what is wrong": p.message} for p in exc.problems]
        ),
        hide_index=True,
        width="stretch",
    )


def _run_import(files: list, *, dry_run: bool) -> None:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        status = st.status("Checking the files…" if dry_run else "Importing…", expanded=False)
        if files[0].name.lower().endswith(".zip"):
            try:
                unpack_csv_zip(files[0].getvalue(), folder, source=Path(files[0].name).name)
            except ImportRefused as exc:
                status.update(label="Refused: nothing was written", state="error")
                _show_problems(exc)
                return
            target = folder
        else:
            for f in files:
                (folder / Path(f.name).name).write_bytes(f.getvalue())
            target = folder / files[0].name if files[0].name.lower().endswith(".json") else folder

        def progress(label: str, done: int) -> None:
            status.update(label=f"{label}: {done:,} rows")

        try:
            summary = import_path(ui.get_db(), target, actor=actor, dry_run=dry_run, progress=progress)
        except ImportRefused as exc:
            status.update(label="Refused: nothing was written", state="error")
            _show_problems(exc)
            return
        except PermissionError as exc:
            status.update(label="Not allowed", state="error")
            st.error(str(exc))
            return
    status.update(label="Checked: ready to import" if dry_run else "Imported", state="complete")
    if not dry_run:
        ui.clear_caches()
    changed = any(c.created or c.updated for c in summary.counts.values())
    if not changed:
        # Honest when every row matched what is stored: nothing was (or would be) written.
        st.info(
            "Nothing changed: every record in the files is already stored exactly so."
            if summary.counts
            else "Nothing changed: the files hold no records.",
            icon=":material/check_circle:",
        )
    else:
        st.success("These records would be written:" if dry_run else "These records were written:")
    for line in summary.lines():
        st.write(line)


if actor.can(Action.IMPORT):
    st.subheader("Import")
    uploads = st.file_uploader(
        "CSV files, the export's zip of them, or one FHIR Bundle",
        type=["csv", "zip", "json"],
        accept_multiple_files=True,
        key="import_files",
        help=f"CSV file names: {', '.join(CSV_NAMES)}",
    )
    if not uploads:
        st.info("Choose the files to import. Check them first: nothing is written by a check.")
    else:
        problem = _check_uploads(uploads)
        if problem:
            st.error(problem)
        else:
            check_col, import_col = st.columns(2)
            if check_col.button("Check files", key="import_check", icon=":material/fact_check:"):
                _run_import(uploads, dry_run=True)
            if import_col.button("Import", key="import_run", type="primary", icon=":material/upload:"):
                _run_import(uploads, dry_run=False)

st.subheader("Export")
fmt = st.radio(
    "Format",
    ["CSV files (zip)", "FHIR R4 Bundle (JSON)"],
    key="export_format",
    horizontal=True,
    help="CSV is what the import reads (formula cells neutralised); FHIR uses LOINC codes where they exist.",
)
if st.button("Prepare export", key="export_prepare", icon=":material/download:"):
    with tempfile.TemporaryDirectory() as tmp, st.spinner("Exporting…"):
        if fmt.startswith("CSV"):
            counts = export_csv(ui.get_db(), Path(tmp), actor=actor)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in sorted(p.name for p in Path(tmp).glob("*.csv")):
                    archive.write(Path(tmp) / name, arcname=name)
            st.session_state["export_payload"] = (
                "kdash-export.zip",
                buffer.getvalue(),
                "application/zip",
                counts,
            )
        else:
            out = Path(tmp) / "kdash-bundle.json"
            counts = export_fhir(ui.get_db(), out, actor=actor)
            st.session_state["export_payload"] = (
                "kdash-bundle.json",
                out.read_bytes(),
                "application/json",
                counts,
            )
payload = st.session_state.get("export_payload")
if payload:
    name, data, mime, counts = payload
    st.write(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    st.download_button(f"Download {name}", data=data, file_name=name, mime=mime, key="export_download")
