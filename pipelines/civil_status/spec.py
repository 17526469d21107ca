"""Civil status (hộ tịch): birth and death registrations.

Births are children, often with no ID yet: they are matched through name, date of birth and
parents' names. Deaths feed the "sống" check: a registered death that CSDLQG does not yet
record is an alert, and every registry row linked to that person is flagged."""

from matching.settings import LinkSettings
from pipelines.spec import (
    DIA_CHI,
    GIOI_TINH,
    HO_TEN,
    NGAY_SINH,
    SO_CCCD,
    ColumnSpec,
    RegistrySpec,
)

BIRTHS = RegistrySpec(
    name="civil_births",
    title_vi="Đăng ký khai sinh",
    key_column="so_dang_ky",
    columns=(
        ColumnSpec("so_dang_ky", "text", ("Số đăng ký", "Số", "Số khai sinh"), required=True, label_vi="Số đăng ký"),
        ColumnSpec("ho_ten", "name", HO_TEN + ("Họ tên trẻ",), required=True, role="ho_ten", label_vi="Họ và tên"),
        ColumnSpec("ngay_sinh", "date", NGAY_SINH, required=True, role="ngay_sinh", label_vi="Ngày sinh"),
        ColumnSpec("gioi_tinh", "sex", GIOI_TINH, required=True, role="gioi_tinh", label_vi="Giới tính"),
        ColumnSpec("noi_sinh", "address", ("Nơi sinh",), required=True, role="dia_chi", label_vi="Nơi sinh"),
        ColumnSpec(
            "ho_ten_cha", "name", ("Họ tên cha", "Họ và tên cha", "Cha"), role="ho_ten_cha", label_vi="Họ tên cha"
        ),
        ColumnSpec(
            "ho_ten_me",
            "name",
            ("Họ tên mẹ", "Họ và tên mẹ", "Mẹ"),
            required=True,
            role="ho_ten_me",
            label_vi="Họ tên mẹ",
        ),
        ColumnSpec("so_dinh_danh", "id", SO_CCCD, role="id", label_vi="Số định danh cá nhân"),
    ),
    match=LinkSettings(
        comparisons=("ho_ten", "ngay_sinh", "gioi_tinh", "id", "ho_ten_cha", "ho_ten_me", "dia_chi"),
        blocking_rules=(
            "ho_ten_nam_sinh",
            "ho_ten_ngay_thang",
            "ho_ten_xa",
            "ten_ngay_sinh",
            "ho_ngay_sinh",
            "ngay_sinh_xa",
            "me_ngay_sinh",
        ),
    ),
    mismatch_fields=("ho_ten", "ngay_sinh", "gioi_tinh", "ho_ten_cha", "ho_ten_me"),
    targets={"linked": 1.0, "verified": 1.0, "complete": 1.0},
)

DEATHS = RegistrySpec(
    name="civil_deaths",
    title_vi="Đăng ký khai tử",
    key_column="so_dang_ky",
    columns=(
        ColumnSpec("so_dang_ky", "text", ("Số đăng ký", "Số", "Số khai tử"), required=True, label_vi="Số đăng ký"),
        ColumnSpec(
            "ho_ten", "name", HO_TEN + ("Họ tên người chết",), required=True, role="ho_ten", label_vi="Họ và tên"
        ),
        ColumnSpec("ngay_sinh", "date", NGAY_SINH, required=True, role="ngay_sinh", label_vi="Ngày sinh"),
        ColumnSpec("gioi_tinh", "sex", GIOI_TINH, required=True, role="gioi_tinh", label_vi="Giới tính"),
        ColumnSpec(
            "ngay_mat",
            "date",
            ("Ngày mất", "Ngày chết", "Ngày, tháng, năm chết", "Ngày tử"),
            required=True,
            label_vi="Ngày mất",
        ),
        ColumnSpec("so_dinh_danh", "id", SO_CCCD, required=True, role="id", label_vi="Số định danh cá nhân"),
        ColumnSpec(
            "noi_cu_tru_cuoi",
            "address",
            ("Nơi cư trú cuối cùng", "Nơi cư trú cuối", "Nơi cư trú") + DIA_CHI,
            required=True,
            role="dia_chi",
            label_vi="Nơi cư trú cuối cùng",
        ),
    ),
    match=LinkSettings(
        comparisons=("ho_ten", "ngay_sinh", "gioi_tinh", "id", "dia_chi"),
        blocking_rules=(
            "ho_ten_nam_sinh",
            "ho_ten_ngay_thang",
            "ho_ten_xa",
            "ten_ngay_sinh",
            "ho_ngay_sinh",
            "ngay_sinh_xa",
        ),
    ),
    death_column="ngay_mat",
    targets={"linked": 1.0, "verified": 1.0, "complete": 1.0},
)
