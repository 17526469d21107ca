"""Land-use certificate rows: owners as officers write them.

Why its own module: a land row does not name one person. It says "Ông A", "Bà B", "Ông A và
bà B" (a couple: two truth rows, owner_index 0 and 1), "Hộ ông A" / "Hộ bà B" (a household: the
truth is the named head) or an organization (no person at all), with a year of birth only, no
sex column, and mostly the old 9-digit CMND. Some owners hold two parcels: that is two rows for
the same person that are NOT duplicates (different certificates); a `duplicate` is the same
certificate listed twice.
"""

from __future__ import annotations

import random

import numpy as np

from pipelines.sample import defects as dft
from pipelines.sample.places import abbreviate
from pipelines.sample.registries import People, RowPlan

OWNER_CODES = dft.ID_CODES + dft.NAME_CODES + ("dob_typo",) + dft.ADDR_CODES
SERIES = (
    "AA",
    "AB",
    "AC",
    "AD",
    "BA",
    "BB",
    "BC",
    "BD",
    "BE",
    "BH",
    "BK",
    "BL",
    "CA",
    "CB",
    "CC",
    "CD",
    "CE",
    "CH",
    "CK",
    "CS",
    "CT",
    "CY",
    "DA",
    "DB",
    "DC",
)
COMPANIES = (
    "Thương mại Dịch vụ Hoàng Long",
    "Xây dựng Minh Phát",
    "Nông sản Tây Nguyên",
    "Đầu tư Phú Thịnh",
    "Vật liệu xây dựng Thành Công",
    "Chế biến Thủy sản Mekong",
    "Du lịch Sông Hồng",
    "May mặc Việt Tiến",
)


def certificate_extra(rnd: random.Random, seq: int) -> dict:
    """Certificate number and parcel facts, fixed before duplication so a copy repeats them."""
    return {
        "cert": f"{SERIES[seq % len(SERIES)]} {(seq * 7919 + 104729) % 1_000_000:06d}",
        "so_to": str(rnd.randint(1, 65)),
        "so_thua": str(rnd.randint(1, 950)),
        "dien_tich": f"{rnd.uniform(40, 2500):.1f}",
    }


def _organization(rnd: random.Random, ten_xa: str) -> str:
    short = ten_xa.split(" ", 1)[1] if " " in ten_xa else ten_xa
    kind = rnd.randrange(5)
    if kind == 0:
        return f"Công ty TNHH {rnd.choice(COMPANIES)}"
    if kind == 1:
        return f"Công ty Cổ phần {rnd.choice(COMPANIES)}"
    if kind == 2:
        return f"UBND {ten_xa[0].lower()}{ten_xa[1:]}"  # "UBND xã Đông Sơn"
    if kind == 3:
        return f"Hợp tác xã nông nghiệp {short}"
    return f"Trường Tiểu học {short}"


def owner_text(plan: RowPlan, people: People) -> str:
    p = plan.pids
    form = plan.extra["form"]
    if form == "couple":
        return f"Ông {people.ho_ten[p[0]]} và bà {people.ho_ten[p[1]]}"
    if form == "household":
        return f"Hộ {'bà' if people.female[p[0]] else 'ông'} {people.ho_ten[p[0]]}"
    return f"{'Bà' if people.female[p[0]] else 'Ông'} {people.ho_ten[p[0]]}"


def _parcel_address(rnd: random.Random, people: People, pid: int) -> str:
    addr = people.legacy_address[pid] if rnd.random() < 0.5 and people.legacy_address[pid] else people.address[pid]
    parts = addr.split(", ")
    if parts[0].startswith("Số "):  # a parcel has no house number: keep the village/street part
        parts = parts[1:]
    return ", ".join(parts)


def land(plans: list[RowPlan], people: People, rates: dict[str, float], rnd: random.Random):
    rows, codes_all = [], []
    for plan in plans:
        ex = plan.extra
        flags = dft.draw_flags(rnd, rates, OWNER_CODES)
        if plan.entity == "organization":
            (text,), codes = dft.apply_name([_organization(rnd, ex["ten_xa"])], flags, rnd)
            addr = f"{ex['ten_xa']}, {ex['ten_tinh']}"
            if flags.get("addr_abbrev"):
                addr = abbreviate(addr)
                codes.append("addr_abbrev")
            rows.append(
                {
                    "so_giay_chung_nhan": ex["cert"],
                    "so_to": ex["so_to"],
                    "so_thua": ex["so_thua"],
                    "dien_tich": ex["dien_tich"],
                    "chu_su_dung": text,
                    "nam_sinh": "",
                    "so_giay_to": "",
                    "dia_chi_thuong_tru": addr,
                    "dia_chi_thua_dat": f"{ex['ten_xa']}, {ex['ten_tinh']}",
                }
            )
            codes_all.append(codes)
            continue
        head = plan.pids[0]
        (text,), c_name = dft.apply_name([owner_text(plan, people)], flags, rnd)
        year = people.bdate[head].year
        c_dob = []
        if flags.get("dob_typo"):
            year += rnd.choice((-1, 1))
            c_dob = ["dob_typo"]
        # land files carry the old CMND by default: id_old_cmnd has a high rate here
        idv, c_id = dft.apply_id(people.so_dinh_danh[head], people.so_cmnd_cu[head], flags, rnd)
        moved_from = people.earlier_address(head, rnd) if flags.get("addr_moved") else None
        addr, c_addr = dft.render_address(people.address[head], people.legacy_address[head], flags, moved_from)
        rows.append(
            {
                "so_giay_chung_nhan": ex["cert"],
                "so_to": ex["so_to"],
                "so_thua": ex["so_thua"],
                "dien_tich": ex["dien_tich"],
                "chu_su_dung": text,
                "nam_sinh": str(year),
                "so_giay_to": idv,
                "dia_chi_thuong_tru": addr,
                "dia_chi_thua_dat": _parcel_address(rnd, people, head),
            }
        )
        codes_all.append(c_id + c_name + c_dob + c_addr)
    return rows, codes_all


def land_plans(
    rng: np.random.Generator,
    rnd: random.Random,
    n_rows: int,
    singles: np.ndarray,
    couples: np.ndarray,
    heads: np.ndarray,
    absent: np.ndarray,
    communes: list[tuple[str, str]],
) -> list[RowPlan]:
    """Owner mix: ~50 % one person, ~22 % couples, ~15 % households, ~10 % organizations, absent
    owners as given; ~8 % of single owners hold a second parcel."""
    n_abs = absent.size
    rest = n_rows - n_abs
    n_couple = min(int(rest * 0.22), len(couples))
    n_head = min(int(rest * 0.15), heads.size)
    n_org = int(rest * 0.10)
    n_single = rest - n_couple - n_head - n_org
    n_second = int(n_single * 0.08)
    singles = singles[: n_single - n_second]
    plans: list[RowPlan] = []
    plans += [RowPlan((int(p),), "person", extra={"form": "single"}) for p in singles]
    plans += [
        RowPlan((int(p),), "person", extra={"form": "single"})
        for p in rng.choice(singles, size=min(n_second, singles.size), replace=False)
    ]
    plans += [RowPlan((int(a), int(b)), "person", extra={"form": "couple"}) for a, b in couples[:n_couple]]
    plans += [RowPlan((int(p),), "person", extra={"form": "household"}) for p in heads[:n_head]]
    plans += [RowPlan((int(p),), "absent", events=["absent"], extra={"form": "single"}) for p in absent]
    for _ in range(n_org):
        xa, tinh = communes[rnd.randrange(len(communes))]
        plans.append(RowPlan((), "organization", extra={"form": "organization", "ten_xa": xa, "ten_tinh": tinh}))
    for seq, plan in enumerate(plans):
        plan.extra.update(certificate_extra(rnd, seq))
    return plans
