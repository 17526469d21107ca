"""The normalize stage: registry rows and the CSDLQG extract, normalized and in the person schema.

ingest → **normalize → person schema** → match. Plain functions over polars frames: the CLI,
the tests, the Prefect flows (`pipelines/flow.py` wraps each as a task) and the benchmark
(`bench/bench_matching.py`) all prepare the matcher's input through this module, so what is
measured is what `doisoat run` runs. The normalized population is cached in the warehouse by
the extract's SHA-256 (`load_population`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from matching import library, person_schema
from matching.normalize.frame import normalize_columns
from matching.sql import quote_identifier
from matching.templates import FIELD_PREFIX
from pipelines import foreigners, progress, warehouse
from pipelines.catalogue import reference_columns
from pipelines.errors import InputError
from pipelines.ingest import (
    IngestResult,
    load_column_map,
    read_csv_fast,
    read_parquet_fast,
    read_table,
    sha256_file,
)
from pipelines.land import owners as land
from pipelines.spec import ColumnSpec, RegistrySpec
from validation.population import POPULATION_ISSUE_INPUT, population_issues

# The CSDLQG extract, declared like a registry (pipelines/population.yaml) so ingestion and
# normalization treat it alike.
POPULATION_COLUMNS: tuple[ColumnSpec, ...] = reference_columns()


# Which extract column plays which person role (matching.person_schema); the household code
# lets the matcher find a land co-owner in the household of the owner it linked.
POPULATION_ROLES = {
    "ho_ten": "ho_ten",
    "ngay_sinh": "ngay_sinh",
    "gioi_tinh": "gioi_tinh",
    "id12": "so_dinh_danh",
    "cmnd9": "so_cmnd_cu",
    "ma_tinh": "ma_tinh",
    "ma_xa": "ma_xa",
    "ho_ten_cha": "ho_ten_cha",
    "ho_ten_me": "ho_ten_me",
    "ma_ho": "ma_ho",
}


# The extract's columns the warehouse `population` table keeps by name (schema.py); a reference
# list's other columns travel in its `other_fields` JSON (raw, as read) for the comparison library.
EXTRACT_COLUMNS = tuple(c.name for c in POPULATION_COLUMNS)  # pipelines/population.yaml


# Rows of the extract normalized at a time: memory stays bounded by one chunk (plus the raw read),
# not by the extract; the normalizer parses each distinct value once per chunk. Whole DuckDB row
# groups (983,040 rows): the parts are inserted into the warehouse without a rewrite (write.py).
EXTRACT_CHUNK_ROWS = 8 * warehouse.ROW_GROUP_ROWS

# The extract columns whose normalized values the `population` table keeps (clean IDs, name, dates,
# the household code) or the person schema is built from (name and parents' keys, sex, date parts).
# The others (province and commune codes and names, the address text) are kept as read: normalizing
# them would be thrown away (a third of the extract's normalization time, measured at 1M rows).
NORMALIZED_EXTRACT_COLUMNS = frozenset(
    {"so_dinh_danh", "so_cmnd_cu", "ho_ten", "ngay_sinh", "gioi_tinh", "ho_ten_cha", "ho_ten_me", "ma_ho", "ngay_mat"}
)


class ExtractStore:
    """The normalized extract, in parts in pop_rec_id order: Parquet files in a private folder
    (mode 0700, inside the warehouse's spill folder, removed with it at the end of the command or
    when the store is garbage-collected), or kept in memory when the warehouse is encrypted (a key
    is set: nothing of the extract is written to disk unencrypted).

    Why on disk: at 10,000,000 persons a normalized extract is several GiB as a polars frame, and
    each stage needs a few of its columns (the matcher the person schema, the checks the linked
    persons, the warehouse all of it, inserted by DuckDB from the files): each reads what it needs."""

    def __init__(self, spill: Path | None = None, in_memory: bool = False):
        self.frames: list[pl.DataFrame] = []
        self.parts: list[Path] = []
        self.dir: Path | None = None
        if not in_memory:
            self.dir = Path(tempfile.mkdtemp(prefix="trich_xuat_", dir=spill))  # 0700
            weakref.finalize(self, shutil.rmtree, str(self.dir), True)

    @classmethod
    def for_warehouse(cls, db: Path | None) -> ExtractStore:
        if warehouse.warehouse_key() is not None:
            return cls(in_memory=True)
        return cls(warehouse.spill_dir(Path(db)) if db is not None else None)

    def add(self, frame: pl.DataFrame) -> None:
        if self.dir is None:
            self.frames.append(frame)
            return
        path = self.dir / f"part-{len(self.parts):05d}.parquet"
        frame.write_parquet(path, compression="lz4", statistics=False, row_group_size=warehouse.ROW_GROUP_ROWS)
        self.parts.append(path)

    def add_batches(self, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> None:
        """One part streamed from Arrow batches (DuckDB's result), one batch in memory at a time."""
        if self.dir is None:
            self.frames += [pl.from_arrow(b) for b in batches]
            return
        import pyarrow.parquet as pq  # lazy: ~0.1 s, only a cached extract is streamed

        path = self.dir / f"part-{len(self.parts):05d}.parquet"
        with pq.ParquetWriter(path, schema, compression="lz4", write_statistics=False) as out:
            for batch in batches:
                out.write_batch(batch, row_group_size=warehouse.ROW_GROUP_ROWS)
        self.parts.append(path)

    def scan(self) -> pl.LazyFrame:
        if self.dir is None:
            return pl.concat(self.frames, how="vertical").lazy()
        return pl.scan_parquet([str(p) for p in self.parts])


@dataclass
class Population:
    store: ExtractStore  # warehouse `population` columns (raw, clean and person schema), without run_id
    height: int
    sha256: str
    info: dict
    cached: bool
    issues: pl.DataFrame | None = None  # validation.population.population_issues of the extract
    issues_stored: bool = False  # the warehouse already holds them (population_issues, same SHA-256)
    columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS  # the reference spec it was read with

    def scan(self) -> pl.LazyFrame:
        return self.store.scan()

    def select(self, *columns: str) -> pl.DataFrame:
        """Some columns of every person (what a stage needs; the whole frame is `frame`)."""
        return self.scan().select(columns).collect()

    @property
    def frame(self) -> pl.DataFrame:
        """The whole normalized extract in memory: for small extracts and tests; the pipeline's
        stages read the columns or persons they need (`select`, `persons_of`)."""
        return self.scan().collect()

    def persons_of(self, links: pl.DataFrame, *columns: str) -> pl.DataFrame:
        """The persons `links` name, by pop_rec_id or by so_dinh_danh (every row carrying a named ID,
        in extract order), with `columns` (default all): for the findings and the evidence, which
        look at linked or candidate persons only."""
        named = pl.lit(False)
        if "pop_rec_id" in links.columns:
            rec_ids = links["pop_rec_id"].drop_nulls().unique().cast(pl.Int64)
            named = named | pl.col("pop_rec_id").is_in(rec_ids.implode())
        if "so_dinh_danh" in links.columns:
            ids = links["so_dinh_danh"].drop_nulls().unique().cast(pl.String)
            named = named | pl.col("so_dinh_danh").is_in(ids.implode())
        found = self.scan().filter(named)
        return (found.select(columns) if columns else found).collect()

    def warehouse_rows(self, run_id: str) -> warehouse.ParquetRows | pl.DataFrame:
        """The rows of the warehouse `population` table, inserted by DuckDB from the store's files."""
        if self.store.dir is None:
            return self.frame.with_columns(pl.lit(run_id).alias("run_id"))
        return warehouse.ParquetRows(
            files=tuple(str(p) for p in self.store.parts),
            height=self.height,
            constants={"run_id": run_id},
            replaces={"extract_sha256": self.sha256},
        )


def reference_spec_sha256(columns: tuple[ColumnSpec, ...]) -> str:
    """Fingerprint of a reference spec's columns: the population cache holds an extract as read
    with one spec (other headers or kinds give another normalization)."""
    text = json.dumps([asdict(c) for c in columns], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


DEFAULT_REFERENCE_SHA256 = reference_spec_sha256(POPULATION_COLUMNS)


def reference_key_is_id(columns: tuple[ColumnSpec, ...]) -> bool:
    """Whether the reference key (column so_dinh_danh) is a Vietnamese personal ID (kind id), or a
    reference list's own key (e.g. a record number) carried as text."""
    key = next((c for c in columns if c.name == "so_dinh_danh"), None)
    return key is None or key.kind == "id"


# ---------------------------------------------------------------- ingest + normalize --------------


def ingest_registry(spec: RegistrySpec, path: Path, column_map: Path | None = None) -> IngestResult:
    return read_table(Path(path), spec.columns, column_map=load_column_map(column_map))


def _dob_and_sex(columns: tuple[ColumnSpec, ...]) -> tuple[str | None, str | None]:
    sex = next((c.name for c in columns if c.role == "gioi_tinh"), None)
    dob = next((c.name for c in columns if c.role == "ngay_sinh"), None)
    return sex, dob


def normalize_frame(frame: pl.DataFrame, columns: tuple[ColumnSpec, ...], label: str = "Chuẩn hoá") -> pl.DataFrame:
    """The normalizer's derived columns for every spec column (never overwrites the raw one).

    A long frame shows progress column by column ("cột 3/14"), with the time left: the
    normalizer works on one column of all rows at a time (values parsed once per distinct value),
    so columns, not rows, are what gets done."""
    sex, dob = _dob_and_sex(columns)
    kinds = [(c.name, c.kind, c.language) for c in columns]  # the language switches Vietnamese-only repairs
    if frame.height < progress.LONG_ROWS:
        return normalize_columns(frame, kinds, sex_column=sex, dob_column=dob)
    with progress.rows(f"{label} {progress.number(frame.height)} dòng", len(kinds), unit="cột") as bar:
        return normalize_columns(
            frame, kinds, sex_column=sex, dob_column=dob, on_column=lambda name, done, total: bar.advance(1)
        )


def registry_roles(spec: RegistrySpec) -> dict[str, str]:
    """Person role → column, from the spec (an address role counts only for a parsed address)."""
    return {c.role: c.name for c in spec.columns if c.role and (c.role != "dia_chi" or c.kind == "address")}


def _null(dtype=pl.Utf8) -> pl.Expr:
    return pl.lit(None, dtype=dtype)


# ---------------------------------------------------------------- fingerprints --------------------


def fingerprint(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """MD5 of each row's values in `columns` (NULL as empty, a unit separator between), as hex.

    Why MD5 in DuckDB: the fingerprint is stored and compared across months, processes and
    library versions, which polars' own hash does not promise; DuckDB computes it vectorized
    over Arrow (no Python per row). Not a security measure: it recognizes a record, it does not
    hide it (the warehouse holds the values themselves). The rows come back in the frame's order
    without a sort: DuckDB keeps insertion order for a query without ORDER BY (its default
    preserve_insertion_order, set explicitly here); the sort cost 4.3 s of 4.6 s at 1,000,000 rows."""
    data = frame.select([pl.col(c).cast(pl.String) for c in columns])
    values = ", ".join(f"coalesce({quote_identifier(c)}, '')" for c in columns)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.register("_fp", data.to_arrow())
        out = con.execute(f"SELECT md5(concat_ws(chr(31), {values})) AS fp FROM _fp").pl()
    finally:
        con.close()
    return out["fp"]


def identity_columns(frame: pl.DataFrame) -> list[str]:
    """The person-schema and prepared field columns a record is compared on (its identity for the
    matcher): a reviewer's decision holds while these are unchanged."""
    return [c for c in frame.columns if (c in person_schema.SCHEMA and c != "rec_id") or c.startswith(FIELD_PREFIX)]


def with_fingerprints(spec: RegistrySpec, rows: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """Add `record_key` (the registry's own key and the owner's place; the identity hash when the key
    is empty), `identity_hash` (what the matcher compares) and `record_hash` (every column as read):
    how the same record is recognized in next month's file, whatever its row number."""
    raw = [c.name for c in spec.columns]
    source = rows.select("source_row", *raw)
    joined = persons.select("source_row", "owner_index").join(source, on="source_row", how="left")
    key = f"{spec.key_column}_clean" if f"{spec.key_column}_clean" in rows.columns else spec.key_column
    keys = persons.select("source_row").join(rows.select("source_row", pl.col(key).alias("_key")), on="source_row")
    identity = fingerprint(persons, identity_columns(persons))
    record = fingerprint(joined, ["owner_index", *raw])
    own_key = keys["_key"].cast(pl.String).str.strip_chars()
    record_key = (
        pl.when(own_key.str.len_chars() > 0)
        .then(pl.lit("k:") + own_key + pl.lit("#") + persons["owner_index"].cast(pl.String))
        .otherwise(pl.lit("h:") + identity)
    )
    return persons.with_columns(
        pl.select(record_key.alias("record_key")).to_series(),
        identity.alias("identity_hash"),
        record.alias("record_hash"),
    )


# ---------------------------------------------------------------- population ----------------------


def load_population(db: Path, path: Path, columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS) -> Population:
    """The normalized extract: from the warehouse cache when this exact file (SHA-256) was seen.
    `columns`: the reference side's spec (pipelines/population.yaml, or a file of the user's for an
    extract with other headers); the canonical column names are the same, only headers differ.
    Either way the rows go to an `ExtractStore` beside the warehouse, never whole into memory."""
    path = Path(path)
    sha = sha256_file(path) if path.exists() else ""
    spec_sha = reference_spec_sha256(columns)
    cached_as = DEFAULT_REFERENCE_SHA256  # rows stored before the column existed were read with the default spec
    con = warehouse.connect(db)
    try:
        if sha and warehouse.population_cached(con, sha, spec_sha, cached_as):
            with progress.part("population_cache", "  Lấy trích xuất đã chuẩn hoá từ kho…"):
                store, height = _cached_population(con, sha, Path(db))
            info = {
                "role": "population",
                "path": str(path),
                "file": path.name,
                "sha256": sha,
                "bytes": path.stat().st_size,
                "rows": height,
                "cached": True,
            }
            # the extract's problems were stored with it (an extract without any is simply re-checked)
            issues = con.execute(
                "SELECT pop_rec_id, excel_row, so_dinh_danh, issue, detail FROM population_issues "
                "WHERE extract_sha256 = ? ORDER BY pop_rec_id, issue",
                [sha],
            ).pl()
            pop = Population(store=store, height=height, sha256=sha, info=info, cached=True, columns=columns)
            pop.issues_stored = issues.height > 0
            pop.issues = issues if pop.issues_stored else extract_issues(pop)
            return pop
        earlier = earlier_extract(con, sha, spec_sha, cached_as) if sha else None
        reuse = Reuse(con, earlier, sha, spec_sha) if earlier else None
        pop = read_population(path, sha, columns, db=Path(db), reuse=reuse)
    finally:
        con.close()
    with progress.part("population_checks", "  Kiểm tra trích xuất CSDLQG…"):
        pop.issues = extract_issues(pop)
    return pop


def store_columns() -> list[str]:
    """The normalized extract's columns, in the warehouse `population` table's order (without run_id):
    a freshly normalized extract and a cached one have the same layout."""
    return [c for c in warehouse.TABLES["population"].column_names if c != "run_id"]


def extract_issues(pop: Population) -> pl.DataFrame:
    """validation.population.population_issues over the few columns it reads."""
    return population_issues(pop.select(*POPULATION_ISSUE_INPUT), reference_key_is_id(pop.columns))


def _cached_population(con: duckdb.DuckDBPyConnection, sha: str, db: Path) -> tuple[ExtractStore, int]:
    """The warehouse's normalized rows of one extract, streamed by DuckDB into an `ExtractStore` in
    batches: no copy of the whole extract in Python memory (unless the store is in memory).

    The rows come in insertion order, which is pop_rec_id order (inserted so, and DuckDB keeps
    insertion order: preserve_insertion_order); checked batch by batch, and read again sorted if
    ever not (a sort of the whole extract costs memory and time: 1M rows 9.9 vs 5.9 CPU-s)."""
    names = store_columns()
    as_text = {"other_fields"}  # JSON in the warehouse, text in the frame
    cols = ", ".join(
        f"CAST({quote_identifier(c)} AS VARCHAR) AS {quote_identifier(c)}" if c in as_text else quote_identifier(c)
        for c in names
    )
    query = f"SELECT {cols} FROM population WHERE extract_sha256 = ?"
    for order in ("", " ORDER BY pop_rec_id"):
        reader = con.execute(query + order, [sha]).to_arrow_reader(EXTRACT_CHUNK_ROWS)
        store = ExtractStore.for_warehouse(db)
        seen = {"rows": 0, "last": 0}
        try:
            store.add_batches(reader.schema, _checked_order(reader, seen))
        except _OutOfOrder:
            continue
        return store, seen["rows"]
    raise AssertionError("unreachable: the sorted read is in order")


def _checked_order(batches: Iterable[pa.RecordBatch], seen: dict) -> Iterator[pa.RecordBatch]:
    """The batches, counted in `seen`; `_OutOfOrder` at the first pop_rec_id not above the one before."""
    for batch in batches:
        ids = batch.column("pop_rec_id")
        if len(ids):
            if ids[0].as_py() <= seen["last"] or not _increasing(ids):
                raise _OutOfOrder
            seen["last"] = ids[-1].as_py()
        seen["rows"] += batch.num_rows
        yield batch


class _OutOfOrder(Exception):
    pass


def _increasing(ids: pa.Array) -> bool:
    import pyarrow.compute as pc  # lazy: only a cached extract is checked

    values = ids
    return len(values) < 2 or pc.all(pc.greater(values[1:], values[:-1])).as_py()


def read_population(
    path: Path,
    sha: str = "",
    columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS,
    db: Path | None = None,
    reuse: Reuse | None = None,
) -> Population:
    """Read and normalize an extract, without the warehouse cache and without its checks; the
    normalized rows go to an `ExtractStore` (in the spill folder of warehouse `db`, else the system's
    temporary directory).

    Why apart from `load_population`: the benchmark (bench/bench_matching.py) prepares its
    population through exactly this path, so it measures the matcher on what `doisoat run` feeds it."""
    path = Path(path)
    # a plain UTF-8 CSV or an all-text Parquet extract is read by polars; anything else by the forgiving
    # reader (same result)
    with progress.part("read_population", "  Đọc tệp trích xuất…"):
        res = (
            read_csv_fast(path, columns)
            or read_parquet_fast(path, columns)
            or read_table(path, columns, role="population")
        )
    store = ExtractStore.for_warehouse(db)
    with progress.part("normalize_population", "  Chuẩn hoá trích xuất…"):
        height, with_id = normalize_extract(res.frame, sha, columns, store, reuse=reuse)
    if height and reference_key_is_id(columns) and with_id == 0:
        raise InputError(
            "trích xuất CSDLQG không có dòng nào có số định danh cá nhân 12 số hợp lệ: không thể đối soát "
            "(kiểm tra cột 'Số định danh cá nhân')",
            file=path.name,
        )
    return Population(
        store=store, height=height, sha256=sha, info=res.info | {"cached": False}, cached=False, columns=columns
    )


def normalize_extract(
    raw: pl.DataFrame,
    sha: str,
    columns: tuple[ColumnSpec, ...],
    store: ExtractStore,
    chunk_rows: int = EXTRACT_CHUNK_ROWS,
    reuse: Reuse | None = None,
) -> tuple[int, int]:
    """Normalize a read extract chunk by chunk into `store`; returns (rows, rows with a 12-digit ID).

    Why chunks: every normalization is per row (per distinct value), so a chunk's rows come out
    exactly as in the whole frame, while memory holds one chunk's derived columns, not ten million.
    With `reuse` (an earlier extract in the warehouse), a row identical to one of its rows (same
    raw_hash) takes that row's normalized values; only the others are normalized."""
    total = raw.height
    with_id = reused = 0
    label = f"Chuẩn hoá CSDLQG {progress.number(total)} dòng"
    with progress.rows(label, total, show=total >= progress.LONG_ROWS) as bar:
        for offset in range(0, max(total, 1), chunk_rows):
            chunk = raw.slice(offset, chunk_rows)
            chunk = chunk.with_columns(fingerprint(chunk, [c.name for c in columns]).alias("raw_hash"))
            known = reuse.rows(chunk) if reuse is not None and chunk.height else None
            if known is not None and known.height:
                rest = chunk.join(known.select(pl.col("pop_rec_id").alias("source_row")), on="source_row", how="anti")
                part = pl.concat([known, _normalized_population(rest, sha, columns)], how="vertical").sort("pop_rec_id")
                reused += known.height
            else:
                part = _normalized_population(chunk, sha, columns)
            with_id += part.height - part["id12"].null_count()
            store.add(part)
            bar.advance(part.height)
    if reuse is not None:
        reuse.reused += reused
        same = f"{progress.number(reused)}/{progress.number(total)}"
        progress.logger().debug(f"  {same} dòng giống hệt trích xuất trước: dùng lại bản chuẩn hoá")
    return total, with_id


def earlier_extract(con: duckdb.DuckDBPyConnection, sha: str, spec_sha: str, unmarked_as: str) -> str | None:
    """The latest other extract in the warehouse read with the same reference spec and with raw row
    hashes: the one whose normalized rows a new extract can reuse."""
    found = con.execute(
        """
        WITH candidates AS (
            SELECT extract_sha256, any_value(run_id) AS run_id
            FROM population
            WHERE extract_sha256 <> ? AND coalesce(reference_spec_sha256, ?) = ? AND raw_hash IS NOT NULL
            GROUP BY extract_sha256
        )
        SELECT c.extract_sha256
        FROM candidates AS c LEFT JOIN runs AS r ON r.run_id = c.run_id
        ORDER BY r.started_at DESC NULLS LAST, c.extract_sha256
        LIMIT 1
        """,
        [sha, unmarked_as, spec_sha],
    ).fetchone()
    return found[0] if found else None


@dataclass
class Reuse:
    """Normalized rows of an earlier extract, looked up by raw row hash (`normalize_extract`).

    Why this is exact: a row's normalized values are a function of its raw values alone (per-row
    normalization, person_hash from those values); only its place (pop_rec_id, excel_row) and the
    extract it belongs to are the new extract's."""

    con: duckdb.DuckDBPyConnection
    earlier: str  # extract_sha256 whose rows are reused
    sha: str  # the new extract's
    spec_sha: str
    reused: int = 0  # rows taken from the earlier extract so far

    def rows(self, chunk: pl.DataFrame) -> pl.DataFrame:
        """The chunk's rows found in the earlier extract, with the chunk's places, in the store's columns."""
        keep = {"extract_sha256", "reference_spec_sha256", "pop_rec_id", "excel_row", "other_fields"}
        cols = ", ".join(f"e.{quote_identifier(c)}" for c in store_columns() if c not in keep)
        new = chunk.select("raw_hash", pl.col("source_row").alias("pop_rec_id"), "excel_row")
        self.con.register("_new_rows", new.to_arrow())
        try:
            return (
                self.con.execute(
                    f"""
                WITH earlier AS (
                    SELECT * FROM population WHERE extract_sha256 = $earlier AND raw_hash IS NOT NULL
                ), found AS (
                    SELECT n.pop_rec_id AS new_rec_id, n.excel_row AS new_excel_row, e.*
                    FROM _new_rows AS n JOIN earlier AS e ON e.raw_hash = n.raw_hash
                    QUALIFY row_number() OVER (PARTITION BY n.pop_rec_id ORDER BY e.pop_rec_id) = 1
                )
                SELECT $sha AS extract_sha256, $spec AS reference_spec_sha256, new_rec_id AS pop_rec_id,
                       new_excel_row AS excel_row, CAST(e.other_fields AS VARCHAR) AS other_fields, {cols}
                FROM found AS e
                ORDER BY new_rec_id
                """,
                    {"earlier": self.earlier, "sha": self.sha, "spec": self.spec_sha},
                )
                .pl()
                .select(store_columns())
            )
        finally:
            self.con.unregister("_new_rows")


def _normalized_population(
    raw: pl.DataFrame, sha: str, columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS
) -> pl.DataFrame:
    """The warehouse `population` columns of read extract rows (raw, clean and person schema).

    A reference list declared by its own spec may lack CSDLQG's columns (NULL here) and have others
    (kept raw in `other_fields`); its key column so_dinh_danh is a personal ID only when of kind id
    (else it is the list's own key, and no ID pass uses it). Only NORMALIZED_EXTRACT_COLUMNS are
    normalized: the other columns' derived values would not be kept."""
    if "raw_hash" not in raw.columns:
        raw = raw.with_columns(fingerprint(raw, [c.name for c in columns]).alias("raw_hash"))
    sex, dob = _dob_and_sex(columns)
    kinds = [(c.name, c.kind, c.language) for c in columns if c.name in NORMALIZED_EXTRACT_COLUMNS]
    norm = normalize_columns(raw, kinds, sex_column=sex, dob_column=dob)
    roles = {
        role: c
        for role, c in POPULATION_ROLES.items()
        if c in norm.columns and (role not in ("id12", "cmnd9") or reference_key_is_id(columns))
    }
    persons = person_schema.to_person_schema(norm.drop("rec_id", strict=False), roles)

    def given(c: str, as_: str | None = None) -> pl.Expr:
        name = as_ or c
        return (pl.col(c) if c in norm.columns else pl.lit(None, dtype=pl.String)).cast(pl.String).alias(name)

    other = [c.name for c in columns if c.name not in EXTRACT_COLUMNS]
    other_fields = pl.struct([pl.col(c).cast(pl.String) for c in other]).struct.json_encode() if other else pl.lit(None)
    frame = pl.concat(
        [
            norm.select(
                pl.lit(sha).alias("extract_sha256"),
                pl.lit(reference_spec_sha256(columns)).alias("reference_spec_sha256"),
                pl.col("source_row").alias("pop_rec_id"),
                "excel_row",
                given("so_dinh_danh_clean", "so_dinh_danh"),
                given("so_cmnd_cu_clean", "so_cmnd_cu"),
                given("ho_ten"),
                given("ho_ten_clean"),
                given("ngay_sinh"),
                given("ngay_sinh_clean"),
                given("gioi_tinh"),
                given("ho_ten_cha"),
                given("ho_ten_me"),
                given("ma_tinh"),
                given("ten_tinh"),
                given("ma_xa"),
                given("ten_xa"),
                given("dia_chi_thuong_tru"),
                given("ma_ho"),
                given("ngay_mat"),
                given("ngay_mat_clean"),
                other_fields.cast(pl.String).alias("other_fields"),
                pl.col("raw_hash"),
            ),
            persons.rename({"gioi_tinh": "gioi_tinh_clean"}).drop(
                "rec_id", "ho_ten", "ma_tinh", "ma_xa", "ma_ho", strict=False
            ),
        ],
        how="horizontal",
    )
    return with_person_hash(frame).select(store_columns())


# What a CSDLQG person is compared and checked on: a reviewer's decision about this person holds
# while these are unchanged (a death, a new ID, a move or a corrected name makes it ask again).
PERSON_HASH_COLUMNS = (
    "so_dinh_danh",
    "so_cmnd_cu",
    "ho_ten_clean",
    "ngay_sinh_clean",
    "gioi_tinh_clean",
    "ho_ten_cha",
    "ho_ten_me",
    "ma_tinh",
    "ma_xa",
    "ngay_mat_clean",
    "other_fields",
)


def with_person_hash(frame: pl.DataFrame) -> pl.DataFrame:
    """The population frame with `person_hash` (kept from the cache when stored, else computed)."""
    if "person_hash" in frame.columns and frame["person_hash"].null_count() == 0:
        return frame
    return frame.with_columns(fingerprint(frame, PERSON_HASH_COLUMNS).alias("person_hash"))


def population_persons(pop: Population, spec: RegistrySpec | None = None) -> pl.DataFrame:
    """The population in the person schema, plus the household code (`ma_ho`) the matcher uses to
    find a land co-owner in the household of the owner it linked, the reference key (`ref_key`)
    when it is no Vietnamese ID, and the fields the spec's comparison library entries compare
    (`f_*`, prepared from the reference list's columns exactly as the registry's)."""
    schema = person_schema.SCHEMA | {"ma_ho": pl.String}
    base = pop.scan().select(
        pl.col("pop_rec_id").alias("rec_id"),
        pl.col("ho_ten_clean").alias("ho_ten"),
        *[pl.col(c) for c in person_schema.SCHEMA if c not in ("rec_id", "ho_ten", "gioi_tinh")],
        pl.col("gioi_tinh_clean").alias("gioi_tinh"),
        pl.col("ma_ho"),
        *([] if reference_key_is_id(pop.columns) else [pl.col("so_dinh_danh").cast(pl.String).alias("ref_key")]),
    )
    ref_key = [] if reference_key_is_id(pop.columns) else ["ref_key"]
    base = base.select([pl.col(c).cast(t) for c, t in schema.items()] + ref_key).collect()
    extra = []
    fields = library.field_preparations(spec.match.comparisons) if spec is not None else {}
    if fields:
        extra += population_fields(pop, fields).get_columns()
    return base.with_columns(extra) if extra else base


def population_fields(pop: Population, fields: dict) -> pl.DataFrame:
    """The prepared field columns of the reference side: its columns (named ones and those kept in
    `other_fields`) normalized with the reference spec's kinds, then prepared like the registry's."""
    sources = {src for prep, srcs in fields.values() if prep != "concat" for src in srcs}
    declared = {c.name: c for c in pop.columns}
    missing = sorted(s for s in sources if s not in declared)
    if missing:
        raise InputError(
            "danh sách đối chiếu (trích xuất CSDLQG) không có cột "
            + ", ".join(f"'{m}'" for m in missing)
            + " mà phép so sánh của sổ dùng: khai báo cột đó trong tệp khai báo đối chiếu (--population-spec)",
            file=pop.info.get("file"),
        )
    other = [c for c in sources if c not in EXTRACT_COLUMNS]
    needed = [c for c in sources if c in EXTRACT_COLUMNS] + (["other_fields"] if other else [])
    frame = pop.select(*needed)
    raw = frame.select([pl.col(c) for c in sources if c in EXTRACT_COLUMNS])
    if other:
        decoded = frame.select(
            pl.col("other_fields").str.json_decode(pl.Struct({c: pl.String for c in other})).alias("_f")
        ).unnest("_f")
        raw = pl.concat([raw, decoded.select(other)], how="horizontal")
    norm = normalize_frame(raw, tuple(declared[s] for s in sorted(sources)), label="Chuẩn hoá cột đối chiếu")
    return norm.select(person_schema.field_columns(norm, fields))


# ---------------------------------------------------------------- registry rows -------------------


def normalize_registry(spec: RegistrySpec, ingested: IngestResult) -> pl.DataFrame:
    """Normalized rows with the row's unit, problems, and whether it can be matched at all."""
    norm = normalize_frame(ingested.frame, spec.columns)
    addr = spec.role_column("dia_chi")
    a = addr.name if addr and addr.kind == "address" else None
    norm = norm.with_columns(
        (pl.col(f"{a}_ma_tinh") if a else _null()).alias("ma_tinh"),
        (
            pl.when(pl.col(f"{a}_address_status") == "legacy_split").then(None).otherwise(pl.col(f"{a}_ma_xa"))
            if a
            else _null()
        ).alias("ma_xa"),
        (pl.col(f"{a}_address_status") if a else _null()).alias("address_status"),
    )
    if "line_problem" in norm.columns:  # a line no encoding reads as Vietnamese: flagged on its row
        norm = norm.with_columns(
            pl.when(pl.col("line_problem").is_not_null())
            .then(pl.concat_list(pl.col("line_problem"), pl.col("problems")))
            .otherwise(pl.col("problems"))
            .alias("problems")
        ).drop("line_problem")
    persons = person_schema.to_person_schema(
        norm, registry_roles(spec), library.field_preparations(spec.match.comparisons)
    )
    # a row with nothing the matcher can compare (no name, no ID, no compared field) cannot be matched
    compared = ["ho_ten_key", "id12", "cmnd9", *(c for c in persons.columns if c.startswith(FIELD_PREFIX))]
    unusable = pl.all_horizontal(pl.col(c).is_null() for c in compared)
    unusable = persons.select(unusable).to_series()
    return (
        norm.with_columns(unusable.alias("_unusable"))
        .with_columns(
            pl.when("_unusable").then(pl.lit("rejected")).otherwise(pl.lit("ok")).alias("row_status"),
            pl.when("_unusable").then(pl.lit("no_name_no_id")).otherwise(_null()).alias("reject_reason"),
        )
        .drop("_unusable")
    )


LEGACY_FONTS = {"legacy_tcvn3": "TCVN3 (ABC)", "legacy_vni": "VNI-Windows"}


def legacy_text_notes(rows: pl.DataFrame) -> list[str]:
    """Vietnamese notes on values typed with legacy fonts and converted to Unicode (counts only)."""
    if "problems" not in rows.columns or rows.height == 0:
        return []
    codes = rows.select(pl.col("problems").explode().alias("p")).drop_nulls()
    codes = codes.with_columns(pl.col("p").str.split_exact(":", 1).struct.rename_fields(["col", "code"])).unnest("p")
    found = codes.filter(pl.col("code").is_in(list(LEGACY_FONTS))).group_by("code", "col").len().sort("code", "col")
    file = rows["source_file"][0]
    return [
        f"Tệp {file}: {n:,} giá trị ở cột {col} gõ bằng phông {LEGACY_FONTS[code]} đã được chuyển sang Unicode."
        for code, col, n in found.iter_rows()
    ]


def skipped_for_warehouse(spec: RegistrySpec, run_id: str, ingested: IngestResult) -> pl.DataFrame:
    """The input lines that are not data rows, for `skipped_rows`."""
    skipped = ingested.skipped if ingested.skipped is not None else pl.DataFrame()
    if skipped.height == 0:
        return pl.DataFrame()
    return skipped.with_columns(pl.lit(run_id).alias("run_id"), pl.lit(spec.name).alias("registry")).select(
        warehouse.TABLES["skipped_rows"].column_names
    )


def rows_for_warehouse(spec: RegistrySpec, run_id: str, rows: pl.DataFrame) -> pl.DataFrame:
    table = warehouse.rows_table(spec)
    return rows.with_columns(pl.lit(run_id).alias("run_id")).select(
        pl.col(c).cast(pl.List(pl.Utf8) if t == "VARCHAR[]" else (pl.Int64 if t == "BIGINT" else pl.Utf8))
        for c, t, _ in table.columns
    )


def registry_persons(spec: RegistrySpec, rows: pl.DataFrame) -> pl.DataFrame:
    """Person-schema records of the matchable rows, with rec_id = source_row*10 + owner_index.

    Land rows can name several owners (`<col>_owners`): each owner is one record; the year of
    birth and the ID on the row belong to the first-named owner. Organizations get no record
    (they are not persons), nor do foreigners (pipelines/foreigners.py); their rows are accounted
    for in `links` as entity organization or foreigner."""
    ok = rows.filter((pl.col("row_status") == "ok") & ~foreigners.is_foreigner(spec))  # not in CSDLQG
    fields = library.field_preparations(spec.match.comparisons)
    base = pl.concat(
        [ok.select("source_row"), person_schema.to_person_schema(ok, registry_roles(spec), fields).drop("rec_id")],
        how="horizontal",
    )
    if not spec.owner_split:
        persons = base.with_columns(
            (pl.col("source_row") * 10).alias("rec_id"),
            pl.lit(0, dtype=pl.Int16).alias("owner_index"),
            pl.lit("person").alias("entity"),
        )
    else:
        persons = land.persons(spec, ok, base)
    return with_fingerprints(spec, ok, persons)
