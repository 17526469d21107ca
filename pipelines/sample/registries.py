"""Registry rows with ground truth: welfare, pension, births, deaths (land is in land.py).

Why one planner for all registries: every registry needs the same bookkeeping — pick the real
people on the roll, add people absent from CSDLQG and dead people still paid, list ~1 % twice,
shuffle, and remember for each output row who it really is and which defects it carries. The
planner does that once (`plan_rows`); each registry only says who is eligible and how its own
columns look.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.sample import defects as dft
from pipelines.sample.idnumbers import bhxh_numbers

PERSON_CODES = dft.ID_CODES + dft.NAME_CODES + dft.DOB_CODES + ("sex_wrong",) + dft.ADDR_CODES

BANKS = (
    ("Agribank", 0.36, 13),
    ("BIDV", 0.15, 12),
    ("VietinBank", 0.12, 12),
    ("Vietcombank", 0.12, 10),
    ("LPBank", 0.09, 12),
    ("MB", 0.06, 13),
    ("Sacombank", 0.05, 12),
    ("Techcombank", 0.05, 14),
)


@dataclass
class RowPlan:
    """One output row before rendering: who it is and which row-level events it carries."""

    pids: tuple[int, ...]  # people named in the row (two for a couple); empty for organizations
    entity: str  # person | absent | organization
    events: list[str] = field(default_factory=list)  # duplicate, absent, deceased_still_paid
    extra: dict = field(default_factory=dict)  # registry-specific facts fixed before duplication
    duplicate_of: int | None = None  # source_row of the first copy


class _Column:
    """Values of one column for the people a registry needs, indexed by pool pid."""

    def __init__(self, values: list, pos: np.ndarray):
        self._values, self._pos = values, pos

    def __getitem__(self, pid: int):
        return self._values[self._pos[pid]]


class People:
    """Python-side view of the pool (population + absent persons) for per-row rendering.

    Only the people some registry row names are converted to Python objects: at a million
    persons a full conversion would cost gigabytes for nothing."""

    FIELDS = (
        "ho_ten",
        "ho_ten_cha",
        "ho_ten_me",
        "bdate",
        "precision",
        "female",
        "age",
        "so_dinh_danh",
        "so_cmnd_cu",
        "dia_chi_thuong_tru",
        "dia_chi_cu",
        "ma_tinh",
        "ten_xa",
        "ten_tinh",
    )

    def __init__(self, pool: pl.DataFrame, needed: np.ndarray, death: dict[int, date]):
        needed = np.unique(needed)
        pos = np.full(pool.height, -1, dtype=np.int64)
        pos[needed] = np.arange(needed.size)
        sub = pool[needed].select(self.FIELDS)
        cols = {f: _Column(sub[f].to_list(), pos) for f in self.FIELDS}
        self.ho_ten, self.ho_ten_cha, self.ho_ten_me = cols["ho_ten"], cols["ho_ten_cha"], cols["ho_ten_me"]
        self.bdate, self.precision, self.female, self.age = (
            cols["bdate"],
            cols["precision"],
            cols["female"],
            cols["age"],
        )
        self.so_dinh_danh, self.so_cmnd_cu = cols["so_dinh_danh"], cols["so_cmnd_cu"]
        self.address, self.legacy_address = cols["dia_chi_thuong_tru"], cols["dia_chi_cu"]
        self.ma_tinh, self.ten_xa, self.ten_tinh = cols["ma_tinh"], cols["ten_xa"], cols["ten_tinh"]
        self.death = death
        # earlier residences for addr_moved: other people's current addresses, by province
        self._homes = list(zip(sub["ma_tinh"].to_list(), sub["ten_xa"].to_list(), sub["dia_chi_thuong_tru"].to_list()))
        self._by_province: dict[str, list[int]] = {}
        for i, (tinh, _, _) in enumerate(self._homes):
            self._by_province.setdefault(tinh, []).append(i)

    def earlier_address(self, pid: int, rnd: random.Random) -> str | None:
        """Where the person lived before (another commune; same province seven times in ten)."""
        same = self._by_province.get(self.ma_tinh[pid], [])
        for _ in range(8):
            i = rnd.choice(same) if same and rnd.random() < 0.7 else rnd.randrange(len(self._homes))
            _, xa, addr = self._homes[i]
            if xa != self.ten_xa[pid] and addr:
                return addr
        return None


def weighted_pick(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct candidates, probability proportional to weight (fewer if not enough)."""
    ok = weights > 0
    candidates, weights = candidates[ok], weights[ok]
    k = min(k, candidates.size)
    if k <= 0:
        return candidates[:0]
    # Efraimidis–Spirakis: the k largest log(u)/w are a weighted sample without replacement
    keys = np.log(rng.random(candidates.size)) / weights
    top = np.argpartition(-keys, k - 1)[:k]
    return candidates[np.sort(top)]


def plan_rows(rng: np.random.Generator, plans: list[RowPlan], n_dup: int) -> list[RowPlan]:
    """Add n_dup of the rows again (same person, separately rendered), shuffle, and point each
    later copy at the source_row of the earlier one."""
    pick = rng.choice(len(plans), size=min(n_dup, len(plans)), replace=False) if plans else []
    copies = [RowPlan(p.pids, p.entity, list(p.events), dict(p.extra)) for p in (plans[i] for i in pick)]
    pairs = [(int(i), len(plans) + j) for j, i in enumerate(pick)]
    rows = plans + copies
    order = rng.permutation(len(rows))
    position = np.empty(len(rows), dtype=np.int64)
    position[order] = np.arange(len(rows))
    for a, b in pairs:
        first, second = (a, b) if position[a] < position[b] else (b, a)
        rows[second].duplicate_of = int(position[first]) + 1
        rows[second].events.append("duplicate")
    return [rows[i] for i in order]


def render_person(
    people: People, pid: int, rates: dict[str, float], rnd: random.Random, codes: tuple[str, ...] = PERSON_CODES
) -> tuple[dict[str, str], list[str]]:
    """ho_ten, ngay_sinh, gioi_tinh, id, address of one person as a clerk wrote them."""
    flags = dft.draw_flags(rnd, rates, codes)
    (name,), c_name = dft.apply_name([people.ho_ten[pid]], flags, rnd)
    dob, c_dob = dft.render_date(people.bdate[pid], people.precision[pid], flags, rnd)
    female = people.female[pid]
    c_sex = []
    if flags.get("sex_wrong"):
        female = not female
        c_sex = ["sex_wrong"]
    idv, c_id = dft.apply_id(people.so_dinh_danh[pid], people.so_cmnd_cu[pid], flags, rnd)
    moved_from = people.earlier_address(pid, rnd) if flags.get("addr_moved") else None
    addr, c_addr = dft.render_address(people.address[pid], people.legacy_address[pid], flags, moved_from)
    fields = {"ho_ten": name, "ngay_sinh": dob, "gioi_tinh": "Nữ" if female else "Nam", "id": idv, "dia_chi": addr}
    return fields, c_id + c_name + c_dob + c_sex + c_addr


def truth_rows(plans: list[RowPlan], people: People, defects: list[list[str]]) -> list[dict[str, str]]:
    out = []
    for i, (plan, codes) in enumerate(zip(plans, defects), start=1):
        codes = plan.events + [c for c in codes if c not in plan.events]
        for owner_index, pid in enumerate(plan.pids or (None,)):
            out.append(
                {
                    "source_row": str(i),
                    "owner_index": str(owner_index),
                    "so_dinh_danh": people.so_dinh_danh[pid] if plan.entity == "person" and pid is not None else "",
                    "entity": plan.entity,
                    "duplicate_of": str(plan.duplicate_of) if plan.duplicate_of else "",
                    "defects": ";".join(codes),
                }
            )
    return out


def _account(rnd: random.Random, rates: dict[str, float], by_account: bool) -> tuple[str, str, list[str]]:
    if not by_account:
        return "", "", []
    bank, _, length = rnd.choices(BANKS, weights=[b[1] for b in BANKS])[0]
    if rnd.random() < rates.get("account_missing", 0.0):
        return "", bank, ["account_missing"]
    digits = str(rnd.randrange(1, 10)) + "".join(str(rnd.randrange(10)) for _ in range(length - 1))
    return digits, bank, []


def _welfare_type(rnd: random.Random, age: float, female: bool) -> tuple[str, int]:
    """loai_doi_tuong and monthly amount (mức chuẩn trợ giúp xã hội 500 000 đ × coefficient)."""
    u = rnd.random()
    if age >= 80:
        return ("Người cao tuổi", 500_000) if u < 0.8 else ("Người khuyết tật đặc biệt nặng", 1_250_000)
    if age >= 60:
        return ("Người cao tuổi thuộc hộ nghèo", 750_000) if u < 0.6 else ("Người khuyết tật nặng", 1_000_000)
    if age < 16:
        if u < 0.6:
            return "Trẻ em mồ côi", 1_250_000 if age < 4 else 750_000
        return ("Người khuyết tật đặc biệt nặng", 1_250_000) if u < 0.8 else ("Người khuyết tật nặng", 1_000_000)
    if female and u < 0.35:
        return "Người đơn thân nghèo đang nuôi con", 500_000
    if u < 0.95:
        return ("Người khuyết tật nặng", 750_000) if u < 0.7 else ("Người khuyết tật đặc biệt nặng", 1_000_000)
    return "Người nhiễm HIV/AIDS thuộc hộ nghèo", 750_000


def social_welfare(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    rows, codes_all = [], []
    for _i, plan in enumerate(plans, start=1):
        pid = plan.pids[0]
        f, codes = render_person(people, pid, rates, rnd)
        loai, amount = _welfare_type(rnd, float(people.age[pid]), people.female[pid])
        by_account = rnd.random() < 0.60
        acct, bank, c_acct = _account(rnd, rates, by_account)
        rows.append(
            {
                "ma_doi_tuong": f"BTXH{people.ma_tinh[pid]}{plan.extra['seq']:07d}",
                "ho_ten": f["ho_ten"],
                "ngay_sinh": f["ngay_sinh"],
                "gioi_tinh": f["gioi_tinh"],
                "so_cccd": f["id"],
                "dia_chi": f["dia_chi"],
                "loai_doi_tuong": loai,
                "muc_tro_cap": str(amount),
                "hinh_thuc_chi_tra": "Tài khoản" if by_account else "Tiền mặt",
                "so_tai_khoan": acct,
                "ngan_hang": bank,
            }
        )
        codes_all.append(codes + c_acct)
    return rows, codes_all


def pension(
    plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random, np_rng: np.random.Generator
):
    numbers = bhxh_numbers(np_rng, np.array([int(people.ma_tinh[p.pids[0]]) for p in plans], dtype=np.int64))
    rows, codes_all = [], []
    for i, plan in enumerate(plans):
        pid = plan.pids[0]
        f, codes = render_person(people, pid, rates, rnd)
        age, female = float(people.age[pid]), people.female[pid]
        retired = age >= (56 if female else 61)
        u = rnd.random()
        if retired:
            kind = "Hưu trí" if u < 0.82 else "Mất sức lao động" if u < 0.92 else "Tử tuất"
        else:
            kind = "Tử tuất" if u < 0.6 else "Tai nạn lao động"
        amount = {
            "Hưu trí": lambda: min(20_000_000, max(2_340_000, rnd.lognormvariate(15.5, 0.4))),
            "Mất sức lao động": lambda: rnd.uniform(2_900_000, 3_600_000),
            "Tử tuất": lambda: rnd.choice((1_755_000, 2_340_000, 1_755_000)),
            "Tai nạn lao động": lambda: rnd.uniform(600_000, 2_500_000),
        }[kind]()
        by_account = rnd.random() < 0.65
        acct, _, c_acct = _account(rnd, rates, by_account)
        rows.append(
            {
                "so_so_bhxh": plan.extra.get("bhxh") or numbers[i],
                "ho_ten": f["ho_ten"],
                "ngay_sinh": f["ngay_sinh"],
                "gioi_tinh": f["gioi_tinh"],
                "so_cccd": f["id"],
                "dia_chi": f["dia_chi"],
                "loai_che_do": kind,
                "muc_huong": str(int(round(amount, -3))),
                "phuong_thuc_nhan": "Tài khoản" if by_account else "Tiền mặt",
                "so_tai_khoan": acct,
            }
        )
        codes_all.append(codes + c_acct)
    return rows, codes_all


def _birth_place(rnd: random.Random, people: People, pid: int) -> tuple[str, str]:
    """Place of birth, current and pre-2025 form (the commune's health station or a hospital)."""
    leg = people.legacy_address[pid].split(", ")
    if rnd.random() < 0.4:
        legacy = f"Trạm y tế {leg[1]}, {leg[2]}, {leg[3]}" if len(leg) >= 4 else ""
        return f"Trạm y tế {people.ten_xa[pid]}, {people.ten_tinh[pid]}", legacy
    short = people.ten_tinh[pid].replace("Thành phố ", "").replace("Tỉnh ", "")
    old_short = leg[-1].replace("Thành phố ", "").replace("Tỉnh ", "")
    legacy = f"Bệnh viện Đa khoa {old_short}, {leg[2]}, {leg[3]}" if len(leg) >= 4 else ""
    return f"Bệnh viện Đa khoa {short}, {people.ten_xa[pid]}, {people.ten_tinh[pid]}", legacy


def civil_births(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    rows, codes_all = [], []
    codes_b = tuple(c for c in PERSON_CODES if c not in dft.ADDR_CODES) + dft.ADDR_CODES
    for i, plan in enumerate(plans, start=1):
        pid = plan.pids[0]
        flags = dft.draw_flags(rnd, rates, codes_b)
        names, c_name = dft.apply_name([people.ho_ten[pid], people.ho_ten_cha[pid], people.ho_ten_me[pid]], flags, rnd)
        dob, c_dob = dft.render_date(people.bdate[pid], people.precision[pid], flags, rnd)
        female = people.female[pid] != bool(flags.get("sex_wrong"))
        idv, c_id = dft.apply_id(people.so_dinh_danh[pid], "", flags, rnd)
        place, legacy = _birth_place(rnd, people, pid)
        addr, c_addr = dft.render_address(place, legacy, flags)
        rows.append(
            {
                "so_dang_ky": f"{i}/{people.bdate[pid].year}",
                "ho_ten": names[0],
                "ngay_sinh": dob,
                "gioi_tinh": "Nữ" if female else "Nam",
                "noi_sinh": addr,
                "ho_ten_cha": names[1],
                "ho_ten_me": names[2],
                "so_dinh_danh": idv,
            }
        )
        codes_all.append(c_id + c_name + c_dob + (["sex_wrong"] if flags.get("sex_wrong") else []) + c_addr)
    return rows, codes_all


def civil_deaths(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    rows, codes_all = [], []
    for i, plan in enumerate(plans, start=1):
        pid = plan.pids[0]
        f, codes = render_person(people, pid, rates, rnd)
        died = people.death[pid]
        rows.append(
            {
                "so_dang_ky": f"{i}/{died.year}",
                "ho_ten": f["ho_ten"],
                "ngay_sinh": f["ngay_sinh"],
                "gioi_tinh": f["gioi_tinh"],
                "ngay_mat": died.strftime("%d/%m/%Y"),
                "so_dinh_danh": f["id"],
                "noi_cu_tru_cuoi": f["dia_chi"],
            }
        )
        codes_all.append(codes)
    return rows, codes_all


def recent_death(rng: np.random.Generator, n: int, ref: date, days: int = 300) -> list[date]:
    """Dates of death within the last `days` days before ref (deaths not yet in CSDLQG)."""
    return [ref - timedelta(days=int(d)) for d in rng.integers(5, days, size=n)]


# ------------------------------------------------ registries added as spec files (issue 13) ----
# health_insurance, school_records, accommodation_guests: their column formats are assumptions
# written in their spec files (pipelines/<registry>/registry.yaml); here they only need to look
# like those files, with the defects of the other registries and their own truth.

# card group by age (2 letters) and its benefit level (1 digit): see health_insurance/registry.yaml
_BHYT_WORKING = (("DN", 4, 0.45), ("HC", 4, 0.12), ("GD", 4, 0.28), ("HN", 2, 0.08), ("CN", 3, 0.07))


def _bhyt_group(rnd: random.Random, age: float, female: bool) -> tuple[str, int]:
    if age < 6:
        return "TE", 1
    if age < 18:
        return "HS", 4
    if age < 23 and rnd.random() < 0.5:
        return "SV", 4
    if age >= (56 if female else 61) and rnd.random() < 0.55:
        return "HT", 2
    if age >= 80 and rnd.random() < 0.6:
        return "BT", 2
    group, level, _ = rnd.choices(_BHYT_WORKING, weights=[g[2] for g in _BHYT_WORKING])[0]
    return group, level


def _short_province(ten_tinh: str) -> str:
    return ten_tinh.replace("Thành phố ", "").replace("Tỉnh ", "")


def _short_commune(ten_xa: str) -> str:
    for unit in ("Phường ", "Xã ", "Thị trấn ", "Đặc khu "):
        if ten_xa.startswith(unit):
            return ten_xa[len(unit) :]
    return ten_xa


def health_insurance(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    """Card holders: the card code carries the holder's BHXH code (one per person, kept by a
    duplicate listing); the first-registration clinic is the commune's health station or the
    province's general hospital."""
    rows, codes_all = [], []
    for plan in plans:
        pid = plan.pids[0]
        f, codes = render_person(people, pid, rates, rnd)
        group, level = plan.extra["group"]
        if rnd.random() < 0.6:
            clinic = f"Trạm y tế {people.ten_xa[pid]}"
        else:
            clinic = f"Bệnh viện Đa khoa {_short_province(people.ten_tinh[pid])}"
        rows.append(
            {
                "ma_the_bhyt": f"{group}{level}{people.ma_tinh[pid]}{plan.extra['bhxh']}",
                "ho_ten": f["ho_ten"],
                "ngay_sinh": f["ngay_sinh"],
                "gioi_tinh": f["gioi_tinh"],
                "so_dinh_danh": f["id"],
                "dia_chi": f["dia_chi"],
                "noi_dang_ky_kcb": clinic,
            }
        )
        codes_all.append(codes)
    return rows, codes_all


def bhyt_extras(plans: list[RowPlan], people: People, rnd: random.Random, np_rng: np.random.Generator) -> None:
    """Fix each holder's card group and BHXH code before duplication (a listed-twice card keeps them)."""
    numbers = bhxh_numbers(np_rng, np.array([int(people.ma_tinh[p.pids[0]]) for p in plans], dtype=np.int64))
    for plan, number in zip(plans, numbers):
        pid = plan.pids[0]
        plan.extra["group"] = _bhyt_group(rnd, float(people.age[pid]), people.female[pid])
        plan.extra["bhxh"] = number


SCHOOL_YEAR = 2026  # school year 2026–2027 at the sample's reference date (persons.REF_DATE)


def school_grade(birth_year: int) -> int:
    """Grade in SCHOOL_YEAR: pupils start grade 1 in the year they turn six."""
    return SCHOOL_YEAR - birth_year - 5


def school_records(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    """Pupils with their parents' names; the younger the pupil, the likelier the school's file has
    no personal ID yet (rate id_missing for the youngest, falling to a third of it by grade 12)."""
    rows, codes_all = [], []
    codes_p = PERSON_CODES
    for plan in plans:
        pid = plan.pids[0]
        grade = school_grade(people.bdate[pid].year)
        own = dict(rates, id_missing=rates.get("id_missing", 0.0) * (1.0 - 2.0 * (grade - 1) / 33.0))
        flags = dft.draw_flags(rnd, own, codes_p)
        names, c_name = dft.apply_name([people.ho_ten[pid], people.ho_ten_cha[pid], people.ho_ten_me[pid]], flags, rnd)
        dob, c_dob = dft.render_date(people.bdate[pid], people.precision[pid], flags, rnd)
        female = people.female[pid] != bool(flags.get("sex_wrong"))
        idv, c_id = dft.apply_id(people.so_dinh_danh[pid], "", flags, rnd)
        moved_from = people.earlier_address(pid, rnd) if flags.get("addr_moved") else None
        addr, c_addr = dft.render_address(people.address[pid], people.legacy_address[pid], flags, moved_from)
        place = _short_commune(people.ten_xa[pid])
        level = "Tiểu học" if grade <= 5 else "THCS" if grade <= 9 else "THPT"
        rows.append(
            {
                "ma_hoc_sinh": plan.extra["code"],
                "ho_ten": names[0],
                "ngay_sinh": dob,
                "gioi_tinh": "Nữ" if female else "Nam",
                "so_dinh_danh": idv,
                "truong": f"Trường {level} {place}",
                "lop": f"{grade}{plan.extra['class']}",
                "dia_chi": addr,
                "ho_ten_cha": names[1],
                "ho_ten_me": names[2],
            }
        )
        codes_all.append(c_id + c_name + c_dob + (["sex_wrong"] if flags.get("sex_wrong") else []) + c_addr)
    return rows, codes_all


def school_extras(plans: list[RowPlan], people: People, rnd: random.Random, np_rng: np.random.Generator) -> None:
    """The pupil code (assumed: province code + 8 digits) and class letter, fixed before duplication
    (a pupil listed by two schools keeps the code)."""
    numbers = bhxh_numbers(np_rng, np.array([int(people.ma_tinh[p.pids[0]]) for p in plans], dtype=np.int64))
    for plan, number in zip(plans, numbers):
        plan.extra["code"] = number
        plan.extra["class"] = rnd.choice("ABCDE")


# Foreign guests: nationality as ASM writes it, name parts (given, family), passport shape.
# Given names include words the Vietnamese typing repair would rewrite ("harry" → "Hảy", issue 13).
FOREIGN = {
    "Hàn Quốc": (("Min-jun", "Seo-yeon", "Ji-hoon", "Ha-eun", "Do-yun"), ("Kim", "Lee", "Park", "Choi", "Jung"), "M"),
    "Trung Quốc": (("Wei", "Na", "Jing", "Yang", "Lei"), ("Wang", "Li", "Zhang", "Liu", "Chen"), "E"),
    "Nhật Bản": (("Hiroshi", "Yuki", "Kenji", "Aiko", "Sora"), ("Tanaka", "Sato", "Suzuki", "Takahashi", "Ito"), "TK"),
    "Hoa Kỳ": (("Harry", "Max", "Emily", "Chris", "Doris"), ("Smith", "Johnson", "Brown", "Miller", "Davis"), ""),
    "Anh": (("Harry", "Oliver", "Amelia", "Ross", "Jess"), ("Wilson", "Taylor", "Evans", "Fox", "Hughes"), ""),
    "Pháp": (("Jean-Luc", "Marie", "Paris", "Pierre", "Chloé"), ("Martin", "Dubois", "Bernard", "Leroy", "Moreau"), ""),
    "Đức": (("Lukas", "Anna", "Felix", "Max", "Jonas"), ("Müller", "Schmidt", "Schneider", "Fischer", "Weber"), "C"),
    "Úc": (("Jack", "Charlotte", "Max", "Ruby", "Harry"), ("Williams", "Jones", "Martin", "Kelly", "Ross"), "PA"),
}
# Việt kiều: foreign citizens whose Vietnamese-born name has a namesake in CSDLQG (not the same person)
VIET_KIEU_NATIONS = ("Hoa Kỳ", "Úc", "Pháp")
STAYS = (
    "Khách sạn Mường Thanh",
    "Khách sạn Sài Gòn",
    "Nhà nghỉ Hoa Sen",
    "Homestay Bình Yên",
    "Khách sạn Biển Xanh",
    "Nhà nghỉ Thành Công",
)


def foreign_guest(rnd: random.Random, namesake: str | None) -> dict:
    """A foreign guest's facts (no CSDLQG person): name in Latin letters as in the passport."""
    if namesake is not None:
        nation = rnd.choice(VIET_KIEU_NATIONS)
        name = dft.strip_diacritics(namesake).upper() if rnd.random() < 0.7 else dft.strip_diacritics(namesake)
    else:
        nation = rnd.choice(sorted(FOREIGN))
        given, family, _ = FOREIGN[nation]
        g, s = rnd.choice(given), rnd.choice(family)
        name = f"{s} {g}" if nation in ("Hàn Quốc", "Trung Quốc", "Nhật Bản") else f"{g} {s}"
        name = name.upper() if rnd.random() < 0.3 else name
    prefix = FOREIGN[nation][2]
    passport = prefix + "".join(str(rnd.randrange(10)) for _ in range(9 - len(prefix) if prefix else 9))
    born = date(rnd.randrange(1950, 2006), rnd.randrange(1, 13), rnd.randrange(1, 29))
    return {"ho_ten": name, "ngay_sinh": born, "female": rnd.random() < 0.5, "quoc_tich": nation, "passport": passport}


def accommodation_guests(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    """Vietnamese guests (their CCCD, their permanent address) and foreigners (passport, nationality,
    no Vietnamese address); the declaration number and the stay are fixed in the plan."""
    rows, codes_all = [], []
    for plan in plans:
        stay = plan.extra["stay"]
        common = {
            "ma_luu_tru": stay["ma"],
            "co_so_luu_tru": stay["place"],
            "ngay_den": stay["arrive"].strftime("%d/%m/%Y"),
            "ngay_di": stay["leave"].strftime("%d/%m/%Y") if stay["leave"] else "",
        }
        if plan.entity == "foreigner":
            g = plan.extra["guest"]
            flags = dft.draw_flags(rnd, rates, ("dob_format",))
            dob, c_dob = dft.render_date(g["ngay_sinh"], "day", flags, rnd)
            rows.append(
                {
                    **common,
                    "ho_ten": g["ho_ten"],
                    "ngay_sinh": dob,
                    "gioi_tinh": "Nữ" if g["female"] else "Nam",
                    "quoc_tich": g["quoc_tich"],
                    "so_dinh_danh": "",
                    "so_ho_chieu": g["passport"],
                    "dia_chi": "",
                }
            )
            codes_all.append(c_dob)
            continue
        pid = plan.pids[0]
        f, codes = render_person(people, pid, rates, rnd)
        rows.append(
            {
                **common,
                "ho_ten": f["ho_ten"],
                "ngay_sinh": f["ngay_sinh"],
                "gioi_tinh": f["gioi_tinh"],
                "quoc_tich": "Việt Nam",
                "so_dinh_danh": f["id"],
                "so_ho_chieu": "",
                "dia_chi": f["dia_chi"],
            }
        )
        codes_all.append(codes)
    return rows, codes_all


def guest_stays(plans: list[RowPlan], rnd: random.Random, ref: date) -> None:
    """A declaration number and a stay of 1–6 nights in the last 90 days before ref (still staying:
    no departure yet), fixed before duplication (a declaration listed twice keeps them)."""
    for i, plan in enumerate(plans, start=1):
        arrive = ref - timedelta(days=rnd.randrange(1, 90))
        nights = rnd.randrange(1, 7)
        leave = arrive + timedelta(days=nights)
        plan.extra["stay"] = {
            "ma": f"LT{ref.year}{i:06d}",
            "place": rnd.choice(STAYS),
            "arrive": arrive,
            "leave": leave if leave <= ref else None,
        }
