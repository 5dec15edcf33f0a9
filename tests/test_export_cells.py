"""Issue 16: exports a spreadsheet opens safely. Text that looks like a formula (`=cmd|' /C calc'!A0`)
is written as text, never as a formula (xlsx: a string cell; CSV: a leading quote), and a control
character already in a row is dropped instead of failing the whole export; new text with a control
character is refused where it is typed, naming the field."""
from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from sqlalchemy import select, update

from conftest import csrf_token
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.roster import operations as roster_ops
from shangliang.roster.models import Person
from shangliang.tenants.models import Tenant

ROSTER = "/t/yanshan/roster/"
EVIL = ["=cmd|' /C calc'!A0", "+1+2", "-1+2", "@SUM(1+2)", '=HYPERLINK("http://evil.example","点我")']


def formulas(data: bytes) -> list:
    """Every formula a workbook holds, read both ways: openpyxl's cell types and the sheets' XML."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    found = [(ws.title, c.coordinate, c.value) for ws in wb for row in ws.iter_rows() for c in row
             if c.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        found += [name for name in zf.namelist() if name.startswith("xl/worksheets/") and b"<f>" in zf.read(name)]
    return found


def texts(data: bytes) -> set:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return {c for ws in wb for row in ws.iter_rows(values_only=True) for c in row if isinstance(c, str)}


@pytest.fixture
def hostile(app, world):
    """燕山's roster with formula-like names, and one row holding a control character from before
    input refused them."""
    with app.app_context(), tenant_context(world.yanshan.id):
        street = db.get(Tenant, world.yanshan.id)
        for name in EVIL:
            roster_ops.create_person(street, None, {"kind": "member", "name": name, "note": name})
        roster_ops.create_person(street, None, {"kind": "member", "name": "王五"})
        db.execute(update(Person).where(Person.name == "王五").values(name="王\x19五", note="备\x1b注\x07"))  # PostgreSQL holds no NUL
        db.commit()
    return world.yanshan


def test_the_roster_export_writes_formula_like_text_as_text_and_survives_control_characters(as_user, hostile):
    resp = as_user("yanshan-admin").get(ROSTER + "export.xlsx")
    assert resp.status_code == 200
    assert formulas(resp.data) == []
    cells = texts(resp.data)
    assert set(EVIL) <= cells  # as typed: the file imports back unchanged
    assert "王五" in cells and "备注" in cells  # the control characters dropped


def test_the_ledger_exports_write_formula_like_text_as_text(app, as_user, hostile):
    admin = as_user("yanshan-admin")
    resp = admin.get("/t/yanshan/ledger/export.xlsx")
    assert resp.status_code == 200 and formulas(resp.data) == []
    assert set(EVIL) <= texts(resp.data) and "王五" in texts(resp.data)
    with app.app_context(), tenant_context(hostile.id):
        ids = [p.id for p in db.scalars(select(Person))]
    for person_id in ids:
        resp = admin.get(f"/t/yanshan/ledger/{person_id}.xlsx")
        assert resp.status_code == 200 and formulas(resp.data) == []


def test_the_benchmark_exports_write_formula_like_text_as_text_in_excel_and_csv(app, as_user, world):
    with app.app_context():
        db.execute(update(Tenant).where(Tenant.id == world.yanshan.id).values(name=EVIL[0]))
        db.execute(update(Tenant).where(Tenant.id == world.langshan.id).values(name="狼山\x19镇"))
        db.commit()
    county = as_user("lixia-admin")
    resp = county.get("/t/lixia/benchmarks/export.xlsx")
    assert resp.status_code == 200 and formulas(resp.data) == []
    assert EVIL[0] in texts(resp.data) and "狼山镇" in texts(resp.data)
    resp = county.get("/t/lixia/benchmarks/export.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    cells = [c for r in rows for c in r]
    assert "'" + EVIL[0] in cells and EVIL[0] not in cells and "狼山镇" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and not c[1:2].isdigit())]
    street = as_user("yanshan-admin")
    for ext in ("xlsx", "csv"):
        assert street.get(f"/t/yanshan/benchmarks/export.{ext}").status_code == 200


def test_numbers_in_csv_stay_numbers_and_text_is_quoted_once():
    from shangliang.core.spreadsheets import csv_row

    assert csv_row([-1, "-1", "-0.50", "+3", "66.7%", "=1+2", "-x", "@a", "\tb", "王\x19五", None]) == \
        [-1, "-1", "-0.50", "+3", "66.7%", "'=1+2", "'-x", "'@a", "'\tb", "王五", None]


# ---------------------------------------------------------------- refused where typed

def test_a_control_character_is_refused_on_the_form_the_import_and_the_api(app, as_user, client, world, run_jobs):
    admin = as_user("yanshan-admin")
    resp = admin.post(ROSTER + "new", data={"csrf_token": csrf_token(admin), "kind": "member", "name": "王\x19五",
                                            "note": "备\x1b注"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "姓名不能包含控制字符" in html and "备注不能包含控制字符" in html

    body = "类别,姓名,备注\n政协委员,王\x19五,\n政协委员,李四,好\x07的\n".encode()
    resp = admin.post(ROSTER + "import", data={"csrf_token": csrf_token(admin), "file": (io.BytesIO(body), "名册.csv")},
                      content_type="multipart/form-data")
    assert resp.status_code == 302
    run_jobs()
    with app.app_context(), tenant_context(world.yanshan.id):
        from shangliang.roster.models import RosterImport

        row = db.scalar(select(RosterImport))
        refused = {(r["row"], r["field"]): r["message"] for r in row.refused}
        assert db.scalar(select(Person)) is None
    assert refused == {(2, "name"): "姓名不能包含控制字符", (3, "note"): "备注不能包含控制字符"}

    from shangliang.accounts.operations import create_api_token

    with app.app_context(), tenant_context(world.yanshan.id):
        _row, secret = create_api_token(db.get(Tenant, world.yanshan.id), None, "t", "street_admin")
        db.commit()
    resp = client.post("/api/v1/t/yanshan/people", headers={"Authorization": f"Bearer {secret}"},
                       json={"kind": "member", "name": "王\x19五"})
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"name": ["不能包含控制字符"]}
    # every API body: a text or a key anywhere in it, named by its path
    resp = client.post("/api/v1/t/yanshan/topics", headers={"Authorization": f"Bearer {secret}"},
                       json={"title": "路灯\x1b坏了", "description": "第一行\n第二行\t", "channel": "visit"})
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"title": ["不能包含控制字符"]}


def test_every_control_character_message_has_an_english_translation():
    from shangliang.core.forms import control_errors
    from shangliang.i18n import load_catalog

    catalog = load_catalog("en")
    messages = control_errors({f: "\x19" for f in roster_ops.FIELD_LABELS}, roster_ops.FIELD_LABELS).values()
    assert len(messages) == len(roster_ops.FIELD_LABELS)
    assert [m for m in messages if m not in catalog] == []
    assert "不能包含控制字符" in catalog
