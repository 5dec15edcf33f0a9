"""Importing a roster file in the background.

An import is a stored file and a `RosterImport` row; a job reads the file row by row (readers.py),
checks each row like the form does, and upserts people by their import key (the file's 编号
column, or a hash of kind, name and phone). Importing the same file again finds every person
unchanged.

The job writes each batch of people with its progress and counts in one short transaction of its
own (`own_transaction`): the page sees them while the job runs, and what the row counts is what
is stored. Each such transaction checks that this delivery still holds the job (core/leases.py):
a second delivery of it does nothing, and one that lost the job writes nothing more. A retry
resumes after the last batch written (reading the rows before it again only to know their keys),
keeping the counts. Its own transaction holds no write meanwhile (SQLite has one writer: a write
held there would block every batch); it carries the outcome (done, or the file refused), which
commits with the job's id.
"""
from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import uuid
from itertools import islice

from sqlalchemy import select, update

from ..accounts.models import Membership, User
from ..accounts.operations import normalise_username
from ..audit.operations import record
from . import audit_kinds  # noqa: F401 (its audit entries, in words)
from ..core import jobs, leases, scratch
from ..core.db import db, own_transaction, utcnow
from ..core.errors import Refused
from ..core.storage import current_storage, tenant_key
from ..files.uploads import clean_filename
from ..tenants.models import Tenant
from .models import Person, RosterImport
from .operations import Invalid, as_text, check_person, person_key, places
from .pairing import drop_pairs
from .readers import FileProblem, file_format, records, table_rows

BATCH = 500  # rows between two progress commits
MAX_BYTES = 20 * 1024 * 1024
MAX_REFUSED = 1000  # rows listed in the report; beyond, only counted
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_LOGIN = "本街道没有这个登录账号：“登录账号”列须填写本街道成员的用户名"
LOGIN_TAKEN = "该登录账号已关联名册中的另一人"
SAME_LOGIN = "与文件中前面的一行关联了同一个登录账号"
STATUS_LABELS = {"queued": "排队中", "running": "正在导入", "done": "已完成", "failed": "失败"}



def percent(row: RosterImport) -> int:
    if row.status == "done":
        return 100
    return min(99, int(100 * row.done_rows / row.total_rows)) if row.total_rows else 0


def find_import(import_id) -> RosterImport | None:
    """Read afresh: the job writes the row in transactions of its own."""
    return db.scalar(select(RosterImport).where(RosterImport.id == import_id)
                     .execution_options(populate_existing=True))


def recent_imports(limit: int = 10) -> list[RosterImport]:
    return list(db.scalars(select(RosterImport).order_by(RosterImport.created_at.desc()).limit(limit)))


# ---------------------------------------------------------------- starting

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
    # the name is metadata, cleaned as every file's is: a NUL in it would fail at PostgreSQL
    row = RosterImport(tenant_id=tenant.id, status="queued", file_key=key, filename=clean_filename(filename),
                       created_by=actor_id, created_at=utcnow(), refused=[])
    db.add(row)
    db.flush()
    record(tenant.id, actor_id, "roster.import.request", str(row.id), {"filename": row.filename})
    jobs.enqueue("roster.tasks.import_roster", str(row.id), tenant_id=tenant.id)
    return row


# ---------------------------------------------------------------- the job

def run_import(tenant_id: int, import_id: uuid.UUID) -> None:
    """Import one stored file. Safe to run again: a finished import is left alone, and one
    interrupted half-way (a failure, a worker that died) resumes after its last batch written."""
    row = find_import(import_id)
    if row is None or row.status == "done":
        return
    key, actor_id = row.file_key, row.created_by
    resume = _Resume(row) if row.status in ("running", "failed") else _Resume(None)
    _save(import_id, True, status="running", error=None, **resume.values())
    try:
        with scratch.directory("import-") as directory:
            path = os.path.join(directory, "upload." + key.rsplit(".", 1)[-1])  # openpyxl goes by the extension
            with current_storage().open(key) as src, open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            with table_rows(path, directory) as (total, rows), SeenKeys(directory) as seen:
                counts, outcome = _import(tenant_id, import_id, records(rows), total, seen, resume)
    except (FileProblem, csv.Error) as exc:  # the file's fault: the job ends here, without a retry
        message = str(exc) if isinstance(exc, FileProblem) else "CSV 文件格式有误"
        _save(import_id, False, status="failed", error=message, finished_at=utcnow())
        record(tenant_id, actor_id, "roster.import.failed", str(import_id), {"error": message})
        return
    except leases.LeaseLost:
        raise  # another delivery runs it now: its row is that one's to write
    except Exception as exc:  # the database or storage let us down: fail visibly, and let the job retry
        # Apart: the job's own transaction rolls back with the error.
        _save(import_id, True, status="failed", error=f"{type(exc).__name__}: {exc}"[:500], finished_at=utcnow())
        raise
    _save(import_id, False, status="done", finished_at=utcnow(), **outcome)
    record(tenant_id, actor_id, "roster.import.done", str(import_id), counts)


class _Resume:
    """Where an interrupted import stands: rows done, counts and refusals so far (none: from the start)."""

    def __init__(self, row: RosterImport | None):
        self.rows = row.done_rows if row else 0
        self.counts = {"created": row.created_count, "updated": row.updated_count,
                       "unchanged": row.unchanged_count, "refused": 0} if row else {}
        self.refused = list(row.refused or []) if row else []
        self.counts["refused"] = len({r["row"] for r in self.refused})

    def values(self) -> dict:
        if self.rows:
            return {"finished_at": None}
        return {"done_rows": 0, "total_rows": 0, "created_count": 0, "updated_count": 0, "unchanged_count": 0,
                "refused": [], "finished_at": None}


def _save(import_id, apart, **values) -> None:
    """Write the import's row: `apart` (True), in a short transaction of its own (what the page must
    see while the job runs, or a failure that outlives the job's rollback); a session, in its
    transaction; False, in the job's. Apart, only while this delivery holds the job."""
    stmt = update(RosterImport).where(RosterImport.id == import_id).values(**values)
    if apart is False:
        db.execute(stmt)
    elif apart is True:
        with own_transaction() as s:
            leases.hold(s)
            s.execute(stmt)
    else:
        apart.execute(stmt)


def _import(tenant_id: int, import_id, rows, total: int | None, seen: SeenKeys,
            resume: _Resume) -> tuple[dict, dict]:
    """Every batch of `rows` checked and written (those `resume` says are written, checked only,
    for their keys); returns the counts and what the finished import's row says (written with its
    status, in the job's transaction)."""
    street_places = places(db.get(Tenant, tenant_id))
    header_row = next(rows)
    total = max(0, (total or 0) - header_row)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "refused": 0, **resume.counts}
    refused: list[dict] = [r for r in resume.refused if r["row"] is not None]
    done = 0

    def refuse(number, problems):
        """One refused row, with each of its problems (field, message, the value as written)."""
        if done < resume.rows:
            return  # refused and listed before the interruption
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
        if done < resume.rows:  # written before the interruption: its keys are known again, that is all
            done += len(batch)
            continue
        with own_transaction() as s:  # the batch's people and the counts that say so, together
            _upsert_in(s, tenant_id, fresh, counts)
            done += len(batch)
            _save(import_id, s, done_rows=done, total_rows=max(total, done), refused=list(refused),
                  created_count=counts["created"], updated_count=counts["updated"],
                  unchanged_count=counts["unchanged"])
            leases.hold(s)  # last: on SQLite the batch takes the write lock only as it commits
    listed = len({r["row"] for r in refused})
    if counts["refused"] > listed:  # the report says how many more there were
        refused.append({"row": None, "field": None, "message": "另有被拒绝的行未列出",
                        "value": str(counts["refused"] - listed)})
    return counts, {"total_rows": done, "refused": refused}


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


def _upsert_in(s, tenant_id: int, checked: list[tuple[str, dict]], counts: dict) -> None:
    """One batch of people, in `s` (see the module's note): its session, and the people in it,
    go when it ends."""
    if not checked:
        return
    existing = {p.import_key: p for p in s.scalars(select(Person).where(
        Person.import_key.in_([key for key, _ in checked])))}
    now = utcnow()
    unpaired = []  # members the file makes another kind: their grids are no longer theirs to pair
    for key, fields in checked:
        person = existing.get(key)
        if person is None:
            s.add(Person(tenant_id=tenant_id, import_key=key, created_at=now, updated_at=now, **fields))
            counts["created"] += 1
        elif all(getattr(person, name) == value for name, value in fields.items()):
            counts["unchanged"] += 1
        else:
            if person.kind == "member" and fields["kind"] != "member":
                unpaired.append(person.id)
            for name, value in fields.items():
                setattr(person, name, value)
            person.updated_at = now
            counts["updated"] += 1
    drop_pairs(s, unpaired)
