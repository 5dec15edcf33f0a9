"""Roster import: the worker's peak memory at 2,000 and at 20,000 rows, in one run.

    .venv/bin/python bench/roster_import.py          # prints both peaks and their ratio
    .venv/bin/python bench/roster_import.py --json   # the same as one JSON object (tests read it)

For each size an Excel file is made the way Excel and WPS write them (text in a shared-string
table, ~6 distinct strings per row) and imported by the real job in a fresh worker process
(embedded SQLite, local storage, a dramatiq worker on the in-memory broker): uploaded through
`start_import` as the page does, queued through the outbox, run in the background while the
parent of the job polls its progress. Each worker resets its peak-RSS counter (Linux
/proc/self/clear_refs) just before the job starts, so the peak reported is the job's own, and
also reports how far that peak rose above the memory the process held before the job.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
SIZES = (2_000, 20_000)
HEADER = ["编号", "类别", "姓名", "电话", "界别", "专长", "级别", "社区", "网格", "单位或部门", "职务", "备注"]
SECTORS = ("经济界", "教育界", "医药卫生界", "社会法制界", "农业界", "科技界")
SPECIALTIES = ("物业", "法律", "养老", "停车管理", "教育", "加装电梯", "医疗", "纠纷调解")


def rows(n: int):
    """Mostly members, some grid workers, and one bad row in a thousand (a phone that is not one)."""
    yield HEADER
    for i in range(n):
        grid = i % 10 == 0
        phone = "12345" if i % 1000 == 999 else 13_000_000_000 + i
        yield [f"P{i:06d}", "网格员" if grid else "政协委员", f"委员{i:05d}", phone, "" if grid else SECTORS[i % 6],
               "" if grid else f"{SPECIALTIES[i % 8]}、{SPECIALTIES[(i + 3) % 8]}", "" if grid else "街道级",
               "燕子山社区" if i % 2 else "立功社区", f"{1 + i % 4} 网格" if i % 2 else f"{5 + i % 2} 网格",
               f"单位{i}", "主任" if i % 3 == 0 else "", f"第 {i} 号备注"]


def rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(path: str, n: int) -> dict:
    """One worker process: set up a street, upload the file, run the import job, measure."""
    import dramatiq

    from shangliang import create_app
    from shangliang.accounts.operations import create_user
    from shangliang.core import jobs
    from shangliang.core.db import db
    from shangliang.core.tenancy import tenant_context
    from shangliang.roster.imports import find_import, start_import
    from shangliang.tenants.models import Community
    from shangliang.tenants.operations import create_tenant
    from tenant_create import setup

    cfg, drop = setup()
    app = create_app(cfg)
    with app.app_context():
        county = create_tenant(None, kind="county", slug="county", name="历下区", admin=create_user(
            "county-admin", "管理员", "bench-password-123"))
        street = create_tenant(None, kind="street", slug="street", name="燕山街道", parent=county)
        with tenant_context(street.id):
            db.add(Community(tenant_id=street.id, name="燕子山社区", grids=["1 网格", "2 网格", "3 网格", "4 网格"]))
            db.add(Community(tenant_id=street.id, name="立功社区", grids=["5 网格", "6 网格"], position=1))
            with open(path, "rb") as fh:
                row = start_import(street, None, "名册.xlsx", fh)
            import_id = row.id
            worker = dramatiq.Worker(jobs.broker(), worker_threads=1)
            before = rss_kb("VmRSS")
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here on is the job's peak
            db.commit()  # sends the job
            worker.start()
        progress, t0 = [], time.perf_counter()
        while True:  # the page's view of it: poll the row while the job runs in the background
            with tenant_context(street.id):
                row = find_import(import_id)
                state = (row.status, row.done_rows, row.total_rows)
                db.rollback()
            if not progress or progress[-1] != state:
                progress.append(state)
            if state[0] in ("done", "failed"):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t0
        worker.stop()
        with tenant_context(street.id):
            row = find_import(import_id)
            result = {"rows": n, "status": row.status, "seconds": round(seconds, 2),
                      "peak_kb": rss_kb("VmHWM"), "before_kb": before, "created": row.created_count,
                      "refused": len({r["row"] for r in row.refused if r["row"]}),
                      "progress_steps": len(progress),
                      "progress_seen": [f"{d}/{t}" for s, d, t in progress if s == "running"][:6]}
    drop()
    return result


def measure(n: int, directory: str) -> dict:
    from support.excel_like import write_xlsx

    path = os.path.join(directory, f"roster-{n}.xlsx")
    write_xlsx(path, rows(n), n + 1, len(HEADER))
    out = subprocess.run([sys.executable, __file__, "--child", path, str(n)], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != "done":
        raise SystemExit(f"the {n}-row import {result['status']}:\n{out.stderr[-3000:]}")
    result["file_bytes"] = os.path.getsize(path)
    return result


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]))))
        return
    with tempfile.TemporaryDirectory(prefix="bench-roster-") as directory:
        small, large = (measure(n, directory) for n in SIZES)
    growth = lambda r: max(0, r["peak_kb"] - r["before_kb"])  # noqa: E731
    report = {"small": small, "large": large, "peak_ratio": round(large["peak_kb"] / small["peak_kb"], 3),
              "growth_kb": [growth(small), growth(large)]}
    if "--json" in sys.argv:
        print(json.dumps(report))
        return
    print("roster import (Excel with a shared-string table), one worker process per size")
    for r in (small, large):
        print(f"  {r['rows']:>6} rows  {r['file_bytes'] / 1e6:5.2f} MB file  {r['seconds']:6.1f} s  "
              f"peak RSS {r['peak_kb'] / 1024:6.1f} MB  (+{growth(r) / 1024:4.1f} MB over the worker before "
              f"the job)  created {r['created']}, refused {r['refused']}, progress {', '.join(r['progress_seen'])} …")
    print(f"  peak ratio 20k / 2k: {report['peak_ratio']:.2f}   rise over baseline: "
          f"{growth(small) / 1024:.1f} MB → {growth(large) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
