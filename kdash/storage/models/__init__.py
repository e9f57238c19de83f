"""The kdash data model (SQLAlchemy 2 typed ORM), one module per aggregate.

The schema itself refuses what can never be true (see :mod:`kdash.storage.models.base`). Importing this
package registers every table on ``Base.metadata`` (Alembic's ``env.py`` and ``create_all`` read it), so
``from kdash.storage.models import X`` is the way in for every caller.
"""

from kdash.storage.models.audit import Amendment, AuditEvent
from kdash.storage.models.base import ACTIVE_PATIENT_SQL, NAMING, Base
from kdash.storage.models.courses import INFUSION_SESSION_FIELDS, Course, Infusion, live_infusion_clause
from kdash.storage.models.patients import Patient, PatientVersion, active_patient_clause
from kdash.storage.models.policy import Closure, Setting
from kdash.storage.models.scores import Assessment, SuicideReview
from kdash.storage.models.screening import ScreeningDecisionRow, ScreeningItem, ScreeningSummary
from kdash.storage.models.users import LoginFailure, User, UserSession

__all__ = [
    "ACTIVE_PATIENT_SQL",
    "INFUSION_SESSION_FIELDS",
    "NAMING",
    "Amendment",
    "Assessment",
    "AuditEvent",
    "Base",
    "Closure",
    "Course",
    "Infusion",
    "LoginFailure",
    "Patient",
    "PatientVersion",
    "ScreeningDecisionRow",
    "ScreeningItem",
    "ScreeningSummary",
    "Setting",
    "SuicideReview",
    "User",
    "UserSession",
    "active_patient_clause",
    "live_infusion_clause",
]
