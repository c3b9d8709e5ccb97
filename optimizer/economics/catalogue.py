"""The service catalogue: every employment service, its tier, cost driver, unit cost and staff.

A catalogue is a CSV file in `models/` (one service a line) so planners can
edit it in a spreadsheet; `read_catalogue` validates it line by line and
`Catalogue.to_csv` writes it back unchanged. The tiers follow the region's
split of services: the organiser's common work, the regional leads'
statutory local services, services the organiser sells on demand, the
municipalities' own voluntary services and the state's tasks (the last two
listed without cost). Area costs and the organiser's common cost derive from
the priced tiers (see `optimizer.economics.costs`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..csvfile import Once, Table, parse_table, read_table
from ..errors import CatalogueError, ModelError
from ..values import LARGEST

TIERS = ("organiser", "regional", "on_demand", "municipal", "state")
"""organiser: centralised common work; regional: produced in each production area;
on_demand: sold by the organiser when a municipality orders it (priced, not in the plan);
municipal: each municipality's own voluntary services; state: tasks the state keeps."""
PRICED_TIERS = ("organiser", "regional")
UNPRICED_TIERS = ("municipal", "state")
DRIVERS = ("jobseeker", "fte", "resident", "labour_force", "area", "region", "none")
"""What one unit of a service is: a jobseeker, an FTE of staff, a resident, a labour-force
member, a production area, the region (once for whoever provides it), or nothing (no cost)."""
DRIVER_ATTRIBUTE = {"jobseeker": "jobseekers", "resident": "population",
                    "labour_force": "labour_force"}
"""Drivers counted per municipality, and the instance attribute that counts them."""
COLUMNS = ("service", "tier", "group", "name_fi", "name_en", "driver", "unit_cost", "staff",
           "reason")
SOURCE_COLUMNS = ("source", "year")
"""Optional columns: where a line's unit cost and staff come from (a citation, or
"illustrative: ...") and the year they describe."""
_ID = re.compile(r"[a-z0-9_]+")


@dataclass(frozen=True)
class Service:
    """One line of the catalogue. `unit_cost` is € per driver unit per year (staff pay
    excluded: staff is priced per FTE in the model's [staffing]); `staff` is FTE per
    driver unit."""

    service: str
    tier: str
    group: str
    name_fi: str
    name_en: str
    driver: str
    unit_cost: float
    staff: float
    reason: str
    source: str = ""
    year: str = ""

    @property
    def priced(self) -> bool:
        """Whether the service enters the plan's cost (organiser or regional tier)."""
        return self.tier in PRICED_TIERS and (self.unit_cost > 0 or self.staff > 0)


@dataclass(frozen=True)
class Catalogue:
    """The services in file order; `source` names the file for messages."""

    services: tuple[Service, ...]
    source: str = "<catalogue>"
    sourced: bool = False
    """The file has the `source` and `year` columns (written back with them)."""

    def tier(self, tier: str) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.tier == tier)

    def __getitem__(self, service: str) -> Service:
        for s in self.services:
            if s.service == service:
                return s
        raise KeyError(service)

    def with_tiers(self, moves: Mapping[str, str], source: str = "<model>") -> Catalogue:
        """A copy with some services moved to another tier (a scenario without editing the
        file). Errors name the model file `source` and the key 'services.tiers.<service>'."""
        known = {s.service for s in self.services}
        for name, tier in moves.items():
            key = f"{source}: 'services.tiers.{name}'"
            if name not in known:
                raise ModelError(f"{key}: no service {name!r} in {self.source}")
            if tier not in TIERS:
                raise ModelError(f"{key} must be one of {', '.join(TIERS)}, got {tier!r}")
        services = tuple(replace(s, tier=moves.get(s.service, s.tier)) for s in self.services)
        for s in services:
            if s.service in moves:
                _check_tier_rules(s, f"{source}: 'services.tiers.{s.service}'")
        return replace(self, services=services)

    def to_csv(self) -> str:
        """The catalogue as CSV text; a file written by this reads back to the same text."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS + (SOURCE_COLUMNS if self.sourced else ()))
        for s in self.services:
            w.writerow([s.service, s.tier, s.group, s.name_fi, s.name_en, s.driver,
                        format_number(s.unit_cost), format_number(s.staff), s.reason]
                       + ([s.source, s.year] if self.sourced else []))
        return buf.getvalue()


def format_number(v: float) -> str:
    """Shortest text that reads back to the same float ('12', '0.004', '12.5')."""
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(float(v))


def _check_tier_rules(s: Service, where: str) -> None:
    if s.tier in UNPRICED_TIERS and (s.unit_cost != 0 or s.staff != 0 or s.driver != "none"):
        raise CatalogueError(f"{where}: a {s.tier} service is listed without cost: "
                             "driver 'none', unit_cost 0 and staff 0")
    if s.tier in PRICED_TIERS and s.driver == "none" and (s.unit_cost or s.staff):
        raise CatalogueError(f"{where}: a priced service needs a driver other than 'none'")


def read_catalogue(path: str | Path) -> Catalogue:
    """Read and validate a catalogue CSV; errors name the file, line and column."""
    return _catalogue(read_table(path, "service catalogue", CatalogueError, key="service"))


def parse_catalogue(text: str, *, source: str = "<catalogue>") -> Catalogue:
    return _catalogue(parse_table(text, source, CatalogueError, key="service",
                                  what="service catalogue"))


def _catalogue(table: Table) -> Catalogue:
    source = table.source
    header = list(table.header)
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise CatalogueError(f"{source}:1: missing column '{missing[0]}' (the header needs "
                             f"{','.join(COLUMNS)})")
    extra = [c for c in header if c not in COLUMNS + SOURCE_COLUMNS]
    if extra:
        raise CatalogueError(f"{source}:1: unknown column '{extra[0]}'")
    sourced = all(c in header for c in SOURCE_COLUMNS)
    if not sourced and any(c in header for c in SOURCE_COLUMNS):
        raise CatalogueError(f"{source}:1: columns 'source' and 'year' go together (where a "
                             "line's figures come from, and their year)")
    columns = COLUMNS + (SOURCE_COLUMNS if sourced else ())
    services: list[Service] = []
    once = Once(table)
    for line, cell, cells in table.records({c: header.index(c) for c in columns}):
        if len(cells) != len(header):
            raise CatalogueError(f"{source}:{line}: expected {len(header)} columns, "
                                 f"got {len(cells)}")
        where = f"{source}:{line}"
        name = cell["service"]
        if not _ID.fullmatch(name):
            raise CatalogueError(f"{where}: 'service' must be an id of a-z, 0-9 and _, "
                                 f"got {name!r}")
        once(name, line, f"service {name!r}")
        for key in ("group", "name_fi", "name_en"):
            if not cell[key]:
                raise CatalogueError(f"{where}: empty '{key}' for service {name!r}")
        if cell["tier"] not in TIERS:
            raise CatalogueError(f"{where}: 'tier' must be one of {', '.join(TIERS)}, "
                                 f"got {cell['tier']!r}")
        if cell["driver"] not in DRIVERS:
            raise CatalogueError(f"{where}: 'driver' must be one of {', '.join(DRIVERS)}, "
                                 f"got {cell['driver']!r}")
        unit_cost = _number(cell["unit_cost"], "unit_cost", where)
        staff = _number(cell["staff"], "staff", where)
        s = Service(name, cell["tier"], cell["group"], cell["name_fi"], cell["name_en"],
                    cell["driver"], unit_cost, staff, cell["reason"],
                    cell.get("source", ""), _year(cell.get("year", ""), where))
        if s.driver == "fte" and s.staff:
            raise CatalogueError(f"{where}: 'staff' must be 0 for a service priced per FTE "
                                 f"({name!r} would need staff for its own staff)")
        if s.priced and not s.reason:
            raise CatalogueError(f"{where}: empty 'reason' for priced service {name!r} "
                                 "(say in one line why the unit cost is what it is)")
        _check_tier_rules(s, where)
        services.append(s)
    if not services:
        raise CatalogueError(f"{source}: the service catalogue lists no services")
    return Catalogue(tuple(services), source, sourced)


def _year(text: str, where: str) -> str:
    if text and not (text.isdigit() and 1900 <= int(text) <= 2100):
        raise CatalogueError(f"{where}: 'year' must be a year such as 2025, got {text!r}")
    return text


def _number(text: str, key: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise CatalogueError(f"{where}: '{key}' must be a number, got {text!r}") from None
    if not math.isfinite(v) or v < 0 or v > LARGEST:
        raise CatalogueError(f"{where}: '{key}' must be a finite number from 0 to "
                             f"{LARGEST:g}, got {text!r}")
    return v


def write_catalogue(catalogue: Catalogue, path: str | Path) -> None:
    Path(path).write_text(catalogue.to_csv(), encoding="utf-8")
