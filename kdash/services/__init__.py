"""Services: one function per user action or read.

Each opens its transaction, checks the actor's role (:func:`kdash.auth.require`), validates, applies the
rules, writes the audit event and returns plain data. Pages and the CLI call these, never the ORM.
"""

from kdash.rules.screening import screening_status
from kdash.storage import screening_summary

# Storage keeps each patient's screening summary current inside every write transaction but does not call
# the rules: the services package, which every page, command and loader that writes imports, hands it the
# rules' judgement here (docs/architecture.md, "The stored screening summary").
screening_summary.use_judge(screening_status)
