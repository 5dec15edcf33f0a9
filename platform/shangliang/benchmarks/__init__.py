"""Benchmarking (对标): rollups per tenant and period, rankings, published rankings, pages and files."""
import importlib as _importlib
import sys as _sys
import types as _types


class _Moved(_types.ModuleType):
    """TEMPORARY (issue 11): a module that moved, answering at its old path. The member ledger is
    now shangliang.ledger; api/ledger.py and the app factory still import `benchmarks.ledger` and
    `benchmarks.ledger_views`. Lazy, since the ledger imports benchmarks; here rather than in files
    at the old paths, so that edits made meanwhile to the old modules follow their renames."""

    def __init__(self, old: str, new: str):
        super().__init__(old)
        self.__dict__["_new"] = new

    def __getattr__(self, name):
        return getattr(_importlib.import_module(self.__dict__["_new"]), name)


for _old, _new in (("ledger", "shangliang.ledger.operations"), ("ledger_views", "shangliang.ledger.views")):
    globals()[_old] = _sys.modules[f"{__name__}.{_old}"] = _Moved(f"{__name__}.{_old}", _new)
