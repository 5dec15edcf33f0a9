"""Write .xlsx files the way Excel and WPS do: text in a shared-string table (openpyxl itself writes
inline strings, which would hide the cost of reading that table), and a stated sheet dimension.
Rows are streamed into the zip, so a large file is cheap to make."""
from __future__ import annotations

import zipfile
from xml.sax.saxutils import escape

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006"
ML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML = '<?xml version="1.0" encoding="UTF-8"?>'
PARTS = {
    "[Content_Types].xml": (
        f'{XML}<Types xmlns="{PKG}/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{ML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ML}.worksheet+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ML}.sharedStrings+xml"/></Types>'),
    "_rels/.rels": (
        f'{XML}<Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'{XML}<workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="名册" sheetId="1" r:id="rId1"/>'
        f'</sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'{XML}<Relationships xmlns="{PKG}/relationships">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}


def _col(i: int) -> str:
    name = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        name = chr(65 + r) + name
    return name


def write_xlsx(path, rows, n_rows: int, n_cols: int) -> None:
    """`rows`: an iterable of lists (str, int or float or None); `n_rows` and `n_cols` for the dimension."""
    strings: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in PARTS.items():
            zf.writestr(name, text)
        with zf.open("xl/worksheets/sheet1.xml", "w") as out:
            out.write((f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
                       f'<dimension ref="A1:{_col(n_cols - 1)}{n_rows}"/><sheetData>').encode())
            for r, row in enumerate(rows, start=1):
                cells = []
                for c, value in enumerate(row):
                    ref = f"{_col(c)}{r}"
                    if value is None or value == "":
                        continue
                    if isinstance(value, (int, float)):
                        cells.append(f'<c r="{ref}"><v>{value}</v></c>')
                    else:
                        index = strings.setdefault(str(value), len(strings))
                        cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
                out.write(f'<row r="{r}">{"".join(cells)}</row>'.encode())
            out.write(b"</sheetData></worksheet>")
        with zf.open("xl/sharedStrings.xml", "w") as out:
            out.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="{len(strings)}" '
                      f'uniqueCount="{len(strings)}">'.encode())
            for text in strings:
                out.write(f"<si><t>{escape(text)}</t></si>".encode())
            out.write(b"</sst>")
