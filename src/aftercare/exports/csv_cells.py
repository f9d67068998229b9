"""Cells of CSV files people open in a spreadsheet.

    writer.writerow([safe_cell(v) for v in values])

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (OWASP "CSV injection"): a customer named `=HYPERLINK(...)` would
run in the shop owner's spreadsheet. Such cells get a leading apostrophe, which spreadsheets
show as text. Numbers we write ourselves (amounts, counts) are not customer text and are
passed as numbers, so "-12.50" stays a number."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # lets Excel read the file as UTF-8 (names in Korean, Japanese, …)


def safe_cell(value: object) -> str | int | Decimal:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | Decimal):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text
