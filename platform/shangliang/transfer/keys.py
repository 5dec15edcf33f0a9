"""The storage keys an archive's rows carry: every one must lie under the archive's own prefix.

A key names an object; the import moves the archive's objects and rewrites the keys under its
prefix to the new tenant's. A key outside it would name another tenant's object (an edited
`logo_key` pointing at a neighbour's logo), which the new tenant would then serve or delete as its
own: such an archive is refused whole, naming the file, the row and the field."""
from __future__ import annotations

import re

from sqlalchemy import Table

from ..core.storage import KEY_RE, tenant_prefix
from .archive import ImportRefused

PREFIX_RE = re.compile(r"tenants/(0|[1-9][0-9]*)/")
KEY_START = "tenants/"  # any text that begins so is taken for a key, wherever it is (JSON included)


def source_prefix(manifest: dict) -> str:
    """The prefix the archive's keys were made under (its objects are `files/<path below it>`)."""
    prefix = manifest.get("source_prefix")
    if prefix is None:  # older archives: the tenant's own id says it
        try:
            prefix = tenant_prefix(int(manifest["tenant"].get("id")))
        except (TypeError, ValueError):
            raise ImportRefused("导出文件的存储范围无效", repr(manifest["tenant"].get("id"))) from None
    if not isinstance(prefix, str) or not PREFIX_RE.fullmatch(prefix):
        raise ImportRefused("导出文件的存储范围无效", repr(prefix))
    return prefix


def _texts(value, path: str):
    """(where, text) of every string in a value, into JSON lists and objects."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _texts(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _texts(item, f"{path}.{k}")


class KeyCheck:
    """Called on each row before it is restored; refuses a key that is not the archive's own."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.declared: dict[str, set[str]] = {}

    def _declared(self, table: Table) -> set[str]:
        if table.name not in self.declared:  # the columns the models mark as holding a key
            self.declared[table.name] = {c.name for c in table.columns if c.info.get("storage_key")}
        return self.declared[table.name]

    def __call__(self, table: Table, number: int, row: dict) -> None:
        declared = self._declared(table)
        for column, value in row.items():
            for where, text in _texts(value, column):
                if not (text.startswith(KEY_START) or where in declared):
                    continue
                detail = f"data/{table.name}.json 第 {number} 行 {where}: {text}"
                if not KEY_RE.fullmatch(text):
                    raise ImportRefused("导出文件中的存储键无效", detail, column)
                if not text.startswith(self.prefix):
                    raise ImportRefused("导出文件中的存储键不在本导出的存储范围内", detail, column)
