"""Where a resident's 点单 comes from when they scanned a poster's QR code: a station (庭院网格e站,
委员工作室, 议事室) or a grid of the street. The 点单 form's address names it (`?station=<id>`, or
`?community=…&grid=…`), the form shows it and sends it back, and the topic records it with its
own intake channel, so benchmarking counts QR-raised topics by channel.

Whatever the address says is only a hint: a station that is unknown, of another street, no longer
active or not an id at all, and a grid that is not on the street's lists, are dropped without a
word, and the form is the plain 点单 form (a printed poster outlives the station it names)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import select

from ..core.db import db
from ..roster.models import Station
from ..roster.operations import STATION_KIND_LABELS
from ..tenants.models import Tenant
from ..topics import places

STATION, GRID = "station_qr", "grid_qr"  # their intake channels (topics/channels.py)
NAME_MAX = 60  # community and grid names, as the street's lists keep them


@dataclass(frozen=True)
class Origin:
    channel: str
    station: Station | None = None
    community: str | None = None
    grid: str | None = None

    @property
    def name(self) -> str:
        return self.station.name if self.station is not None else f"{self.community} {self.grid}"

    @property
    def kind(self) -> str:
        """What kind of place it is, in words (a source string for `_`)."""
        return STATION_KIND_LABELS.get(self.station.kind, "站点") if self.station is not None else "网格"

    @property
    def fixed_community(self) -> bool:
        """A grid belongs to one community: the form does not ask for it again."""
        return self.grid is not None

    def fields(self) -> dict:
        """What the form sends back (hidden fields), to be read again by `of`."""
        if self.station is not None:
            return {"station": str(self.station.id)}
        return {"community": self.community, "grid": self.grid}


def of(tenant: Tenant, values: Mapping) -> Origin | None:
    """The station or grid `values` (a query string or a form) name, if it is one of this street's."""
    station = _station(values.get("station"))
    if station is not None:
        communities, _categories = places.lists(tenant.id)
        community = station.community if not communities or station.community in communities else None
        return Origin(STATION, station=station, community=community)
    community, grid = (_name(values.get(k)) for k in ("community", "grid"))
    if community and grid and grid in places.lists(tenant.id)[0].get(community, ()):
        return Origin(GRID, community=community, grid=grid)
    return None


def _station(raw) -> Station | None:
    if not isinstance(raw, str) or not raw or len(raw) > 40:
        return None
    try:
        station_id = uuid.UUID(raw)
    except ValueError:
        return None
    # The tenant filter keeps another street's stations out (core/tenancy.py).
    return db.scalar(select(Station).where(Station.id == station_id, Station.active.is_(True)))


def _name(raw) -> str | None:
    value = raw.strip() if isinstance(raw, str) else ""
    return value if 0 < len(value) <= NAME_MAX else None
