"""The export and import entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register


def _exports(_target, _detail):
    return "transfer.index", {}


def _none(_target, _detail):
    return None


register("export.request", "申请导出全部数据", "Data export requested", "export", name=_none, link=_exports)
register("export.done", "数据导出完成", "Data export done", "system", name=_none, link=_exports)
register("export.download", "下载导出的数据", "Data export downloaded", "export", name=_none, link=_exports)
register("tenant.import", "导入单位数据", "Unit data imported", "export", lookup="tenant")
