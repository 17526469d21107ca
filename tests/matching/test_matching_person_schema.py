"""Person schema from normalized frames, and the household pass (land owners: tests/test_land_owners.py)."""

import duckdb
import polars as pl
from matching_factory import (
    background_registry,
    copy_as_registry,
    load,
    person,
    population,
)

from matching.link import link_records
from matching.normalize.frame import normalize_columns
from matching.person_schema import SCHEMA, to_person_schema
from matching.settings import LinkSettings


def test_registry_ids_sorted_by_kind_and_lost_zero_restored():
    df = pl.DataFrame(
        {
            "source_row": [1, 2, 3],
            "ho_ten": ["Nguyễn Văn An", "Lê Thị Hoa", ""],
            "ngay_sinh": ["1963", "1950", ""],
            "so": ["31063558124", "123456789", ""],
        }
    )
    norm = normalize_columns(df, [("ho_ten", "name"), ("ngay_sinh", "date"), ("so", "id")], dob_column="ngay_sinh")
    out = to_person_schema(norm, {"ho_ten": "ho_ten", "id": "so"})
    assert list(out.columns) == list(SCHEMA)
    assert out["rec_id"].to_list() == [10, 20, 30]
    assert out["id12"].to_list() == ["031063558124", None, None]
    assert out["cmnd9"].to_list() == [None, "123456789", None]
    assert out["ho_ten_key"].to_list() == ["nguyen van an", "le thi hoa", None]


def test_co_owner_found_in_household_of_linked_owner():
    pop = population(3000)
    husband, wife, child = pop[100], pop[101], pop[102]
    households = {husband["rec_id"]: "HH1", wife["rec_id"]: "HH1", child["rec_id"]: "HH1"}
    wife_row = person(11, wife["ho_ten"], None, wife["gioi_tinh"])  # a bare name, as on a certificate
    con = duckdb.connect()
    load(con, "population", pop)
    con.execute("ALTER TABLE population ADD COLUMN ma_ho VARCHAR")
    con.execute("UPDATE population SET ma_ho = 'H' || rec_id")
    con.executemany("UPDATE population SET ma_ho = ? WHERE rec_id = ?", [(h, r) for r, h in households.items()])
    others = pop[:90] + pop[110:]
    load(con, "registry", background_registry(others) + [copy_as_registry(husband, 10), wife_row])
    res = link_records(con, "registry", "population", LinkSettings(u_sample_pairs=50_000))
    links = {r["rec_id"]: r for r in res.links.iter_rows(named=True)}
    assert links[10]["method"] == "id_exact"
    assert (links[11]["method"], links[11]["status"], links[11]["pop_rec_id"]) == (
        "household",
        "matched",
        wife["rec_id"],
    )
