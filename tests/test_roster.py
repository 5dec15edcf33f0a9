"""The roster (名册): people through the pages and the API, imports from CSV (UTF-8, GBK) and
Excel in the background with progress and a report of every refused row, export to Excel, and
stations. The duty rota and claim suggestions are in test_duty.py."""
from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from conftest import SERVICES, csrf_token
from shangliang.audit.models import AuditLog
from shangliang.core.db import db
from shangliang.core.tenancy import tenant_context
from shangliang.roster import export as roster_export, imports, readers
from shangliang.roster.models import Person, RosterImport, Station
from shangliang.tenants.models import Community
from support.excel_like import write_xlsx

ROOT = Path(__file__).resolve().parents[1]
ROSTER = "/t/yanshan/roster/"
HEADER = ["编号", "类别", "姓名", "电话", "界别", "专长", "级别", "社区", "网格", "单位或部门", "职务", "备注"]
GOOD = [
    ["", "政协委员", "李明华", "13905310101", "经济界", "物业、停车管理", "街道级", "燕子山社区", "", "", "", ""],
    ["", "网格员", "陈静", "13905310201", "", "", "", "燕子山社区", "2 网格", "", "", ""],
    ["", "部门联络人", "郑磊", "0531-86010001", "", "", "", "", "", "街道城管中心", "副主任", ""],
    ["", "合伙人", "燕山红领物业服务中心", "", "", "", "", "", "", "红领物业", "", "合伙单位"],
]
BAD = [
    ["", "志愿者", "王五", "13900000000", "", "", "", "", "", "", "", ""],       # unknown kind
    ["", "政协委员", "赵六", "12345", "", "", "省级", "", "", "", "", ""],        # phone and level
    ["", "网格员", "钱七", "13900000001", "", "", "", "立功社区", "", "", "", ""],  # a grid worker without grid
    ["", "政协委员", "", "13900000002", "", "", "", "", "", "", "", ""],          # no name
    ["", "政协委员", "孙八", "", "", "", "", "没有这个社区", "", "", "", ""],        # unknown community
]


@pytest.fixture
def street(app, world):
    """燕山街道 with two communities and their grids."""
    with app.app_context(), tenant_context(world.yanshan.id):
        db.add(Community(tenant_id=world.yanshan.id, name="燕子山社区", grids=["1 网格", "2 网格"], position=0))
        db.add(Community(tenant_id=world.yanshan.id, name="立功社区", grids=["5 网格"], position=1))
        db.commit()
    return world.yanshan


def post(client, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client), **data})


def people(app, tenant):
    with app.app_context(), tenant_context(tenant.id):
        return {p.name: p for p in db.scalars(select(Person))}


def upload(client, name, body):
    return client.post(ROSTER + "import", data={"csrf_token": csrf_token(client), "file": (io.BytesIO(body), name)},
                       content_type="multipart/form-data")


def the_import(app, tenant, import_id=None) -> RosterImport:
    with app.app_context(), tenant_context(tenant.id):
        stmt = select(RosterImport).order_by(RosterImport.created_at.desc())
        row = db.scalar(stmt.where(RosterImport.id == import_id) if import_id else stmt.limit(1))
        db.expunge(row)
        return row


def csv_bytes(rows, encoding="utf-8") -> bytes:
    text = "\n".join(",".join(r) for r in rows) + "\n"
    return text.encode(encoding)


def xlsx_bytes(rows, tmp_path, excel_like=True) -> bytes:
    path = tmp_path / "roster.xlsx"
    if excel_like:
        write_xlsx(path, rows, len(rows), max(len(r) for r in rows))
    else:
        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append(r)
        wb.save(path)
    return path.read_bytes()


# ---------------------------------------------------------------- people through the pages

def test_an_admin_adds_people_and_the_roster_lists_them_by_kind(app, as_user, street):
    admin = as_user("yanshan-admin")
    resp = post(admin, ROSTER + "new", kind="member", name="李明华", phone="139 0531 0101", sector="经济界",
                specialties="物业，停车管理、物业", level="street", community="燕子山社区", username="yanshan-member")
    assert resp.status_code == 302
    assert post(admin, ROSTER + "new", kind="grid_worker", name="陈静", grid="2 网格").status_code == 302
    p = people(app, street)
    assert p["李明华"].specialties == ["物业", "停车管理"] and p["李明华"].phone == "13905310101"
    assert p["李明华"].user_id is not None and p["李明华"].level == "street"
    assert p["陈静"].community == "燕子山社区"  # the grid says which community
    html = admin.get(ROSTER).get_data(as_text=True)
    assert "李明华" in html and "陈静" in html and "yanshan-member" in html and "13905310101" in html
    only_members = admin.get(ROSTER + "?kind=member").get_data(as_text=True)
    assert "李明华" in only_members and "陈静" not in only_members
    assert "政协委员 <b>1</b>" in html and "网格员 <b>1</b>" in html
    assert "陈静" in admin.get(ROSTER + "?q=陈").get_data(as_text=True)
    with app.app_context(), tenant_context(street.id):
        assert db.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "roster.person.create")) == 2


def test_a_bad_form_names_every_field_and_keeps_what_was_typed(app, as_user, street):
    admin = as_user("yanshan-admin")
    resp = post(admin, ROSTER + "new", kind="grid_worker", name="", phone="12345", level="省级",
                community="没有这个社区", specialties="法律", username="nobody-here")
    assert resp.status_code == 400
    html = resp.get_data(as_text=True)
    for message in ("请填写姓名", "电话号码格式不正确", "级别须为县级或街道级", "本街道没有这个社区", "网格员须填写所在网格",
                    "本单位没有这个登录账号"):
        assert message in html, message
    for field in ("name", "phone", "level", "community", "grid", "username"):
        assert f'id="{field}-error"' in html, field
    assert 'value="12345"' in html and 'value="法律"' in html and 'value="nobody-here"' in html
    assert people(app, street) == {}
    english = as_user("yanshan-admin")
    english.get("/lang/en")
    html = post(english, ROSTER + "new", kind="member", name="", phone="1").get_data(as_text=True)
    assert "Enter a name" in html and "Not a phone number" in html


def test_logins_link_to_one_person_of_this_street_only(app, as_user, street):
    admin = as_user("yanshan-admin")
    assert post(admin, ROSTER + "new", kind="member", name="甲", username="yanshan-member").status_code == 302
    resp = post(admin, ROSTER + "new", kind="member", name="乙", username="yanshan-member")
    assert resp.status_code == 400 and "该登录账号已关联名册中的另一人" in resp.get_data(as_text=True)
    resp = post(admin, ROSTER + "new", kind="member", name="乙", username="guangwumen-staff")  # another street's
    assert resp.status_code == 400 and "本单位没有这个登录账号" in resp.get_data(as_text=True)
    resp = post(admin, ROSTER + "new", kind="member", name="甲", username="")  # same kind, name and phone
    assert resp.status_code == 400 and "名册中已有同类别、同姓名、同电话的人" in resp.get_data(as_text=True)


def test_edit_and_deactivate_a_person(app, as_user, street):
    admin = as_user("yanshan-admin")
    post(admin, ROSTER + "new", kind="member", name="李明华", phone="13905310101")
    person = people(app, street)["李明华"]
    page = admin.get(f"{ROSTER}{person.id}").get_data(as_text=True)
    assert 'value="13905310101"' in page
    resp = post(admin, f"{ROSTER}{person.id}", kind="member", name="李明华", phone="13905310109",
                specialties="法律", community="立功社区")
    assert resp.status_code == 302
    edited = people(app, street)["李明华"]
    assert (edited.phone, edited.specialties, edited.community) == ("13905310109", ["法律"], "立功社区")
    resp = post(admin, f"{ROSTER}{person.id}", kind="member", name="李明华", phone="1")
    assert resp.status_code == 400 and 'value="1"' in resp.get_data(as_text=True)
    assert post(admin, f"{ROSTER}{person.id}/active", active="0").status_code == 302
    assert "<strong>李明华</strong>" not in admin.get(ROSTER).get_data(as_text=True)
    assert "<strong>李明华</strong>" in admin.get(ROSTER + "?status=inactive").get_data(as_text=True)
    post(admin, f"{ROSTER}{person.id}/active", active="1")
    assert people(app, street)["李明华"].active


def test_members_view_the_roster_with_masked_phones_and_change_nothing(app, as_user, street):
    post(as_user("yanshan-admin"), ROSTER + "new", kind="member", name="李明华", phone="13905310101")
    person = people(app, street)["李明华"]
    member = as_user("yanshan-member")
    html = member.get(ROSTER).get_data(as_text=True)
    assert "李明华" in html and "139****0101" in html and "13905310101" not in html
    assert member.get(ROSTER + "new").status_code == 403
    assert post(member, ROSTER + "new", kind="member", name="x").status_code == 403
    assert post(member, f"{ROSTER}{person.id}/active", active="0").status_code == 403
    assert member.get(ROSTER + "import").status_code == 403
    assert member.get(ROSTER + "export.xlsx").status_code == 403
    assert member.get(ROSTER + "stations").status_code == 200
    staff = as_user("yanshan-staff")
    assert staff.get(ROSTER + "new").status_code == 403  # staff keep the rota, admins the roster
    assert "13905310101" in staff.get(ROSTER).get_data(as_text=True)


def test_a_county_has_no_roster(as_user, world):
    client = as_user("lixia-admin")
    assert client.get("/t/lixia/roster/").status_code == 403
    assert client.get("/t/yanshan/roster/").status_code == 200  # the county's street


def test_the_roster_costs_the_same_queries_at_10_and_200_people(app, as_user, street, query_counter):
    def add(n, start):
        with app.app_context(), tenant_context(street.id):
            for i in range(start, start + n):
                db.add(Person(tenant_id=street.id, kind="member", name=f"委员{i:04d}", import_key=f"k{i}",
                              specialties=["法律"]))
            db.commit()

    client = as_user("yanshan-admin")
    add(10, 0)
    client.get(ROSTER)  # first: read again what the process keeps (core/changes.py), then counted
    with query_counter() as small:
        assert client.get(ROSTER).status_code == 200
    add(190, 10)
    client.get(ROSTER)  # first: read again what the process keeps (core/changes.py), then counted
    with query_counter() as large:
        assert client.get(ROSTER).status_code == 200
    assert len(small) == len(large)
    assert "下一页" in client.get(ROSTER).get_data(as_text=True)
    assert "委员0199" in client.get(ROSTER + "?page=4&kind=member").get_data(as_text=True)


# ---------------------------------------------------------------- imports

def test_a_utf8_csv_imports_in_the_background_and_reports_each_bad_row(app, as_user, street, run_jobs):
    admin = as_user("yanshan-admin")
    resp = upload(admin, "名册.csv", csv_bytes([HEADER, *GOOD, *BAD]))
    assert resp.status_code == 302
    run_jobs()
    row = the_import(app, street)
    assert (row.status, row.created_count, row.updated_count, row.unchanged_count) == ("done", 4, 0, 0)
    assert row.done_rows == row.total_rows == len(GOOD) + len(BAD)
    refused = {(r["row"], r["field"]): r["message"] for r in row.refused}
    # rows numbered as in the spreadsheet: the header is row 1
    assert refused == {
        (6, "kind"): "未知的类别，应为政协委员、网格员、社区书记、楼院长、部门联络人、居民代表或合伙人",
        (7, "phone"): "电话号码格式不正确：手机 11 位，座机带区号", (7, "level"): "级别须为县级或街道级",
        (8, "grid"): "网格员须填写所在网格", (9, "name"): "请填写姓名", (10, "community"): "本街道没有这个社区"}
    assert set(people(app, street)) == {"李明华", "陈静", "郑磊", "燕山红领物业服务中心"}
    report = admin.get(resp.location).get_data(as_text=True)
    assert "被拒绝的行" in report and "志愿者" in report and "省级" in report and "export.js" not in report
    assert "拒绝 5 行" in report
    status = admin.get(f"{ROSTER}imports/{row.id}/status").get_json()
    assert (status["status"], status["percent"], status["created"], len(status["refused"])) == ("done", 100, 4, 6)


def test_while_queued_the_report_shows_a_progress_bar_that_polls(app, as_user, street):
    admin = as_user("yanshan-admin")  # no worker in this test: the job waits in the queue
    resp = upload(admin, "名册.csv", csv_bytes([HEADER, *GOOD]))
    row = the_import(app, street)
    assert row.status == "queued" and row.file_key.startswith(f"tenants/{street.id}/imports/")
    assert app.extensions["storage"].get(row.file_key) == csv_bytes([HEADER, *GOOD])
    for page in (admin.get(resp.location), admin.get(ROSTER + "import")):
        html = page.get_data(as_text=True)
        assert "排队中" in html and f"imports/{row.id}/status" in html and "export.js" in html
    status = admin.get(f"{ROSTER}imports/{row.id}/status").get_json()
    assert (status["status"], status["percent"], status["done_items"]) == ("queued", 0, 0)


def test_importing_the_same_file_twice_changes_nothing(app, as_user, street, run_jobs):
    admin = as_user("yanshan-admin")
    body = csv_bytes([HEADER, *GOOD, *BAD])
    upload(admin, "名册.csv", body)
    run_jobs()
    before = {name: (p.id, p.updated_at) for name, p in people(app, street).items()}
    upload(admin, "名册.csv", body)
    run_jobs()
    row = the_import(app, street)
    assert (row.created_count, row.updated_count, row.unchanged_count) == (0, 0, 4)
    assert {name: (p.id, p.updated_at) for name, p in people(app, street).items()} == before
    changed = [HEADER, *GOOD[:3], ["", "合伙人", "燕山红领物业服务中心", "", "", "", "", "", "", "红领物业", "", "新备注"]]
    upload(admin, "名册.csv", csv_bytes(changed))
    run_jobs()
    row = the_import(app, street)
    assert (row.created_count, row.updated_count, row.unchanged_count) == (0, 1, 3)
    assert people(app, street)["燕山红领物业服务中心"].note == "新备注"


def test_a_gbk_csv_from_chinese_excel_imports(app, as_user, street, run_jobs):
    admin = as_user("yanshan-admin")
    assert upload(admin, "名册.csv", csv_bytes([HEADER, *GOOD], "gbk")).status_code == 302
    run_jobs()
    row = the_import(app, street)
    assert (row.status, row.created_count, row.refused) == ("done", 4, [])
    assert people(app, street)["李明华"].specialties == ["物业", "停车管理"]
    # and UTF-8 with a BOM, as Excel's "CSV UTF-8" saves it:
    upload(admin, "名册.csv", b"\xef\xbb\xbf" + csv_bytes([HEADER, *GOOD]))
    run_jobs()
    assert the_import(app, street).unchanged_count == 4


@pytest.mark.parametrize("excel_like", [True, False], ids=["shared-strings", "inline-strings"])
def test_an_excel_file_imports_with_its_title_row_ids_and_numbers(app, as_user, street, run_jobs, tmp_path,
                                                                   excel_like):
    rows = [["燕山街道政协委员名册（2025 年）"], HEADER,
            ["M001", "政协委员", "王秀兰", 13905310102, "社会法制界", "法律、纠纷调解", "县级", "立功社区", "", "", "", ""],
            ["M002", "楼院长", "吴桂芝", 13905310401, "", "", "", "燕子山社区", "2 网格", "", "", "2 号楼"],
            [],
            ["M003", "居民代表", "黄建民", "1390531050", "", "", "", "", "", "", "", ""],   # ten digits
            ["M001", "政协委员", "王秀兰（重复）", "", "", "", "", "", "", "", "", ""]]  # the same ID again
    admin = as_user("yanshan-admin")
    assert upload(admin, "名册.xlsx", xlsx_bytes(rows, tmp_path, excel_like)).status_code == 302
    run_jobs()
    row = the_import(app, street)
    assert (row.status, row.created_count) == ("done", 2), row.error
    assert [(r["row"], r["field"], r["message"]) for r in row.refused] == [
        (6, "phone", "电话号码格式不正确：手机 11 位，座机带区号"), (7, "import_key", "与文件中前面的一行重复")]
    assert row.refused[1]["value"] == "3"
    wang = people(app, street)["王秀兰"]
    assert (wang.import_key, wang.phone, wang.level) == ("M001", "13905310102", "county")
    rows[2][2] = "王秀兰"
    rows[2][6] = "街道级"  # the same ID with a change: the same person, updated
    upload(admin, "名册.xlsx", xlsx_bytes(rows, tmp_path, excel_like))
    run_jobs()
    row = the_import(app, street)
    assert (row.created_count, row.updated_count, row.unchanged_count) == (0, 1, 1)
    assert people(app, street)["王秀兰"].level == "street"


def test_progress_is_committed_batch_by_batch(app, as_user, street, run_jobs, monkeypatch):
    seen = []
    real = imports._save
    monkeypatch.setattr(imports, "BATCH", 2)
    monkeypatch.setattr(imports, "_save", lambda iid, commit=True, **v: (
        seen.append((v.get("status"), v.get("done_rows"), v.get("total_rows"))), real(iid, commit, **v)))
    admin = as_user("yanshan-admin")
    upload(admin, "名册.csv", csv_bytes([HEADER, *GOOD, *BAD]))
    run_jobs()
    progress = [(done, total) for status, done, total in seen if status is None and done is not None]
    assert progress == [(2, 9), (4, 9), (6, 9), (8, 9), (9, 9)]
    assert seen[0][0] == "running" and seen[-1][0] == "done"


def test_files_that_cannot_be_imported_say_why(app, as_user, street, run_jobs):
    admin = as_user("yanshan-admin")
    for name, body, message in (("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "另存为 .xlsx"),
                                ("photo.jpg", b"\xff\xd8\xff\xe0 jpeg", "只能导入 CSV 或 Excel"),
                                ("empty.csv", b"", "文件是空的")):
        resp = upload(admin, name, body)
        assert resp.status_code == 400 and message in resp.get_data(as_text=True), name
    assert upload(admin, "", b"x").status_code == 400
    upload(admin, "broken.xlsx", b"PK\x03\x04 not really a zip")
    run_jobs()
    row = the_import(app, street)
    assert (row.status, row.error) == ("failed", "无法读取这个 Excel 文件，请确认它是 .xlsx 格式")
    upload(admin, "no-header.csv", csv_bytes([["a", "b"], ["1", "2"]]))
    run_jobs()
    row = the_import(app, street)
    assert row.status == "failed" and "找不到表头" in row.error
    assert "找不到表头" in admin.get(ROSTER + "import").get_data(as_text=True)


def test_a_large_file_lists_the_first_refused_rows_and_counts_the_rest(app, as_user, street, run_jobs,
                                                                         monkeypatch):
    monkeypatch.setattr(imports, "MAX_REFUSED", 3)
    admin = as_user("yanshan-admin")
    upload(admin, "名册.csv", csv_bytes([HEADER, *BAD]))
    run_jobs()
    row = the_import(app, street)
    assert len(row.refused) == 4 and row.refused[-1] == {
        "row": None, "field": None, "message": "另有被拒绝的行未列出", "value": "3"}


# ---------------------------------------------------------------- memory stays flat

# Neither touches the run's database or storage: they run once, in the embedded run.
ONCE = pytest.mark.skipif(SERVICES, reason="independent of the services: runs in the embedded run")


@ONCE
def test_reading_a_sheet_holds_the_same_memory_at_2000_and_20000_rows(tmp_path):
    """The reader alone (no database), in this process: shared strings spilled to disk, each row
    dropped once read. Python's own allocations, so the figure is exact."""
    sys.path.insert(0, str(ROOT / "bench"))
    from roster_import import HEADER as BENCH_HEADER, rows

    def peak(n):
        path = tmp_path / f"{n}.xlsx"
        write_xlsx(path, rows(n), n + 1, len(BENCH_HEADER))
        gc.collect()
        tracemalloc.start()
        with readers.xlsx_rows(str(path), str(tmp_path)) as (total, sheet):
            count = sum(1 for _ in readers.records(sheet)) - 1
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == n and total == n + 1
        return peak

    # The peak wanders by ~300 KB from run to run (when the collector runs); holding the 20,000
    # rows or their ~100,000 shared strings (openpyxl alone, read-only: 13.9 MB) would add MBs.
    small, large = peak(2_000), peak(20_000)
    assert large < small + 1024 * 1024, (small, large)


@ONCE
def test_the_worker_peak_memory_is_flat_from_2000_to_20000_rows():
    """bench/roster_import.py, as a user runs it: each size imported by the real job in a fresh
    worker process; the 20,000-row peak is not much above the 2,000-row one."""
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "roster_import.py"), "--json"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600,
                         env={k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "S3_"))})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    small, large = report["small"], report["large"]
    assert (small["created"], small["refused"], large["created"], large["refused"]) == (1998, 2, 19980, 20)
    assert large["progress_steps"] > 10  # progress was seen moving while the job ran
    assert large["peak_kb"] < 1.5 * small["peak_kb"] + 16 * 1024, report
    rise_small, rise_large = report["growth_kb"]
    assert rise_large < rise_small + 8 * 1024, report  # SQLite's page caches fill up, then nothing grows


# ---------------------------------------------------------------- export and template

def test_the_roster_exports_to_excel_and_imports_back_unchanged(app, as_user, street, run_jobs, tmp_path):
    admin = as_user("yanshan-admin")
    upload(admin, "名册.csv", csv_bytes([HEADER, *GOOD]))
    run_jobs()
    post(admin, ROSTER + "new", kind="member", name="张建国", specialties="养老、医疗", username="yanshan-member")
    resp = admin.get(ROSTER + "export.xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in resp.headers["Content-Disposition"]
    body = resp.get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == roster_export.EXPORT_HEADERS
    by_name = {r[2]: r for r in rows[1:]}
    assert set(by_name) == {"李明华", "陈静", "郑磊", "燕山红领物业服务中心", "张建国"}
    assert by_name["李明华"][1:8] == ["政协委员", "李明华", "13905310101", "经济界", "物业、停车管理", "街道级",
                                      "燕子山社区"]
    assert by_name["张建国"][12:] == ["yanshan-member", "在册"]
    assert upload(admin, "导出.xlsx", body).status_code == 302
    run_jobs()
    row = the_import(app, street)
    assert (row.created_count, row.updated_count, row.unchanged_count, row.refused) == (0, 0, 5, [])
    assert people(app, street)["张建国"].user_id == app_user_id(app, "yanshan-member")  # the link came back too


def app_user_id(app, username):
    from shangliang.accounts.models import User

    with app.app_context():
        return db.scalar(select(User.id).where(User.username == username))


def test_an_import_links_logins_of_this_street_and_refuses_others_naming_the_column(app, as_user, street,
                                                                                   run_jobs):
    admin = as_user("yanshan-admin")
    post(admin, ROSTER + "new", kind="member", name="王秀兰", username="yanshan-staff")
    rows = [HEADER + ["登录账号"],
            ["", "政协委员", "李明华", "", "", "", "", "", "", "", "", "", " Yanshan-Member "],  # as people type it
            ["", "政协委员", "赵六", "", "", "", "", "", "", "", "", "", "nobody"],  # a login of no street
            ["", "政协委员", "钱七", "", "", "", "", "", "", "", "", "", "guangwumen-staff"],  # another street's
            ["", "政协委员", "孙八", "", "", "", "", "", "", "", "", "", "no-such-login"],
            ["", "政协委员", "周九", "", "", "", "", "", "", "", "", "", "yanshan-member"],  # 李明华's, two rows up
            ["", "政协委员", "吴十", "", "", "", "", "", "", "", "", "", "yanshan-staff"],  # 王秀兰's already
            ["", "网格员", "郑一", "", "", "", "", "", "", "", "", "", "nobody"]]  # no grid either: both named
    upload(admin, "名册.csv", csv_bytes(rows))
    run_jobs()
    row = the_import(app, street)
    no_login = "本街道没有这个登录账号：“登录账号”列须填写本街道成员的用户名"
    assert [(r["row"], r["field"], r["message"], r["value"]) for r in row.refused] == [
        (3, "username", no_login, "nobody"), (4, "username", no_login, "guangwumen-staff"),
        (5, "username", no_login, "no-such-login"), (7, "username", "该登录账号已关联名册中的另一人", "yanshan-staff"),
        (8, "grid", "网格员须填写所在网格", ""), (8, "username", no_login, "nobody"),
        (6, "username", "与文件中前面的一行关联了同一个登录账号", "2")]
    linked = {name: p.user_id for name, p in people(app, street).items()}
    assert linked == {"王秀兰": app_user_id(app, "yanshan-staff"), "李明华": app_user_id(app, "yanshan-member")}
    report = admin.get(f"{ROSTER}imports/{row.id}").get_data(as_text=True)
    assert "登录账号" in report and no_login in report and "第 2 行" in report

    # The column is the truth where the file has it: an empty cell unlinks. Without it, links stay.
    upload(admin, "名册.csv", csv_bytes([HEADER, ["", "政协委员", "李明华"] + [""] * 9]))
    run_jobs()
    assert the_import(app, street).unchanged_count == 1
    assert people(app, street)["李明华"].user_id == app_user_id(app, "yanshan-member")
    upload(admin, "名册.csv", csv_bytes([HEADER + ["登录账号"], ["", "政协委员", "李明华"] + [""] * 10]))
    run_jobs()
    assert the_import(app, street).updated_count == 1 and people(app, street)["李明华"].user_id is None


def test_the_template_has_the_headers_and_a_sheet_that_explains_them(as_user, street):
    resp = as_user("yanshan-admin").get(ROSTER + "template.xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(resp.get_data()))
    assert [c.value for c in wb.worksheets[0][1]] == HEADER + ["登录账号"]
    assert wb.worksheets[1].title == "填写说明"


# ---------------------------------------------------------------- stations

def test_stations_are_added_edited_and_checked(app, as_user, street):
    admin = as_user("yanshan-admin")
    url = ROSTER + "stations"
    resp = post(admin, url, name="", kind="spaceship", community="没有这个社区", address="x" * 201)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for message in ("请填写站点名称", "请选择站点类型", "本街道没有这个社区", "地址最多 200 个字符"):
        assert message in html
    assert post(admin, url, name="燕子山小区庭院网格e站", kind="grid_station", community="燕子山社区",
                address="3 号楼东侧", hours="周一至周五 9:00–11:30").status_code == 302
    with app.app_context(), tenant_context(street.id):
        station = db.scalar(select(Station))
        db.expunge(station)
    html = as_user("yanshan-member").get(url).get_data(as_text=True)
    assert "燕子山小区庭院网格e站" in html and "庭院网格e站" in html and "3 号楼东侧" in html
    assert post(as_user("yanshan-member"), url, name="x", kind="meeting_room").status_code == 403
    assert post(admin, f"{url}/{station.id}", name="燕子山e站", kind="grid_station", active="0").status_code == 302
    with app.app_context(), tenant_context(street.id):
        assert (db.scalar(select(Station.name)), db.scalar(select(Station.active))) == ("燕子山e站", False)


# ---------------------------------------------------------------- the API

@pytest.fixture
def api(app, world):
    from shangliang.accounts.operations import create_api_token

    def make(role):
        with app.app_context(), tenant_context(world.yanshan.id):
            _row, secret = create_api_token(world.yanshan, world.users["yanshan-admin"].id, f"t-{role}", role)
            db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


def test_the_roster_through_the_api(app, client, street, api, run_jobs):
    admin, member = api("street_admin"), api("member")
    base = "/api/v1/t/yanshan"
    resp = client.post(f"{base}/people", headers=admin, json={"kind": "member", "name": "李明华", "phone": "13905310101",
                                                              "specialties": ["物业", "法律"], "level": "street"})
    assert resp.status_code == 201, resp.get_json()
    person = resp.get_json()
    assert person["specialties"] == ["物业", "法律"] and person["kind_label"] == "政协委员"
    resp = client.post(f"{base}/people", headers=admin, json={"kind": "grid_worker", "name": "", "phone": "1"})
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"name", "phone", "grid"}
    resp = client.post(f"{base}/people/{person['id']}", headers=admin, json={"community": "立功社区"})
    assert resp.status_code == 200 and resp.get_json()["community"] == "立功社区"
    assert resp.get_json()["specialties"] == ["物业", "法律"]  # untouched fields stay
    listed = client.get(f"{base}/people?kind=member", headers=member).get_json()
    assert [p["name"] for p in listed["items"]] == ["李明华"] and listed["items"][0]["phone"] == "139****0101"
    assert client.post(f"{base}/people", headers=member, json={"kind": "member", "name": "x"}).status_code == 403
    assert client.get(f"{base}/people/{person['id']}", headers=admin).get_json()["name"] == "李明华"

    resp = client.post(f"{base}/roster/imports", headers=admin, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(csv_bytes([HEADER, *GOOD, *BAD])), "名册.csv")})
    assert resp.status_code == 202 and resp.get_json()["status"] == "queued"
    run_jobs()
    status = client.get(f"{base}/roster/imports/{resp.get_json()['id']}", headers=admin).get_json()
    assert (status["status"], status["percent"], status["created"], status["updated"]) == ("done", 100, 3, 1)
    assert {(r["row"], r["field"]) for r in status["refused"]} >= {(6, "kind"), (9, "name")}

    resp = client.post(f"{base}/stations", headers=admin, json={"name": "燕子山e站", "kind": "grid_station"})
    assert resp.status_code == 201
    assert [s["name"] for s in client.get(f"{base}/stations", headers=member).get_json()["items"]] == ["燕子山e站"]

    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/t/{slug}/people", "/t/{slug}/people/{person_id}", "/t/{slug}/roster/imports",
                 "/t/{slug}/roster/imports/{import_id}", "/t/{slug}/stations", "/t/{slug}/duty",
                 "/t/{slug}/topics/{number}/suggestions"):
        assert path in spec["paths"], path
    upload_body = spec["paths"]["/t/{slug}/roster/imports"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload_body


def test_every_roster_message_has_an_english_translation():
    """Messages built up in dictionaries and labels, which the catalogue test's patterns miss."""
    import ast

    from shangliang.i18n import load_catalog
    from shangliang.roster import duty, operations as ops

    catalog = load_catalog("en")
    used = set(ops.KIND_LABELS.values()) | set(ops.LEVEL_LABELS.values()) | set(ops.STATION_KIND_LABELS.values())
    used |= set(ops.FIELD_LABELS.values()) | set(imports.STATUS_LABELS.values()) | set(duty.STATUS_LABELS.values())
    used |= set(duty.WEEKDAYS)
    for name in ("operations.py", "imports.py", "readers.py", "duty.py"):
        tree = ast.parse((ROOT / "platform" / "shangliang" / "roster" / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "Refused", "FileProblem", "Invalid", "_limit", "refuse"):
                used |= {a.value for a in ast.walk(node) if isinstance(a, ast.Constant) and isinstance(a.value, str)
                         and any("\u4e00" <= ch <= "\u9fff" for ch in a.value)}
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript) and \
                    getattr(node.targets[0].value, "id", "") == "errors" and isinstance(node.value, ast.Constant):
                used.add(node.value.value)
    missing = sorted(s for s in used if s not in catalog)
    assert not missing, missing
