"""The normalize stage: registry rows and the CSDLQG extract, normalized and in the person schema.

ingest → **normalize → person schema** → match. Plain functions over polars frames: the CLI,
the tests, the Prefect flows (`pipelines/flow.py` wraps each as a task) and the benchmark
(`bench/bench_matching.py`) all prepare the matcher's input through this module, so what is
measured is what `doisoat run` runs. The normalized population is cached in the warehouse by
the extract's SHA-256 (`load_population`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from matching import person_schema
from matching.normalize.frame import normalize_columns
from pipelines import foreigners, progress, warehouse
from pipelines.catalogue import reference_columns
from pipelines.errors import InputError
from pipelines.ingest import (
    IngestResult,
    load_column_map,
    read_csv_fast,
    read_table,
    sha256_file,
)
from pipelines.land import owners as land
from pipelines.spec import ColumnSpec, RegistrySpec
from validation.population import population_issues

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


@dataclass
class Population:
    frame: pl.DataFrame  # warehouse `population` columns (raw, clean and person schema)
    sha256: str
    info: dict
    cached: bool
    issues: pl.DataFrame | None = None  # validation.population.population_issues of the extract
    issues_stored: bool = False  # the warehouse already holds them (population_issues, same SHA-256)


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


# ---------------------------------------------------------------- population ----------------------


def load_population(db: Path, path: Path, columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS) -> Population:
    """The normalized extract: from the warehouse cache when this exact file (SHA-256) was seen.
    `columns`: the reference side's spec (pipelines/population.yaml, or a file of the user's for an
    extract with other headers); the canonical column names are the same, only headers differ."""
    path = Path(path)
    sha = sha256_file(path) if path.exists() else ""
    con = warehouse.connect(db)
    try:
        if sha and warehouse.population_cached(con, sha):
            frame = con.execute("SELECT * FROM population WHERE extract_sha256 = ? ORDER BY pop_rec_id", [sha]).pl()
            info = {
                "role": "population",
                "path": str(path),
                "file": path.name,
                "sha256": sha,
                "bytes": path.stat().st_size,
                "rows": frame.height,
                "cached": True,
            }
            # the extract's problems were stored with it (an extract without any is simply re-checked)
            issues = con.execute(
                "SELECT pop_rec_id, excel_row, so_dinh_danh, issue, detail FROM population_issues "
                "WHERE extract_sha256 = ? ORDER BY pop_rec_id, issue",
                [sha],
            ).pl()
            stored = issues.height > 0
            return Population(
                frame=frame,
                sha256=sha,
                info=info,
                cached=True,
                issues=issues if stored else population_issues(frame),
                issues_stored=stored,
            )
    finally:
        con.close()
    pop = read_population(path, sha, columns)
    with progress.part("population_checks", "  Kiểm tra trích xuất CSDLQG…"):
        pop.issues = population_issues(pop.frame)
    return pop


def read_population(path: Path, sha: str = "", columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS) -> Population:
    """Read and normalize an extract, without the warehouse cache and without its checks.

    Why apart from `load_population`: the benchmark (bench/bench_matching.py) prepares its
    population through exactly this path, so it measures the matcher on what `doisoat run` feeds it."""
    path = Path(path)
    # a plain UTF-8 extract is parsed by polars; anything else by the forgiving reader (same result)
    with progress.part("read_population", "  Đọc tệp trích xuất…"):
        res = read_csv_fast(path, columns) or read_table(path, columns, role="population")
    with progress.part("normalize_population", "  Chuẩn hoá trích xuất…"):
        frame = _normalized_population(res, sha, columns)
    if frame.height and frame["id12"].null_count() == frame.height:
        raise InputError(
            "trích xuất CSDLQG không có dòng nào có số định danh cá nhân 12 số hợp lệ: không thể đối soát "
            "(kiểm tra cột 'Số định danh cá nhân')",
            file=path.name,
        )
    return Population(frame=frame, sha256=sha, info=res.info | {"cached": False}, cached=False)


def _normalized_population(
    res: IngestResult, sha: str, columns: tuple[ColumnSpec, ...] = POPULATION_COLUMNS
) -> pl.DataFrame:
    """The warehouse `population` columns of a freshly read extract (raw, clean and person schema)."""
    norm = normalize_frame(res.frame, columns, label="Chuẩn hoá CSDLQG")
    persons = person_schema.to_person_schema(norm.drop("rec_id", strict=False), POPULATION_ROLES)
    return pl.concat(
        [
            norm.select(
                pl.lit(sha).alias("extract_sha256"),
                pl.col("source_row").alias("pop_rec_id"),
                "excel_row",
                pl.col("so_dinh_danh_clean").alias("so_dinh_danh"),
                pl.col("so_cmnd_cu_clean").alias("so_cmnd_cu"),
                "ho_ten",
                "ho_ten_clean",
                "ngay_sinh",
                "ngay_sinh_clean",
                "gioi_tinh",
                "ho_ten_cha",
                "ho_ten_me",
                "ma_tinh",
                "ten_tinh",
                "ma_xa",
                "ten_xa",
                "dia_chi_thuong_tru",
                "ma_ho",
                "ngay_mat",
                "ngay_mat_clean",
            ),
            persons.rename({"gioi_tinh": "gioi_tinh_clean"}).drop("rec_id", "ho_ten", "ma_tinh", "ma_xa", "ma_ho"),
        ],
        how="horizontal",
    )


def population_persons(pop: Population) -> pl.DataFrame:
    """The population in the person schema, plus the household code (`ma_ho`) the matcher uses to
    find a land co-owner in the household of the owner it linked."""
    return pop.frame.select(
        pl.col("pop_rec_id").alias("rec_id"),
        pl.col("ho_ten_clean").alias("ho_ten"),
        *[pl.col(c) for c in person_schema.SCHEMA if c not in ("rec_id", "ho_ten", "gioi_tinh")],
        pl.col("gioi_tinh_clean").alias("gioi_tinh"),
        pl.col("ma_ho"),
    ).select([pl.col(c).cast(t) for c, t in (person_schema.SCHEMA | person_schema.OPTIONAL).items()])


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
    persons = person_schema.to_person_schema(norm, registry_roles(spec))
    unusable = persons["ho_ten_key"].is_null() & persons["id12"].is_null() & persons["cmnd9"].is_null()
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
    base = pl.concat(
        [ok.select("source_row"), person_schema.to_person_schema(ok, registry_roles(spec)).drop("rec_id")],
        how="horizontal",
    )
    if not spec.owner_split:
        return base.with_columns(
            (pl.col("source_row") * 10).alias("rec_id"),
            pl.lit(0, dtype=pl.Int16).alias("owner_index"),
            pl.lit("person").alias("entity"),
        )
    return land.persons(spec, ok, base)
