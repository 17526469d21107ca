"""The sample's defect functions produce exactly the damage real files show (known strings)."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from pipelines.sample import defects as d


def test_telex_residue():
    assert d.telex("Nguyễn", tone_inside=False) == "Nguyeenx"
    assert d.telex("Trần", tone_inside=True) == "Traafn"
    assert d.telex("Trần", tone_inside=False) == "Traanf"
    assert d.telex("Đinh", tone_inside=False) == "DDinh"
    assert d.telex("Hương", tone_inside=False) == "Huwowng"


def test_old_tone_placement_only_in_open_oa_oe_uy():
    assert d.old_tone("Nguyễn Thị Hòa") == "Nguyễn Thị Hoà"
    assert d.old_tone("Thủy") == "Thuỷ" and d.old_tone("Khỏe") == "Khoẻ"
    for unchanged in ("Hoàng", "Quý", "Tủa", "Mùa", "Toàn", "Quỳnh"):
        assert d.old_tone(unchanged) == unchanged
    assert unicodedata.is_normalized("NFC", d.old_tone("Thụy"))


def test_drop_middle_and_strip():
    assert d.drop_middle("Nguyễn Văn Hùng") == "Nguyễn Hùng"
    assert d.drop_middle("Nguyễn Thị Thu Hà") == "Nguyễn Thu Hà"
    assert d.drop_middle("Ông Lê Văn An và bà Trần Thị Lan") == "Ông Lê An và bà Trần Lan"
    assert d.drop_middle("Hờ A Páo") == "Hờ A Páo"
    assert d.strip_diacritics("Đặng Thị Thủy") == "Dang Thi Thuy"


def test_name_defects_are_recorded_only_when_applied():
    rnd = random.Random(0)
    out, codes = d.apply_name(["Lê Văn An"], {"name_eth_d": True, "name_old_tone": True, "name_upper": True}, rnd)
    assert out == ["LÊ VĂN AN"] and codes == ["name_upper"]
    out, codes = d.apply_name(["Đỗ Thị Hòa"], {"name_eth_d": True, "name_old_tone": True}, rnd)
    assert out == ["\u00d0ỗ Thị Hoà"] and codes == ["name_old_tone", "name_eth_d"]


def test_dates():
    rnd = random.Random(0)
    assert d.render_date(date(1945, 9, 2), "day", {}, rnd) == ("02/09/1945", [])
    assert d.render_date(date(1945, 9, 2), "day", {"dob_swapped": True}, rnd) == ("09/02/1945", ["dob_swapped"])
    assert d.render_date(date(1945, 9, 20), "day", {"dob_swapped": True}, rnd) == ("20/09/1945", [])
    assert d.render_date(date(1945, 9, 2), "day", {"dob_placeholder_0101": True}, rnd) == (
        "01/01/1945",
        ["dob_placeholder_0101"],
    )
    assert d.render_date(date(1985, 9, 2), "day", {"dob_placeholder_0101": True}, rnd) == ("02/09/1985", [])
    assert d.render_date(date(1945, 9, 2), "year", {}, rnd) == ("1945", [])
    formats = {d.render_date(date(1945, 9, 2), "day", {"dob_format": True}, random.Random(s))[0] for s in range(40)}
    assert formats == {"2/9/1945", "02-09-1945", "1945-09-02", "02.09.1945", "16682"}


def test_ids():
    rnd = random.Random(0)
    assert d.apply_id("001085012345", "", {"id_old_cmnd": True}, rnd) == ("001085012345", [])
    assert d.apply_id("001085012345", "012345678", {"id_old_cmnd": True}, rnd) == ("012345678", ["id_old_cmnd"])
    assert d.apply_id("001085012345", "", {"id_excel_lost_zero": True}, rnd) == ("01085012345", ["id_excel_lost_zero"])
    assert d.apply_id("001085012345", "", {"id_missing": True, "id_typo": True}, rnd) == ("", ["id_missing"])
    typo, codes = d.apply_id("001085012345", "", {"id_typo": True}, rnd)
    assert codes == ["id_typo"] and sum(a != b for a, b in zip(typo, "001085012345")) == 1
    swapped, codes = d.apply_id("001085012345", "", {"id_transposed": True}, rnd)
    assert codes == ["id_transposed"] and sorted(swapped) == sorted("001085012345") and swapped != "001085012345"


def test_address_abbreviation():
    assert d.render_address("Thôn 3, Xã Gia Phúc, Thành phố Hải Phòng", "", {"addr_abbrev": True}) == (
        "Thôn 3, X. Gia Phúc, TP. Hải Phòng",
        ["addr_abbrev"],
    )
    assert d.render_address("a", "Thôn 3, Thị trấn B, Huyện C, Tỉnh D", {"addr_legacy": True, "addr_abbrev": True}) == (
        "Thôn 3, TT. B, H. C, T. D",
        ["addr_legacy", "addr_abbrev"],
    )


def test_regional_surname_forms():
    assert d.regional_surname("Hoàng Văn Nam") == "Huỳnh Văn Nam"
    assert d.regional_surname("Huỳnh Thị Mai") == "Hoàng Thị Mai"
    assert d.regional_surname("Ông Vũ Văn Bình và bà Lê Thị Cúc") == "Ông Võ Văn Bình và bà Lê Thị Cúc"
    assert d.regional_surname("Nguyễn Hoàng Anh") == "Nguyễn Hoàng Anh"  # a middle name is not a surname
    out, codes = d.apply_name(["Trần Văn An"], {"name_regional_surname": True}, random.Random(1))
    assert out == ["Trần Văn An"] and codes == []  # not applicable: neither applied nor recorded


def test_moved_address_replaces_the_current_one():
    assert d.render_address(
        "Xã A, Tỉnh B", "Xã A cũ, Huyện C, Tỉnh B", {"addr_moved": True, "addr_legacy": True}, "Xã D, Tỉnh B"
    ) == ("Xã D, Tỉnh B", ["addr_moved"])
    assert d.render_address("Xã A, Tỉnh B", "", {"addr_moved": True}, None) == ("Xã A, Tỉnh B", [])
