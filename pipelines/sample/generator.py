"""`doisoat sample`: a synthetic CSDLQG extract, eight sector registries and their ground truth.

Why a generator and not real data: real files are personal data. Every accuracy figure the team
publishes is measured here, so the sample is built to be realistic (names.py, persons.py,
places.py) and every registry row's true person and defects are written to truth/ (format in
ARCHITECTURE.md, "Sample data and truth").

Reproducible: one seed drives independent numpy/`random` streams per stage, and nothing reads the
clock, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from matching.reference.admin_units import legacy_province_codes
from pipelines.errors import DoisoatError
from pipelines.sample import land as land_mod
from pipelines.sample import registries as reg
from pipelines.sample.defects import DEFAULT_RATES
from pipelines.sample.idnumbers import cmnd_numbers, personal_ids
from pipelines.sample.persons import (
    REF_DATE,
    ROLE_CHILD,
    ROLE_HUSBAND,
    ROLE_WIFE,
    build_population,
)
from pipelines.sample.places import choose_communes

# Registry rows per person in the population (for 5,000 persons: 500 welfare, 500 pension,
# 150 births, 100 deaths, 400 land rows; for 1,000,000: 100,000 welfare rows).
DEFAULT_FRACTIONS = {
    "social_welfare": 0.10,
    "pension": 0.10,
    "civil_births": 0.03,
    "civil_deaths": 0.02,
    "land": 0.08,
    # registries added as spec files (issue 13): 400, 300 and 400 rows for 5,000 persons
    "health_insurance": 0.08,
    "school_records": 0.06,
    "accommodation_guests": 0.08,
}
# The rolls whose people absent from CSDLQG are generated as extra persons (the others reuse them).
ABSENT_ROLLS = ("social_welfare", "pension", "land")
# The registries added later draw from their own random streams and their own view of the people
# (`_later_registries`): the files of the first five stay byte-identical for a seed.
LATER = ("health_insurance", "school_records", "accommodation_guests")
# Share of registered deaths that CSDLQG has not recorded yet (the "sống" gap).
UNRECORDED_DEATH_SHARE = 0.20

COLUMNS = {
    "population": (
        "so_dinh_danh",
        "so_cmnd_cu",
        "ho_ten",
        "ngay_sinh",
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
    ),
    "social_welfare": (
        "ma_doi_tuong",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "so_cccd",
        "dia_chi",
        "loai_doi_tuong",
        "muc_tro_cap",
        "hinh_thuc_chi_tra",
        "so_tai_khoan",
        "ngan_hang",
    ),
    "pension": (
        "so_so_bhxh",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "so_cccd",
        "dia_chi",
        "loai_che_do",
        "muc_huong",
        "phuong_thuc_nhan",
        "so_tai_khoan",
    ),
    "civil_births": (
        "so_dang_ky",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "noi_sinh",
        "ho_ten_cha",
        "ho_ten_me",
        "so_dinh_danh",
    ),
    "civil_deaths": ("so_dang_ky", "ho_ten", "ngay_sinh", "gioi_tinh", "ngay_mat", "so_dinh_danh", "noi_cu_tru_cuoi"),
    "land": (
        "so_giay_chung_nhan",
        "so_to",
        "so_thua",
        "dien_tich",
        "chu_su_dung",
        "nam_sinh",
        "so_giay_to",
        "dia_chi_thuong_tru",
        "dia_chi_thua_dat",
    ),
    "health_insurance": (
        "ma_the_bhyt",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "so_dinh_danh",
        "dia_chi",
        "noi_dang_ky_kcb",
    ),
    "school_records": (
        "ma_hoc_sinh",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "so_dinh_danh",
        "truong",
        "lop",
        "dia_chi",
        "ho_ten_cha",
        "ho_ten_me",
    ),
    "accommodation_guests": (
        "ma_luu_tru",
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        "quoc_tich",
        "so_dinh_danh",
        "so_ho_chieu",
        "dia_chi",
        "co_so_luu_tru",
        "ngay_den",
        "ngay_di",
    ),
}
TRUTH_COLUMNS = ("source_row", "owner_index", "so_dinh_danh", "entity", "duplicate_of", "defects")


def _age_weight(age: np.ndarray, kind: str) -> np.ndarray:
    """Who is on a roll: welfare and pension rolls are mostly elderly; land owners are adults."""
    if kind == "social_welfare":
        return np.select([age >= 80, age >= 75, age >= 60, age < 16, age >= 16], [30.0, 10.0, 3.0, 1.0, 0.6], 0.0)
    if kind == "pension":
        return np.select([age >= 60, age >= 45, age >= 18, age >= 0], [10.0, 0.6, 0.15, 0.05], 0.0)
    return np.select([age >= 35, age >= 25], [3.0, 1.0], 0.0)  # land


def _locate(pool: pl.DataFrame, communes, rng: np.random.Generator) -> pl.DataFrame:
    """Attach current and pre-2025 units, address text, and the ID numbers."""
    units = communes.units
    leg = communes.legacy
    com = pool["commune"].to_numpy()
    lrow = pool["legacy_row"].to_numpy()
    pool = pool.with_columns(
        ma_tinh=pl.Series(units["ma_tinh"].to_numpy()[com], dtype=pl.Utf8),
        ten_tinh=pl.Series(units["ten_tinh"].to_numpy()[com], dtype=pl.Utf8),
        ma_xa=pl.Series(units["ma_xa"].to_numpy()[com], dtype=pl.Utf8),
        ten_xa=pl.Series(units["ten_xa"].to_numpy()[com], dtype=pl.Utf8),
        ma_tinh_cu=pl.Series(leg["ma_tinh_cu"].to_numpy()[lrow], dtype=pl.Utf8),
        ten_tinh_cu=pl.Series(leg["ten_tinh_cu"].to_numpy()[lrow], dtype=pl.Utf8),
        ten_huyen_cu=pl.Series(leg["ten_huyen_cu"].to_numpy()[lrow], dtype=pl.Utf8),
        ten_xa_cu=pl.Series(leg["ten_xa_cu"].to_numpy()[lrow], dtype=pl.Utf8),
    )
    pool = pool.with_columns(
        dia_chi_thuong_tru=pl.concat_str(["local", "ten_xa", "ten_tinh"], separator=", "),
        dia_chi_cu=pl.concat_str(["local", "ten_xa_cu", "ten_huyen_cu", "ten_tinh_cu"], separator=", "),
    )
    n = pool.height
    # birth registered where the household's old province was (85 %), elsewhere for migrants
    codes = np.array(legacy_province_codes())
    home = pool["ma_tinh_cu"].to_numpy().astype(np.int64)
    birth_prov = np.where(rng.random(n) < 0.85, home, codes[rng.integers(0, codes.size, n)].astype(np.int64))
    by = pool["by"].to_numpy().astype(np.int64)
    female = pool["female"].to_numpy()
    ids = personal_ids(rng, birth_prov, by, female)
    has_cmnd = rng.random(n) < np.select([by <= 1990, by <= 2004], [0.5, 0.3], 0.0)
    cmnd = cmnd_numbers(rng, n)
    return pool.with_columns(
        so_dinh_danh=ids,
        so_cmnd_cu=pl.when(pl.Series(has_cmnd)).then(cmnd).otherwise(pl.lit("")),
    )


def _population_frame(pool: pl.DataFrame, present: np.ndarray, hidden: np.ndarray) -> pl.DataFrame:
    recorded_dead = pool["dead"].to_numpy() & ~hidden
    df = pool.with_columns(
        ngay_sinh=pl.when(pl.col("precision") == "year")
        .then(pl.col("bdate").dt.strftime("%Y"))
        .otherwise(pl.col("bdate").dt.strftime("%d/%m/%Y")),
        gioi_tinh=pl.when(pl.col("female")).then(pl.lit("Nữ")).otherwise(pl.lit("Nam")),
        ngay_mat=pl.when(pl.Series(recorded_dead))
        .then(pl.col("death_date").dt.strftime("%d/%m/%Y"))
        .otherwise(pl.lit("")),
    )
    return df.filter(pl.Series(present)).select(COLUMNS["population"])


def _write_frame(df: pl.DataFrame, path: Path) -> int:
    """UTF-8 CSV, every value text; empty values written as empty fields (not "")."""
    df.with_columns(pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in df.columns).write_csv(
        path
    )
    return df.height


def _write(rows: list[dict[str, str]], columns: tuple[str, ...], path: Path) -> int:
    schema = {c: pl.Utf8 for c in columns}
    return _write_frame(pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema), path)


@dataclass
class _Pool:
    """The generated people (population + absent persons) as numpy arrays for selection."""

    frame: pl.DataFrame
    pids: np.ndarray
    age: np.ndarray
    dead: np.ndarray
    role: np.ndarray
    hh: np.ndarray
    death_date: np.ndarray
    has_cmnd: np.ndarray
    absent: np.ndarray = None  # type: ignore[assignment]
    hidden: np.ndarray = None  # type: ignore[assignment]  # dead, but not yet recorded in CSDLQG

    @classmethod
    def of(cls, frame: pl.DataFrame) -> _Pool:
        return cls(
            frame,
            np.arange(frame.height),
            frame["age"].to_numpy(),
            frame["dead"].to_numpy(),
            frame["role"].to_numpy(),
            frame["hh"].to_numpy(),
            frame["death_date"].to_numpy(),
            (frame["so_cmnd_cu"] != "").to_numpy(),
        )

    @property
    def alive(self) -> np.ndarray:
        return ~self.absent & ~self.dead & ~self.hidden


def _choose_absent(rng: np.random.Generator, pool: _Pool, n_abs: dict[str, int]) -> dict[str, np.ndarray]:
    """People absent from CSDLQG, per registry: adults who are nobody's parent in the sample."""
    parents = np.zeros(pool.pids.size, dtype=bool)
    for col in ("father", "mother"):
        ref = pool.frame[col].to_numpy()
        parents[ref[ref >= 0]] = True
    pool.absent = np.zeros(pool.pids.size, dtype=bool)
    absent_of = {}
    for name in ABSENT_ROLLS:
        cand = ~pool.absent & ~pool.dead & ~parents & (pool.age >= 20)
        absent_of[name] = reg.weighted_pick(rng, pool.pids[cand], _age_weight(pool.age[cand], name), n_abs[name])
        pool.absent[absent_of[name]] = True
    return absent_of


def _choose_unrecorded_deaths(rng: np.random.Generator, pool: _Pool, n_hidden: int) -> dict[int, date]:
    """Mark elderly people who died recently but whom CSDLQG still shows alive; return every
    person's true date of death."""
    cand = ~pool.absent & ~pool.dead & (pool.age >= 50)
    hidden_pids = reg.weighted_pick(rng, pool.pids[cand], (pool.age[cand] - 45) ** 2, n_hidden)
    pool.hidden = np.zeros(pool.pids.size, dtype=bool)
    pool.hidden[hidden_pids] = True
    death = {int(p): pool.death_date[p].astype("datetime64[D]").astype(object) for p in np.flatnonzero(pool.dead)}
    for p, d in zip(hidden_pids, reg.recent_death(rng, hidden_pids.size, REF_DATE)):
        death[int(p)] = d
    return death


def _paid_rolls(
    rng: np.random.Generator, pool: _Pool, name: str, k: int, n_dsp: int, absent: np.ndarray
) -> list[reg.RowPlan]:
    """Welfare or pension: living eligible people, dead people still paid, people absent from CSDLQG."""
    alive = pool.alive
    base = reg.weighted_pick(rng, pool.pids[alive], _age_weight(pool.age[alive], name), k)
    paid_dead = ~pool.absent & (
        (pool.dead & (pool.death_date <= np.datetime64(REF_DATE - timedelta(days=60)))) | pool.hidden
    )
    ghosts = reg.weighted_pick(rng, pool.pids[paid_dead], _age_weight(pool.age[paid_dead], name), n_dsp)
    rows = [reg.RowPlan((int(p),), "person") for p in base]
    rows += [reg.RowPlan((int(p),), "person", events=["deceased_still_paid"]) for p in ghosts]
    rows += [reg.RowPlan((int(p),), "absent", events=["absent"]) for p in absent]
    return rows


def _births(rng: np.random.Generator, pool: _Pool, k: int) -> list[reg.RowPlan]:
    born = pool.alive & (pool.role == ROLE_CHILD) & (pool.frame["bdate"].to_numpy() >= np.datetime64("2020-01-01"))
    chosen = reg.weighted_pick(rng, pool.pids[born], np.ones(int(born.sum())), k)
    return [reg.RowPlan((int(p),), "person") for p in chosen]


def _deaths(rng: np.random.Generator, pool: _Pool, k: int) -> list[reg.RowPlan]:
    """Registered deaths: recorded ones (recent far more likely, half-life ~1.5 years) plus all
    the deaths CSDLQG has not recorded yet."""
    recorded = ~pool.absent & pool.dead
    days_ago = (np.datetime64(REF_DATE) - pool.death_date[recorded]).astype(np.int64)
    chosen = reg.weighted_pick(rng, pool.pids[recorded], np.exp2(-days_ago / 550.0), k)
    return [reg.RowPlan((int(p),), "person") for p in np.concatenate([chosen, np.flatnonzero(pool.hidden)])]


def _land(
    rng: np.random.Generator, rnd: random.Random, pool: _Pool, k: int, absent: np.ndarray, communes
) -> list[reg.RowPlan]:
    """Land owners: adults, mostly holders of an old CMND (land files predate the 12-digit ID)."""
    adult = pool.alive & (pool.age >= 25)
    w_land = _age_weight(pool.age, "land") * (1.0 + 4.0 * pool.has_cmnd)
    singles = reg.weighted_pick(rng, pool.pids[adult], w_land[adult], k)
    singles = singles[rng.permutation(singles.size)]
    hh, role = pool.hh, pool.role
    husband_of = {int(hh[p]): int(p) for p in np.flatnonzero(role == ROLE_HUSBAND)}
    wives = np.flatnonzero(role == ROLE_WIFE)
    couples = np.array(
        [
            (husband_of[int(hh[w])], w)
            for w in wives
            if int(hh[w]) in husband_of and adult[husband_of[int(hh[w])]] and adult[w]
        ],
        dtype=np.int64,
    ).reshape(-1, 2)
    if len(couples):
        couples = couples[reg.weighted_pick(rng, np.arange(len(couples)), w_land[couples[:, 0]], len(couples))]
        couples = couples[rng.permutation(len(couples))]
    # household heads: the husband, or the wife where there is no living husband (and sometimes anyway)
    alive = pool.alive
    lone_wife = np.array([int(hh[w]) not in husband_of or not alive[husband_of[int(hh[w])]] for w in wives], dtype=bool)
    head_mask = role == ROLE_HUSBAND
    head_mask[wives[lone_wife | (rng.random(wives.size) < 0.15)]] = True
    heads = reg.weighted_pick(rng, pool.pids[adult & head_mask], w_land[adult & head_mask], k)
    heads = heads[rng.permutation(heads.size)]
    units = communes.units
    return land_mod.land_plans(
        rng, rnd, k, singles, couples, heads, absent, list(zip(units["ten_xa"].to_list(), units["ten_tinh"].to_list()))
    )


def _pids(plans: list[reg.RowPlan]) -> np.ndarray:
    return np.array([p for plan in plans for p in plan.pids], dtype=np.int64)


def _later_registries(
    seed: int,
    pool: _Pool,
    frame: pl.DataFrame,
    death: dict[int, date],
    size: dict[str, int],
    n_dup: dict[str, int],
    rates: dict[str, dict[str, float]],
) -> dict[str, tuple[list[dict[str, str]], list[list[str]], list[reg.RowPlan], reg.People]]:
    """Health-insurance cards, school records and ASM guests: rows, defect codes, plans and people.

    Own random streams (seeded from the seed and LATER's order), so adding them left the five first
    files unchanged; people absent from CSDLQG come from those generated for ABSENT_ROLLS."""
    rng = {name: np.random.default_rng([seed, 13, i]) for i, name in enumerate(LATER)}
    rnd = {name: random.Random(seed * 7919 + i) for i, name in enumerate(LATER)}
    alive, age = pool.alive, pool.age
    by = frame["bdate"].dt.year().to_numpy().astype(np.int64)
    out = {}

    name = "health_insurance"  # nearly everyone holds a card; a few holders are absent from CSDLQG
    n_abs = int(round(rates[name].get("absent", 0.0) * size[name]))
    base = size[name] - n_dup[name]
    held = reg.weighted_pick(rng[name], pool.pids[alive], np.ones(int(alive.sum())), base - n_abs)
    absent = reg.weighted_pick(rng[name], pool.pids[pool.absent], np.ones(int(pool.absent.sum())), n_abs)
    plans = [reg.RowPlan((int(p),), "person") for p in held]
    plans += [reg.RowPlan((int(p),), "absent", events=["absent"]) for p in absent]
    people = reg.People(frame, _pids(plans), death)
    reg.bhyt_extras(plans, people, rnd[name], rng[name])
    ordered = reg.plan_rows(rng[name], plans, n_dup[name])
    rows, codes = reg.health_insurance(ordered, people, rates[name], rnd[name])
    out[name] = (rows, codes, ordered, people)

    name = "school_records"  # pupils of grades 1–12
    grade = reg.SCHOOL_YEAR - by - 5  # as reg.school_grade, vectorized
    pupil = alive & (grade >= 1) & (grade <= 12)
    chosen = reg.weighted_pick(rng[name], pool.pids[pupil], np.ones(int(pupil.sum())), size[name] - n_dup[name])
    plans = [reg.RowPlan((int(p),), "person") for p in chosen]
    people = reg.People(frame, _pids(plans), death)
    reg.school_extras(plans, people, rnd[name], rng[name])
    ordered = reg.plan_rows(rng[name], plans, n_dup[name])
    rows, codes = reg.school_records(ordered, people, rates[name], rnd[name])
    out[name] = (rows, codes, ordered, people)

    name = "accommodation_guests"  # Vietnamese adults travelling, and foreigners (no CSDLQG person)
    r = rates[name]
    base = size[name] - n_dup[name]
    n_foreign = int(round(r.get("foreigner", 0.0) * base))
    n_repeat = int(round(r.get("repeat_stay", 0.0) * base))
    adult = alive & (age >= 18) & (age < 80)
    guests = reg.weighted_pick(rng[name], pool.pids[adult], np.ones(int(adult.sum())), base - n_foreign - n_repeat)
    plans = [reg.RowPlan((int(p),), "person") for p in guests]
    again = rng[name].choice(guests, size=min(n_repeat, guests.size), replace=False) if guests.size else guests
    plans += [reg.RowPlan((int(p),), "person", events=["repeat_stay"]) for p in again]
    namesakes = reg.weighted_pick(rng[name], pool.pids[alive & (age >= 20)], np.ones(int((alive & (age >= 20)).sum())),
                                  int(round(r.get("namesake", 0.0) * n_foreign)))  # fmt: skip
    people = reg.People(frame, np.concatenate([_pids(plans), namesakes]), death)
    for i in range(n_foreign):
        namesake = people.ho_ten[int(namesakes[i])] if i < namesakes.size else None
        guest = reg.foreign_guest(rnd[name], namesake)
        events = ["foreigner"] + (["namesake"] if namesake is not None else [])
        plans.append(reg.RowPlan((), "foreigner", events=events, extra={"guest": guest}))
    reg.guest_stays(plans, rnd[name], REF_DATE)
    ordered = reg.plan_rows(rng[name], plans, n_dup[name])
    rows, codes = reg.accommodation_guests(ordered, people, r, rnd[name])
    out[name] = (rows, codes, ordered, people)
    return out


def generate(
    persons: int,
    seed: int,
    out_dir: Path,
    fractions: dict[str, float] | None = None,
    rates: dict[str, dict[str, float]] | None = None,
) -> dict[str, int]:
    """Write population.csv, the eight registry files and truth/ into out_dir; return rows per file.

    `fractions` overrides registry rows per person (DEFAULT_FRACTIONS); `rates` overrides defect
    rates per registry and code (defects.DEFAULT_RATES)."""
    if persons < 200:
        raise DoisoatError("Số người phải từ 200 trở lên (--persons) để các sổ có đủ dòng.", code="bad_argument")
    if seed < 0:
        raise DoisoatError("Hạt giống ngẫu nhiên (--seed) phải là số nguyên không âm.", code="bad_argument")
    fractions = {**DEFAULT_FRACTIONS, **(fractions or {})}
    rates = {name: {**DEFAULT_RATES[name], **(rates or {}).get(name, {})} for name in DEFAULT_RATES}
    rng_place, rng_pop, rng_ids, rng_pick, rng_bhxh = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    rnd = {name: random.Random(seed * 1009 + i) for i, name in enumerate(COLUMNS)}

    size = {name: max(1, int(round(f * persons))) for name, f in fractions.items()}
    n_dup = {name: int(round(rates[name].get("duplicate", 0.0) * size[name])) for name in size}
    n_abs = {name: int(round(rates[name].get("absent", 0.0) * size[name])) for name in size}
    n_dsp = {name: int(round(rates[name].get("deceased_still_paid", 0.0) * size[name])) for name in size}

    communes = choose_communes(rng_place, persons)
    frame = _locate(
        build_population(rng_pop, communes, persons + sum(n_abs[n] for n in ABSENT_ROLLS)), communes, rng_ids
    )
    pool = _Pool.of(frame)
    absent_of = _choose_absent(rng_pick, pool, n_abs)
    n_hidden = int(round(UNRECORDED_DEATH_SHARE * (size["civil_deaths"] - n_dup["civil_deaths"])))
    death = _choose_unrecorded_deaths(rng_pick, pool, n_hidden)

    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    summary = {
        "population.csv": _write_frame(_population_frame(frame, ~pool.absent, pool.hidden), out_dir / "population.csv")
    }

    # ---- who is on each roll (before duplication)
    base = {name: size[name] - n_dup[name] for name in size}
    plans = {
        name: _paid_rolls(rng_pick, pool, name, base[name] - n_abs[name] - n_dsp[name], n_dsp[name], absent_of[name])
        for name in ("social_welfare", "pension")
    }
    plans["civil_births"] = _births(rng_pick, pool, base["civil_births"])
    plans["civil_deaths"] = _deaths(rng_pick, pool, base["civil_deaths"] - int(pool.hidden.sum()))
    plans["land"] = _land(rng_pick, rnd["land"], pool, base["land"], absent_of["land"], communes)

    # ---- render rows, write files
    needed = [p for rows in plans.values() for plan in rows for p in plan.pids]
    people = reg.People(frame, np.array(needed, dtype=np.int64), death)
    for name in ("social_welfare", "pension", "civil_births", "civil_deaths", "land"):
        ordered = reg.plan_rows(rng_pick, plans[name], n_dup[name])
        r = rnd[name]
        if name == "social_welfare":
            seqs = rng_pick.permutation(len(ordered) * 3)[: len(ordered)] + 1
            for plan, s in zip(ordered, seqs):
                plan.extra["seq"] = int(s)
            rows, codes = reg.social_welfare(ordered, people, rates[name], r)
        elif name == "pension":
            rows, codes = reg.pension(ordered, people, rates[name], r, rng_bhxh)
        elif name == "civil_births":
            rows, codes = reg.civil_births(ordered, people, rates[name], r)
        elif name == "civil_deaths":
            rows, codes = reg.civil_deaths(ordered, people, rates[name], r)
        else:
            rows, codes = land_mod.land(ordered, people, rates[name], r)
        summary[f"{name}.csv"] = _write(rows, COLUMNS[name], out_dir / f"{name}.csv")
        summary[f"truth/{name}.csv"] = _write(
            reg.truth_rows(ordered, people, codes), TRUTH_COLUMNS, out_dir / "truth" / f"{name}.csv"
        )

    for name, (rows, codes, ordered, people) in _later_registries(seed, pool, frame, death, size, n_dup, rates).items():
        summary[f"{name}.csv"] = _write(rows, COLUMNS[name], out_dir / f"{name}.csv")
        summary[f"truth/{name}.csv"] = _write(
            reg.truth_rows(ordered, people, codes), TRUTH_COLUMNS, out_dir / "truth" / f"{name}.csv"
        )

    with open(out_dir / "truth" / "defect_rates.json", "w", encoding="utf-8") as fh:
        json.dump(
            {name: dict(sorted(rates[name].items())) for name in COLUMNS if name in rates},
            fh,
            ensure_ascii=False,
            indent=2,
            sort_keys=True,
        )
        fh.write("\n")
    return summary
