"""CSV import (SPEC Part 2, "CSV import and export"): a file of one kind is checked whole,
through the same services as the API inside a transaction that is rolled back, and written
only when clean, in one transaction, through those services again.

- `parse.py`: bytes -> header and rows (UTF-8 with or without BOM, comma or semicolon,
  quoted fields with newlines).
- `kinds.py`: one spec per kind (its columns are the API's field names, references by name,
  code or id inside the organization, users by e-mail) and the service it calls.
- `services.py`: `csv_import_check` / `csv_import_apply`, and the import jobs of the browser.
- `export.py`: an organization's data as files in this import format (the round trip).
"""
