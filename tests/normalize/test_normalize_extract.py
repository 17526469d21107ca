"""The CSDLQG extract's normalization at scale (issue 16): chunked, only the kept columns, on disk.

Real parts: the demo's 5,000-person extract (data/sample, with its defects) read by the pipeline's
reader, normalized as `doisoat run` does, written to and read back from a DuckDB warehouse file.
Each test compares against the straightforward computation (the whole frame at once, every column
normalized, the rows as written), so a chunk boundary, a skipped column or the cache that changed
one value fails it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines import normalize, warehouse
from pipelines.ingest import read_csv_fast
from pipelines.normalize import (
    POPULATION_COLUMNS,
    ExtractStore,
    load_population,
    normalize_extract,
    population_persons,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "population.csv"


@pytest.fixture(scope="module")
def raw() -> pl.DataFrame:
    res = read_csv_fast(SAMPLE, POPULATION_COLUMNS)
    assert res is not None and res.frame.height == 5000
    return res.frame


def test_an_extract_normalized_in_chunks_equals_it_normalized_whole(raw, tmp_path):
    whole = normalize._normalized_population(raw, "sha")
    store = ExtractStore(tmp_path)
    rows, with_id = normalize_extract(raw, "sha", POPULATION_COLUMNS, store, chunk_rows=777)
    assert len(store.parts) == 7 and rows == 5000  # 6 full chunks and a short one
    assert with_id == whole.height - whole["id12"].null_count()
    assert store.scan().collect().equals(whole)


def test_columns_left_unnormalized_change_nothing_kept(raw, monkeypatch):
    """The extract's address and place columns are kept as read: normalizing them too gives the same rows."""
    selective = normalize._normalized_population(raw, "sha")
    every = frozenset(c.name for c in POPULATION_COLUMNS)
    assert every - normalize.NORMALIZED_EXTRACT_COLUMNS  # some are skipped indeed
    monkeypatch.setattr(normalize, "NORMALIZED_EXTRACT_COLUMNS", every)
    assert normalize._normalized_population(raw, "sha").equals(selective)


def test_the_cached_extract_is_the_extract_as_normalized(tmp_path):
    """Cold (read, normalize, insert from the Parquet parts) then warm (streamed back from the
    warehouse): same rows, same persons for the matcher, same extract problems."""
    db = tmp_path / "w.duckdb"
    cold = load_population(db, SAMPLE)
    assert not cold.cached and cold.height == 5000
    assert cold.store.dir is not None and cold.store.dir.parent.name.startswith(".doisoat-tmp-")
    rows = cold.warehouse_rows("r1")
    assert isinstance(rows, warehouse.ParquetRows)
    con = warehouse.connect(db)
    try:
        assert warehouse.insert_parquet(con, "population", rows) == 5000
        assert con.execute("SELECT count(*), min(run_id), max(run_id) FROM population").fetchone() == (5000, "r1", "r1")
    finally:
        con.close()
    warm = load_population(db, SAMPLE)
    assert warm.cached and warm.height == 5000
    assert warm.frame.equals(cold.frame)
    assert population_persons(warm).equals(population_persons(cold))
    assert warm.issues.equals(cold.issues)  # not stored (none found): checked again on the cached rows
    store_dir = warm.store.dir
    del warm
    assert not store_dir.exists()  # the parts go with the store


def test_linked_persons_are_every_row_of_their_ids(tmp_path):
    """The findings get the persons the links name: by pop_rec_id, and every row carrying a linked
    ID (a repeated ID's rows all come, in extract order), nothing else."""
    pop = load_population(tmp_path / "w.duckdb", SAMPLE)
    whole = pop.frame
    ids = whole.filter(pl.col("so_dinh_danh").is_not_null())["so_dinh_danh"].head(3)
    links = pl.DataFrame({"pop_rec_id": [10, None], "so_dinh_danh": [None, ids[2]]})
    got = pop.persons_of(links)
    expected = whole.filter((pl.col("pop_rec_id") == 10) | (pl.col("so_dinh_danh") == ids[2]))
    assert got.equals(expected)
    assert pop.persons_of(links, "pop_rec_id").columns == ["pop_rec_id"]


def test_with_an_encrypted_warehouse_nothing_of_the_extract_goes_to_disk(tmp_path, monkeypatch):
    monkeypatch.setenv(warehouse.KEY_ENV, "k" * 24)
    pop = load_population(tmp_path / "w.duckdb", SAMPLE)
    assert pop.store.dir is None and not pop.store.parts
    assert not list(tmp_path.rglob("*.parquet"))
    assert isinstance(pop.warehouse_rows("r1"), pl.DataFrame) and pop.height == 5000


def test_cached_rows_stored_out_of_order_come_back_in_extract_order(tmp_path):
    """The cache is streamed in insertion order when that is pop_rec_id order, and read sorted otherwise."""
    db = tmp_path / "w.duckdb"
    cold = load_population(db, SAMPLE)
    shuffled = cold.frame.with_columns(pl.lit("r1").alias("run_id")).sort("pop_rec_id", descending=True)
    con = warehouse.connect(db)
    try:
        warehouse.insert_frame(con, "population", shuffled)
    finally:
        con.close()
    warm = load_population(db, SAMPLE)
    assert warm.cached and warm.height == 5000 and warm.frame.equals(cold.frame)


def test_next_months_extract_normalizes_only_its_new_rows(tmp_path, monkeypatch):
    """Month 2 = month 1 with rows changed, removed, added, moved and repeated: with month 1 in the
    warehouse only the rows not seen before are normalized, and the result is exactly a cold
    normalization of month 2 (same rows, same places, same persons for the matcher)."""
    month1 = pl.read_csv(SAMPLE, infer_schema=False)
    changed = month1.with_row_index("_i").with_columns(
        pl.when(pl.col("_i") % 250 == 7).then(pl.col("ho_ten") + " Anh").otherwise(pl.col("ho_ten")).alias("ho_ten"),
        pl.when(pl.col("_i") % 500 == 3).then(pl.lit("2024-05-01")).otherwise(pl.col("ngay_mat")).alias("ngay_mat"),
    )
    kept = changed.filter(pl.col("_i") % 333 != 5)  # some persons left
    month2 = pl.concat([kept.tail(100), kept.head(kept.height - 100), kept.slice(40, 3)]).drop("_i")  # moved, repeated
    month2 = pl.concat([month2, month1.slice(10, 2).with_columns(pl.lit("Người Mới").alias("ho_ten"))])
    pl.DataFrame(month1).write_csv(tmp_path / "t1.csv")
    month2.write_csv(tmp_path / "t2.csv")

    db = tmp_path / "w.duckdb"
    first = load_population(db, tmp_path / "t1.csv")
    con = warehouse.connect(db)
    try:
        warehouse.insert_parquet(con, "population", first.warehouse_rows("r1"))
    finally:
        con.close()
    seen = {}
    real = normalize.normalize_extract

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        seen.setdefault("reuse", kwargs.get("reuse"))  # the first call: load_population's
        return out

    monkeypatch.setattr(normalize, "normalize_extract", spy)
    second = load_population(db, tmp_path / "t2.csv")
    cold = normalize.read_population(tmp_path / "t2.csv", second.sha256)  # no warehouse: everything normalized
    assert not second.cached and second.height == month2.height
    new_or_changed = month2.join(month1, on=month1.columns, how="anti", nulls_equal=True).height
    assert 20 < new_or_changed < 60  # the changed names and deaths, the new persons
    assert seen["reuse"].reused == month2.height - new_or_changed
    assert second.frame.equals(cold.frame)
    assert population_persons(second).equals(population_persons(cold))
    assert second.issues.equals(normalize.extract_issues(cold))


def test_fingerprints_follow_the_frames_row_order(raw):
    """One MD5 per row, in the frame's order (no sort): each row's hash is that of the row alone."""
    names = [c.name for c in POPULATION_COLUMNS]
    many = pl.concat([raw] * 30)  # 150,000 rows: several DuckDB vectors and threads
    hashes = normalize.fingerprint(many, names)
    assert hashes.len() == many.height
    alone = [normalize.fingerprint(many.slice(i, 1), names).item() for i in (0, 4999, 77_777, 149_999)]
    assert alone == [hashes[i] for i in (0, 4999, 77_777, 149_999)]
    assert hashes.slice(0, 5000).equals(hashes.slice(145_000, 5000))
