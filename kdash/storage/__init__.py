"""Storage: read queries and repositories over the ORM model (no rules, no UI)."""
