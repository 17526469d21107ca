"""Pensioners and monthly BHXH allowances: like welfare, paid monthly and through accounts;
files hold the 10-digit BHXH code beside (or instead of) the personal ID."""

from matching.settings import LinkSettings
from pipelines.spec import (
    DIA_CHI,
    GIOI_TINH,
    HO_TEN,
    NGAY_SINH,
    SO_CCCD,
    SO_TAI_KHOAN,
    ColumnSpec,
    PaymentSpec,
    RegistrySpec,
)

SPEC = RegistrySpec(
    name="pension",
    title_vi="Người hưởng lương hưu, trợ cấp BHXH hằng tháng",
    key_column="so_so_bhxh",
    columns=(
        ColumnSpec(
            "so_so_bhxh", "text", ("Mã số BHXH", "Số sổ BHXH", "Mã BHXH", "Số sổ"), required=True, label_vi="Mã số BHXH"
        ),
        ColumnSpec("ho_ten", "name", HO_TEN, required=True, role="ho_ten", label_vi="Họ và tên"),
        ColumnSpec("ngay_sinh", "date", NGAY_SINH, required=True, role="ngay_sinh", label_vi="Ngày sinh"),
        ColumnSpec("gioi_tinh", "sex", GIOI_TINH, required=True, role="gioi_tinh", label_vi="Giới tính"),
        ColumnSpec("so_cccd", "id", SO_CCCD, required=True, role="id", label_vi="Số CCCD/ĐDCN"),
        ColumnSpec("dia_chi", "address", DIA_CHI, required=True, role="dia_chi", label_vi="Địa chỉ"),
        ColumnSpec(
            "loai_che_do", "text", ("Loại chế độ", "Chế độ hưởng", "Loại hưởng"), required=True, label_vi="Loại chế độ"
        ),
        ColumnSpec(
            "muc_huong", "amount", ("Mức hưởng", "Mức lương hưu", "Số tiền"), required=True, label_vi="Mức hưởng"
        ),
        ColumnSpec(
            "phuong_thuc_nhan",
            "text",
            ("Phương thức nhận", "Hình thức nhận", "Hình thức chi trả"),
            required=True,
            label_vi="Phương thức nhận",
        ),
        ColumnSpec("so_tai_khoan", "text", SO_TAI_KHOAN, label_vi="Số tài khoản"),
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
    payment=PaymentSpec("phuong_thuc_nhan", ("Tài khoản", "Chuyển khoản", "Qua tài khoản", "ATM"), "so_tai_khoan"),
    alive_check=True,
    targets={"linked": 1.0, "verified": 1.0, "complete": 1.0, "paid_by_account": 1.0},
)
