"""The synthetic population: households of real-looking families, built with numpy.

Why households: births registries name both parents, land rows name married couples and
household heads, and CSDLQG stores ho_ten_cha / ho_ten_me; all of these must agree with each
other the way they do in life. So people are generated as households (a couple with children,
sometimes the husband's parents; elderly couples; widowed elderly; young singles), children take
the father's family name (the mother's in matrilineal Ê Đê and Gia Rai families, or when there is
no father), twins share parents and date of birth but never a given name, and the age structure
over-represents the elderly a little, like the welfare and pension rolls need.

`build_population` returns one internal frame (more columns than the CSDLQG extract); the
generator drops the internal columns when it writes population.csv.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.sample import names as nm
from pipelines.sample.places import (
    ETHNIC_MIX,
    SOUTH,
    Communes,
    assign_households,
    local_parts,
)

REF_DATE = date(2026, 11, 1)  # "today" of the sample: fixed, so output never depends on the clock
_REF = np.datetime64(REF_DATE.isoformat(), "D")

ROLE_HUSBAND, ROLE_WIFE, ROLE_GRANDPA, ROLE_GRANDMA, ROLE_CHILD = 0, 1, 2, 3, 4
KIND_FAMILY, KIND_ELDER_COUPLE, KIND_ELDER_SINGLE, KIND_YOUNG_SINGLE = 0, 1, 2, 3
KIND_P = np.array([0.70, 0.11, 0.09, 0.10])


def _year_start(years: np.ndarray) -> np.ndarray:
    return (years.astype(np.int64) - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def random_dates(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """A uniformly random day within each given year."""
    start = _year_start(years)
    length = (_year_start(years + 1) - start).astype(np.int64)
    return start + (rng.random(len(years)) * length).astype(np.int64)


def _households(rng: np.random.Generator, communes: Communes, h: int) -> dict[str, np.ndarray]:
    kind = rng.choice(4, size=h, p=KIND_P)
    commune, legacy_row = assign_households(rng, communes, h)
    ma_tinh = communes.units["ma_tinh"].to_numpy()[commune]
    # naming tradition by province
    group = np.where(np.isin(ma_tinh, list(SOUTH)), nm.GROUP_INDEX["kinh_south"], nm.GROUP_INDEX["kinh"])
    u = rng.random(h)
    for code, mix in ETHNIC_MIX.items():
        acc = 0.0
        for key, share in mix.items():
            sel = (ma_tinh == code) & (u >= acc) & (u < acc + share)
            group[sel] = nm.GROUP_INDEX[key]
            acc += share
    single_male = rng.random(h)
    has_h = np.select(
        [kind == KIND_FAMILY, kind == KIND_ELDER_COUPLE, kind == KIND_ELDER_SINGLE],
        [rng.random(h) < 0.95, True, single_male < 0.25],
        single_male < 0.5,
    )
    has_w = np.where((kind == KIND_FAMILY) | (kind == KIND_ELDER_COUPLE), True, ~has_h)
    h_by = np.select(
        [kind == KIND_FAMILY, kind == KIND_ELDER_COUPLE, kind == KIND_ELDER_SINGLE],
        [
            rng.integers(1962, 2003, h),
            1963 - np.minimum(rng.gamma(2.0, 6.0, h), 35).astype(np.int64),  # elderly couples: mostly 60-80
            1961 - np.minimum(rng.gamma(2.0, 7.0, h), 39).astype(np.int64),
        ],  # widowed elderly: few over 90
        rng.integers(1982, 2006, h),
    )
    w_by = np.where(kind <= KIND_ELDER_COUPLE, h_by + rng.integers(0, 6, h), h_by)
    kids_old = rng.integers(2, 6, h)
    kids_mid = rng.integers(1, 4, h)
    kids_new = rng.choice(4, size=h, p=[0.05, 0.20, 0.50, 0.25])
    n_kids = np.where(kind == KIND_FAMILY, np.select([w_by < 1965, w_by < 1980], [kids_old, kids_mid], kids_new), 0)
    grand = (kind == KIND_FAMILY) & (h_by >= 1968) & has_h & (rng.random(h) < 0.35)
    gp = grand & (rng.random(h) < 0.7)
    gm = grand & (~gp | (rng.random(h) < 0.85))
    gp_by = h_by - rng.integers(22, 33, h)
    gm_by = gp_by + rng.integers(0, 6, h)
    return dict(
        kind=kind,
        commune=commune,
        legacy_row=legacy_row,
        group=group,
        has_h=has_h,
        has_w=has_w,
        h_by=h_by,
        w_by=w_by,
        n_kids=n_kids,
        gp=gp,
        gm=gm,
        gp_by=gp_by,
        gm_by=gm_by,
    )


def _person_blocks(rng: np.random.Generator, hh: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One row per person: household, role, sex, birth date; ordered by household then role."""
    ids = np.arange(len(hh["kind"]))
    blocks = []
    for role, mask, years, female in (
        (ROLE_HUSBAND, hh["has_h"], hh["h_by"], False),
        (ROLE_WIFE, hh["has_w"], hh["w_by"], True),
        (ROLE_GRANDPA, hh["gp"], hh["gp_by"], False),
        (ROLE_GRANDMA, hh["gm"], hh["gm_by"], True),
    ):
        sel = ids[mask]
        blocks.append(
            (
                sel,
                np.full(sel.size, role),
                np.full(sel.size, 0),
                years[sel],
                np.full(sel.size, female),
                random_dates(rng, years[sel]),
                np.zeros(sel.size, dtype=bool),
            )
        )
    # children: first at mother's age 20-30, then every 1-5 years; ~1.5 % of births are twins
    k = hh["n_kids"]
    kid_hh = np.repeat(ids, k)
    start = np.cumsum(k) - k
    order = np.arange(kid_hh.size) - np.repeat(start, k)
    twin = (order > 0) & (rng.random(kid_hh.size) < 0.015)
    gaps = np.where(order == 0, rng.integers(20, 31, kid_hh.size), rng.integers(1, 6, kid_hh.size))
    gaps[twin] = 0
    cs = np.cumsum(gaps)
    safe = np.minimum(start, max(cs.size - 1, 0))
    base = np.repeat(cs[safe] - gaps[safe], k) if cs.size else cs
    kid_by = hh["w_by"][kid_hh] + (cs - base)
    kid_dates = random_dates(rng, kid_by)
    for i in np.flatnonzero(twin):  # twins: same birthday as the previous sibling
        kid_dates[i] = kid_dates[i - 1]
    keep = kid_dates <= _REF
    blocks.append(
        (
            kid_hh[keep],
            np.full(int(keep.sum()), ROLE_CHILD),
            order[keep],
            kid_by[keep],
            rng.random(int(keep.sum())) < 0.487,
            kid_dates[keep],
            twin[keep],
        )
    )
    cols = [np.concatenate(c) for c in zip(*blocks)]
    out = dict(zip(("hh", "role", "order", "by", "female", "bdate", "twin"), cols))
    perm = np.lexsort((out["order"], out["role"], out["hh"]))
    return {key: val[perm] for key, val in out.items()}


def build_population(rng: np.random.Generator, communes: Communes, n_persons: int) -> pl.DataFrame:
    """Exactly n_persons people (the last household may be cut short) with all internal fields."""
    h = max(50, int(n_persons / 2.2))
    while True:
        hh = _households(rng, communes, h)
        p = _person_blocks(rng, hh)
        if p["hh"].size >= n_persons:
            break
        h *= 2
    p = {key: val[:n_persons] for key, val in p.items()}
    n = n_persons
    hidx = p["hh"]
    group = hh["group"][hidx]
    female = p["female"]
    by = p["by"]
    role = p["role"]

    # where household members stand in the person table
    def position(r: int) -> np.ndarray:
        pos = np.full(len(hh["kind"]), -1, dtype=np.int64)
        sel = np.flatnonzero(role == r)
        pos[hidx[sel]] = sel
        return pos

    pos_h, pos_w, pos_gp, pos_gm = (position(r) for r in (ROLE_HUSBAND, ROLE_WIFE, ROLE_GRANDPA, ROLE_GRANDMA))
    father = np.full(n, -1, dtype=np.int64)
    mother = np.full(n, -1, dtype=np.int64)
    kid = role == ROLE_CHILD
    father[kid] = pos_h[hidx[kid]]
    mother[kid] = pos_w[hidx[kid]]
    hus = role == ROLE_HUSBAND
    father[hus] = pos_gp[hidx[hus]]
    mother[hus] = pos_gm[hidx[hus]]

    # family names: patrilineal, except matrilineal groups and fatherless households
    matri_groups = [i for i, g in enumerate(nm.GROUPS) if g.matrilineal]
    h_groups = hh["group"]
    sur_h = nm.draw_surnames(rng, h_groups)
    sur_w = nm.draw_surnames(rng, h_groups)
    sur_other = nm.draw_surnames(rng, h_groups)
    matri_h = np.isin(h_groups, matri_groups)
    kid_sur = np.where(matri_h | ~hh["has_h"], sur_w, sur_h)
    surname = np.select(
        [
            role == ROLE_HUSBAND,
            role == ROLE_WIFE,
            role == ROLE_CHILD,
            (role == ROLE_GRANDPA) & ~matri_h[hidx],
            role == ROLE_GRANDPA,
        ],
        [sur_h[hidx], sur_w[hidx], kid_sur[hidx], sur_h[hidx], sur_other[hidx]],
        np.where(matri_h[hidx], sur_h[hidx], sur_other[hidx]),  # grandmother
    )
    young = by >= 1990
    middle, given = nm.draw_middle_given(rng, group, female, young)
    for i in np.flatnonzero(p["twin"]):  # twins never share a given name
        if given[i] == given[i - 1]:
            given[i] = nm.redraw_given(rng, int(group[i]), bool(female[i]), given[i - 1])
    ho_ten = nm.compose(surname, middle, given, group)

    # parents' names: real ones when the parent is in the household, invented otherwise
    matri = np.isin(group, matri_groups)
    f_sur = np.where(matri, nm.draw_surnames(rng, group), surname)
    m_sur = np.where(matri, surname, nm.draw_surnames(rng, group))
    p_young = by - 28 >= 1990
    f_mid, f_given = nm.draw_middle_given(rng, group, np.zeros(n, dtype=bool), p_young)
    m_mid, m_given = nm.draw_middle_given(rng, group, np.ones(n, dtype=bool), p_young)
    cha = np.where(father >= 0, ho_ten[np.maximum(father, 0)], nm.compose(f_sur, f_mid, f_given, group))
    me = np.where(mother >= 0, ho_ten[np.maximum(mother, 0)], nm.compose(m_sur, m_mid, m_given, group))
    unknown_p = np.select([by < 1950, by < 1970], [0.35, 0.10], 0.02)
    unknown = rng.random(n) < unknown_p
    no_father_kid = kid & (father < 0)
    cha = np.where(unknown | no_father_kid, "", cha)
    me = np.where(unknown & ~kid, "", me)

    # dates: some elderly have only a year of birth in CSDLQG; a few % have died
    precision = np.where(rng.random(n) < np.select([by < 1945, by < 1960], [0.25, 0.08], 0.0), "year", "day")
    age = (_REF - p["bdate"]).astype(np.int64) / 365.25
    p_dead = np.select([age >= 80, age >= 70, age >= 60, age >= 40], [0.22, 0.09, 0.04, 0.01], 0.003)
    dead = rng.random(n) < p_dead
    lo = np.maximum(p["bdate"] + 365, np.datetime64("2019-01-01"))
    ngay_mat = lo + (rng.random(n) * (_REF - lo).astype(np.int64)).astype(np.int64)

    # households' places
    units = communes.units
    com = hh["commune"][hidx]
    leg_row = hh["legacy_row"][hidx]
    h_local = local_parts(rng, units["ma_tinh"].to_numpy()[hh["commune"]], units["loai_xa"].to_numpy()[hh["commune"]])

    df = pl.DataFrame(
        {
            "pid": np.arange(n),
            "hh": hidx,
            "role": role,
            "female": female,
            "by": by.astype(np.int32),
            "bdate": p["bdate"],
            "precision": precision,
            "group": group.astype(np.int8),
            "middle": pl.Series(middle, dtype=pl.Utf8),
            "ho_ten": pl.Series(ho_ten, dtype=pl.Utf8),
            "father": father,
            "mother": mother,
            "ho_ten_cha": pl.Series(cha, dtype=pl.Utf8),
            "ho_ten_me": pl.Series(me, dtype=pl.Utf8),
            "twin": p["twin"],
            "dead": dead,
            "death_date": ngay_mat,
            "commune": com,
            "legacy_row": leg_row,
            "local": pl.Series(h_local[hidx], dtype=pl.Utf8),
        }
    )
    df = df.with_columns(age=pl.Series(age), hh_xa=pl.Series(units["ma_xa"].to_numpy()[com], dtype=pl.Utf8))
    df = df.with_columns(ma_ho=pl.concat_str("hh_xa", pl.col("hh").cast(pl.Utf8).str.zfill(7))).drop("hh_xa")
    return df
