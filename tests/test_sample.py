"""Invariants of the synthetic sample (`doisoat sample`): every accuracy figure rests on it."""

from __future__ import annotations

import hashlib
import json
import math
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import polars as pl
import pytest

from matching.reference.admin_units import legacy_province_codes, legacy_units
from pipelines.sample.defects import strip_diacritics
from pipelines.sample.generator import COLUMNS, generate
from pipelines.sample.next_month import write_next_month

REGISTRIES = ("social_welfare", "pension", "civil_births", "civil_deaths", "land")
LATER = ("health_insurance", "school_records", "accommodation_guests")  # added as spec files (issue 13)
NAME_DEFECTS = (
    "name_no_diacritics",
    "name_upper",
    "name_nfd",
    "name_old_tone",
    "name_telex",
    "name_drop_middle",
    "name_extra_spaces",
    "name_eth_d",
)


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    summary = generate(persons=3000, seed=11, out_dir=out)
    data = {name: _read(out / f"{name}.csv") for name in ("population",) + REGISTRIES + LATER}
    truth = {name: _read(out / "truth" / f"{name}.csv") for name in REGISTRIES + LATER}
    rates = json.loads((out / "truth" / "defect_rates.json").read_text(encoding="utf-8"))
    return {"out": out, "summary": summary, "data": data, "truth": truth, "rates": rates}


def _hashes(folder: Path) -> dict[str, str]:
    """Files under `folder`, but not the bundled next month (thang2/, tested on its own)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "thang2" not in p.relative_to(folder).parts
    }


def test_columns_and_counts_follow_the_contract(sample):
    from pipelines.registries import get_spec

    for name in REGISTRIES + LATER:  # the generator writes exactly the columns the registry specs declare
        assert tuple(c.name for c in get_spec(name).columns) == COLUMNS[name]
    for name, cols in COLUMNS.items():
        df = sample["data"][name]
        assert tuple(df.columns) == cols
        assert sample["summary"][f"{name}.csv"] == df.height
    assert sample["data"]["population"].height == 3000
    assert sample["data"]["social_welfare"].height == 300


def test_personal_ids_match_sex_birth_year_and_province(sample):
    pop = sample["data"]["population"]
    ids = pop["so_dinh_danh"]
    assert ids.str.contains(r"^\d{12}$").all()
    assert ids.n_unique() == pop.height
    codes = {"0" + c for c in legacy_province_codes()}
    assert len(codes) == 63
    for sdd, dob, sex in pop.select("so_dinh_danh", "ngay_sinh", "gioi_tinh").iter_rows():
        year = int(dob[-4:])
        assert sdd[:3] in codes
        assert int(sdd[3]) == (year // 100 - 19) * 2 + (sex == "Nữ")
        assert sdd[4:6] == f"{year % 100:02d}"
    cmnd = pop["so_cmnd_cu"].drop_nulls()
    assert cmnd.str.contains(r"^\d{9}$").all() and cmnd.n_unique() == cmnd.len()
    adults = pop.filter(pl.col("ngay_sinh").str.slice(-4).cast(int) <= 2008)
    share = adults["so_cmnd_cu"].is_not_null().mean()
    assert 0.3 < share < 0.5


def test_names_are_realistic_and_canonical(sample):
    pop = sample["data"]["population"]
    surnames = pop["ho_ten"].str.split(" ").list.first()
    assert 0.33 <= (surnames == "Nguyễn").mean() <= 0.43
    assert pop["ho_ten"].value_counts()["count"].max() >= 10  # many people share a common name
    old_style = re.compile(r"(?<![qQ])(o[àáảãạèéẻẽẹ]|u[ỳýỷỹỵ])(?!\w)", re.IGNORECASE)
    for name in pop["ho_ten"]:
        assert unicodedata.normalize("NFC", name) == name
        assert not old_style.search(name), name
    # ethnic-minority names that do not follow họ/đệm/tên
    assert pop["ho_ten"].str.contains(r"^(Y|H') ").any()


def test_families_parents_and_twins(sample):
    pop = sample["data"]["population"]
    births = sample["data"]["civil_births"].with_row_index("i", offset=1)
    truth = sample["truth"]["civil_births"]
    rows = births.drop("so_dinh_danh").join(
        truth.select(pl.col("source_row").cast(pl.UInt32).alias("i"), "so_dinh_danh", "defects"), on="i"
    )
    rows = rows.join(
        pop.select("so_dinh_danh", "ma_ho", pl.col("ho_ten_me").alias("pop_me"), pl.col("ho_ten_cha").alias("pop_cha")),
        on="so_dinh_danh",
    )
    assert rows.height == births.height
    clean = rows.filter(~pl.col("defects").fill_null("").str.contains("name_"))
    assert clean.height > 50
    assert (clean["ho_ten_me"] == clean["pop_me"]).all()
    # the mother is a real woman of the same household
    members = pop.select("ma_ho", pl.col("ho_ten").alias("member"), pl.col("gioi_tinh").alias("member_sex"))
    mothers = clean.join(members, left_on=["ma_ho", "ho_ten_me"], right_on=["ma_ho", "member"])
    mothers = mothers.filter(pl.col("member_sex") == "Nữ")
    assert mothers.select("i").n_unique() == clean.height
    # twins: same household, parents and date of birth, different given names
    kids = pop.filter(pl.col("ngay_sinh").str.slice(-4).cast(int) >= 1990)
    twins = (
        kids.group_by("ma_ho", "ho_ten_me", "ngay_sinh").agg(pl.col("ho_ten")).filter(pl.col("ho_ten").list.len() >= 2)
    )
    assert twins.height >= 1
    assert all(len(set(n)) == len(n) for n in twins["ho_ten"])


def test_truth_is_complete(sample):
    pop_ids = set(sample["data"]["population"]["so_dinh_danh"])
    for name in REGISTRIES + LATER:
        data, truth = sample["data"][name], sample["truth"][name]
        rows = truth["source_row"].cast(int)
        assert set(rows) == set(range(1, data.height + 1)), name
        persons = truth.filter(pl.col("entity") == "person")
        assert set(persons["so_dinh_danh"]) <= pop_ids, name
        assert (
            truth.filter(pl.col("entity") != "person")["so_dinh_danh"].null_count()
            == truth.filter(pl.col("entity") != "person").height
        )
        # duplicates point at an earlier row of the same person
        dups = truth.filter(pl.col("duplicate_of").is_not_null() & (pl.col("owner_index") == "0"))
        first = truth.filter(pl.col("owner_index") == "0").select(
            pl.col("source_row").alias("duplicate_of"),
            pl.col("so_dinh_danh").alias("first_id"),
            pl.col("entity").alias("first_entity"),
        )
        joined = dups.join(first, on="duplicate_of")
        assert joined.height == dups.height
        assert (joined["duplicate_of"].cast(int) < joined["source_row"].cast(int)).all()
        assert (joined["entity"] == joined["first_entity"]).all()
        same = joined.filter(pl.col("entity") == "person")
        assert (same["so_dinh_danh"] == same["first_id"]).all()
        assert dups["defects"].str.contains("duplicate").all()
    land, truth = sample["data"]["land"], sample["truth"]["land"]
    texts = [
        re.sub(r"\s+", " ", strip_diacritics(unicodedata.normalize("NFC", t or "")).lower())
        for t in land["chu_su_dung"]
    ]
    couples = {i for i, t in enumerate(texts, start=1) if re.match(r"^ ?ong .+ va ba ", t)}
    owners = set(truth.filter(pl.col("owner_index") == "1")["source_row"].cast(int))
    assert couples and couples == owners
    assert (truth["entity"] == "organization").any()


def test_absent_people_are_not_in_population(sample):
    pop_ids = set(sample["data"]["population"]["so_dinh_danh"])
    for name, id_col in (("social_welfare", "so_cccd"), ("pension", "so_cccd"), ("land", "so_giay_to")):
        data = sample["data"][name].with_row_index("i", offset=1)
        truth = sample["truth"][name].filter(pl.col("entity") == "absent")
        assert truth.height > 0
        rows = data.filter(pl.col("i").is_in(truth["source_row"].cast(pl.UInt32).implode()))
        written = [v for v in rows[id_col].drop_nulls() if len(v) == 12]
        assert written and not (set(written) & pop_ids)


def test_deaths_and_deceased_still_paid(sample):
    pop = sample["data"]["population"].select("so_dinh_danh", pl.col("ngay_mat").alias("pop_ngay_mat"))
    deaths = sample["data"]["civil_deaths"].drop("so_dinh_danh").with_row_index("i", offset=1)
    truth = sample["truth"]["civil_deaths"].select(pl.col("source_row").cast(pl.UInt32).alias("i"), "so_dinh_danh")
    rows = deaths.join(truth, on="i").join(pop, on="so_dinh_danh")
    unrecorded = rows["pop_ngay_mat"].is_null().mean()
    assert 0.12 <= unrecorded <= 0.3
    recorded = rows.filter(pl.col("pop_ngay_mat").is_not_null())
    assert (recorded["ngay_mat"] == recorded["pop_ngay_mat"]).all()
    dead_ids = set(pop.filter(pl.col("pop_ngay_mat").is_not_null())["so_dinh_danh"]) | set(rows["so_dinh_danh"])
    for name in ("social_welfare", "pension"):
        ghosts = sample["truth"][name].filter(pl.col("defects").str.contains("deceased_still_paid").fill_null(False))
        assert ghosts.height > 0 and set(ghosts["so_dinh_danh"]) <= dead_ids
        alive = sample["truth"][name].filter(
            ~pl.col("defects").str.contains("deceased_still_paid").fill_null(False) & (pl.col("entity") == "person")
        )
        assert not (set(alive["so_dinh_danh"]) & set(pop.filter(pl.col("pop_ngay_mat").is_not_null())["so_dinh_danh"]))


def test_legacy_addresses_map_to_the_persons_commune(sample):
    leg = legacy_units().select("ten_tinh_cu", "ten_huyen_cu", "ten_xa_cu", "new_ma_xa_candidates")
    pop = sample["data"]["population"].select("so_dinh_danh", "ma_xa")
    data = sample["data"]["social_welfare"].with_row_index("i", offset=1)
    truth = sample["truth"]["social_welfare"].select(
        pl.col("source_row").cast(pl.UInt32).alias("i"), "so_dinh_danh", "defects", "entity"
    )
    rows = (
        data.join(truth, on="i")
        .join(pop, on="so_dinh_danh")
        .filter(pl.col("defects").str.contains("addr_legacy") & ~pl.col("defects").str.contains("addr_abbrev"))
    )
    assert rows.height > 20
    parts = rows["dia_chi"].str.split(", ")
    rows = rows.with_columns(
        ten_xa_cu=parts.list.get(-3), ten_huyen_cu=parts.list.get(-2), ten_tinh_cu=parts.list.get(-1)
    ).join(leg, on=["ten_tinh_cu", "ten_huyen_cu", "ten_xa_cu"], how="left")
    assert all(
        cands is not None and ma in cands for ma, cands in rows.select("ma_xa", "new_ma_xa_candidates").iter_rows()
    )


def test_defect_rates_within_tolerance(sample):
    """Every configured code shows up; measured shares never exceed the rate (beyond noise), and
    the codes that apply to every row land near their rate."""
    always = {
        "id_missing",
        "name_upper",
        "name_extra_spaces",
        "sex_wrong",
        "addr_abbrev",
        "addr_legacy",
        "duplicate",
        "absent",
        "deceased_still_paid",
        "name_no_diacritics",
        "dob_format",
    }
    seen: set[str] = set()
    for name in REGISTRIES:
        truth = sample["truth"][name].filter(pl.col("owner_index") == "0")
        n = truth.height
        codes = truth["defects"].fill_null("").str.split(";")
        counts: dict[str, int] = {}
        for row in codes:
            for c in row:
                if c:
                    counts[c] = counts.get(c, 0) + 1
        rates = sample["rates"][name]
        assert set(counts) <= set(rates), (name, set(counts) - set(rates))
        seen |= set(counts)
        for code, rate in rates.items():
            measured = counts.get(code, 0) / n
            tol = 4 * math.sqrt(rate * (1 - rate) / n) + 0.01
            assert measured <= rate + tol, (name, code, measured, rate)
            if code in always and name != "land" or code in ("id_missing", "duplicate", "absent"):
                lower = rate * (0.6 if code in ("dob_format", "addr_legacy", "name_no_diacritics") else 1.0)
                assert measured >= lower - tol, (name, code, measured, rate)
    all_codes = {c for name in REGISTRIES for c, v in sample["rates"][name].items() if v > 0}
    assert all_codes - seen == set(), all_codes - seen


def test_later_registries_look_like_their_spec_files_say(sample):
    """Card codes, pupils' grades and IDs, ASM foreigners: the assumptions in their spec files."""
    cards = sample["data"]["health_insurance"]["ma_the_bhyt"]
    assert cards.str.contains(r"^[A-Z]{2}[1-5]\d{2}\d{10}$").all()
    pupils, truth = sample["data"]["school_records"], sample["truth"]["school_records"]
    grades = pupils["lop"].str.extract(r"^(\d+)").cast(int)
    assert grades.min() >= 1 and grades.max() <= 12 and pupils["ma_hoc_sinh"].str.contains(r"^\d{10}$").all()
    young = pupils.with_columns(g=grades, missing=pl.col("so_dinh_danh").is_null())
    # the school file more often lacks the ID of a young pupil
    assert young.filter(pl.col("g") <= 5)["missing"].mean() > young.filter(pl.col("g") >= 10)["missing"].mean()
    assert set(truth["entity"]) == {"person"}
    guests, truth = sample["data"]["accommodation_guests"], sample["truth"]["accommodation_guests"]
    foreign = guests.with_row_index("i", offset=1).filter(pl.col("quoc_tich") != "Việt Nam")
    truth_foreign = truth.filter(pl.col("entity") == "foreigner")["source_row"].cast(int)
    assert set(foreign["i"]) == set(truth_foreign) and 0.15 < foreign.height / guests.height < 0.35
    assert foreign["so_dinh_danh"].null_count() == foreign.height and foreign["so_ho_chieu"].null_count() == 0
    assert truth["defects"].str.contains("namesake").any() and truth["defects"].str.contains("repeat_stay").any()


def test_committed_sample_is_the_generated_one(tmp_path):
    """data/sample is `doisoat sample --persons 5000 --seed 6` (README): adding registries to the
    generator must leave the files of the others byte-identical, and the committed files current."""
    generate(persons=5000, seed=6, out_dir=tmp_path / "s")
    assert _hashes(tmp_path / "s") == _hashes(Path(__file__).resolve().parents[1] / "data" / "sample")


def test_committed_second_month_is_the_generated_one(tmp_path):
    """data/sample/thang2 is `doisoat sample --next-month data/sample --out data/sample/thang2` (README)."""
    sample = Path(__file__).resolve().parents[1] / "data" / "sample"
    write_next_month(sample, tmp_path / "t2")
    assert _hashes(tmp_path / "t2") == {
        str(p.relative_to(sample / "thang2")): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((sample / "thang2").iterdir())
    }
    facts = json.loads((tmp_path / "t2" / "changes.json").read_text(encoding="utf-8"))
    assert facts["persons_dead"] and facts["persons_new_id"] and facts["rows_listing_a_listed_person"]


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    generate(persons=400, seed=3, out_dir=tmp_path / "a")
    generate(persons=400, seed=3, out_dir=tmp_path / "b")
    generate(persons=400, seed=4, out_dir=tmp_path / "c")
    a, b, c = (_hashes(tmp_path / x) for x in "abc")
    assert a == b
    assert a["population.csv"] != c["population.csv"] and a["social_welfare.csv"] != c["social_welfare.csv"]


def test_moved_persons_are_registered_in_another_commune(sample):
    """addr_moved: the registry holds an earlier residence, a commune other than CSDLQG's."""
    pop = sample["data"]["population"].select("so_dinh_danh", "ten_xa", "ten_tinh")
    moved = 0
    for name, col in (("social_welfare", "dia_chi"), ("pension", "dia_chi")):
        data = sample["data"][name].with_row_index("i", offset=1)
        truth = sample["truth"][name].select(pl.col("source_row").cast(pl.UInt32).alias("i"), "so_dinh_danh", "defects")
        rows = (
            data.join(truth, on="i")
            .join(pop, on="so_dinh_danh")
            .filter(pl.col("defects").str.contains("addr_moved") & ~pl.col("defects").str.contains("addr_abbrev"))
        )
        moved += rows.height
        for addr, xa, tinh in rows.select(col, "ten_xa", "ten_tinh").iter_rows():
            assert f"{xa}, {tinh}" not in addr
    assert moved > 5


def test_the_generator_shares_no_code_with_the_normalizer():
    """The generator reads the reference tables (matching/reference) but no normalizer module, even
    indirectly, so the sample cannot inherit the normalizer's mistakes."""
    code = (
        "import sys, pipelines.sample.generator;"
        "print([m for m in sys.modules if m.startswith('matching.') and not m.startswith('matching.reference')])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
