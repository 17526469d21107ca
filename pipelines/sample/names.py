"""Vietnamese name pools and a vectorized name drawer for the synthetic population.

Why pools with weights: every accuracy figure the team publishes is measured on this sample, so
name collisions must be as frequent as in real life. Surname shares follow
../shared/reference/vn-facts.md (Nguyễn ≈ 38 %, Trần ≈ 11 %, ...); "Văn"/"Thị" dominate middle
names (less so for people born after 1990); given names follow a steep Zipf-like curve, so that a
million people hold thousands of "Nguyễn Văn Hùng". Ethnic-minority groups get names that do not
follow họ/đệm/tên ("Hờ A Páo", "Y Bi Aleo", "H' Nga Niê", "Kpă Y Blin", "Lò Văn Pánh").

All names are NFC with the NEW tone placement (Hòa, Thủy), like CSDLQG and the
vietnamadminunits data ("Thanh Hóa"); the old placement is a registry defect (defects.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _zipf(names: str, s: float = 0.9) -> tuple[tuple[str, float], ...]:
    """Names listed most-common first get Zipf weights 1/rank**s."""
    items = names.split()
    return tuple((n, 1.0 / (i + 1) ** s) for i, n in enumerate(items))


def _w(spec: str) -> tuple[tuple[str, float], ...]:
    """'Văn:40 Đức:8' -> (('Văn', 40.0), ('Đức', 8.0)); '_' inside a token is a space."""
    out = []
    for item in spec.split():
        name, weight = item.rsplit(":", 1)
        out.append((name.replace("_", " "), float(weight)))
    return tuple(out)


# Kinh surnames, shares in percent (vn-facts.md); Nguyễn is set above 38 % among Kinh
# so that, with ethnic-minority names mixed in, the whole population lands near 38 %.
KINH_SURNAMES = _w(
    "Nguyễn:46 Trần:11 Lê:9.5 Phạm:7 Hoàng:5 Phan:4.5 Vũ:4 Đặng:2 Bùi:2 Đỗ:1.4 Hồ:1.3 Ngô:1.3 "
    "Dương:1 Lý:0.5 Đinh:0.9 Trương:0.8 Lâm:0.5 Mai:0.5 Trịnh:0.5 Đào:0.5 Cao:0.4 Tạ:0.3 Lương:0.4 "
    "Hà:0.4 Tô:0.3 Chu:0.3 Lưu:0.3 Tăng:0.2 Quách:0.2 Thái:0.3 Kiều:0.2 Văn:0.2 Triệu:0.2 La:0.2 "
    "Đoàn:0.5 Vương:0.2 Hứa:0.2 Nghiêm:0.1 Khúc:0.1 Lục:0.1"
)
# Southern and central usage of the same surnames (vn-facts.md: Hoàng ↔ Huỳnh, Vũ ↔ Võ).
SOUTH_SURNAMES = tuple((("Huỳnh" if n == "Hoàng" else "Võ" if n == "Vũ" else n), w) for n, w in KINH_SURNAMES)

MIDDLE_MALE_OLD = _w(
    "Văn:52 Đức:7 Minh:5 Hữu:5 Quốc:3 Thanh:3 Công:4 Xuân:3 Ngọc:2 Quang:3 Đình:5 Trọng:2 Mạnh:1 "
    "Bá:1 Duy:1 Tiến:1 Viết:1 Như:0.5 Khắc:0.5 Văn_Minh:0.5 :2"
)
MIDDLE_MALE_YOUNG = _w(
    "Văn:22 Đức:9 Minh:10 Hữu:4 Quốc:5 Thanh:5 Công:4 Xuân:2 Ngọc:3 Quang:5 Đình:3 Trọng:3 Anh:4 "
    "Gia:4 Bảo:3 Hoàng:4 Tuấn:3 Nhật:3 Duy:3 Hải:2 Đăng:2 Thành:2 :2"
)
MIDDLE_FEMALE_OLD = _w(
    "Thị:68 Ngọc:4 Thu:3 Thanh:3 Kim:3 Hồng:2 Minh:1 Thùy:1 Phương:1 Thị_Thu:3 Thị_Kim:2 "
    "Thị_Ngọc:2 Thị_Thanh:2 Thị_Hồng:1 Xuân:1 Bích:1 :1"
)
MIDDLE_FEMALE_YOUNG = _w(
    "Thị:30 Ngọc:8 Thu:5 Thanh:5 Kim:3 Hồng:2 Minh:5 Thùy:4 Phương:4 Bảo:4 Khánh:4 Hoài:2 Diệu:2 "
    "Mai:3 Thảo:2 Quỳnh:2 Gia:2 Tuệ:1 Thị_Thu:2 Thị_Ngọc:2 Thị_Thanh:1 :1"
)
GIVEN_MALE = _zipf(
    "Hùng Dũng Tuấn Minh Hải Nam Long Thắng Sơn Hưng Cường Quang Trung Hoàng Phong Thành Đức Bình "
    "Hiếu Tùng Khoa Huy Kiên Hòa Toàn Thịnh Lâm Việt Tâm Thanh Tiến Hậu Anh Đạt Khánh Phúc An Bảo "
    "Duy Tài Hiệp Lợi Nghĩa Quý Vinh Tú Lực Tín Chiến Thuận Phát Quân Hào Công Đông Vũ Thái Lộc "
    "Nhân Hoan Tấn Thủy Thụy Khải Đạo Lương Chính Lập Giang Trí",
    0.6,
)
GIVEN_FEMALE = _zipf(
    "Hương Lan Linh Hà Thảo Trang Hằng Mai Ngọc Huyền Nga Phương Hoa Thủy Hạnh Dung Yến Anh Loan "
    "Nhung Hiền Vân Thu Oanh Tuyết Liên Hồng Nhàn Quỳnh Diệp Hòa Xuân Chi Vy Nhi My Trâm Uyên Thúy "
    "Thùy Khuê Hiên Ly Lý Giang Tâm Duyên Hậu Thơ Thoa Lụa Đào Nguyệt Hải Bích Châu Diễm Hòe",
    0.6,
)


@dataclass(frozen=True)
class NameGroup:
    """One naming tradition. `surname_last` puts the family name at the end (Ê Đê: "Y Bi Aleo");
    `matrilineal` children take the mother's family name (Ê Đê, Gia Rai)."""

    key: str
    surnames: tuple[tuple[str, float], ...]
    middle_male_old: tuple[tuple[str, float], ...]
    middle_male_young: tuple[tuple[str, float], ...]
    middle_female_old: tuple[tuple[str, float], ...]
    middle_female_young: tuple[tuple[str, float], ...]
    given_male: tuple[tuple[str, float], ...]
    given_female: tuple[tuple[str, float], ...]
    surname_last: bool = False
    matrilineal: bool = False


KINH = NameGroup(
    "kinh",
    KINH_SURNAMES,
    MIDDLE_MALE_OLD,
    MIDDLE_MALE_YOUNG,
    MIDDLE_FEMALE_OLD,
    MIDDLE_FEMALE_YOUNG,
    GIVEN_MALE,
    GIVEN_FEMALE,
)
KINH_SOUTH = NameGroup(
    "kinh_south",
    SOUTH_SURNAMES,
    MIDDLE_MALE_OLD,
    MIDDLE_MALE_YOUNG,
    MIDDLE_FEMALE_OLD,
    MIDDLE_FEMALE_YOUNG,
    GIVEN_MALE,
    GIVEN_FEMALE,
)
HMONG = NameGroup(
    "hmong",
    _w("Hờ:3 Giàng:5 Sùng:4 Vàng:5 Lý:3 Thào:4 Mùa:3 Lầu:2 Vừ:2 Hầu:2 Má:1"),
    _w("A:8 Seo:3 Văn:1"),
    _w("A:7 Seo:2 Văn:2"),
    _w("Thị:6 :3"),
    _w("Thị:5 :3"),
    _zipf("Páo Sử Chứ Dế Lử Tủa Pó Chư Dính Sình Phử Cở Pháy Giàng Vư Nhà"),
    _zipf("Mai Dợ Súa Mỷ Chua Pà Sua Dung Dua Xá Mẩy Lan Pằng"),
)
THAI = NameGroup(
    "thai",
    _w("Lò:6 Cầm:3 Lường:4 Quàng:3 Tòng:2 Lèo:2 Vì:2 Hà:2 Điêu:1 Lù:1"),
    _w("Văn:10 Bá:1"),
    _w("Văn:8 Minh:1 Đức:1"),
    _w("Thị:10"),
    _w("Thị:8 Ngọc:1"),
    _zipf("Pánh Khiêm Ún Xôm Panh Chăn Hặc Thưởng Bun Phong Xuân Thoan Ngoan Ín Tiến"),
    _zipf("Ín Xuân Thoa Ênh Pâng Hoa Ón Lả Thương Hiên Mai Ương Bình"),
)
TAY = NameGroup(
    "tay",
    _w("Nông:5 Hoàng:4 Lục:2 Ma:2 Hà:2 Triệu:2 Lăng:1 Bế:2 Lương:1 Đàm:1"),
    _w("Văn:9 Đức:1"),
    _w("Văn:6 Minh:2 Đức:1"),
    _w("Thị:10"),
    _w("Thị:7 Ngọc:1"),
    GIVEN_MALE[:30] + _zipf("Dền Slam Pản Nình Quyết"),
    GIVEN_FEMALE[:30] + _zipf("Lả Slao Nình Pài Vằn"),
)
EDE = NameGroup(
    "ede",
    _w("Niê:5 Êban:3 Mlô:2 Ktla:2 Byă:2 Adrơng:2 Ayŭn:2 Kbuôr:1 Hwing:1 Knul:1 Ênuôl:1"),
    _w("Y:1"),
    _w("Y:1"),
    _w("H':1"),
    _w("H':1"),
    _zipf("Bi Ngông Khuê Thông Jôn Blô Wưn Lang Điêng Suôn Dhơn Kiêm Phi Krăm Yim"),
    _zipf("Nga Lim Hen Ly Duin Yam Blưn Hiêng Jôn Mai Drim Ngơn Ruôn"),
    surname_last=True,
    matrilineal=True,
)
GIARAI = NameGroup(
    "giarai",
    _w("Kpă:3 Ksor:5 Rơ_Châm:3 Siu:4 Rơ_Mah:4 Nay:3 Puih:2 Rahlan:2 Kpuih:1"),
    _w("Y:1"),
    _w("Y:1"),
    _w("H':1"),
    _w("H':1"),
    _zipf("Blin Đôk Brơi Hyơn Thuân Ngơl Mơh Nhih Tuk Hlơi Jơn"),
    _zipf("Ni Lan Brơk Hnhư Yen Juin Hyim Blơ Lai Mlăi"),
    matrilineal=True,
)

GROUPS: tuple[NameGroup, ...] = (KINH, KINH_SOUTH, HMONG, THAI, TAY, EDE, GIARAI)
GROUP_INDEX = {g.key: i for i, g in enumerate(GROUPS)}


def _draw(rng: np.random.Generator, pool: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([p[0] for p in pool], dtype=object)
    weights = np.array([p[1] for p in pool], dtype=float)
    return names[rng.choice(len(names), size=n, p=weights / weights.sum())]


def draw_surnames(rng: np.random.Generator, group: np.ndarray) -> np.ndarray:
    """One family name per row, drawn from the row's group pool."""
    out = np.empty(len(group), dtype=object)
    for gi, g in enumerate(GROUPS):
        idx = np.flatnonzero(group == gi)
        if idx.size:
            out[idx] = _draw(rng, g.surnames, idx.size)
    return out


def draw_middle_given(
    rng: np.random.Generator, group: np.ndarray, female: np.ndarray, young: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Middle name ('' when none) and given name per row, by group, sex and generation."""
    n = len(group)
    middle = np.empty(n, dtype=object)
    given = np.empty(n, dtype=object)
    for gi, g in enumerate(GROUPS):
        for fem in (False, True):
            for yng in (False, True):
                idx = np.flatnonzero((group == gi) & (female == fem) & (young == yng))
                if not idx.size:
                    continue
                if fem:
                    mid_pool = g.middle_female_young if yng else g.middle_female_old
                else:
                    mid_pool = g.middle_male_young if yng else g.middle_male_old
                middle[idx] = _draw(rng, mid_pool, idx.size)
                given[idx] = _draw(rng, g.given_female if fem else g.given_male, idx.size)
    return middle, given


def redraw_given(rng: np.random.Generator, group: int, female: bool, avoid: str) -> str:
    """A given name different from `avoid` (twins never share a given name)."""
    g = GROUPS[group]
    pool = g.given_female if female else g.given_male
    names = [p[0] for p in pool if p[0] != avoid]
    return names[int(rng.integers(len(names)))]


def compose(surname: np.ndarray, middle: np.ndarray, given: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Full names: 'Họ Đệm Tên', or 'Y Tên Họ' for groups that put the family name last."""
    last = np.zeros(len(group), dtype=bool)
    for gi, g in enumerate(GROUPS):
        if g.surname_last:
            last |= group == gi
    out = np.empty(len(group), dtype=object)
    for i, (s, m, gv, lst) in enumerate(zip(surname, middle, given, last)):
        if lst:
            out[i] = f"{m} {gv} {s}"
        elif m:
            out[i] = f"{s} {m} {gv}"
        else:
            out[i] = f"{s} {gv}"
    return out
