"""Reading an uploaded CSV file: bytes in, a header and numbered rows out."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field


class CsvFileError(ValueError):
    """The file cannot be read as CSV at all (its rows are never looked at)."""


@dataclass
class ParsedFile:
    header: list[str]
    # (row number as a spreadsheet shows it: the header is row 1, the first record row 2;
    # a record whose quoted field spans lines still counts as one row), cells.
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    delimiter: str = ","


def _delimiter(text: str) -> str:
    """Comma or semicolon: what the header line (outside quotes) holds more of; Excel in
    many European locales saves ';'."""
    first = text.split("\n", 1)[0]
    counts = {",": 0, ";": 0}
    quoted = False
    for char in first:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


def parse_csv(data: bytes) -> ParsedFile:
    """Decode (UTF-8, a byte-order mark dropped) and split; blank lines are skipped but
    keep their number, so a problem's row is the row a spreadsheet shows."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            f"The file is not UTF-8 text (byte {exc.start + 1}); save it as 'CSV UTF-8'."
        ) from None
    if "\x00" in text:
        raise CsvFileError("The file holds binary data; upload a CSV text file.")
    if not text.strip():
        raise CsvFileError("The file is empty.")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise CsvFileError(f"Row {reader.line_num}: the CSV is malformed ({exc}).") from None
    header = [cell.strip() for cell in records[0]] if records else []
    rows = [
        (number, cells)
        for number, cells in enumerate(records[1:], start=2)
        if any(cell.strip() for cell in cells)
    ]
    return ParsedFile(header=header, rows=rows, delimiter=delimiter)
