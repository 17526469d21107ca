"""Shared end-to-end run for tests/test_e2e_*.py: one generated sample with known truth, all
registries reconciled once per test session into one warehouse, then scored against the truth.

Why a cached function and not a conftest fixture: each e2e module asks for the same run, and
the run (generation + five reconciles) is the expensive part; it must happen once."""

from __future__ import annotations

import atexit
import functools
import gc
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import xlsxwriter

from matching.reference.legacy_fonts import TCVN3
from pipelines.flow import DEMO_ORDER, RunSummary, reconcile
from pipelines.registries import get_spec
from pipelines.sample.generator import generate

PERSONS = 2500
SEED = 6


@dataclass
class E2E:
    sample: Path
    db: Path
    out: Path
    summaries: dict[str, RunSummary]
    inputs: dict[str, Path]


# The files officers really send: each registry of the generated sample is rewritten the way
# one office would keep it (same rows, same order, so the truth's source_row still applies).
TONES = "\u0300\u0301\u0303\u0309\u0323"
_TCVN3_FROM_UNICODE = {u: legacy for legacy, u in TCVN3.items()}


def to_cp1258(text: str) -> bytes:
    """Windows-1258 keeps tone marks as combining bytes after a precomposed base letter."""
    out = bytearray()
    # NFD text and the Icelandic Eth typed for Đ cannot exist in a 1258 file: the office had Đ
    for ch in unicodedata.normalize("NFC", text).replace("Ð", "Đ"):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
            out += base.encode("cp1258") + "".join(c for c in d if c in TONES).encode("cp1258")
    return bytes(out)


def to_tcvn3(text: str | None) -> str | None:
    """Unicode → text typed with a TCVN3 (.VnTime) font: capitals are base capital + toned small letter."""
    if text is None:
        return None
    out = []
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_FROM_UNICODE:
            out.append(_TCVN3_FROM_UNICODE[ch])
        elif ch != ch.lower() and ch.lower() in _TCVN3_FROM_UNICODE:
            d = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in TONES))
            out.append(_TCVN3_FROM_UNICODE.get(base, base) + _TCVN3_FROM_UNICODE[ch.lower()])
        else:
            out.append(ch)
    return "".join(out)


def write_cp1258_csv(src: Path, dst: Path) -> None:
    dst.write_bytes(to_cp1258(src.read_text(encoding="utf-8").replace("\r\n", "\n").replace("\n", "\r\n")))


def write_tcvn3_csv(src: Path, dst: Path, columns: tuple[str, ...]) -> None:
    df = pl.read_csv(src, infer_schema=False)
    df.with_columns(pl.col(c).map_elements(to_tcvn3, return_dtype=pl.Utf8) for c in columns).write_csv(dst)


def write_office_xlsx(src: Path, dst: Path, registry: str) -> None:
    """Title rows, a two-row merged header (account columns grouped), STT, and a totals row."""
    spec = get_spec(registry)
    df = pl.read_csv(src, infer_schema=False)
    labels = {c.name: c.label_vi or c.name for c in spec.columns}
    grouped = [c for c in df.columns if c in ("so_tai_khoan", "ngan_hang")]
    plain = [c for c in df.columns if c not in grouped]
    order = plain + grouped
    wb = xlsxwriter.Workbook(str(dst))
    ws = wb.add_worksheet("Danh sách")
    ws.merge_range(0, 0, 0, len(order), f"DANH SÁCH {spec.title_vi.upper()}")
    ws.write(1, 0, "Kèm theo báo cáo tháng 10/2026")
    for j, c in enumerate(["STT", *plain]):
        ws.merge_range(3, j, 4, j, "STT" if c == "STT" else labels[c])
    if grouped:
        first = 1 + len(plain)
        if len(grouped) > 1:
            ws.merge_range(3, first, 3, first + len(grouped) - 1, "Thông tin tài khoản")
        else:
            ws.write(3, first, "Thông tin tài khoản")
        for k, c in enumerate(grouped):
            ws.write(4, first + k, labels[c])
    for i, row in enumerate(df.select(order).iter_rows()):
        ws.write_number(5 + i, 0, i + 1)
        for j, v in enumerate(row):
            if v is not None:
                ws.write_string(5 + i, 1 + j, v)
    ws.write(5 + df.height, 0, "Tổng cộng")
    wb.close()


def _remove(root: Path) -> None:
    gc.collect()  # a DuckDB connection still referenced somewhere would rewrite its file on close
    shutil.rmtree(root, ignore_errors=True)


def _generated(prefix: str, persons: int) -> tuple[Path, Path]:
    """A temporary folder (removed at exit) and the sample generated into its `sample/`."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(_remove, root)
    generate(persons=persons, seed=SEED, out_dir=root / "sample")
    return root, root / "sample"


@functools.lru_cache(maxsize=1)
def e2e_run() -> E2E:
    root, sample = _generated("doisoat-e2e-", PERSONS)
    inputs = {
        "civil_deaths": root / "khai_tu_tcvn3.csv",
        "civil_births": sample / "civil_births.csv",
        "social_welfare": root / "bao_tro_xa_hoi_cp1258.csv",
        "pension": root / "luong_huu.xlsx",
        "land": sample / "land.csv",
    }
    write_tcvn3_csv(sample / "civil_deaths.csv", inputs["civil_deaths"], ("ho_ten", "noi_cu_tru_cuoi"))
    write_cp1258_csv(sample / "social_welfare.csv", inputs["social_welfare"])
    write_office_xlsx(sample / "pension.csv", inputs["pension"], "pension")
    db = root / "doisoat.duckdb"
    summaries = {}
    for registry in DEMO_ORDER:
        summaries[registry] = reconcile(
            get_spec(registry), sample / "population.csv", inputs[registry], db, root / "out" / registry
        )
    return E2E(sample=sample, db=db, out=root / "out", summaries=summaries, inputs=inputs)


# Registries added as spec files (issue 13): not in the demo, so not in the run above (which every
# e2e module pays for); their own smaller sample, generated and reconciled once per session.
LATER = ("health_insurance", "school_records", "accommodation_guests")
LATER_PERSONS = 2000


@functools.lru_cache(maxsize=1)
def later_run() -> E2E:
    root, sample = _generated("doisoat-e2e-later-", LATER_PERSONS)
    db = root / "doisoat.duckdb"
    inputs = {registry: sample / f"{registry}.csv" for registry in LATER}
    summaries = {
        registry: reconcile(
            get_spec(registry), sample / "population.csv", inputs[registry], db, root / "out" / registry
        )
        for registry in LATER
    }
    return E2E(sample=sample, db=db, out=root / "out", summaries=summaries, inputs=inputs)


def links_and_truth(e2e: E2E, registry: str) -> pl.DataFrame:
    run_id = e2e.summaries[registry].run_id
    con = duckdb.connect(str(e2e.db), read_only=True)
    try:
        links = con.execute(
            "SELECT source_row, owner_index, status, method, so_dinh_danh FROM links WHERE run_id = ?", [run_id]
        ).pl()
    finally:
        con.close()
    truth = pl.read_csv(e2e.sample / "truth" / f"{registry}.csv", infer_schema=False).with_columns(
        pl.col("source_row").cast(pl.Int64),
        pl.col("owner_index").cast(pl.Int16),
        pl.col("duplicate_of").cast(pl.Int64, strict=False),
    )
    return truth.rename({"so_dinh_danh": "true_id"}).join(
        links, on=["source_row", "owner_index"], how="full", coalesce=True
    )


def scores(frame: pl.DataFrame) -> dict[str, float]:
    """Precision over rows the pipeline matched; recall over first listings of persons in CSDLQG."""
    matched = frame.filter(pl.col("status") == "matched")
    correct = matched.filter(pl.col("so_dinh_danh") == pl.col("true_id")).height
    findable = frame.filter(pl.col("true_id").is_not_null() & pl.col("duplicate_of").is_null())
    found = findable.filter((pl.col("status") == "matched") & (pl.col("so_dinh_danh") == pl.col("true_id"))).height
    return {
        "matched": matched.height,
        "precision": correct / matched.height if matched.height else 0.0,
        "recall": found / findable.height if findable.height else 0.0,
        "review": frame.filter(pl.col("status") == "review").height,
    }


def assert_row_accounting(e2e: E2E, registry: str) -> None:
    """input rows = matched + review + unmatched + rejected + duplicate (+ extra land owners)."""
    c = e2e.summaries[registry].row_counts
    truth_rows = pl.read_csv(e2e.sample / f"{registry}.csv", infer_schema=False).height
    assert c["input_rows"] == truth_rows
    assert c["matched"] + c["review"] + c["unmatched"] + c["rejected"] + c["duplicate"] == c["records"]
    assert c["records"] == c["input_rows"] + c["extra_owner_records"]
    con = duckdb.connect(str(e2e.db), read_only=True)
    try:
        n, rows = con.execute(
            "SELECT count(*), count(DISTINCT source_row) FROM links WHERE run_id = ?", [e2e.summaries[registry].run_id]
        ).fetchone()
    finally:
        con.close()
    assert (n, rows) == (c["records"], truth_rows)


def alerts_of(e2e: E2E, registry: str, kind: str) -> set[int]:
    con = duckdb.connect(str(e2e.db), read_only=True)
    try:
        return {
            r[0]
            for r in con.execute(
                "SELECT source_row FROM alerts WHERE run_id = ? AND kind = ?", [e2e.summaries[registry].run_id, kind]
            ).fetchall()
        }
    finally:
        con.close()
