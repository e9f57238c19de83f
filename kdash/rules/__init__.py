"""The clinical rules: pure functions over the plain records of :mod:`kdash.domain.records`.

Nothing here opens a database session or imports Streamlit, so the rules run the same from the pages,
the CLI, the tests and the benchmark. Every threshold comes from :class:`kdash.domain.policy.ClinicPolicy`.
"""
