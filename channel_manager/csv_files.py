"""CSV files the product writes, safe to open in a spreadsheet: every cell goes through `csv_cell`.

Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@`
(or a tab or carriage return before one) as a formula, so a product name such as `=HYPERLINK(...)` typed by
one user would run on the computer of whoever opens the export. Such a cell is written with a single quote
in front, which spreadsheets show as text. `csv_cell_read` removes that quote again, so a file the product
wrote imports back unchanged (a cell that already started with quotes before a trigger gets one more, so
the round trip is exact).
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

from django.http import StreamingHttpResponse

FORMULA_TRIGGERS = "=+-@\t\r"
_NEUTRALISED = re.compile(r"'*[" + re.escape(FORMULA_TRIGGERS) + "]")


def csv_cell(value: Any) -> str:
    """`value` as the text of one CSV cell, with a single quote in front when a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if _NEUTRALISED.match(text) else text


def csv_cell_read(text: str) -> str:
    """The value `csv_cell` wrote: `text` without the quote it added (any other text unchanged)."""
    return text[1:] if text.startswith("'") and _NEUTRALISED.match(text, 1) else text


class _Echo:
    """A file whose write() returns the line, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_response(*, filename: str, rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """A streamed CSV download of `rows` (the header first), every cell neutralised by `csv_cell`."""
    writer = csv.writer(_Echo())
    lines = (writer.writerow([csv_cell(value) for value in row]) for row in rows)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
