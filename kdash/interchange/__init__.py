"""Data interchange: CSV and FHIR R4 import and export, and the printable huddle sheet.

Importers turn each file into :class:`kdash.interchange.rows.Row` objects (validating every field),
check them together against the database, and write them through :mod:`kdash.interchange.apply` in one
transaction. Exporters read the database into the same rows and write them back out, so an export
imports into an empty database unchanged.
"""
