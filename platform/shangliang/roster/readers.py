"""Reading roster files: CSV (UTF-8 or GBK) and Excel (.xlsx), streamed so that memory stays flat,
and their header row mapped to the roster's fields however people wrote it."""
from __future__ import annotations

import codecs
import csv
import os
import struct
import tempfile
from contextlib import contextmanager
from functools import lru_cache

from ..core.errors import Refused
from .operations import as_text

MAX_ROWS = 100_000
MAX_COLUMNS = 40
HEADER_ROWS = 5  # a title row or two above the header is common in Chinese spreadsheets

# Column headers as people write them → field. The first of each is what the template and the export use.
HEADERS = {
    "import_key": ("编号", "人员编号", "id"),  # not 序号: a row count, renumbered in every file
    "kind": ("类别", "类型", "人员类别", "身份", "kind"),
    "name": ("姓名", "名称", "name"),
    "phone": ("电话", "手机", "手机号", "手机号码", "联系电话", "联系方式", "phone"),
    "sector": ("界别", "所在界别", "sector"),
    "specialties": ("专长", "特长", "专业特长", "职业特长", "specialties"),
    "level": ("级别", "委员级别", "level"),
    "community": ("社区", "所在社区", "联系社区", "挂钩社区", "community"),
    "grid": ("网格", "所在网格", "grid"),
    "organisation": ("单位或部门", "单位", "部门", "工作单位", "所在单位", "organisation", "organization"),
    "title": ("职务", "title"),
    "note": ("备注", "note"),
    # Only when the file has this column: an older file without it leaves everyone's login alone.
    "username": ("登录账号", "账号", "用户名", "username", "login"),
}


class FileProblem(Exception):
    """The file as a whole cannot be imported (not a table, no header, too big): the import fails
    with this message and is not retried."""


def file_format(filename: str, head: bytes) -> str:
    """'xlsx' or 'csv', by content first: the name is only a hint."""
    name = (filename or "").lower()
    if not head:
        raise Refused("文件是空的", "file", "validation_error")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Refused("请把 .xls 文件另存为 .xlsx 或 CSV 后再导入", "file", "validation_error")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if name.endswith((".csv", ".txt")) and b"\x00" not in head:
        return "csv"
    raise Refused("只能导入 CSV 或 Excel（.xlsx）文件", "file", "validation_error")


# openpyxl (175 modules, 8 MB of every web worker) is imported when an Excel file is read, inside
# the functions below: a web worker that never reads one does not carry it.
SHEET_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"  # ECMA-376, as openpyxl has it


def iterparse(source, events):
    from openpyxl.xml.functions import iterparse as parse  # defusedxml's when installed, as openpyxl chooses

    return parse(source, events=events)


def _text(node) -> str:
    from openpyxl.cell.text import Text

    return Text.from_tree(node).content


def _column_index(letters: str) -> int:
    """'A' is 1, 'Z' 26, 'AA' 27, as Excel numbers columns."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class SpilledStrings:
    """Excel's shared-string table in temporary files instead of a list. Excel and WPS keep every
    distinct text of a workbook there (a 20,000-row roster holds ~100,000 of them), and openpyxl
    would load it whole even in read-only mode."""

    STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
    RECORD = struct.Struct("<QI")  # offset and length of each string in the data file

    def __init__(self, xml_source, directory: str):
        self._data = tempfile.TemporaryFile(dir=directory)
        self._index = tempfile.TemporaryFile(dir=directory)
        offset, root = 0, None
        for event, node in iterparse(xml_source, events=("start", "end")):
            if root is None:
                root = node
            elif event == "end" and node.tag == self.STRING_TAG:
                raw = _text(node).replace("x005F_", "").encode("utf-8")
                self._data.write(raw)
                self._index.write(self.RECORD.pack(offset, len(raw)))
                offset += len(raw)
                root.clear()  # parsed strings would otherwise stay attached to the tree
        self._data.flush()
        self._index.flush()

    def __getitem__(self, i: int) -> str:
        offset, size = self.RECORD.unpack(os.pread(self._index.fileno(), self.RECORD.size, self.RECORD.size * i))
        return os.pread(self._data.fileno(), size, offset).decode("utf-8")

    def close(self) -> None:
        self._data.close()
        self._index.close()


@lru_cache(maxsize=1)
def _streaming_reader():
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.xml.constants import SHARED_STRINGS

    class StreamingReader(ExcelReader):
        """openpyxl's reader for the workbook's structure, with the shared strings spilled to disk."""

        def __init__(self, path: str, directory: str):
            super().__init__(path, read_only=True, data_only=True)
            self._directory = directory
            self.shared_strings = []

        def read_strings(self):
            part = self.package.find(SHARED_STRINGS)
            if part is not None:
                with self.archive.open(part.PartName[1:]) as src:
                    self.shared_strings = SpilledStrings(src, self._directory)

    return StreamingReader


_MAIN = f"{{{SHEET_MAIN_NS}}}"
_ROW, _CELL, _VALUE, _INLINE, _SHEET_DATA = (_MAIN + t for t in ("row", "c", "v", "is", "sheetData"))


def _cell_value(cell, strings):
    kind, raw = cell.get("t", "n"), cell.findtext(_VALUE)
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        return _text(inline) if inline is not None else None
    if raw is None or kind == "e":
        return None
    if kind == "s":
        return strings[int(raw)]
    if kind == "b":
        return raw == "1"
    if kind == "n":
        number = float(raw)
        return int(number) if number.is_integer() else number
    return raw  # str: a formula's text result


def sheet_rows(src, strings):
    """The worksheet's rows as lists of values, one at a time. openpyxl's read-only parser keeps
    each parsed row attached to the XML tree, so its memory grows with the sheet; here each row is
    dropped once read. Missing rows come out empty, so row numbers stay as the spreadsheet shows."""
    sheet_data, expected = None, 1
    for event, node in iterparse(src, events=("start", "end")):
        if event == "start":
            if node.tag == _SHEET_DATA:
                sheet_data = node
            continue
        if node.tag != _ROW:
            continue
        number = int(node.get("r") or expected)
        for _ in range(expected, number):
            yield []
        values: list = []
        for cell in node.iter(_CELL):
            ref = cell.get("r")
            column = _column_index(ref.rstrip("0123456789")) - 1 if ref else len(values)
            if column < MAX_COLUMNS:
                values.extend([None] * (column - len(values)))
                values.append(_cell_value(cell, strings))
        yield values
        expected = number + 1
        if sheet_data is not None:
            sheet_data.clear()



@contextmanager
def xlsx_rows(path: str, directory: str):
    """(the row count the sheet states, its rows); scratch files go in `directory`."""
    try:
        reader = _streaming_reader()(path, directory)
        reader.read()
        ws = reader.wb.worksheets[0]
    except Exception:
        raise FileProblem("无法读取这个 Excel 文件，请确认它是 .xlsx 格式") from None
    try:
        with reader.archive.open(ws._worksheet_path) as src:
            # The stated dimension is only an estimate for the progress bar: every row there is is read.
            yield ws.max_row, sheet_rows(src, reader.shared_strings)
    finally:
        reader.wb.close()
        if isinstance(reader.shared_strings, SpilledStrings):
            reader.shared_strings.close()


def csv_encoding(path: str) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes as such, else GB18030, the superset
    of the GBK that Chinese Excel writes. Checked in chunks: nothing large in memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as fh:
        try:
            for chunk in iter(lambda: fh.read(64 * 1024), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8-sig"


@contextmanager
def csv_rows(path: str):
    """(the number of rows, the rows), in the file's encoding and with its delimiter."""
    encoding = csv_encoding(path)
    with open(path, encoding=encoding, newline="") as fh:
        first = fh.readline()
        delimiter = "\t" if "\t" in first and "," not in first else ","
        fh.seek(0)
        total = sum(1 for _ in csv.reader(fh, delimiter=delimiter))
        fh.seek(0)
        yield total, csv.reader(fh, delimiter=delimiter)


def _normal(header) -> str:
    text = as_text(header).lower()
    for cut in ("(", "（"):
        text = text.split(cut)[0]
    return "".join(text.split()).strip("*＊:：")


HEADER_FIELDS = {_normal(alias): field for field, aliases in HEADERS.items() for alias in aliases}


def header_columns(row) -> dict[int, str]:
    """column index → field, for the header row; unknown columns are ignored."""
    out: dict[int, str] = {}
    for i, value in enumerate(row[:MAX_COLUMNS]):
        field = HEADER_FIELDS.get(_normal(value))
        if field and field not in out.values():
            out[i] = field
    return out


def records(rows):
    """(row number, {field: value}) for each data row after the header, numbered as the
    spreadsheet numbers them."""
    number, columns = 0, {}
    for number, row in enumerate(rows, start=1):
        columns = header_columns(row)
        if "name" in columns.values() and "kind" in columns.values():
            break
        if number >= HEADER_ROWS:
            raise FileProblem("找不到表头：前几行中须有“类别”和“姓名”两列")
    else:
        raise FileProblem("找不到表头：前几行中须有“类别”和“姓名”两列")
    yield number  # the header's row: data starts after it
    for number, row in enumerate(rows, start=number + 1):
        if number > MAX_ROWS + HEADER_ROWS:
            raise FileProblem("一次最多导入 10 万行")
        # Every known column, even where a short row has no cell: the import sees which columns the file has.
        yield number, {field: row[i] if i < len(row) else None for i, field in columns.items()}


def table_rows(path: str, directory: str):
    """xlsx_rows or csv_rows, by the extension the stored file was given."""
    return xlsx_rows(path, directory) if path.endswith(".xlsx") else csv_rows(path)
