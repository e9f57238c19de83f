"""Downloads of patient data and views of patient lists: one permission, one audit event each.

Any file that carries patient data (a CSV of the roster or of one patient's scores, the huddle sheet,
the clinic's outcome rates, the audit trail, the full export) leaves kdash only through a service that
checks the ``export`` permission first (a refusal is audited by :func:`~kdash.services.guard.authorize`)
and writes one ``download`` event naming what was downloaded, in which format and for how many
patients, with the patients' ids: never names or other text from the records. Pages build the file when
it is asked for (Streamlit's deferred ``st.download_button`` data), so each event is one click.

A list of patients on a page (roster, huddle, courses, screening queue) is a view of each record on it:
:func:`record_list_view` writes one ``view_list`` event with the page, the filter and the ids shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from kdash.domain.access import Action, Actor
from kdash.services.guard import authorize
from kdash.storage.audit_chain import record
from kdash.storage.database import Database

__all__ = ["DOWNLOAD", "LIST_VIEW", "FileContent", "deliver", "record_list_view"]

#: The audit action of a download and of a list view.
DOWNLOAD = "download"
LIST_VIEW = "view_list"


@dataclass(frozen=True, slots=True)
class FileContent:
    """A file's bytes and the ids of the patients whose data it holds (none for clinic-wide figures)."""

    data: bytes
    patient_ids: tuple[int, ...] = ()


def deliver(
    db: Database,
    actor: Actor,
    *,
    what: str,
    fmt: str,
    build: Callable[[], FileContent],
    now: datetime | None = None,
) -> bytes:
    """The file ``build`` makes, for an ``actor`` allowed to export; the download is audited.

    ``what`` names the file's kind (``roster``, ``huddle_sheet``, ``patient_scores``…) and ``fmt`` its
    format (``csv``, ``pdf``): both go in the event, with the number of patients and their ids. A role
    without the ``export`` permission gets :class:`~kdash.domain.access.Forbidden` before anything is
    read, and the refusal is in the audit trail.
    """
    authorize(db, actor, Action.EXPORT, entity=what, audit_as=DOWNLOAD, now=now)
    content = build()
    ids = sorted(set(content.patient_ids))
    with db.write() as session:
        record(
            session,
            actor,
            DOWNLOAD,
            patient_id=ids[0] if len(ids) == 1 else None,
            entity=what,
            after={"format": fmt, "patients": len(ids), "patient_ids": ids, "bytes": len(content.data)},
            now=now,
        )
    return content.data


def record_list_view(
    db: Database,
    actor: Actor,
    page: str,
    filters: Mapping[str, object],
    patient_ids: Sequence[int],
    now: datetime | None = None,
) -> None:
    """Audit ``actor`` seeing a list of patients on ``page``: the filter, how many and which ids.

    ``filters`` must hold no free text from a record or a search box (a search may be a name): pages pass
    the chosen options and whether a search was given.
    """
    authorize(db, actor, Action.VIEW_CLINICAL, entity=page, audit_as=LIST_VIEW, now=now)
    ids = list(dict.fromkeys(patient_ids))
    with db.write() as session:
        record(
            session,
            actor,
            LIST_VIEW,
            entity=page,
            after={"filter": dict(filters), "patients": len(ids), "patient_ids": ids},
            now=now,
        )
