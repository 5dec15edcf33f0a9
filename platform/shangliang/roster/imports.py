"""Roster files in and out: CSV (UTF-8 or GBK) and Excel, streamed so that memory stays flat.

An import is a stored file and a `RosterImport` row; a job reads the file row by row, checks
each row like the form does, and upserts people by their import key (the file's 编号 column,
or a hash of kind, name and phone), committing its progress every BATCH rows. Importing the
same file again finds every person unchanged.
"""
from __future__ import annotations

import codecs
import csv
import io
import os
import shutil
import sqlite3
import struct
import tempfile
import uuid
from contextlib import contextmanager
from itertools import islice

from openpyxl import Workbook
from openpyxl.cell.text import Text
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import column_index_from_string
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse
from sqlalchemy import select, update

from ..accounts.models import Membership, User
from ..accounts.operations import normalise_username
from ..core.errors import Refused
from ..audit.operations import record
from ..core import jobs
from ..core.db import db, utcnow
from ..core.storage import current_storage, tenant_key
from ..tenants.models import Tenant
from .models import Person, RosterImport
from .operations import KIND_LABELS, KIND_ORDER, LEVEL_LABELS, Invalid, as_text, check_person, person_key, places

BATCH = 500  # rows between two progress commits
MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 40
MAX_REFUSED = 1000  # rows listed in the report; beyond, only counted
HEADER_ROWS = 5  # a title row or two above the header is common in Chinese spreadsheets
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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
EXPORT_HEADERS = [names[0] for names in HEADERS.values()] + ["状态"]
NO_LOGIN = "本街道没有这个登录账号：“登录账号”列须填写本街道成员的用户名"
LOGIN_TAKEN = "该登录账号已关联名册中的另一人"
SAME_LOGIN = "与文件中前面的一行关联了同一个登录账号"
STATUS_LABELS = {"queued": "排队中", "running": "正在导入", "done": "已完成", "failed": "失败"}


class FileProblem(Exception):
    """The file as a whole cannot be imported (not a table, no header, too big): the import fails
    with this message and is not retried."""


def percent(row: RosterImport) -> int:
    if row.status == "done":
        return 100
    return min(99, int(100 * row.done_rows / row.total_rows)) if row.total_rows else 0


def find_import(import_id) -> RosterImport | None:
    return db.scalar(select(RosterImport).where(RosterImport.id == import_id))


def recent_imports(limit: int = 10) -> list[RosterImport]:
    return list(db.scalars(select(RosterImport).order_by(RosterImport.created_at.desc()).limit(limit)))


# ---------------------------------------------------------------- starting

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


def start_import(tenant: Tenant, actor_id: int | None, filename: str, stream) -> RosterImport:
    """Store the uploaded file under the tenant's imports area and queue its import. The caller
    commits, which sends the job."""
    head = stream.read(8)
    fmt = file_format(filename, head)
    stream.seek(0, os.SEEK_END)
    if stream.tell() > MAX_BYTES:
        raise Refused("文件不能超过 20 MB", "file", "validation_error")
    stream.seek(0)
    key = tenant_key(tenant.id, "imports", fmt)
    current_storage().put_file(key, stream, XLSX_TYPE if fmt == "xlsx" else "text/csv")
    row = RosterImport(tenant_id=tenant.id, status="queued", file_key=key, filename=(filename or "")[:200],
                       created_by=actor_id, created_at=utcnow(), refused=[])
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "roster.import.request", str(row.id), {"filename": row.filename})
    from .tasks import import_roster

    jobs.enqueue(import_roster, str(row.id), tenant_id=tenant.id)
    return row


# ---------------------------------------------------------------- reading files

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
                raw = Text.from_tree(node).content.replace("x005F_", "").encode("utf-8")
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


class _StreamingReader(ExcelReader):
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


_MAIN = f"{{{SHEET_MAIN_NS}}}"
_ROW, _CELL, _VALUE, _INLINE, _SHEET_DATA = (_MAIN + t for t in ("row", "c", "v", "is", "sheetData"))


def _cell_value(cell, strings):
    kind, raw = cell.get("t", "n"), cell.findtext(_VALUE)
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        return Text.from_tree(inline).content if inline is not None else None
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
            column = column_index_from_string(ref.rstrip("0123456789")) - 1 if ref else len(values)
            if column < MAX_COLUMNS:
                values.extend([None] * (column - len(values)))
                values.append(_cell_value(cell, strings))
        yield values
        expected = number + 1
        if sheet_data is not None:
            sheet_data.clear()


@contextmanager
def _xlsx_rows(path: str, directory: str):
    try:
        reader = _StreamingReader(path, directory)
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
def _csv_rows(path: str):
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


# ---------------------------------------------------------------- the job

def run_import(tenant_id: int, import_id: uuid.UUID) -> None:
    """Import one stored file. Safe to run again: a finished import is left alone, and one
    interrupted half-way starts over, finding the rows it had done unchanged."""
    row = find_import(import_id)
    if row is None or row.status in ("done", "failed"):
        return
    key, actor_id = row.file_key, row.created_by
    _save(import_id, status="running", done_rows=0, total_rows=0, created_count=0, updated_count=0,
          unchanged_count=0, refused=[], error=None)
    directory = tempfile.mkdtemp(prefix="shangliang-import-")
    try:
        path = os.path.join(directory, "upload." + key.rsplit(".", 1)[-1])  # openpyxl goes by the extension
        with current_storage().open(key) as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst, 1024 * 1024)
        opened = _xlsx_rows(path, directory) if key.endswith(".xlsx") else _csv_rows(path)
        with opened as (total, rows):
            with SeenKeys(directory) as seen:
                counts = _import(tenant_id, import_id, records(rows), total, seen)
    except (FileProblem, csv.Error) as exc:
        db.rollback()
        message = str(exc) if isinstance(exc, FileProblem) else "CSV 文件格式有误"
        _save(import_id, status="failed", error=message, finished_at=utcnow())
        record(tenant_id, actor_id, "roster.import.failed", str(import_id), {"error": message})
        return
    except Exception as exc:  # the database or storage let us down: fail visibly, and let the job retry
        db.rollback()
        _save(import_id, status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow())
        raise
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    _save(import_id, status="done", finished_at=utcnow(), commit=False)  # the job runner commits it
    record(tenant_id, actor_id, "roster.import.done", str(import_id), counts)


def _save(import_id, commit: bool = True, **values) -> None:
    db.execute(update(RosterImport).where(RosterImport.id == import_id).values(**values))
    if commit:
        db.commit()


def _import(tenant_id: int, import_id, rows, total: int | None, seen: SeenKeys) -> dict:
    street_places = places(db.get(Tenant, tenant_id))
    header_row = next(rows)
    total = max(0, (total or 0) - header_row)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0}
    refused: list[dict] = []
    done = 0

    def refuse(number, problems):
        """One refused row, with each of its problems (field, message, the value as written)."""
        counts["refused"] += 1
        for field, message, value in problems:
            if len(refused) < MAX_REFUSED:
                refused.append({"row": number, "field": field, "message": message, "value": as_text(value)[:40]})

    while batch := list(islice(rows, BATCH)):
        logins, holders = _logins(batch)
        checked = []  # rows that passed their checks: (row, key, fields, whether the key is the file's ID)
        for number, values in batch:
            if all(as_text(v) == "" for v in values.values()):
                continue  # blank rows are not people
            fields, errors = {}, {}
            try:
                fields = check_person(values, street_places)
            except Invalid as exc:
                errors = dict(exc.errors)
            if "username" in values:  # an empty cell unlinks: the file says this person has no login
                username = normalise_username(as_text(values["username"]))
                if username and username not in logins:
                    errors["username"] = NO_LOGIN
                fields["user_id"] = logins.get(username)
            if errors:
                refuse(number, [(f, m, values.get(f)) for f, m in errors.items()])
                continue
            explicit = as_text(values.get("import_key"))
            key = explicit or person_key(fields["kind"], fields["name"], fields["phone"])
            user_id = fields.get("user_id")
            if len(key) > 64:
                refuse(number, [("import_key", "编号最多 64 个字符", key)])
            elif user_id in holders and holders[user_id] != key:
                refuse(number, [("username", LOGIN_TAKEN, values["username"])])
            else:
                checked.append((number, key, fields, bool(explicit)))
        # Keys of people and of logins (u:<user id>) met so far: each may appear once in a file.
        login_of = {key: f"u:{fields['user_id']}" for _, key, fields, _ in checked if fields.get("user_id")}
        earlier = seen.rows_of([key for _, key, _, _ in checked] + list(login_of.values()))
        fresh = []
        for number, key, fields, explicit in checked:
            login = login_of.get(key)
            if key in earlier:  # the same person twice in one file: the second is refused
                refuse(number, [("import_key" if explicit else "name", "与文件中前面的一行重复", str(earlier[key]))])
            elif login in earlier:
                refuse(number, [("username", SAME_LOGIN, str(earlier[login]))])
            else:
                earlier[key] = number
                if login:
                    earlier[login] = number
                fresh.append((key, fields))
        seen.add(earlier.items())
        _upsert(tenant_id, fresh, counts)
        done += len(batch)
        _save(import_id, done_rows=done, total_rows=max(total, done), refused=list(refused),
              created_count=counts["created"], updated_count=counts["updated"],
              unchanged_count=counts["unchanged"])
        db.expunge_all()  # the batch's people are written: let them go
    listed = len({r["row"] for r in refused})
    if counts["refused"] > listed:  # the report says how many more there were
        refused.append({"row": None, "field": None, "message": "另有被拒绝的行未列出",
                        "value": str(counts["refused"] - listed)})
    _save(import_id, total_rows=done, refused=refused, commit=False)
    return counts


def _logins(batch) -> tuple[dict[str, int], dict[int, str | None]]:
    """For the usernames a batch names: username → id of each that is a login of this street
    (its memberships are the tenant's own rows), and user id → the import key of whoever on the
    roster holds that login now. Three queries a batch, however many rows name a login."""
    names = {normalise_username(as_text(values.get("username"))) for _, values in batch} - {""}
    if not names:
        return {}, {}
    users = dict(db.execute(select(User.username, User.id).where(User.username.in_(names))).all())
    members = set(db.scalars(select(Membership.user_id).where(Membership.user_id.in_(users.values()))))
    logins = {name: user_id for name, user_id in users.items() if user_id in members}
    holders = dict(db.execute(select(Person.user_id, Person.import_key).where(
        Person.user_id.in_(logins.values()))).all()) if logins else {}
    return logins, holders


class SeenKeys:
    """The keys of the rows imported so far, with their row numbers, in a scratch SQLite file next
    to the upload: a file of 100,000 rows is checked for repeated people without holding them all."""

    def __init__(self, directory: str):
        self.db = sqlite3.connect(os.path.join(directory, "seen.sqlite"))
        self.db.execute("PRAGMA cache_size = -512")  # KiB: a small, fixed page cache
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER)")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.db.close()

    def rows_of(self, keys: list[str]) -> dict[str, int]:
        keys = list(dict.fromkeys(keys))
        marks = ",".join("?" * len(keys))
        return dict(self.db.execute(f"SELECT key, row FROM seen WHERE key IN ({marks})", keys)) if keys else {}

    def add(self, pairs) -> None:
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", pairs)


def _upsert(tenant_id: int, checked: list[tuple[str, dict]], counts: dict) -> None:
    if not checked:
        return
    existing = {p.import_key: p for p in db.scalars(select(Person).where(
        Person.import_key.in_([key for key, _ in checked])))}
    now = utcnow()
    for key, fields in checked:
        person = existing.get(key)
        if person is None:
            db.add(Person(tenant_id=tenant_id, import_key=key, created_at=now, updated_at=now, **fields))
            counts["created"] += 1
        elif all(getattr(person, name) == value for name, value in fields.items()):
            counts["unchanged"] += 1
        else:
            for name, value in fields.items():
                setattr(person, name, value)
            person.updated_at = now
            counts["updated"] += 1
    db.flush()


# ---------------------------------------------------------------- writing files

def _row_of(person: Person, username: str | None) -> list:
    # A key made from kind, name and phone is left out: the import makes the same one from those.
    key = None if (person.import_key or "").startswith("h:") else person.import_key
    return [key, KIND_LABELS.get(person.kind, person.kind), person.name, person.phone,
            person.sector, "、".join(person.specialties or []), LEVEL_LABELS.get(person.level or "", ""),
            person.community, person.grid, person.organisation, person.title, person.note, username,
            "在册" if person.active else "已停用"]


def export_xlsx(fh) -> int:
    """Write the whole roster to `fh` as .xlsx, streaming rows (openpyxl's write-only mode);
    the file imports back unchanged. Returns the number of people."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名册")
    ws.append(EXPORT_HEADERS)
    count = 0
    stmt = (select(Person, User.username).outerjoin(User, User.id == Person.user_id)
            .order_by(KIND_ORDER, Person.name, Person.id).execution_options(yield_per=500))
    for person, username in db.execute(stmt):
        ws.append(_row_of(person, username))
        count += 1
    wb.save(fh)
    return count


def template_xlsx() -> bytes:
    """An empty roster with its headers, and a sheet explaining each column."""
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append([names[0] for names in HEADERS.values()])
    ws.freeze_panes = "A2"
    help_ = wb.create_sheet("填写说明")
    help_.append(["列", "说明"])
    for row in (("编号", "可不填；填了就按编号识别同一人，再次导入时更新而不是重复添加"),
                ("类别", "必填：" + "、".join(KIND_LABELS.values())),
                ("姓名", "必填"),
                ("电话", "手机 11 位，或带区号的座机"),
                ("界别", "政协委员填写，如：经济界"),
                ("专长", "多项用顿号或逗号分开，如：法律、物业"),
                ("级别", "政协委员填写：县级 或 街道级"),
                ("社区", "须是本街道的社区"),
                ("网格", "网格员必填；须是该社区的网格"),
                ("单位或部门", "部门联络人必填，如：街道城管中心；合伙人填写单位名称"),
                ("职务", ""), ("备注", ""),
                ("登录账号", "可不填；填本街道成员的用户名，把此人关联到该登录账号（导出的名册里已有）。"
                            "文件有这一列时，空白表示此人不关联登录账号；没有这一列则不改动已有的关联")):
        help_.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

