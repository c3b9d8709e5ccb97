"""The service catalogue: the shipped file is complete and round-trips; bad lines are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, line_instance
from hypothesis import given, settings
from hypothesis import strategies as st

from optimizer.economics.catalogue import (
    COLUMNS,
    DRIVERS,
    PRICED_TIERS,
    TIERS,
    Catalogue,
    Service,
    parse_catalogue,
    read_catalogue,
    write_catalogue,
)
from optimizer.economics.costs import cost_rates
from optimizer.errors import CatalogueError, ModelError

SHIPPED = ROOT / "models" / "services-pohjois-pohjanmaa.csv"
DATA = Path(__file__).resolve().parent / "data" / "catalogues"


def test_shipped_catalogue_reads_and_writes_back_unchanged(tmp_path):
    cat = read_catalogue(SHIPPED)
    out = tmp_path / "copy.csv"
    write_catalogue(cat, out)
    assert out.read_bytes() == SHIPPED.read_bytes()
    assert read_catalogue(out).services == cat.services


# The slides' services, by a word of their Finnish name, in the tier the slides give them.
SLIDES = {
    "organiser": ["Johtaminen", "Hallinto", "Digitaaliset", "hankinnat", "Asiantuntija",
                  "maksatus", "Työpaikkailmoitukset", "EURES", "kampanjat", "Palkkatuki",
                  "Työolosuhteiden", "Vuorotteluvapaa", "Muutosturva"],
    "regional": ["neuvonta", "Työnvälitys", "POMA", "Palvelutarpeen", "Asiantuntija-arvioinnit",
                 "koulutuskokeilu", "Valmennuspalvelut", "Viranomaispäätökset", "TYP",
                 "Aktivointisuunnitelma", "Kotopalvelut", "Työkykykoordinaattorin",
                 "Starttiraha", "yrityskäynnit", "Ehdokashaku", "Työtarjoukset", "Työkokeilu",
                 "Muutosturva"],
    "municipal": ["elinvoimapalveluihin", "Työllisyyttä edistävät", "täydentävät"],
    "state": ["suuryritysten", "rakennemuutos", "Work In Finland", "Työlupa", "TE-live",
              "TE-digi", "Oikeudellisen", "Työttömyysturva", "Palkkaturva", "TE-ASPA", "Onni",
              "PK-yritysten"],
}


@pytest.mark.parametrize("tier", sorted(SLIDES))
def test_shipped_catalogue_lists_every_service_of_the_slides(tier):
    cat = read_catalogue(SHIPPED)
    names = [s.name_fi.lower() for s in cat.tier(tier)]
    missing = [w for w in SLIDES[tier] if not any(w.lower() in n for n in names)]
    assert not missing, f"{tier}: no service named like {missing}"


def test_shipped_catalogue_is_priced_with_reasons():
    cat = read_catalogue(SHIPPED)
    assert {s.tier for s in cat.services} == set(TIERS)
    assert {s.driver for s in cat.services if s.priced} == set(DRIVERS) - {"none"}
    for s in cat.services:
        assert s.name_fi and s.name_en
        if s.tier in PRICED_TIERS or s.tier == "on_demand":
            assert s.reason, s.service
        else:
            assert (s.unit_cost, s.staff, s.driver) == (0, 0, "none"), s.service


# -- round trip of any catalogue ------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\r\n'),
               min_size=1, max_size=12).map(str.strip).filter(bool)
number = st.one_of(st.integers(0, 10**7).map(float),
                   st.floats(0, 1e6, allow_nan=False, allow_infinity=False))


@st.composite
def services(draw):
    n = draw(st.integers(1, 6))
    out = []
    for k in range(n):
        tier = draw(st.sampled_from(TIERS))
        if tier in ("municipal", "state"):
            driver, cost, staff = "none", 0.0, 0.0
        else:
            driver = draw(st.sampled_from([d for d in DRIVERS if d != "none"]))
            cost = draw(number)
            staff = 0.0 if driver == "fte" else draw(number)
        out.append(Service(f"s{k}", tier, draw(text), draw(text), draw(text), driver, cost,
                           staff, draw(text)))
    return Catalogue(tuple(out))


@settings(max_examples=60, deadline=None)
@given(services())
def test_any_catalogue_round_trips(cat):
    again = parse_catalogue(cat.to_csv())
    assert again.services == cat.services
    assert again.to_csv() == cat.to_csv()


# -- defects: one line naming the file, line and column -----------------------------------

CATALOGUE_DEFECTS = {
    "bad_driver.csv": (":3:", "'driver'", "'per_person'"),
    "bad_tier.csv": (":3:", "'tier'", "'county'"),
    "unit_cost_not_number.csv": (":3:", "'unit_cost'", "'two'"),
    "negative_staff.csv": (":3:", "'staff'", "'-0.1'"),
    "duplicate_service.csv": (":3:", "'area_management'", "twice", "line 2"),
    "missing_column.csv": (":1:", "missing column 'staff'"),
    "state_with_cost.csv": (":3:", "state service", "without cost"),
    "fte_driver_with_staff.csv": (":3:", "'staff'", "per FTE"),
    "priced_without_reason.csv": (":3:", "'reason'", "'coaching'"),
    "short_row.csv": (":3:", "expected 9 columns, got 7"),
    "empty_finnish_name.csv": (":3:", "'name_fi'", "'coaching'"),
}


def test_every_catalogue_defect_file_is_listed():
    assert {p.name for p in DATA.glob("*.csv")} == set(CATALOGUE_DEFECTS)


@pytest.mark.parametrize("name", sorted(CATALOGUE_DEFECTS))
def test_catalogue_defect_is_one_named_error(name):
    path = DATA / name
    with pytest.raises(CatalogueError) as info:
        read_catalogue(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    for needle in CATALOGUE_DEFECTS[name]:
        assert needle in message, f"{needle!r} not in {message!r}"


def test_catalogue_header_is_the_documented_one():
    # the shipped catalogue says where every line's figures come from (source, year)
    assert SHIPPED.read_text(encoding="utf-8").splitlines()[0] == ",".join(COLUMNS) \
        + ",source,year"


# -- tiers and rates --------------------------------------------------------------------

SMALL = """service,tier,group,name_fi,name_en,driver,unit_cost,staff,reason
office,regional,c,Toimisto,Office,area,100,1,one per area
brokering,regional,c,Työnvälitys,Brokering,jobseeker,2,0.5,per jobseeker
desk,organiser,c,Johto,Management,region,1000,2,once
steering,organiser,c,Ohjaus,Steering,area,10,0.25,per area
tools,organiser,c,Välineet,Tools,fte,3,0,per staff member
permits,state,s,Luvat,Permits,none,0,0,
"""


def test_rates_follow_the_tiers():
    inst = line_instance(range(3), {"jobseekers": [2, 4, 6], "population": [1, 1, 1]})
    r = cost_rates(parse_catalogue(SMALL), inst, np.array([True, True, False]))
    np.testing.assert_array_equal(r.area_variable, [4, 8, 12])
    np.testing.assert_array_equal(r.area_staff, [1, 2, 3])
    assert (r.area_fixed, r.area_staff_fixed) == (100, 1)
    assert (r.common_fixed, r.common_per_area, r.common_per_fte) == (1000, 10, 3)
    assert (r.common_staff_fixed, r.common_staff_per_area) == (2, 0.25)
    # 3 production areas in the organiser's area with 10 FTE, staff at 50 per FTE:
    # 1000 + 3·10 + 10·3 + ⌈2 + 0.75⌉·50 = 1210
    assert r.common_fte(3) == 3 and r.common_fte(3, whole=False) == 2.75
    assert r.common_cost(3, 10, 50) == 1210


def test_moving_services_between_tiers_moves_their_rates():
    inst = line_instance(range(3), {"jobseekers": [2, 4, 6], "population": [1, 1, 1]})
    cat = parse_catalogue(SMALL).with_tiers({"desk": "regional", "brokering": "organiser"})
    r = cost_rates(cat, inst, np.ones(3, dtype=bool))
    # the region's desk is now run in every area; brokering counts the organiser's area
    assert r.area_fixed == 1100 and r.area_staff_fixed == 3
    np.testing.assert_array_equal(r.area_variable, [0, 0, 0])
    assert r.common_fixed == 2 * 12 and r.common_staff_fixed == 0.5 * 12


@pytest.mark.parametrize("moves, needle", [
    ({"nothing": "organiser"}, "no service 'nothing'"),
    ({"desk": "county"}, "must be one of"),
    ({"desk": "state"}, "without cost"),
])
def test_bad_tier_moves_name_the_key(moves, needle):
    with pytest.raises((ModelError, CatalogueError)) as info:
        parse_catalogue(SMALL).with_tiers(moves, "m.toml")
    assert f"m.toml: 'services.tiers.{next(iter(moves))}'" in str(info.value)
    assert needle in str(info.value)


def test_source_and_year_columns_go_together_and_round_trip(tmp_path):
    from optimizer.economics.catalogue import parse_catalogue

    head = "service,tier,group,name_fi,name_en,driver,unit_cost,staff,reason"
    line = "x,regional,c,X,X,jobseeker,1,0,why"
    cat = parse_catalogue(f"{head},source,year\n{line},illustrative: a guess,2025\n")
    assert cat.sourced and cat.services[0].source == "illustrative: a guess"
    assert parse_catalogue(cat.to_csv()).to_csv() == cat.to_csv()
    assert parse_catalogue(f"{head}\n{line}\n").services[0].source == ""
    with pytest.raises(CatalogueError, match="columns 'source' and 'year' go together"):
        parse_catalogue(f"{head},source\n{line},x\n")
    with pytest.raises(CatalogueError, match=r":2: 'year' must be a year such as 2025"):
        parse_catalogue(f"{head},source,year\n{line},x,next year\n")
