"""Small, deterministic person-schema tables for the matching tests.

A crafted population of a few thousand people (names drawn from common Vietnamese surnames,
middle and given names, so common names really repeat), and helpers to make registry rows from
population rows with one chosen defect. Keys are computed the way the name normalizer defines
them (accent-free lower key, key without Thị/Văn, folded surname, given name).
"""

from __future__ import annotations

import random
import unicodedata

import duckdb
import polars as pl

from matching.person_schema import SCHEMA

SURNAMES = (
    ["Nguyễn"] * 8
    + ["Trần"] * 3
    + ["Lê"] * 2
    + ["Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
)
MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Văn Minh"]
MIDDLE_F = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Thị Thu", "Minh"]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Nam",
    "Tuấn",
    "Sơn",
    "Long",
    "Bình",
    "Cường",
    "Hải",
    "Phong",
    "Quang",
    "Thắng",
    "Trung",
    "Hiếu",
]
GIVEN_F = ["Lan", "Hương", "Mai", "Hoa", "Linh", "Trang", "Hà", "Thảo", "Ngọc", "Phương", "Dung", "Yến", "Nga", "Hạnh"]
FOLD = {"huynh": "hoang", "vo": "vu"}

COLUMNS = SCHEMA  # the engine's person schema, not a copy of it


def key(name: str | None) -> str | None:
    if not name:
        return None
    s = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return " ".join(s.lower().split())


def name_fields(name: str | None) -> dict:
    k = key(name)
    if not k:
        return {"ho_ten": None, "ho_ten_key": None, "ho_ten_key_nomid": None, "ho_key": None, "ten_key": None}
    parts = k.split()
    nomid = [parts[0]] + [w for w in parts[1:-1] if w not in ("thi", "van")] + ([parts[-1]] if len(parts) > 1 else [])
    return {
        "ho_ten": name,
        "ho_ten_key": k,
        "ho_ten_key_nomid": " ".join(nomid),
        "ho_key": FOLD.get(parts[0], parts[0]),
        "ten_key": parts[-1],
    }


def person(
    rec_id: int,
    name: str | None,
    dob: tuple | None,
    sex: str | None = None,
    id12: str | None = None,
    cmnd9: str | None = None,
    ma_tinh: str | None = None,
    ma_xa: str | None = None,
    cha: str | None = None,
    me: str | None = None,
) -> dict:
    y, m, d = (tuple(dob) + (None, None, None))[:3] if dob else (None, None, None)
    precision = None if y is None else ("day" if d else "month" if m else "year")
    return {
        "rec_id": rec_id,
        **name_fields(name),
        "ngay_sinh_year": y,
        "ngay_sinh_month": m,
        "ngay_sinh_day": d,
        "ngay_sinh_precision": precision,
        "gioi_tinh": sex,
        "id12": id12,
        "cmnd9": cmnd9,
        "ma_tinh": ma_tinh,
        "ma_xa": ma_xa,
        "ho_ten_cha_key": key(cha),
        "ho_ten_me_key": key(me),
    }


def population(n: int = 3000, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        female = rnd.random() < 0.5
        name = " ".join(
            [
                rnd.choice(SURNAMES),
                rnd.choice(MIDDLE_F if female else MIDDLE_M),
                rnd.choice(GIVEN_F if female else GIVEN_M),
            ]
        )
        y = rnd.randint(1940, 2010)
        tinh = f"{rnd.randint(1, 6):02d}"
        rows.append(
            person(
                i + 1,
                name,
                (y, rnd.randint(1, 12), rnd.randint(1, 28)),
                "Nữ" if female else "Nam",
                id12=f"0{tinh}{(1 if female else 0) + (2 if y >= 2000 else 0)}{y % 100:02d}{i:06d}",
                cmnd9=f"{100000000 + i * 7919 % 899999999}" if rnd.random() < 0.3 else None,
                ma_tinh=tinh,
                ma_xa=f"{tinh}{rnd.randint(1, 20):03d}",
                cha=f"{name.split()[0]} Văn {rnd.choice(GIVEN_M)}",
                me=f"{rnd.choice(SURNAMES)} Thị {rnd.choice(GIVEN_F)}",
            )
        )
    return rows


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS)


def load(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    df = frame(rows)  # noqa: F841 - read by DuckDB's replacement scan
    con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM df')


def copy_as_registry(p: dict, rec_id: int, **changes) -> dict:
    """A registry row for population person `p`, with field changes (name=..., dob=..., ...)."""
    name = changes.pop("name", p["ho_ten"])
    dob = changes.pop("dob", (p["ngay_sinh_year"], p["ngay_sinh_month"], p["ngay_sinh_day"]))
    base = dict(sex=p["gioi_tinh"], id12=p["id12"], cmnd9=None, ma_tinh=p["ma_tinh"], ma_xa=p["ma_xa"])
    base.update(changes)
    return person(rec_id, name, dob, **base)


def background_registry(pop: list[dict], n: int = 600, seed: int = 11, start: int = 100000) -> list[dict]:
    """Clean registry rows (most with ID, some without) so the model has data to train on."""
    rnd = random.Random(seed)
    rows = []
    for j, p in enumerate(rnd.sample(pop, n)):
        id12 = p["id12"] if rnd.random() < 0.8 else None
        rows.append(copy_as_registry(p, start + j * 10, id12=id12))
    return rows
