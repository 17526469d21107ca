"""Land owners: couples, households, organizations, honorifics; same keys as any other name."""

import polars as pl
import pytest

from matching.normalize.owners import normalize_owner_column, parse_owner

CASES = [
    # (text, entity, [(name, role, sex)])
    (
        "Ông Nguyễn Văn An và bà Trần Thị Bình",
        "couple",
        [("Nguyễn Văn An", "owner", "Nam"), ("Trần Thị Bình", "co_owner", "Nữ")],
    ),
    ("Hộ ông Lê Văn Cường", "household", [("Lê Văn Cường", "household_head", "Nam")]),
    ("Hộ gia đình bà Phạm Thị Dung", "household", [("Phạm Thị Dung", "household_head", "Nữ")]),
    ("Bà Hoàng Thị Lan", "person", [("Hoàng Thị Lan", "owner", "Nữ")]),
    ("Trương Văn Tám", "person", [("Trương Văn Tám", "owner", None)]),
    ("Nguyễn Văn A, Lê Thị B", "couple", [("Nguyễn Văn A", "owner", None), ("Lê Thị B", "co_owner", None)]),
    (
        "ÔNG NGUYỄN VĂN AN VÀ BÀ TRẦN THỊ BÌNH",
        "couple",
        [("Nguyễn Văn An", "owner", "Nam"), ("Trần Thị Bình", "co_owner", "Nữ")],
    ),
    # typed without diacritics: the same structure
    ("Ong Lo Van Phong va ba Vi Thi In", "couple", [("Lo Van Phong", "owner", "Nam"), ("Vi Thi In", "co_owner", "Nữ")]),
    ("Ho ong Le Cong Binh", "household", [("Le Cong Binh", "household_head", "Nam")]),
    ("Ba Trinh Kim Ly", "person", [("Trinh Kim Ly", "owner", "Nữ")]),
    ("Ông Nguyễn Văn Phong", "person", [("Nguyễn Văn Phong", "owner", "Nam")]),  # not "văn phòng"
    ("Hồ Văn Va", "person", [("Hồ Văn Va", "owner", None)]),  # Hồ is a surname, Va a name
]
ORGANIZATIONS = [
    "Công ty TNHH Hòa Phát",
    "Công ty CP Xây dựng số 5",
    "UBND xã Tân Hòa",
    "Hợp tác xã Nông nghiệp Đông Hòa",
    "HTX Dịch vụ Thành Công",
    "Chi nhánh Ngân hàng Nông nghiệp",
    "Trường THCS Nguyễn Du",
    "Ban quản lý dự án",
    "Doanh nghiệp tư nhân Minh Phát",
    "Cty TNHH MTV An Bình",
    "Truong Tieu hoc Le Thanh Nghi",
    "Văn phòng Đăng ký đất đai",
]


@pytest.mark.parametrize("text,entity,persons", CASES)
def test_owner_forms(text, entity, persons):
    df = normalize_owner_column(pl.DataFrame({"chu": [text]}), "chu")
    row = df.row(0, named=True)
    assert row["chu_entity"] == entity
    assert [(o["ho_ten_clean"], o["role"], o["sex"]) for o in row["chu_owners"]] == persons
    assert row["chu_clean"] == persons[0][0]


@pytest.mark.parametrize("text", ORGANIZATIONS)
def test_organizations_are_not_persons(text):
    row = normalize_owner_column(pl.DataFrame({"chu": [text]}), "chu").row(0, named=True)
    assert row["chu_entity"] == "organization"
    assert row["chu_owners"] == [] and row["chu_ho_key"] is None
    assert row["chu_clean"] == text


def test_legacy_encoded_owner_and_keys():
    row = normalize_owner_column(pl.DataFrame({"chu": ["¤ng NguyÔn V¨n An vµ bµ TrÇn ThÞ B×nh"]}), "chu").row(
        0, named=True
    )
    assert row["chu_entity"] == "couple"
    assert [o["key"] for o in row["chu_owners"]] == ["nguyen van an", "tran thi binh"]
    assert "legacy_tcvn3" in row["chu_problems"]


def test_rows_kept_in_order_with_nulls():
    vals = ["Hộ ông Lê Văn C", None, "UBND xã X", "Hộ ông Lê Văn C"]
    out = normalize_owner_column(pl.DataFrame({"chu": vals}), "chu")
    assert out["chu"].to_list() == vals
    assert out["chu_entity"].to_list() == ["household", None, "organization", "household"]
    assert out["chu_owners"].list.len().to_list() == [1, 0, 0, 1]


def test_parse_owner_empty():
    assert parse_owner(None) == (None, [])
    assert parse_owner("  ") == (None, [])


@pytest.mark.parametrize(
    "text", ["Hợp tacs xã nông nghiệp Thới Hoà", "Coong ty TNHH Minh Phát", "Truwowngf tiểu học Kim Đồng"]
)
def test_organizations_with_typing_residue_are_not_persons(text):
    row = normalize_owner_column(pl.DataFrame({"chu": [text]}), "chu").row(0, named=True)
    assert row["chu_entity"] == "organization" and row["chu_owners"] == []
