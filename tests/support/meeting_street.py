"""燕山街道 for the meetings: built once per module, copied for each test (they all change it)."""
from __future__ import annotations

import pytest

import factories
from support.databases import build_once

ROSTER = [("member", "李委员", "律师事务所"), ("member", "赵委员", None), ("community_secretary", "王书记", "燕子山社区"),
          ("grid_worker", "孙网格员", None), ("department_contact", "钱科长", "城管中心"),
          ("resident_rep", "周大姐", None), ("partner", "物业公司", "鑫源物业")]
ROSTER_FIELDS = {"孙网格员": {"grid": "1 网格"},  # a grid worker is bound to a grid
                 "钱科长": {"username": "yanshan-member"}}  # an owner with a login


def build_street(world):
    """燕山街道 with a procedure whose 商单 step asks for a consultation record, a topic at that step
    (#1) and one still at intake (#2), and a roster."""
    street = world.yanshan
    factories.procedure(street)
    first, _second = (factories.raise_topic(street, title=title) for title in ("3 号楼楼道灯不亮", "小区停车难"))
    people = {name: factories.person(street, kind, name, organisation=org, **ROSTER_FIELDS.get(name, {}))
              for kind, name, org in ROSTER}
    for kind, to, data in (("record", None, {"category": "公共设施", "description": "楼道灯坏了"}), ("advance", "shang", {})):
        factories.act(street, first, kind, roles={"street_admin"}, data=data, to=to)
    return {name: str(p.id) for name, p in people.items()}


@pytest.fixture(scope="module")
def built(request, tmp_path_factory):
    """Built once; every test gets a copy of its own (they all change it)."""
    return build_once(request, tmp_path_factory, build_street, shared=False)


@pytest.fixture
def street(built):
    """The roster's person ids by name."""
    return built.data


