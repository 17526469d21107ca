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
`address_unparsed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from matching.normalize.admin_units import current_units, legacy_units
from matching.normalize.problems import Distinct, finish, list_to_str, prefix_col

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
    return (
        expr.str.replace_all("[đĐ]", "d")
        .str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z0-9]", "")
        .str.replace_all(r"([a-z])0+(\d)", "${1}${2}")
    )


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


@lru_cache(maxsize=1)
def _lookups() -> dict[str, pl.DataFrame]:
    cur = current_units()
    leg = legacy_units()
    prov_cur = pl.concat(
        [
            cur.select(k=pl.col("tinh_key"), ma_tinh="ma_tinh"),
            cur.select(k=pl.col("tinh_short_key"), ma_tinh="ma_tinh"),
        ]
    )
    prov_old = pl.concat(
        [
            leg.select(k=pl.col("tinh_cu_key"), ma_tinh_cu="ma_tinh_cu", ma_tinh="new_ma_tinh"),
            leg.select(k=pl.col("tinh_cu_short_key"), ma_tinh_cu="ma_tinh_cu", ma_tinh="new_ma_tinh"),
        ]
    ).unique()
    # "TP Hà Nội" (no dot) keys as "tphanoi"
    prov_cur = pl.concat([prov_cur, cur.select(k=pl.lit("tp") + pl.col("tinh_short_key"), ma_tinh="ma_tinh")])
    prov_old = pl.concat(
        [prov_old, leg.select(k=pl.lit("tp") + pl.col("tinh_cu_short_key"), ma_tinh_cu="ma_tinh_cu", ma_tinh="new_ma_tinh").unique()]
    )
    aliases = pl.DataFrame({"k": list(_PROVINCE_ALIASES), "to": list(_PROVINCE_ALIASES.values())})
    prov_cur = pl.concat([prov_cur, aliases.join(prov_cur, left_on="to", right_on="k").select("k", "ma_tinh")])
    prov_old = pl.concat(
        [prov_old, aliases.join(prov_old, left_on="to", right_on="k").select("k", "ma_tinh_cu", "ma_tinh")]
    )
    # A province key: its current code, and its pre-2025 code when it was a province then.
    province = (
        prov_cur.unique()
        .join(prov_old.select("k", "ma_tinh_cu", ma_tinh_via_old="ma_tinh").unique(subset="k"), on="k", how="full", coalesce=True)
        .with_columns(ma_tinh=pl.coalesce("ma_tinh", "ma_tinh_via_old"))
        .drop("ma_tinh_via_old")
        .unique(subset="k")
    )
    commune = _unique_keys(
        pl.concat(
            [
                cur.select("ma_tinh", xk=pl.col("xa_key"), ma_xa="ma_xa"),
                cur.select("ma_tinh", xk=pl.col("xa_short_key"), ma_xa="ma_xa"),
            ]
        ),
        ["ma_tinh", "xk"],
        "ma_xa",
    )
    leg_rows = leg.select(
        "ma_tinh_cu", "huyen_cu_key", "huyen_cu_short_key", "xa_cu_key", "xa_cu_short_key",
        "new_ma_tinh", "new_ma_xa", "is_split",
    ).with_columns(
        target=pl.when(pl.col("is_split")).then(pl.lit("split:") + pl.col("ma_tinh_cu")).otherwise(pl.col("new_ma_xa"))
    )
    variants = []
    for hk in ("huyen_cu_key", "huyen_cu_short_key"):
        for xk in ("xa_cu_key", "xa_cu_short_key"):
            variants.append(
                leg_rows.select("ma_tinh_cu", hk2=pl.col(hk), xk=pl.col(xk), new_ma_tinh="new_ma_tinh",
                                new_ma_xa="new_ma_xa", is_split="is_split", target="target")
            )
    legacy3 = _unique_keys(pl.concat(variants).drop_nulls(["hk2", "xk"]), ["ma_tinh_cu", "hk2", "xk"], "target")
    legacy2 = _unique_keys(
        pl.concat(
            [
                leg_rows.select("ma_tinh_cu", xk=pl.col(xk), new_ma_tinh="new_ma_tinh", new_ma_xa="new_ma_xa",
                                is_split="is_split", target="target")
                for xk in ("xa_cu_key", "xa_cu_short_key")
            ]
        ).drop_nulls("xk"),
        ["ma_tinh_cu", "xk"],
        "target",
    )
    names = cur.select("ma_xa", "ten_xa", "ma_tinh", "ten_tinh")
    tinh_names = cur.select("ma_tinh", "ten_tinh").unique()
    return {
        "province": province,
        "commune": commune.drop("target", strict=False),
        "legacy3": legacy3.drop("target"),
        "legacy2": legacy2.drop("target"),
        "names": names,
        "tinh_names": tinh_names,
    }


def address_table(raw: pl.Series) -> pl.DataFrame:
    """Parse each distinct raw address (column `raw`) into the address columns."""
    lk = _lookups()
    df = pl.DataFrame({"raw": raw.drop_nulls().unique()})
    df = df.with_columns(clean=expand_expr(pl.col("raw")))
    df = df.with_columns(clean=pl.when(pl.col("clean") == "").then(None).otherwise(pl.col("clean")))
    parts = pl.col("clean").str.replace_all(r"\s+-\s+|;", ",").str.split(",")
    df = df.with_columns(_parts=parts.list.eval(part_key(pl.element())).list.eval(pl.element().filter(pl.element() != "")))
    df = df.with_columns(
        k1=pl.col("_parts").list.get(-1, null_on_oob=True),
        k2=pl.col("_parts").list.get(-2, null_on_oob=True),
        k3=pl.col("_parts").list.get(-3, null_on_oob=True),
    ).drop("_parts")
    df = df.with_columns(k1=pl.col("k1").replace(_PROVINCE_ALIASES))
    df = df.join(lk["province"].rename({"k": "k1"}), on="k1", how="left")
    # current two-level: province + commune
    df = df.join(
        lk["commune"].rename({"xk": "k2", "ma_xa": "cur_ma_xa"}), on=["ma_tinh", "k2"], how="left"
    )
    # old three-level: province + district + ward
    df = df.join(
        lk["legacy3"].rename({"hk2": "k2", "xk": "k3", "new_ma_tinh": "l3_tinh", "new_ma_xa": "l3_xa", "is_split": "l3_split"}),
        on=["ma_tinh_cu", "k2", "k3"],
        how="left",
    )
    # old ward without a district: province + ward (only where that ward name is unique)
    df = df.join(
        lk["legacy2"].rename({"xk": "k2", "new_ma_tinh": "l2_tinh", "new_ma_xa": "l2_xa", "is_split": "l2_split"}),
        on=["ma_tinh_cu", "k2"],
        how="left",
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
    )
    ma_tinh = pl.coalesce("l3_tinh", "ma_tinh")
    df = df.select("raw", "clean", address_status=status, ma_xa=ma_xa, ma_tinh=ma_tinh)
    df = df.join(lk["names"].select("ma_xa", "ten_xa"), on="ma_xa", how="left")
    df = df.join(lk["tinh_names"], on="ma_tinh", how="left")
    st = pl.col("address_status")
    problems = pl.concat_list(
        pl.when(st.is_in(["legacy_mapped", "legacy_split"])).then(pl.lit("address_old_units")),
        pl.when(st == "legacy_split").then(pl.lit("address_split_ward")),
        pl.when(st == "province_only").then(pl.lit("address_commune_unknown")),
        pl.when(st == "unparsed").then(pl.lit("address_unparsed")),
    ).list.drop_nulls()
    return df.with_columns(problems=problems)


def normalize_address_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    distinct = Distinct(df[c])
    table = address_table(distinct.values)
    table = table.with_columns(list_to_str(pl.col("problems"), c).alias(prefix_col(c))).drop("problems")
    table = table.rename(
        {
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
        row["v_ma_tinh"], row["v_ma_xa"], row["v_ten_tinh"], row["v_ten_xa"],
        row["v_address_status"], row["v_clean"], tuple(row["v_problems"]),
    )
