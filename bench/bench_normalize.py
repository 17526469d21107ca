"""Benchmark: normalize N population rows (name, date of birth, ID, sex, address); print rows/s and
peak memory.

    .venv/bin/python bench/bench_normalize.py --rows 10000000

The rows are built first (from `pipelines.sample` pools when available, else from built-in pools)
and written to a Parquet file by a child process, so the measured process holds only the input
and the normalizer's work; its peak RSS (ru_maxrss) is therefore the normalizer's peak. Values
repeat the way real extracts do: names drawn from weighted surname / middle / given pools,
dates over a century, unique IDs, addresses from the real 2025 units (a quarter written with the
old three-level units), plus the defects a CSDLQG extract still has (old tone style, NFD,
upper case, a few TCVN3 names, Excel-damaged IDs).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = (
    "Nguyễn:38 Trần:11 Lê:9.5 Phạm:7 Hoàng:3 Huỳnh:2 Phan:4.5 Vũ:2 Võ:2 Đặng:2 Bùi:2 Đỗ:1.4 Hồ:1.3 "
    "Ngô:1.3 Dương:1 Lý:0.5 Đinh:0.9 Trương:0.8 Lâm:0.5 Mai:0.5 Trịnh:0.5 Đào:0.5 Cao:0.4 Hà:0.4 "
    "Lương:0.4 Tạ:0.3 Tô:0.3 Chu:0.3 Thái:0.3 Kiều:0.2 Quách:0.2 Hờ:0.1 Lò:0.2 Nông:0.2"
)
MIDDLE = (
    "Văn:30 Thị:30 Đức:4 Ngọc:4 Minh:4 Thanh:4 Hữu:3 Quốc:2 Xuân:2 Thu:2 Hồng:2 Kim:2 Bảo:1 Gia:1 "
    "Hoài:1 Thùy:1 Thủy:1 Khánh:1 Anh:1 Phương:1 Thị_Thanh:2 Văn_Minh:1 Thị_Hồng:1 Ngọc_Bảo:1"
)
GIVEN = (
    "Hùng Dũng Hoa Lan Hương Tuấn Anh Linh Hà Nam Hải Hằng Thủy Hòa Mai Trang Long Sơn Thắng Hiếu Bình "
    "Cường Phương Thảo Huy Quang Đạt Khánh Hạnh Nga Yến Nhung Hiền Tâm Loan Vinh Toàn Phúc Lộc Thọ "
    "Thúy Quỳnh Vân Minh Tùng Kiên Trung Nhân Nghĩa Khoa Duy Việt Hậu Tú Hưng Thịnh Châu Giang Khỏe "
    "Ngọc Hiệp Thuận Tài Trí Đông Tuyết Thanh Oanh Diệp Xuân Thu Hồng Chi Trâm Uyên Vy My Ly Thư Dung "
    "Hòe Thoa Toản Quý Lực Biên Cúc Đào Lý Sang Tín Bảo Ân Khang Phát Tiến Lợi Chiến Hòa Thụy Thùy"
)


def _weighted(spec: str):
    items = [(s.rsplit(":", 1)[0].replace("_", " "), float(s.rsplit(":", 1)[1])) for s in spec.split()]
    return [i[0] for i in items], [i[1] for i in items]


def build_rows(n: int, seed: int = 6):
    """A population-like frame with n rows: ho_ten, ngay_sinh, gioi_tinh, so_dinh_danh, dia_chi."""
    import numpy as np
    import polars as pl

    from matching.reference.admin_units import current_units, legacy_units
    from matching.reference.legacy_fonts import TCVN3

    rng = np.random.default_rng(seed)
    sn, sw = _weighted(SURNAMES)
    mn, mw = _weighted(MIDDLE)
    gn = GIVEN.split()
    gw = 1.0 / np.arange(1, len(gn) + 1) ** 0.9
    sur = pl.Series(sn).gather(rng.choice(len(sn), n, p=np.array(sw) / sum(sw)))
    mid = pl.Series(mn).gather(rng.choice(len(mn), n, p=np.array(mw) / sum(mw)))
    giv = pl.Series(gn).gather(rng.choice(len(gn), n, p=gw / gw.sum()))
    df = pl.DataFrame({"s": sur, "m": mid, "g": giv})
    name = pl.concat_str("s", "m", "g", separator=" ")
    # defects still present in an extract: old tone style, NFD, upper case, TCVN3, double spaces
    u = rng.random(n)
    tcvn3 = {v: k for k, v in TCVN3.items() if len(v) == 1 and v.islower()}
    df = df.with_columns(ho_ten=name, u=pl.Series(u))
    df = df.with_columns(
        ho_ten=pl.when(pl.col("u") < 0.03)
        .then(pl.col("ho_ten").str.replace_many(["Hòa", "Thủy", "Khỏe", "Hòe"], ["Hoà", "Thuỷ", "Khoẻ", "Hoè"]))
        .when(pl.col("u") < 0.04)
        .then(pl.col("ho_ten").str.normalize("NFD"))
        .when(pl.col("u") < 0.06)
        .then(pl.col("ho_ten").str.to_uppercase())
        .when(pl.col("u") < 0.062)
        .then(pl.col("ho_ten").str.replace_many(list(tcvn3), list(tcvn3.values())))
        .when(pl.col("u") < 0.07)
        .then(pl.col("ho_ten").str.replace(" ", "  "))
        .otherwise(pl.col("ho_ten"))
    )
    # dates of birth 1925..2025, 3 % year only
    days = rng.integers(np.datetime64("1925-01-01").astype(int), np.datetime64("2025-12-31").astype(int), n)
    dob = pl.Series(days.astype("datetime64[D]")).dt.strftime("%d/%m/%Y")
    year_only = pl.Series(rng.random(n) < 0.03)
    female = rng.random(n) < 0.5
    years = pl.Series(days.astype("datetime64[D]")).dt.year().to_numpy()
    # personal IDs: province + century/sex + yy + 6 random digits; 2 % lost their leading zero
    prov = legacy_units()["ma_tinh_cu"].unique().sort().to_numpy()
    p = rng.choice(prov, n)
    cent = (years >= 2000).astype(int) * 2 + female.astype(int)
    tail = rng.integers(0, 1_000_000, n)
    ids = (
        pl.DataFrame({"p": p, "c": cent, "y": years % 100, "t": tail})
        .select(
            pl.format(
                "0{}{}{}{}", "p", "c", pl.col("y").cast(pl.Utf8).str.zfill(2), pl.col("t").cast(pl.Utf8).str.zfill(6)
            )
        )
        .to_series()
    )
    lost = pl.Series(rng.random(n) < 0.02)
    # addresses: "Thôn k, <xã>, <tỉnh>" from real units; 25 % old three-level form
    cur = current_units()
    leg = legacy_units().filter(pl.col("ten_xa_cu").is_not_null())
    ci = rng.integers(0, cur.height, n)
    li = rng.integers(0, leg.height, n)
    thon = pl.Series(rng.integers(1, 16, n)).cast(pl.Utf8)
    cur_addr = pl.format("Thôn {}, {}, {}", thon, cur["ten_xa"].gather(ci), cur["ten_tinh"].gather(ci))
    leg_addr = pl.format(
        "{}, {}, {}", leg["ten_xa_cu"].gather(li), leg["ten_huyen_cu"].gather(li), leg["ten_tinh_cu"].gather(li)
    )
    is_leg = pl.Series(rng.random(n) < 0.25)
    out = df.select(
        "ho_ten",
        ngay_sinh=pl.when(year_only).then(dob.str.slice(6, 4)).otherwise(dob),
        gioi_tinh=pl.when(pl.Series(female)).then(pl.lit("Nữ")).otherwise(pl.lit("Nam")),
        so_dinh_danh=pl.when(lost).then(ids.str.slice(1)).otherwise(ids),
        dia_chi_thuong_tru=pl.when(is_leg).then(leg_addr).otherwise(cur_addr),
    )
    return out


def build_rows_from_generator(n: int, seed: int = 6):
    """The population extract as `doisoat sample` builds it (pipelines.sample), n persons.

    Uses the generator's internal steps (households, places, IDs) without writing the registries,
    so 10 M persons fit in minutes; raises if the generator's internals have changed."""
    import numpy as np

    from pipelines.sample import generator as g
    from pipelines.sample.persons import build_population
    from pipelines.sample.places import choose_communes

    rng = np.random.default_rng(seed)
    communes = choose_communes(rng, n)
    pool = g._locate(build_population(rng, communes, n), communes, rng)
    everyone = np.ones(pool.height, dtype=bool)
    pop = g._population_frame(pool, everyone, ~everyone)
    return pop.select("ho_ten", "ngay_sinh", "gioi_tinh", "so_dinh_danh", "dia_chi_thuong_tru")


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--data", default=None, help="Parquet input (built by this script when missing)")
    ap.add_argument(
        "--source",
        choices=("generator", "synthetic"),
        default="generator",
        help="rows from the sample generator (clean CSDLQG-like extract) or from built-in pools "
        "with extract defects (old tone style, NFD, upper case, TCVN3, lost ID zeros, old addresses)",
    )
    ap.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    suffix = "" if args.source == "synthetic" else "_generator"
    data = Path(args.data or f"/tmp/doisoat_bench_population_{args.rows}_{args.seed}{suffix}.parquet")
    if args.build_only:
        t = time.perf_counter()
        if args.source == "generator":
            try:
                frame = build_rows_from_generator(args.rows, args.seed)
            except Exception as exc:  # the generator's internals moved: say so, use built-in pools
                print(f"sample generator unusable ({type(exc).__name__}: {exc}); using built-in pools")
                frame = build_rows(args.rows, args.seed)
        else:
            frame = build_rows(args.rows, args.seed)
        frame.write_parquet(data)
        print(f"built {args.rows:,} rows ({args.source}) in {time.perf_counter() - t:.1f} s -> {data}")
        return 0
    if not data.exists():
        subprocess.run(
            [
                sys.executable,
                __file__,
                "--rows",
                str(args.rows),
                "--seed",
                str(args.seed),
                "--data",
                str(data),
                "--source",
                args.source,
                "--build-only",
            ],
            check=True,
        )

    import polars as pl

    from matching.normalize.frame import normalize_columns
    from matching.reference.admin_units import current_units, legacy_units

    current_units(), legacy_units()  # reference tables load once per process; not per row
    df = pl.read_parquet(data)
    rss_input = _peak_rss_gib()
    t = time.perf_counter()
    cpu0 = time.process_time()
    out = normalize_columns(
        df,
        [
            ("ho_ten", "name"),
            ("ngay_sinh", "date"),
            ("gioi_tinh", "sex"),
            ("so_dinh_danh", "id"),
            ("dia_chi_thuong_tru", "address"),
        ],
        sex_column="gioi_tinh",
        dob_column="ngay_sinh",
    )
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu0
    rows = out.height
    status = out["dia_chi_thuong_tru_address_status"].value_counts().sort("count", descending=True)
    with_problems = int((out["problems"].list.len() > 0).sum())
    print(
        f"source: {args.source}  rows: {rows:,}  distinct names: {df['ho_ten'].n_unique():,}  "
        f"distinct addresses: {df['dia_chi_thuong_tru'].n_unique():,}"
    )
    print(f"columns out: {out.width}  threads: {pl.thread_pool_size()}  cpus: {os.cpu_count()}")
    print(f"normalize time: {elapsed:.2f} s wall, {cpu:.2f} s CPU  ->  {rows / elapsed:,.0f} rows/s")
    print(f"load average during run (other processes share the 2 cores): {os.getloadavg()[0]:.1f}")
    print(f"peak RSS: {_peak_rss_gib():.2f} GiB (after loading input: {rss_input:.2f} GiB)")
    print(f"rows with problems: {with_problems:,}")
    print("address status:", dict(zip(status[:, 0].to_list(), status["count"].to_list())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
