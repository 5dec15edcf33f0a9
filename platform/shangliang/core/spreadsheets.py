"""openpyxl, imported when a workbook is made, not when a process starts: 175 modules and 8 MB of
every web worker, most of which never writes a workbook. The exports make their parts here."""
from __future__ import annotations


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
