"""End to end on the committed sample (data/sample): every registry name whose defects keep the
diacritics normalizes to exactly the population's clean name; names that lost their diacritics
get the same accent-free key; names with a dropped Thị/Văn the same key_nomid."""

from pathlib import Path

import polars as pl
import pytest

from matching.normalize.names import normalize_name_column

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
REGISTRIES = ["social_welfare", "pension", "civil_births", "civil_deaths"]


@pytest.fixture(scope="module")
def population() -> pl.DataFrame:
    if not (SAMPLE / "population.csv").exists():
        pytest.skip("no committed sample")
    pop = pl.read_csv(SAMPLE / "population.csv", infer_schema=False).select("so_dinh_danh", "ho_ten")
    return normalize_name_column(pop, "ho_ten").rename(lambda c: "pop_" + c if c != "so_dinh_danh" else c)


@pytest.mark.parametrize("registry", REGISTRIES)
def test_registry_names_normalize_to_the_population_name(population, registry):
    rows = pl.read_csv(SAMPLE / f"{registry}.csv", infer_schema=False).with_row_index("source_row", offset=1)
    truth = pl.read_csv(SAMPLE / "truth" / f"{registry}.csv", infer_schema=False).filter(pl.col("entity") == "person")
    joined = (
        truth.with_columns(pl.col("source_row").cast(pl.UInt32))
        .join(rows.select("source_row", "ho_ten"), on="source_row")
        .join(population, on="so_dinh_danh")
    )
    out = normalize_name_column(joined, "ho_ten").with_columns(d=pl.col("defects").fill_null(""))
    lossy = pl.col("d").str.contains("name_no_diacritics|name_drop_middle")
    keeping = out.filter(~lossy)
    assert keeping.height > 50
    assert keeping.filter(pl.col("ho_ten_clean") != pl.col("pop_ho_ten_clean")).height == 0
    no_dia = out.filter(pl.col("d").str.contains("name_no_diacritics") & ~pl.col("d").str.contains("name_drop_middle"))
    assert no_dia.filter(pl.col("ho_ten_key") != pl.col("pop_ho_ten_key")).height == 0
    dropped = out.filter(pl.col("d").str.contains("name_drop_middle"))
    assert dropped.filter(pl.col("ho_ten_key_nomid") != pl.col("pop_ho_ten_key_nomid")).height == 0
