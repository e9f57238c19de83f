"""Who may do what: the actions, the roles' permissions and the check every service makes.

Roles follow the clinic's division of work (provider: clinical decisions; nurse: vitals, infusions,
assessments and screening items; scheduler: bookings and the planner, no clinical edits; admin: users,
settings and audit; read-only). The check is made in the services, not only by hiding buttons, so a
page bug or a direct call cannot get around it; a refused action is logged in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kdash.domain.vocab import Role


class Action(StrEnum):
    VIEW_CLINICAL = "view_clinical"
    #: PHQ-9 item 9 answers, suicide-risk details (C-SSRS, reviews, the flag's words) and adverse events;
    #: without it these are withheld by every read service (kdash.services.minimum_necessary).
    VIEW_SENSITIVE = "view_sensitive"
    EDIT_PATIENT = "edit_patient"
    RECORD_SCREENING_ITEM = "record_screening_item"
    DECIDE_SCREENING = "decide_screening"
    RECORD_ASSESSMENT = "record_assessment"
    REVIEW_SUICIDE_RISK = "review_suicide_risk"
    RECORD_INFUSION = "record_infusion"
    BOOK_INFUSION = "book_infusion"
    CANCEL_INFUSION = "cancel_infusion"
    RECORD_TRIAL_OUTCOME = "record_trial_outcome"
    START_COURSE = "start_course"
    PLAN = "plan"
    IMPORT = "import"
    EXPORT = "export"
    MANAGE_USERS = "manage_users"
    EDIT_SETTINGS = "edit_settings"
    VIEW_AUDIT = "view_audit"
    DELETE_RECORD = "delete_record"


_READ = {Action.VIEW_CLINICAL, Action.VIEW_SENSITIVE}
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.PROVIDER: frozenset(
        _READ
        | {
            Action.EDIT_PATIENT,
            Action.RECORD_SCREENING_ITEM,
            Action.DECIDE_SCREENING,
            Action.RECORD_ASSESSMENT,
            Action.REVIEW_SUICIDE_RISK,
            Action.RECORD_INFUSION,
            Action.BOOK_INFUSION,
            Action.CANCEL_INFUSION,
            Action.RECORD_TRIAL_OUTCOME,
            Action.START_COURSE,
            Action.PLAN,
            Action.IMPORT,
            Action.EXPORT,
            Action.DELETE_RECORD,
        }
    ),
    Role.NURSE: frozenset(
        _READ
        | {
            Action.RECORD_SCREENING_ITEM,
            Action.RECORD_ASSESSMENT,
            Action.RECORD_INFUSION,
            Action.BOOK_INFUSION,
            Action.CANCEL_INFUSION,
        }
    ),
    # Minimum necessary: bookings, chairs, escorts and screening state, not the clinical details behind
    # a suicide-risk flag or adverse events (docs/security.md, "Minimum necessary").
    Role.SCHEDULER: frozenset(
        {Action.VIEW_CLINICAL, Action.BOOK_INFUSION, Action.CANCEL_INFUSION, Action.PLAN}
    ),
    Role.ADMIN: frozenset(
        _READ | {Action.MANAGE_USERS, Action.EDIT_SETTINGS, Action.VIEW_AUDIT, Action.IMPORT, Action.EXPORT}
    ),
    Role.READ_ONLY: frozenset(_READ),
}

ROLE_LABELS: dict[Role, str] = {
    Role.PROVIDER: "Provider",
    Role.NURSE: "Nurse",
    Role.SCHEDULER: "Scheduler",
    Role.ADMIN: "Administrator",
    Role.READ_ONLY: "Read-only",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in person a service acts for."""

    username: str
    role: Role
    display_name: str = ""

    def can(self, action: Action) -> bool:
        return action in PERMISSIONS[self.role]


#: The actor of command-line work run by whoever has shell access to the server (imports, seeding).
SYSTEM = Actor("system", Role.ADMIN, "Command line")


class Forbidden(PermissionError):
    """The actor's role does not allow the action; the message says which role would."""


def allowed_roles(action: Action) -> list[Role]:
    return [role for role, actions in PERMISSIONS.items() if action in actions]


def require(actor: Actor, action: Action) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may perform ``action``."""
    if action in PERMISSIONS[actor.role]:
        return
    who = ", ".join(ROLE_LABELS[r].lower() for r in allowed_roles(action) if r is not actor.role)
    raise Forbidden(
        f"A {ROLE_LABELS[actor.role].lower()} may not {action.value.replace('_', ' ')}; "
        f"ask a user with one of these roles: {who}."
    )
