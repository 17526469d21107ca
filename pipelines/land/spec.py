"""Land-use-right holders (đất đai): owners written "Ông A", "Bà B", "Ông A và bà B", "Hộ ông A"
or an organization, usually with a year of birth only and an old 9-digit CMND. One certificate
row can name two owners; organizations are not matched as persons."""

from matching.settings import LinkSettings
from pipelines.spec import ColumnSpec, RegistrySpec

SPEC = RegistrySpec(
    name="land",
    title_vi="Người sử dụng đất",
    key_column="so_giay_chung_nhan",
    columns=(
        ColumnSpec(
            "so_giay_chung_nhan",
            "text",
            ("Số giấy chứng nhận", "Số GCN", "Số phát hành GCN", "Số seri"),
            required=True,
            label_vi="Số GCN",
        ),
        ColumnSpec("so_to", "text", ("Tờ bản đồ số", "Số tờ", "Tờ bản đồ"), required=True, label_vi="Tờ bản đồ số"),
        ColumnSpec("so_thua", "text", ("Thửa đất số", "Số thửa", "Thửa số"), required=True, label_vi="Thửa đất số"),
        ColumnSpec(
            "dien_tich",
            "amount",
            ("Diện tích", "Diện tích (m2)", "Diện tích (m²)"),
            required=True,
            label_vi="Diện tích (m²)",
        ),
        ColumnSpec(
            "chu_su_dung",
            "owner",
            ("Chủ sử dụng", "Người sử dụng đất", "Tên chủ sử dụng", "Chủ sử dụng đất"),
            required=True,
            role="ho_ten",
            label_vi="Chủ sử dụng",
        ),
        ColumnSpec("nam_sinh", "year", ("Năm sinh",), required=True, role="ngay_sinh", label_vi="Năm sinh"),
        ColumnSpec(
            "so_giay_to",
            "id",
            ("Số giấy tờ", "Số CMND", "Số CMND/CCCD", "Giấy tờ nhân thân", "Số giấy tờ nhân thân"),
            required=True,
            role="id",
            label_vi="Số giấy tờ",
        ),
        ColumnSpec(
            "dia_chi_thuong_tru",
            "address",
            ("Địa chỉ thường trú", "Địa chỉ chủ sử dụng", "Địa chỉ"),
            required=True,
            role="dia_chi",
            label_vi="Địa chỉ thường trú",
        ),
        ColumnSpec("dia_chi_thua_dat", "text", ("Địa chỉ thửa đất", "Vị trí thửa đất"), label_vi="Địa chỉ thửa đất"),
    ),
    match=LinkSettings(
        comparisons=("ho_ten", "ngay_sinh", "id", "dia_chi"),
        blocking_rules=("ho_ten_nam_sinh", "ho_ten_xa", "ten_nam_sinh_xa", "ho_ten_don_nam_sinh"),
    ),
    mismatch_fields=("ho_ten", "ngay_sinh", "dia_chi"),
    owner_split=True,
    repeat_persons=True,
    targets={"linked": 1.0, "verified": 1.0, "complete": 1.0},
)
