"""openpyxl, imported when a workbook is made, not when a process starts: 175 modules and 8 MB of
every web worker, most of which never writes a workbook. The exports make their parts here.

Every row of every export (Excel and CSV) is written through `append` / `csv_row`, so that a file
is safe to open (OWASP's CSV injection): text is never taken for a formula, whatever a person typed
(`=cmd|' /C calc'!A0`, `@SUM(…)`), and a control character an older row may hold (which openpyxl
refuses with IllegalCharacterError) is dropped instead of failing the whole file."""
from __future__ import annotations

import re

# What a spreadsheet takes for the start of a formula (OWASP), and what no cell of text may hold:
# the C0 controls and DEL (a tab or a line break inside text stays).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)%?")  # our own figures in CSV ("-1", "+3", "66.7%")


def clean(text: str) -> str:
    """Text without the control characters a cell cannot hold."""
    return CONTROL.sub("", text)


def _formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START) and not NUMBER.fullmatch(text)


def _cell(ws, value):
    if not isinstance(value, str):
        return value
    value = clean(value)
    if not _formula_like(value):
        return value  # openpyxl takes a str for a formula only when it starts with "="
    from openpyxl.cell import Cell

    cell = Cell(ws, row=1, column=1, value=value)  # the row and column append gives it
    cell.data_type = "s"  # text, as typed (the file imports back unchanged), not a formula
    cell.quotePrefix = True  # and Excel keeps it text when someone edits the cell
    return cell


def row(ws, values) -> list:
    """`values` as `ws.append` takes them, every text a text (either kind of worksheet)."""
    return [_cell(ws, v) for v in values]


def append(ws, values) -> None:
    ws.append(row(ws, values))


def csv_row(values) -> list:
    """`values` for csv.writer: text that a spreadsheet would evaluate gets a leading quote (a
    number we wrote as text stays as it is), control characters are dropped."""
    out = []
    for v in values:
        if isinstance(v, str):
            v = clean(v)
            v = "'" + v if _formula_like(v) else v
        out.append(v)
    return out


def workbook(**options):
    from openpyxl import Workbook

    return Workbook(**options)


def font(**options):
    from openpyxl.styles import Font

    return Font(**options)


def alignment(**options):
    from openpyxl.styles import Alignment

    return Alignment(**options)


def fill(*args, **options):
    from openpyxl.styles import PatternFill

    return PatternFill(*args, **options)


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)
