"""Land owners → person-schema records, through the pipeline's one path (pipelines/land/owners.py).

Moved from tests/matching (the engine's second copy, `explode_owners`, was deleted): the same
assertions, now on the product's path a real CSV goes through, plus the record the product adds
for owner text no person could be read from.
"""

import polars as pl

from pipelines.ingest import read_table
from pipelines.normalize import normalize_registry, registry_persons
from pipelines.registries import get_spec

SPEC = get_spec("land")

HEADER = "so_giay_chung_nhan,so_to,so_thua,dien_tich,chu_su_dung,nam_sinh,so_giay_to,dia_chi_thuong_tru\n"


def _persons(tmp_path, lines: list[str]) -> pl.DataFrame:
    path = tmp_path / "land.csv"
    path.write_text(HEADER + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    rows = normalize_registry(SPEC, read_table(path, SPEC.columns))
    return registry_persons(SPEC, rows).sort("rec_id")


def test_land_owners_exploded_head_only_fields(tmp_path):
    out = _persons(
        tmp_path,
        [
            "CS01,1,10,120,Ông Nguyễn Văn An và bà Lê Thị Hoa,1950,123456789,Xã Tân Hòa",
            "CS02,1,11,300,Công ty TNHH Minh Phát,,,Xã Tân Hòa",
        ],
    )
    assert out["rec_id"].to_list() == [10, 11]  # the organization is not a person
    assert out["gioi_tinh"].to_list() == ["Nam", "Nữ"]
    assert out["ngay_sinh_year"].to_list() == [1950, None]
    assert out["cmnd9"].to_list() == ["123456789", None]
    assert out["ngay_sinh_precision"].to_list() == ["year", None]


def test_owner_text_without_a_person_keeps_one_record_when_an_id_is_there(tmp_path):
    out = _persons(tmp_path, [",,,,,1962,987654321,"])
    assert out["rec_id"].to_list() == [10]
    assert (out["owner_index"][0], out["cmnd9"][0], out["ngay_sinh_year"][0]) == (0, "987654321", 1962)
