"""covering indexes for the huddle, the roster and the planner (docs/performance.md)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:20:00

Each index lets one hot query read only the index, in the order it needs, instead of visiting a table
row per result (the benchmark clinic of 50,000 patients: docs/performance.md has the numbers):

- ``ix_assessment_patient_scores``: a patient's live scores oldest first with what the rules read
  (huddle, patient trend, roster baselines).
- ``ix_screening_item_patient_answers``: a patient's screening answers in date order (huddle, roster).
- ``ix_infusion_day``: the live bookings of a day or a date range with their chair and course (the
  huddle's booked patients, the planner's calendar).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_LIVE_SCORES = "deleted_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_assessment_patient_scores",
        "assessment",
        ["patient_id", "taken_on", "id", "instrument", "score", "item9", "deleted_at"],
        unique=False,
        sqlite_where=sa.text(_LIVE_SCORES),
        postgresql_where=sa.text(_LIVE_SCORES),
    )
    op.create_index(
        "ix_screening_item_patient_answers",
        "screening_item",
        ["patient_id", "recorded_on", "id", "item", "result", "note"],
        unique=False,
    )
    op.create_index(
        "ix_infusion_day",
        "infusion",
        ["scheduled_at", "status", "course_id", "chair"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_infusion_day", table_name="infusion")
    op.drop_index("ix_screening_item_patient_answers", table_name="screening_item")
    op.drop_index("ix_assessment_patient_scores", table_name="assessment")
