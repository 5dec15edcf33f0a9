"""The departments area's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register, register_reason


def _department(target, _detail):
    return "departments.edit", {"department_id": target}


def _of(_target, detail):
    return detail.get("department")


register("department.create", "新建部门或单位", "Department created", link=_department)
register("department.update", "修改部门或单位", "Department changed", link=_department)
register("department.contact_add", "添加部门联系人", "Department contact added", lookup="user")
register("department.contact_remove", "移除部门联系人", "Department contact removed", lookup="user_id")
register_reason("county departments", "查看区县的部门", "The county's departments")
