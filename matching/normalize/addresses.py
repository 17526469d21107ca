"""Addresses: expand abbreviations, find the commune and province, map old units to 2025 codes.

Why joins: an address is parsed from its end (the province is last, then the commune — or, in
the pre-2025 three-level form, the district and then the ward). Each part becomes an accent-free
key like the `*_key` columns of `vietnamadminunits` ("phuongdanghai", "quanhaian"), and the whole
lookup is a handful of polars joins on those keys over the distinct addresses — no per-row Python
scan, no network (the package's own converter geocodes split wards online).

Columns for source `c`: `c_ma_tinh`, `c_ma_xa`, `c_ten_tinh`, `c_ten_xa` (current units),
`c_address_status`, `c_clean` (text with abbreviations expanded), `c_problems`.
Statuses: `current` (two-level 2025 address), `legacy_mapped` (old ward → exactly one new
commune), `legacy_split` (old ward split between several new communes: ma_xa left null — report,
never guess), `province_only`, `unparsed` (no province found; empty input gives null status).
Problem codes: `address_old_units`, `address_split_ward`, `address_commune_unknown`,
`address_unparsed`, `address_no_province` (no province written; the commune, or old ward +
district, was found because its full name is unique in the country).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from matching.normalize.fold import fold_expr
from matching.normalize.problems import Distinct, finish, flags_to_str, prefix_col
from matching.reference.admin_units import current_units, legacy_units

_LIST_STR = pl.List(pl.Utf8)

# (regex on NFC text, replacement); applied in order, case-insensitive, at a word start.
_ABBREVIATIONS = (
    (r"(?i)(^|[\s,;\-])TP\.?\s*HCM\b", "${1}Thành phố Hồ Chí Minh"),
    (r"(?i)(^|[\s,;\-])TP\.\s*", "${1}Thành phố "),
    (r"(?i)(^|[\s,;\-])TX\.\s*", "${1}Thị xã "),
    (r"(?i)(^|[\s,;\-])TT\.\s*", "${1}Thị trấn "),
    (r"(?i)(^|[\s,;\-])[PF]\.?\s*(\d)", "${1}Phường ${2}"),
    (r"(?i)(^|[\s,;\-])Q\.?\s*(\d)", "${1}Quận ${2}"),
    (r"(?i)(^|[\s,;\-])[PF]\.\s*", "${1}Phường "),
    (r"(?i)(^|[\s,;\-])Q\.\s*", "${1}Quận "),
    (r"(?i)(^|[\s,;\-])H\.\s*", "${1}Huyện "),
    (r"(?i)(^|[\s,;\-])X\.\s*", "${1}Xã "),
    (r"(?i)(^|[\s,;\-])T\.\s*", "${1}Tỉnh "),
)
_PROVINCE_ALIASES = {"hcm": "hochiminh", "tphcm": "hochiminh", "thanhphohcm": "hochiminh", "saigon": "hochiminh"}


def part_key(expr: pl.Expr) -> pl.Expr:
    """Accent-free key of one address part, as vietnamadminunits writes them ("phuong3")."""
    return fold_expr(expr).str.replace_all(r"[^a-z0-9]", "").str.replace_all(r"([a-z])0+(\d)", "${1}${2}")


def accent_key(expr: pl.Expr) -> pl.Expr:
    """Key that keeps diacritics ("xãcẩmgiàng"): tells apart units whose accent-free keys collide
    (Xã Cẩm Giang / Xã Cẩm Giàng in one province). Tried before the accent-free key."""
    return (
        expr.str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]", "")
        .str.replace_all(r"(\p{L})0+(\d)", "${1}${2}")
    )


_KEYS = {"a": accent_key, "p": part_key}


def expand_expr(expr: pl.Expr) -> pl.Expr:
    out = expr.str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars(" ,;-.")
    for pattern, repl in _ABBREVIATIONS:
        out = out.str.replace_all(pattern, repl)
    return out.str.replace_all(r"\s+", " ").str.replace_all(r"\s+,", ",").str.strip_chars()


def _unique_keys(df: pl.DataFrame, keys: list[str], value: str) -> pl.DataFrame:
    """Keep only keys that point at one value (a short name shared by two units is useless)."""
    df = df.unique()
    ok = df.group_by(keys).agg(pl.col(value).n_unique().alias("n")).filter(pl.col("n") == 1).drop("n")
    return df.join(ok, on=keys, how="semi").unique(subset=keys, keep="first")


@lru_cache(maxsize=2)
def _lookups(mode: str = "p") -> dict[str, pl.DataFrame]:
    """Lookup tables keyed by `_KEYS[mode]` of the unit names (full and short forms)."""
    key = _KEYS[mode]
    cur = current_units()
    leg = legacy_units().filter(pl.col("ten_xa_cu").is_not_null())
    prov_cur = pl.concat(
        [cur.select(k=key(pl.col(n)), ma_tinh="ma_tinh") for n in ("ten_tinh", "ten_tinh_ngan")]
        + [cur.select(k=pl.lit("tp") + key(pl.col("ten_tinh_ngan")), ma_tinh="ma_tinh")]  # "TP Hà Nội"
    ).unique()
    prov_old = pl.concat(
        [
            leg.select(k=key(pl.col(n)), ma_tinh_cu="ma_tinh_cu", ma_tinh="new_ma_tinh")
            for n in ("ten_tinh_cu", "ten_tinh_cu_ngan")
        ]
        + [leg.select(k=pl.lit("tp") + key(pl.col("ten_tinh_cu_ngan")), ma_tinh_cu="ma_tinh_cu", ma_tinh="new_ma_tinh")]
    ).unique()
    if mode == "p":
        aliases = pl.DataFrame({"k": list(_PROVINCE_ALIASES), "to": list(_PROVINCE_ALIASES.values())})
        prov_cur = pl.concat([prov_cur, aliases.join(prov_cur, left_on="to", right_on="k").select("k", "ma_tinh")])
        prov_old = pl.concat(
            [prov_old, aliases.join(prov_old, left_on="to", right_on="k").select("k", "ma_tinh_cu", "ma_tinh")]
        )
    # A province key: its current code, and its pre-2025 code when it was a province then.
    province = (
        _unique_keys(prov_cur, ["k"], "ma_tinh")
        .join(
            _unique_keys(prov_old.select("k", "ma_tinh_cu", ma_tinh_via_old="ma_tinh"), ["k"], "ma_tinh_cu"),
            on="k",
            how="full",
            coalesce=True,
        )
        .with_columns(ma_tinh=pl.coalesce("ma_tinh", "ma_tinh_via_old"))
        .drop("ma_tinh_via_old")
    )
    commune = _unique_keys(
        pl.concat([cur.select("ma_tinh", xk=key(pl.col(n)), ma_xa="ma_xa") for n in ("ten_xa", "ten_xa_ngan")]),
        ["ma_tinh", "xk"],
        "ma_xa",
    )
    leg_rows = leg.with_columns(
        target=pl.when(pl.col("is_split")).then(pl.lit("split:") + pl.col("ma_xa_cu")).otherwise(pl.col("new_ma_xa"))
    )
    keep = dict(new_ma_tinh="new_ma_tinh", new_ma_xa="new_ma_xa", is_split="is_split", target="target")
    legacy3 = _unique_keys(
        pl.concat(
            [
                leg_rows.select("ma_tinh_cu", hk2=key(pl.col(h)), xk=key(pl.col(x)), **keep)
                for h in ("ten_huyen_cu", "ten_huyen_cu_ngan")
                for x in ("ten_xa_cu", "ten_xa_cu_ngan")
            ]
        ).drop_nulls(["hk2", "xk"]),
        ["ma_tinh_cu", "hk2", "xk"],
        "target",
    )
    legacy2 = _unique_keys(
        pl.concat(
            [leg_rows.select("ma_tinh_cu", xk=key(pl.col(x)), **keep) for x in ("ten_xa_cu", "ten_xa_cu_ngan")]
        ).drop_nulls("xk"),
        ["ma_tinh_cu", "xk"],
        "target",
    )
    # No province written (a commune office's own list): only full names, unique nationwide.
    commune_np = _unique_keys(
        cur.select(xk=key(pl.col("ten_xa")), np_ma_xa="ma_xa", np_ma_tinh="ma_tinh"), ["xk"], "np_ma_xa"
    )
    legacy_np = _unique_keys(
        leg_rows.select(
            hk=key(pl.col("ten_huyen_cu")),
            xk=key(pl.col("ten_xa_cu")),
            np_l_tinh="new_ma_tinh",
            np_l_xa="new_ma_xa",
            np_l_split="is_split",
            target="target",
        ).drop_nulls(["hk", "xk"]),
        ["hk", "xk"],
        "target",
    ).drop("target")
    return {
        "commune_np": commune_np,
        "legacy_np": legacy_np,
        "province": province,
        "districts": legacy3.select("ma_tinh_cu", "hk2").unique(),
        "commune": commune,
        "legacy3": legacy3.drop("target"),
        "legacy2": legacy2.drop("target"),
        "names": cur.select("ma_xa", "ten_xa"),
        "tinh_names": cur.select("ma_tinh", "ten_tinh").unique(),
    }


def _match(df: pl.DataFrame, mode: str) -> pl.DataFrame:
    """Province / current commune / old ward matches of the last three parts, by one key kind."""
    lk = _lookups(mode)
    k1, k2, k3 = (f"{mode}{i}" for i in (1, 2, 3))
    out = df.select("raw", k1, k2, k3).join(lk["province"].rename({"k": k1}), on=k1, how="left", maintain_order="left")
    out = out.join(
        lk["commune"].rename({"xk": k2, "ma_xa": "cur_ma_xa"}), on=["ma_tinh", k2], how="left", maintain_order="left"
    )
    out = out.join(
        lk["legacy3"].rename(
            {"hk2": k2, "xk": k3, "new_ma_tinh": "l3_tinh", "new_ma_xa": "l3_xa", "is_split": "l3_split"}
        ),
        on=["ma_tinh_cu", k2, k3],
        how="left",
        maintain_order="left",
    )
    out = out.join(
        lk["legacy2"].rename({"xk": k2, "new_ma_tinh": "l2_tinh", "new_ma_xa": "l2_xa", "is_split": "l2_split"}),
        on=["ma_tinh_cu", k2],
        how="left",
        maintain_order="left",
    )
    out = out.join(lk["commune_np"].rename({"xk": k1}), on=k1, how="left", maintain_order="left")
    out = out.join(lk["legacy_np"].rename({"hk": k1, "xk": k2}), on=[k1, k2], how="left", maintain_order="left")
    return out.drop(k1, k2, k3)


# A cheap test for "may contain an abbreviation": only those values go through the 11 regexes.
_MAYBE_ABBREVIATED = r"(?i)(?:^|[\s,;\-])(?:TP|TX|TT|[PFQHXT])(?:\.|\s*\d)|HCM"


def _subset(values: pl.Series, mask: pl.Series, fn) -> pl.Series:
    idx = mask.fill_null(False).arg_true()
    if idx.len() == 0:
        return values
    return values.clone().scatter(idx, fn(values.gather(idx)))


def _part_keys(parts: pl.Series, prefix: str) -> pl.DataFrame:
    """Accented and accent-free keys of one address part, computed once per distinct part."""
    d = Distinct(parts)
    table = pl.DataFrame({"v": d.values}).with_columns(
        accent_key(pl.col("v")).alias(f"a{prefix}"), part_key(pl.col("v")).alias(f"p{prefix}")
    )
    return d.lookup(table, "v")


def address_table(raw: pl.Series) -> pl.DataFrame:
    """Parse each distinct raw address (column `raw`) into the address columns.

    Why this shape: addresses are long and diverse (house numbers, streets), but their last parts
    (commune, district, province) repeat a lot. So the expensive steps run on as little as
    possible: NFC only where combining marks occur, abbreviation expansion only where a cheap
    regex sees one, part keys once per distinct part, and the third-from-last part (an old ward)
    is keyed only where the second-from-last is an old district of the province."""
    lk_p = _lookups("p")
    raw = raw.drop_nulls().unique()
    s = _subset(raw, raw.str.contains(r"\p{M}"), lambda v: v.str.normalize("NFC"))
    s = s.str.replace_all(r"\s+", " ").str.strip_chars(" ,;.-")
    clean = _subset(s, s.str.contains(_MAYBE_ABBREVIATED), lambda v: pl.select(expand_expr(pl.lit(v))).to_series())
    clean = pl.select(pl.when(pl.lit(clean) == "").then(None).otherwise(pl.lit(clean))).to_series()
    # parts are separated by commas or semicolons ("Phường Văn Miếu - Quốc Tử Giám" is one name)
    parts = clean.str.replace_all(r"\s*[,;][\s,;]*", ",").str.split(",")
    df = pl.DataFrame({"raw": raw, "clean": clean})
    k1 = _part_keys(parts.list.get(-1, null_on_oob=True), "1")
    k2 = _part_keys(parts.list.get(-2, null_on_oob=True), "2")
    df = df.hstack(k1.get_columns()).hstack(k2.get_columns())
    df = df.with_columns(pl.col("p1").replace(_PROVINCE_ALIASES))
    # third-from-last part: keyed only where the second-from-last can be an old district
    df = df.join(
        lk_p["province"].select(pl.col("k").alias("p1"), pl.col("ma_tinh_cu").alias("__tcu")),
        on="p1",
        how="left",
        maintain_order="left",
    )
    districts = lk_p["districts"]
    maybe3 = (
        df.select("__tcu", "p2", "a2")
        .join(
            districts.rename({"hk2": "p2", "ma_tinh_cu": "__tcu"}).with_columns(__d=pl.lit(True)),
            on=["__tcu", "p2"],
            how="left",
            maintain_order="left",
        )["__d"]
        .fill_null(False)
    )
    p3 = parts.list.get(-3, null_on_oob=True)
    p3 = pl.select(pl.when(pl.lit(maybe3)).then(pl.lit(p3))).to_series()
    df = df.hstack(_part_keys(p3, "3").get_columns()).drop("__tcu")
    a = _match(df, "a")
    p = _match(df, "p")
    cols = [
        "ma_tinh",
        "ma_tinh_cu",
        "cur_ma_xa",
        "l3_tinh",
        "l3_xa",
        "l2_tinh",
        "l2_xa",
        "np_ma_xa",
        "np_ma_tinh",
        "np_l_tinh",
        "np_l_xa",
    ]
    # accented matches first, accent-free ones fill the gaps (both come in the order of df)
    df = (
        df.select("raw", "clean")
        .with_columns(pl.coalesce(a[c], p[c]).alias(c) for c in cols)
        .with_columns(
            l3_split=pl.when(a["l3_tinh"].is_not_null()).then(a["l3_split"]).otherwise(p["l3_split"]),
            l2_split=pl.when(a["l2_tinh"].is_not_null()).then(a["l2_split"]).otherwise(p["l2_split"]),
            np_l_split=pl.when(a["np_l_tinh"].is_not_null()).then(a["np_l_split"]).otherwise(p["np_l_split"]),
        )
    )
    # only where nothing was found with a province
    no_province = pl.col("ma_tinh").is_null() & pl.col("l3_tinh").is_null() & pl.col("l2_tinh").is_null()
    df = df.with_columns(
        np_leg=no_province & pl.col("np_l_tinh").is_not_null(),
        np_cur=no_province & pl.col("np_l_tinh").is_null() & pl.col("np_ma_xa").is_not_null(),
    )
    status = (
        pl.when(pl.col("l3_tinh").is_not_null())
        .then(pl.when(pl.col("l3_split")).then(pl.lit("legacy_split")).otherwise(pl.lit("legacy_mapped")))
        .when(pl.col("cur_ma_xa").is_not_null())
        .then(pl.lit("current"))
        .when(pl.col("l2_tinh").is_not_null())
        .then(pl.when(pl.col("l2_split")).then(pl.lit("legacy_split")).otherwise(pl.lit("legacy_mapped")))
        .when(pl.col("ma_tinh").is_not_null())
        .then(pl.lit("province_only"))
        .when(pl.col("np_leg"))
        .then(pl.when(pl.col("np_l_split")).then(pl.lit("legacy_split")).otherwise(pl.lit("legacy_mapped")))
        .when(pl.col("np_cur"))
        .then(pl.lit("current"))
        .when(pl.col("clean").is_not_null())
        .then(pl.lit("unparsed"))
    )
    ma_xa = (
        pl.when(pl.col("l3_tinh").is_not_null())
        .then(pl.when(pl.col("l3_split")).then(None).otherwise(pl.col("l3_xa")))
        .when(pl.col("cur_ma_xa").is_not_null())
        .then(pl.col("cur_ma_xa"))
        .when(pl.col("l2_tinh").is_not_null())
        .then(pl.when(pl.col("l2_split")).then(None).otherwise(pl.col("l2_xa")))
        .when(pl.col("ma_tinh").is_not_null())
        .then(None)
        .when(pl.col("np_leg"))
        .then(pl.when(pl.col("np_l_split")).then(None).otherwise(pl.col("np_l_xa")))
        .when(pl.col("np_cur"))
        .then(pl.col("np_ma_xa"))
    )
    ma_tinh = (
        pl.when(pl.col("np_leg"))
        .then(pl.col("np_l_tinh"))
        .when(pl.col("np_cur"))
        .then(pl.col("np_ma_tinh"))
        .otherwise(pl.coalesce("l3_tinh", "ma_tinh"))
    )
    df = df.select(
        "raw",
        "clean",
        address_status=status,
        ma_xa=ma_xa,
        ma_tinh=ma_tinh,
        no_province=pl.col("np_leg") | pl.col("np_cur"),
    )
    df = df.join(lk_p["names"], on="ma_xa", how="left", maintain_order="left")
    df = df.join(lk_p["tinh_names"], on="ma_tinh", how="left", maintain_order="left")
    st = pl.col("address_status")
    problems = flags_to_str(
        [
            (st.is_in(["legacy_mapped", "legacy_split"]), "address_old_units"),
            (st == "legacy_split", "address_split_ward"),
            (st == "province_only", "address_commune_unknown"),
            (st == "unparsed", "address_unparsed"),
            (pl.col("no_province"), "address_no_province"),
        ]
    )
    return df.with_columns(problems=problems).drop("no_province")


def normalize_address_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    distinct = Distinct(df[c])
    table = address_table(distinct.values)
    table = table.rename(
        {
            "problems": prefix_col(c),
            "raw": c,
            "clean": f"{c}_clean",
            "address_status": f"{c}_address_status",
            "ma_xa": f"{c}_ma_xa",
            "ma_tinh": f"{c}_ma_tinh",
            "ten_xa": f"{c}_ten_xa",
            "ten_tinh": f"{c}_ten_tinh",
        }
    )
    order = [f"{c}_{k}" for k in ("ma_tinh", "ma_xa", "ten_tinh", "ten_xa", "address_status", "clean")]
    out = distinct.attach(df, table.select(c, *order, prefix_col(c)), c)
    return finish(out, c, keep_prefixed)


@dataclass(frozen=True)
class ParsedAddress:
    ma_tinh: str | None
    ma_xa: str | None
    ten_tinh: str | None
    ten_xa: str | None
    status: str | None
    clean: str | None
    problems: tuple[str, ...]


def parse_address(value: str | None) -> ParsedAddress:
    """One address through the same joins as a column."""
    row = normalize_address_column(pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8}), "v").row(0, named=True)
    return ParsedAddress(
        row["v_ma_tinh"],
        row["v_ma_xa"],
        row["v_ten_tinh"],
        row["v_ten_xa"],
        row["v_address_status"],
        row["v_clean"],
        tuple(row["v_problems"]),
    )
