"""Next month's files from this month's: the CSDLQG extract and the welfare list as they change.

Why: runs remember the previous run (pipelines/incremental.py), and that is only visible on a
second month. `doisoat sample --next-month DIR` writes, from DIR's population.csv and
social_welfare.csv, the next month's pair with changes of every kind a province sees, and
`changes.json` saying what was done (counts and the registry keys touched, no personal data
beyond the synthetic sample's own keys):

- the extract: listed persons dead, moved to another commune, with a corrected given name, with a
  re-issued ID (the old one gone); new persons;
- the welfare list: rows removed, rows added (persons not yet listed), names re-typed in capitals
  (the same record once normalized), dates of birth corrected, a new row naming an already-listed
  person by that person's exact ID where the listed row has none (a link a run without memory
  would move), and the whole file in another order.

Polars only, on the files as text: the generator shares no logic with the code it tests.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import polars as pl

WELFARE_ROW = {
    "loai_doi_tuong": "Người cao tuổi",
    "muc_tro_cap": "500000",
    "hinh_thuc_chi_tra": "Tiền mặt",
    "so_tai_khoan": None,
    "ngan_hang": None,
}


def _new_id(old: str, rnd: random.Random) -> str:
    """Same province, century/sex and birth-year digits: a re-issued ID of the same person."""
    return old[:6] + "".join(rnd.choice("0123456789") for _ in range(6))


def _welfare_row(person: dict, key: str) -> dict:
    return {
        "ma_doi_tuong": key,
        "ho_ten": person["ho_ten"],
        "ngay_sinh": person["ngay_sinh"],
        "gioi_tinh": person["gioi_tinh"],
        "so_cccd": person["so_dinh_danh"],
        "dia_chi": person["dia_chi_thuong_tru"],
        **WELFARE_ROW,
    }


def next_month(
    population: pl.DataFrame, welfare: pl.DataFrame, month: int, *, unlisted_id_rows: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(population, welfare, what changed) for `month`, deterministic for a given month.

    `unlisted_id_rows` (ma_doi_tuong, so_dinh_danh): welfare rows without a usable ID and the person
    they list (from the sample's truth/); one of them gets a newcomer naming its person by ID."""
    rnd = random.Random(month)
    alive = population.filter(pl.col("ngay_mat").is_null())["so_dinh_danh"].to_list()
    listed = [i for i in welfare["so_cccd"].drop_nulls().unique().sort().to_list() if i in set(alive)]
    rnd.shuffle(listed)
    n = max(1, len(listed) // 100)
    dead, moved, renamed, new_id = (listed[k * n : (k + 1) * n] for k in range(4))
    communes = population.select("ma_xa", "ten_xa", "dia_chi_thuong_tru").unique(maintain_order=True).rows()
    other = communes[rnd.randrange(len(communes))]
    replaced = {old: _new_id(old, rnd) for old in new_id}
    when = pl.col("so_dinh_danh").is_in
    population = population.with_columns(
        pl.when(when(dead)).then(pl.lit(f"15/{month:02d}/2026")).otherwise("ngay_mat").alias("ngay_mat"),
        pl.when(when(moved)).then(pl.lit(other[0])).otherwise("ma_xa").alias("ma_xa"),
        pl.when(when(moved)).then(pl.lit(other[1])).otherwise("ten_xa").alias("ten_xa"),
        pl.when(when(moved)).then(pl.lit(other[2])).otherwise("dia_chi_thuong_tru").alias("dia_chi_thuong_tru"),
        pl.when(when(renamed))
        .then(pl.col("ho_ten").str.replace(r"\s\S+$", " Hoàng"))
        .otherwise("ho_ten")
        .alias("ho_ten"),
        pl.col("so_dinh_danh").replace(replaced),
    )
    newcomers = population.sample(max(4, population.height // 250), seed=month).with_columns(
        pl.col("so_dinh_danh").map_elements(lambda s: _new_id(s, rnd), return_dtype=pl.String),
        pl.col("ho_ten").str.replace(r"\s\S+$", " Khuê"),
        pl.lit(None, dtype=pl.String).alias("so_cmnd_cu"),
        pl.lit(None, dtype=pl.String).alias("ngay_mat"),
    )
    population = pl.concat([population, newcomers])

    keys = welfare["ma_doi_tuong"].to_list()
    m = max(1, len(keys) // 100)
    removed = rnd.sample(keys, m)
    corrected = rnd.sample([k for k in keys if k not in removed], 2 * m)
    welfare = welfare.filter(~pl.col("ma_doi_tuong").is_in(removed)).with_columns(
        pl.when(pl.col("ma_doi_tuong").is_in(corrected[:m]))
        .then(pl.col("ho_ten").str.to_uppercase())
        .otherwise("ho_ten")
        .alias("ho_ten"),
        pl.when(pl.col("ma_doi_tuong").is_in(corrected[m:]))
        .then(pl.lit("01/01/1950"))
        .otherwise("ngay_sinh")
        .alias("ngay_sinh"),
    )
    still_listed = set(welfare["so_cccd"].drop_nulls().to_list())
    candidates = population.filter(pl.col("ngay_mat").is_null() & ~pl.col("so_dinh_danh").is_in(still_listed))
    added = [
        _welfare_row(p, f"BTXHMOI{month:02d}{i:05d}")
        for i, p in enumerate(candidates.sample(min(2 * m, candidates.height), seed=100 + month).iter_rows(named=True))
    ]
    changed = set(dead + moved + renamed + new_id)
    thief = []
    if unlisted_id_rows is not None:
        victims = unlisted_id_rows.filter(
            pl.col("ma_doi_tuong").is_in(welfare["ma_doi_tuong"].to_list())
            & pl.col("so_dinh_danh").is_in(population["so_dinh_danh"].to_list())
            & ~pl.col("so_dinh_danh").is_in(list(changed))
        ).sort("ma_doi_tuong")
        if victims.height:
            victim = victims.row(0, named=True)
            person = population.filter(pl.col("so_dinh_danh") == victim["so_dinh_danh"]).row(0, named=True)
            thief = [{**_welfare_row(person, f"BTXHTRUNG{month:02d}"), "victim": victim["ma_doi_tuong"]}]
    rows = [{k: v for k, v in r.items() if k != "victim"} for r in thief + added]
    welfare = pl.concat([pl.DataFrame(rows, schema=welfare.schema), welfare]).sample(fraction=1.0, seed=month)
    facts = {
        "month": month,
        "persons_dead": len(dead),
        "persons_moved": len(moved),
        "persons_renamed": len(renamed),
        "persons_new_id": len(new_id),
        "persons_new": newcomers.height,
        "rows_removed": sorted(removed),
        "rows_added": len(added),
        "rows_name_capitals": sorted(corrected[:m]),
        "rows_dob_corrected": sorted(corrected[m:]),
        "rows_listing_a_listed_person": [(t["ma_doi_tuong"], t["victim"]) for t in thief],
        "changed_person_ids": sorted(changed),  # synthetic IDs, so tests can follow them
    }
    return population, welfare, facts


def unlisted_id_rows(sample_dir: Path) -> pl.DataFrame | None:
    """Welfare rows whose file ID is missing or not the person's, with the person (truth/)."""
    truth = Path(sample_dir) / "truth" / "social_welfare.csv"
    if not truth.exists():
        return None
    rows = pl.read_csv(Path(sample_dir) / "social_welfare.csv", infer_schema=False).with_row_index("source_row", 1)
    known = pl.read_csv(truth, infer_schema=False).filter(pl.col("entity") == "person")
    return (
        rows.with_columns(pl.col("source_row").cast(pl.String))
        .join(known.select("source_row", "so_dinh_danh"), on="source_row")
        .filter(pl.col("so_cccd").is_null() & pl.col("so_dinh_danh").is_not_null())
        .select("ma_doi_tuong", "so_dinh_danh")
    )


def write_next_month(sample_dir: Path, out_dir: Path, month: int = 2) -> dict:
    """Read DIR's population.csv and social_welfare.csv, write next month's and changes.json to out_dir."""
    sample_dir, out_dir = Path(sample_dir), Path(out_dir)
    population = pl.read_csv(sample_dir / "population.csv", infer_schema=False)
    welfare = pl.read_csv(sample_dir / "social_welfare.csv", infer_schema=False)
    population, welfare, facts = next_month(population, welfare, month, unlisted_id_rows=unlisted_id_rows(sample_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    population.write_csv(out_dir / "population.csv")
    welfare.write_csv(out_dir / "social_welfare.csv")
    (out_dir / "changes.json").write_text(json.dumps(facts, ensure_ascii=False, indent=1), encoding="utf-8")
    return {"population": population.height, "social_welfare": welfare.height}
