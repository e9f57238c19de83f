"""Services: one function per user action or read.

Each opens its transaction, checks the actor's role (:func:`kdash.auth.require`), validates, applies the
rules, writes the audit event and returns plain data. Pages and the CLI call these, never the ORM.
"""
