"""The brand's entries in the audit log, in words (audit/kinds.py)."""
from __future__ import annotations

from ..audit.kinds import register


def _brand(_target, _detail):
    return "branding.index", {}


register("brand.save", "保存品牌草稿", "Brand draft saved", link=_brand)
register("brand.publish", "发布品牌", "Brand published", link=_brand)
register("brand.restore", "恢复以前的品牌版本", "Earlier brand restored", link=_brand)
