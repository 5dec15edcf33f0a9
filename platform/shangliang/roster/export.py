"""The roster written out: the whole roster as .xlsx (it imports back unchanged) and the empty
template with a sheet explaining each column."""
from __future__ import annotations

import io

from sqlalchemy import select

from ..accounts.models import User
from ..core import spreadsheets as xl
from ..core.db import db
from .models import Person
from .operations import KIND_LABELS, KIND_ORDER, LEVEL_LABELS
from .readers import HEADERS

EXPORT_HEADERS = [names[0] for names in HEADERS.values()] + ["状态"]


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
    wb = xl.workbook(write_only=True)
    ws = wb.create_sheet("名册")
    xl.append(ws, EXPORT_HEADERS)
    count = 0
    stmt = (select(Person, User.username).outerjoin(User, User.id == Person.user_id)
            .order_by(KIND_ORDER, Person.name, Person.id).execution_options(yield_per=500))
    for person, username in db.execute(stmt):
        xl.append(ws, _row_of(person, username))
        count += 1
    wb.save(fh)
    return count


def template_xlsx() -> bytes:
    """An empty roster with its headers, and a sheet explaining each column."""
    wb = xl.workbook()
    ws = wb.active
    ws.title = "名册"
    xl.append(ws, [names[0] for names in HEADERS.values()])
    ws.freeze_panes = "A2"
    help_ = wb.create_sheet("填写说明")
    xl.append(help_, ["列", "说明"])
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
        xl.append(help_, list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
