"""Social-welfare beneficiaries (đối tượng bảo trợ xã hội, LĐTBXH): paid monthly, so the "sống"
check (no payments to the dead) and the payment-through-account target matter most."""

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
    name="social_welfare",
    title_vi="Đối tượng bảo trợ xã hội",
    key_column="ma_doi_tuong",
    columns=(
        ColumnSpec("ma_doi_tuong", "text", ("Mã đối tượng", "Mã ĐT", "Mã số"), label_vi="Mã đối tượng"),
        ColumnSpec("ho_ten", "name", HO_TEN, required=True, role="ho_ten", label_vi="Họ và tên"),
        ColumnSpec("ngay_sinh", "date", NGAY_SINH, required=True, role="ngay_sinh", label_vi="Ngày sinh"),
        ColumnSpec("gioi_tinh", "sex", GIOI_TINH, required=True, role="gioi_tinh", label_vi="Giới tính"),
        ColumnSpec("so_cccd", "id", SO_CCCD, required=True, role="id", label_vi="Số CCCD/ĐDCN"),
        ColumnSpec("dia_chi", "address", DIA_CHI, required=True, role="dia_chi", label_vi="Địa chỉ"),
        ColumnSpec(
            "loai_doi_tuong",
            "text",
            ("Loại đối tượng", "Diện đối tượng", "Nhóm đối tượng"),
            required=True,
            label_vi="Loại đối tượng",
        ),
        ColumnSpec(
            "muc_tro_cap", "amount", ("Mức trợ cấp", "Mức hưởng", "Số tiền"), required=True, label_vi="Mức trợ cấp"
        ),
        ColumnSpec(
            "hinh_thuc_chi_tra",
            "text",
            ("Hình thức chi trả", "Phương thức chi trả", "Hình thức nhận"),
            required=True,
            label_vi="Hình thức chi trả",
        ),
        ColumnSpec("so_tai_khoan", "text", SO_TAI_KHOAN, label_vi="Số tài khoản"),
        ColumnSpec("ngan_hang", "text", ("Ngân hàng", "Tên ngân hàng", "Nơi mở tài khoản"), label_vi="Ngân hàng"),
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
    payment=PaymentSpec(
        "hinh_thuc_chi_tra",
        ("Tài khoản", "Chuyển khoản", "Qua tài khoản", "Ví điện tử", "Mobile Money"),
        "so_tai_khoan",
        "ngan_hang",
    ),
    alive_check=True,
    targets={"linked": 1.0, "verified": 1.0, "complete": 1.0, "paid_by_account": 1.0},
)
