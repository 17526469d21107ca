"""Where people live: real 2025 communes, their pre-2025 wards, and address text.

Why concentrated: real registries are per commune and per province, and blocking on commune
only stresses the matcher when communes hold many people; so the sample uses a limited set of
provinces (mixing big cities, lowland, Central Highlands and northern mountain provinces, where
ethnic-minority names are common) and about one commune per 250 persons.

Each household gets one current unit (ma_tinh, ten_tinh, ma_xa, ten_xa from
`matching.reference.admin_units.current_units()`) and one of the pre-2025 wards that merged into
it (`legacy_units()` with `new_ma_xa` equal to the household's commune), so the "old
three-level address" defect writes a real old address that really maps to the person's commune
(or, for split wards, ambiguously — as in real files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from matching.reference.admin_units import current_units, legacy_units

# Province (current code) -> share of the sample's households.
PROVINCE_WEIGHTS = {
    "01": 0.19,  # Hà Nội
    "79": 0.17,  # TP Hồ Chí Minh
    "31": 0.08,  # Hải Phòng (with the former Hải Dương)
    "38": 0.10,  # Thanh Hóa
    "40": 0.08,  # Nghệ An
    "66": 0.08,  # Đắk Lắk (Ê Đê)
    "52": 0.06,  # Gia Lai (Gia Rai)
    "14": 0.05,  # Sơn La (Thái, H'Mông)
    "11": 0.03,  # Điện Biên
    "08": 0.04,  # Tuyên Quang (with the former Hà Giang: Tày, H'Mông)
    "92": 0.06,  # Cần Thơ
    "91": 0.06,  # An Giang
}
SOUTH = {"48", "51", "52", "56", "66", "68", "75", "79", "80", "82", "86", "91", "92", "96"}

# Ethnic mix of households per province: group key -> share (the rest are Kinh).
ETHNIC_MIX = {
    "66": {"ede": 0.30},
    "52": {"giarai": 0.30},
    "14": {"thai": 0.45, "hmong": 0.25},
    "11": {"thai": 0.35, "hmong": 0.35},
    "08": {"tay": 0.30, "hmong": 0.25},
    "38": {"thai": 0.05},
    "40": {"thai": 0.05},
}

STREETS = (
    "Lê Lợi",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Quang Trung",
    "Lý Thường Kiệt",
    "Nguyễn Huệ",
    "Lê Duẩn",
    "Phan Chu Trinh",
    "Hùng Vương",
    "Điện Biên Phủ",
    "Trường Chinh",
    "Nguyễn Văn Cừ",
    "Bạch Đằng",
    "Lê Hồng Phong",
    "Võ Thị Sáu",
    "Ngô Quyền",
    "Tôn Đức Thắng",
)
VILLAGE_NAMES_SOUTH = ("Bình An", "Tân Lợi", "Phú Hòa", "Long Thạnh", "Mỹ Phước", "Thới Lai", "Hòa Bình", "Tân Hưng")
BAN_NAMES = ("Nà Phặt", "Hua La", "Pá Khôm", "Co Mạ", "Huổi Một", "Nà Tấu", "Púng Bánh", "Lùng Cú")
BUON_NAMES = ("Ea Kao", "Ko Tam", "Kmrơng Prông", "Ale", "Ea Tiêu", "Plei Ku Tong", "Đê Tar", "Tơ Nia")

ABBREVIATIONS = (
    ("Thành phố ", "TP. "),
    ("Thị trấn ", "TT. "),
    ("Thị xã ", "TX. "),
    ("Phường ", "P. "),
    ("Quận ", "Q. "),
    ("Huyện ", "H. "),
    ("Xã ", "X. "),
    ("Tỉnh ", "T. "),
)


@dataclass
class Communes:
    """The communes used by one sample, with a size weight each and their legacy wards."""

    units: pl.DataFrame  # ma_tinh, ten_tinh, ten_tinh_ngan, ma_xa, ten_xa, loai_xa, weight
    legacy: (
        pl.DataFrame
    )  # legacy wards of those communes: commune_idx, ten_xa_cu, ten_huyen_cu, ten_tinh_cu, ma_tinh_cu
    legacy_start: np.ndarray  # first legacy row of each commune
    legacy_count: np.ndarray  # legacy rows per commune


def choose_communes(rng: np.random.Generator, persons: int) -> Communes:
    """About one commune per 250 persons, spread over PROVINCE_WEIGHTS, unequal sizes."""
    legacy = legacy_units().filter(pl.col("ten_xa_cu").is_not_null())
    has_legacy = legacy["new_ma_xa"].unique()
    cur = current_units().filter((pl.col("loai_xa") != "Đặc khu") & pl.col("ma_xa").is_in(has_legacy.implode()))
    n_total = int(np.clip(round(persons / 250), len(PROVINCE_WEIGHTS), 2500))
    picked = []
    for code, share in PROVINCE_WEIGHTS.items():
        pool = cur.filter(pl.col("ma_tinh") == code)
        k = int(min(pool.height, max(1, round(n_total * share))))
        idx = np.sort(rng.choice(pool.height, size=k, replace=False))
        size = rng.lognormal(0.0, 0.5, size=k)
        picked.append(pool[idx].with_columns(weight=pl.Series(share * size / size.sum())))
    units = pl.concat(picked).select("ma_tinh", "ten_tinh", "ten_tinh_ngan", "ma_xa", "ten_xa", "loai_xa", "weight")
    units = units.with_row_index("commune_idx")
    leg = (
        legacy.join(units.select("commune_idx", "ma_xa"), left_on="new_ma_xa", right_on="ma_xa")
        .sort("commune_idx", "ma_xa_cu")
        .select("commune_idx", "ma_tinh_cu", "ten_tinh_cu", "ten_huyen_cu", "ten_xa_cu", "loai_xa_cu")
    )
    counts = leg.group_by("commune_idx").len().sort("commune_idx")
    count = np.zeros(units.height, dtype=np.int64)
    count[counts["commune_idx"].to_numpy()] = counts["len"].to_numpy()
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    return Communes(units=units, legacy=leg, legacy_start=start, legacy_count=count)


def assign_households(rng: np.random.Generator, communes: Communes, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Commune index and legacy-ward row for each of n households."""
    w = communes.units["weight"].to_numpy()
    commune = rng.choice(len(w), size=n, p=w / w.sum())
    u = rng.random(n)
    legacy_row = communes.legacy_start[commune] + (u * communes.legacy_count[commune]).astype(np.int64)
    return commune, legacy_row


def local_parts(rng: np.random.Generator, ma_tinh: np.ndarray, loai_xa: np.ndarray) -> np.ndarray:
    """House/village part of an address ('Số 12 ngõ 5', 'Thôn 3', 'Ấp Bình An', 'Buôn Ea Kao')."""
    n = len(ma_tinh)
    a = rng.integers(1, 200, size=n)
    b = rng.integers(1, 60, size=n)
    c = rng.integers(1, 18, size=n)
    kind = rng.random(n)
    pick = rng.integers(0, 1 << 30, size=n)
    out = np.empty(n, dtype=object)
    for i in range(n):
        south = ma_tinh[i] in SOUTH
        if loai_xa[i] == "Phường":
            if kind[i] < 0.45:
                out[i] = f"Số {a[i]} {'hẻm' if south else 'ngõ'} {b[i]} {STREETS[pick[i] % len(STREETS)]}"
            elif kind[i] < 0.75:
                out[i] = f"Số {a[i]} {STREETS[pick[i] % len(STREETS)]}"
            else:
                out[i] = f"{'Khu phố' if south else 'Tổ'} {c[i]}"
        elif ma_tinh[i] in ("66", "52") and kind[i] < 0.4:
            out[i] = f"Buôn {BUON_NAMES[pick[i] % len(BUON_NAMES)]}"
        elif ma_tinh[i] in ("14", "11", "08") and kind[i] < 0.5:
            out[i] = f"Bản {BAN_NAMES[pick[i] % len(BAN_NAMES)]}"
        elif south:
            out[i] = f"Ấp {VILLAGE_NAMES_SOUTH[pick[i] % len(VILLAGE_NAMES_SOUTH)]}" if kind[i] < 0.5 else f"Ấp {c[i]}"
        elif ma_tinh[i] in ("38", "40"):
            out[i] = f"Xóm {c[i]}" if kind[i] < 0.5 else f"Thôn {c[i]}"
        else:
            out[i] = f"Thôn {c[i]}"
    return out


def abbreviate(address: str) -> str:
    """'Phường Ba Đình, Thành phố Hà Nội' -> 'P. Ba Đình, TP. Hà Nội'."""
    for full, short in ABBREVIATIONS:
        address = address.replace(full, short)
    return address
