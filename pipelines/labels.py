"""Vietnamese texts for every code a report shows (statuses, methods, metrics, problem codes).

Why one table: codes stay short English snake_case in the warehouse (analysts query them), and
officers read Vietnamese with diacritics. An unknown code is shown as itself rather than hidden,
so a new code from another stage is visible until it gets its label here."""

from __future__ import annotations

from matching.labels import COMPARISON, COMPARISON_LEVEL, RULE, TEMPLATE  # noqa: F401  (the engine owns these codes)
from matching.normalize.dates import MIN_YEAR
from pipelines.spec import RegistrySpec

# The "Cần xem xét" sheet's round trip: written by reports/excel.py, read back by review.py.
REVIEW_SHEET = "Cần xem xét"
REVIEW_DECISION_HEADER = "Quyết định (Đồng ý / Bác bỏ)"
REVIEW_NOTE_HEADER = "Ghi chú của người xem xét"
REVIEW_KEY_HEADER = "Mã dòng (không sửa)"
REVIEW_CANDIDATE_HEADER = "Mã người gần giống (không sửa)"
REVIEW_RUN_PREFIX = "Mã lần chạy: "
SOURCE_FILE_HEADER = "Tệp nguồn"
OWNER_HEADER = "Người thứ (đất đai)"

STATUS = {
    "matched": "Đã khớp",
    "review": "Cần xem xét",
    "unmatched": "Không tìm thấy trong CSDLQG",
    "rejected": "Bị loại (thiếu dữ liệu để đối soát)",
    "duplicate": "Trùng lặp",
}

# The same outcomes in the CLI's one-line summary and its table's columns (lower case, short).
STATUS_SHORT = {
    "matched": "khớp",
    "review": "cần xem xét",
    "unmatched": "không thấy",
    "rejected": "bị loại",
    "duplicate": "trùng",
}

METHOD = {
    "id_exact": "Khớp số định danh",
    "cmnd9": "Khớp số CMND cũ",
    "cmnd12": "Khớp số CMND 12 số",
    "id_one_edit": "Số định danh lệch 1 ký tự, xác nhận bằng họ tên và ngày sinh",
    "probabilistic": "Khớp xác suất (họ tên, ngày sinh, địa chỉ…)",
    "household": "Đồng sở hữu, tìm thấy trong hộ của người đứng tên đầu",
    "none": "Không khớp",
    "organization": "Tổ chức (không đối soát với CSDLQG)",
    "foreigner": "Người nước ngoài (không có trong CSDLQG, không đối soát)",
    "rejected": "Bị loại",
    "review_accepted": "Người xem xét xác nhận là cùng một người",
    "review_rejected": "Người xem xét bác bỏ ứng viên",
    "decision": "Theo quyết định của người xem xét ở lần chạy trước",
}

# What changed since the registry's previous run (warehouse view `changes`, pipelines/warehouse/changes.py).
CHANGE = {
    "record_added": "Hồ sơ mới",
    "record_removed": "Hồ sơ không còn trong sổ",
    "record_changed": "Hồ sơ được sửa tại nguồn",
    "mismatch_fixed": "Đã sửa sai lệch với CSDLQG",
    "mismatch_new": "Sai lệch mới với CSDLQG",
    "missing_fixed": "Đã bổ sung trường còn thiếu",
    "missing_new": "Trường bắt buộc mới bị trống",
    "dead_still_paid_new": "Mới phát hiện: đã chết vẫn hưởng",
    "link_changed": "Kết quả liên kết thay đổi",
}
CHANGES_SHEET = "Biến động"

# State of an earlier run's decision in this run (carried_decisions.state, pipelines/decisions.py).
CARRIED_STATE = {
    "applied": "Đã áp dụng (hồ sơ và người trong CSDLQG không đổi)",
    "record_changed": "Hỏi lại: hồ sơ trong sổ đã thay đổi",
    "person_changed": "Hỏi lại: thông tin người trong CSDLQG đã thay đổi",
    "person_missing": "Hỏi lại: người đó không còn (hoặc trùng số) trong trích xuất CSDLQG",
}

DECISION = {"accept": "Đồng ý", "reject": "Bác bỏ"}

INPUT_ROLE = {"registry": "Sổ đăng ký", "population": "Trích xuất CSDLQG"}  # runs.input_files[].role

METRIC = {
    "linked": "Đã liên kết với CSDLQG",
    "linked_id": "Liên kết bằng số định danh/CMND",
    "linked_probabilistic": "Liên kết bằng so khớp xác suất",
    "linked_household": "Liên kết đồng sở hữu qua hộ gia đình",
    "verified": "Đúng (liên kết, không sai lệch)",
    "complete": "Đủ (không thiếu trường bắt buộc)",
    "duplicate": "Trùng lặp",
    "dead_still_paid": "Đã chết vẫn hưởng",
    "paid_by_account": "Chi trả qua tài khoản",
    "review": "Cần xem xét",
    "not_found": "Không tìm thấy trong CSDLQG",
}

LEVEL = {"all": "Toàn bộ", "province": "Tỉnh/thành phố", "commune": "Xã/phường"}

ALERT = {
    "dead_still_paid": "Đã chết vẫn hưởng chế độ",
    "death_not_in_csdlqg": "Đã đăng ký khai tử nhưng CSDLQG chưa ghi nhận",
    "death_date_differs": "Ngày mất khác giữa khai tử và CSDLQG",
    "suggested_id_update": "Đề nghị cập nhật số định danh cá nhân",
}

SEVERITY = {"high": "Cao", "medium": "Trung bình", "low": "Thấp"}

DEATH_SOURCE = {
    "csdlqg": "CSDLQG về dân cư",
    "civil_deaths": "Sổ đăng ký khai tử",
    "csdlqg;civil_deaths": "CSDLQG về dân cư và sổ đăng ký khai tử",
}

MISMATCH_KIND = {
    "value": "Khác giá trị",
    "residence": "Khác nơi cư trú (xã/tỉnh)",
    "format": "Khác cách ghi",
    "id": "Số định danh khác số trong CSDLQG",
    "cmnd9": "Số CMND 9 số khác số CMND cũ trong CSDLQG",
}

POPULATION_ISSUE = {  # validation.population.population_issues
    "duplicate_id": "Số định danh lặp lại ở nhiều dòng",
    "id_invalid": "Số định danh trống hoặc sai định dạng",
    "id_sex_mismatch": "Chữ số thứ 4 của số định danh không khớp giới tính",
    "id_birth_year_mismatch": "Chữ số 4–6 của số định danh không khớp năm sinh",
    "death_before_birth": "Ngày mất trước ngày sinh",
}

DUPLICATE_BASIS = {
    "same_person": "Cùng một người trong CSDLQG",
    "same_key": "Trùng số hồ sơ của sổ",
}

PROBLEM = {
    "review_rejected": "Người xem xét bác bỏ người gần giống trong CSDLQG",
    # names
    "no_diacritics": "Họ tên không dấu",
    "all_caps": "Họ tên viết hoa toàn bộ",
    "nfd": "Chữ Unicode tổ hợp (NFD)",
    "eth_d": "Dùng ký tự Ð thay cho Đ",
    "honorific": "Có danh xưng (Ông/Bà) trong họ tên",
    "stray_chars": "Ký tự lạ trong họ tên",
    "telex_residue": "Lỗi gõ Telex",
    "tone_style": "Kiểu bỏ dấu cũ",
    "legacy_tcvn3": "Mã cũ TCVN3 (ABC)",
    "legacy_vni": "Mã cũ VNI-Windows",
    "text_undecodable": "Dòng không đọc được thành chữ tiếng Việt với bảng mã nào (kiểm tra tệp gốc)",
    # dates
    "date_impossible": "Ngày tháng không tồn tại",
    "date_unparsed": "Ngày tháng không đọc được",
    "date_future": "Ngày trong tương lai",
    "date_year_only": "Chỉ có năm",
    "date_placeholder": "Ngày 01/01 có thể là ngày giả định",
    "date_swapped": "Ngày và tháng có thể bị đảo",
    "excel_serial": "Ngày dạng số sê-ri Excel",
    "date_excel_serial": "Ngày dạng số sê-ri Excel",
    "date_day_month_swapped": "Ngày và tháng có thể bị đảo",
    "date_partial": "Ngày tháng không đầy đủ",
    "date_too_old": "Năm quá xa (trước 1900)",
    "not_a_number": "Không phải số",
    "not_positive": "Số không dương",
    # ids
    "id_leading_zero_lost": "Mất số 0 ở đầu số định danh",
    "id_invalid": "Số định danh sai định dạng",
    "id_checksum_sex": "Chữ số thứ 4 của số định danh không khớp giới tính",
    "id_checksum_year": "Chữ số 5–6 của số định danh không khớp năm sinh",
    "id_checksum_province": "Mã tỉnh trong số định danh không tồn tại",
    "id_sex_mismatch": "Số định danh không khớp giới tính",
    "id_year_mismatch": "Số định danh không khớp năm sinh",
    "id_birth_year_mismatch": "Chữ số 5–6 của số định danh không khớp năm sinh",
    "id_bad_length": "Số định danh sai độ dài",
    "id_not_digits": "Số định danh có ký tự không phải chữ số",
    "id_formatting": "Số định danh có dấu cách, dấu chấm hoặc dấu nháy",
    "id_leading_zero_restored": "Đã khôi phục số 0 ở đầu số định danh (Excel làm mất)",
    "id_province_unknown": "Mã tỉnh trong số định danh không tồn tại",
    # addresses and sex
    "legacy_split": "Địa danh cũ bị chia tách, không xác định được xã mới",
    "legacy_mapped": "Địa danh cũ (trước 01/7/2025), đã quy đổi",
    "province_only": "Chỉ xác định được tỉnh",
    "unparsed": "Không đọc được địa chỉ",
    "sex_unknown": "Giới tính không rõ",
    # codes emitted by matching.normalize (addresses, sex, dates)
    "address_old_units": "Địa chỉ ghi theo đơn vị hành chính cũ (trước 01/7/2025)",
    "address_split_ward": "Phường/xã cũ bị chia tách, không xác định được xã mới",
    "address_commune_unknown": "Chỉ xác định được tỉnh, không xác định được xã",
    "address_unparsed": "Không đọc được địa chỉ",
    "address_no_province": "Địa chỉ không ghi tỉnh (xác định theo tên xã duy nhất cả nước)",
    "sex_unparsed": "Giới tính không đọc được",
    "date_placeholder_0101": "Ngày 01/01 có thể là ngày giả định (chỉ biết năm sinh)",
    # rejection reasons (links.reason)
    "no_name_no_id": "Không có họ tên và không có số định danh/CMND: không thể đối soát",
    "organization_not_person": "Tổ chức, không phải cá nhân: không đối soát với CSDLQG",
    "foreigner_not_in_csdlqg": "Người nước ngoài: CSDLQG về dân cư không có, không đối soát",
    "no_name": "Thiếu họ tên",
    "no_identifiers": "Thiếu thông tin để đối soát",
}

CHECKS = {  # the expectation suite's checks (validation/suites.py uses these as descriptions)
    "required": "Trường bắt buộc phải có giá trị",
    "id_format": "Số định danh/CMND đúng định dạng (12 hoặc 9 chữ số)",
    "id_consistent": "Số định danh khớp giới tính, năm sinh và mã tỉnh",
    "date_parsed": "Ngày tháng đọc được",
    "date_range": f"Năm trong khoảng {MIN_YEAR} đến năm hiện tại",
    "sex_valid": "Giới tính là Nam hoặc Nữ",
    "account_present": "Chi trả qua tài khoản thì phải có số tài khoản",
    "amount_parsed": "Số tiền/diện tích đọc được",
    "amount_positive": "Số tiền/diện tích lớn hơn 0",
}


def label(table: dict[str, str], code: str | None) -> str:
    if code is None:
        return ""
    return table.get(code, code)


def match_entry(table: dict[str, str], entry: str | dict | None) -> str:
    """A spec's comparison or blocking-rule entry for officers: a built-in by its label, a library
    template as "name (kind: columns)", a declared rule as "name (keys)"."""
    if entry is None or isinstance(entry, str):
        return label(table, entry)
    if "template" in entry:
        columns = ", ".join(entry[k] for k in ("column", "given", "family") if entry.get(k))
        name = entry.get("name") or entry.get("column") or entry["template"]
        kind = label(TEMPLATE, entry["template"])
        return f"{label(table, name)} ({kind}{': ' + columns if columns else ''})"
    return f"{label(table, entry.get('name'))} ({', '.join(entry.get('keys', []))})"


def problems_vi(codes: str | None) -> str:
    """'ho_ten:no_diacritics;ngay_sinh:date_year_only' or 'a,b' → Vietnamese, '; '-joined."""
    if not codes:
        return ""
    out = []
    for part in str(codes).replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        code = part.split(":", 1)[-1]
        out.append(PROBLEM.get(code, code))
    return "; ".join(dict.fromkeys(out))


def field_label(spec: RegistrySpec, field: str | None) -> str:
    """A canonical column or a person role → its header as officers know it."""
    if field is None:
        return ""
    for c in spec.columns:
        if c.name == field or c.role == field:
            return c.label_vi or c.name
    return COMPARISON.get(field, field)


def is_id_field(spec: RegistrySpec, field: str | None) -> bool:
    if field is None:
        return False
    return field == "id" or any(c.name == field and c.kind == "id" for c in spec.columns)


DERIVED_SUFFIXES = (
    "_consistent",
    "_is_account",
    "_entity",
    "_value",
    "_kind",
    "_year",
    "_sex",
)  # validation.suites columns


def column_label(spec: RegistrySpec, column: str | None) -> str:
    """A validated column — a spec column or one the suite derives from it (`so_cccd_kind`,
    `gioi_tinh_sex`, `ngay_sinh_year`…) — as the header officers know; the check itself says
    what was tested."""
    if column is None:
        return ""
    names = {c.name for c in spec.columns}
    if column not in names:
        for suffix in DERIVED_SUFFIXES:
            if column.endswith(suffix) and column[: -len(suffix)] in names:
                column = column[: -len(suffix)]
                break
    return field_label(spec, column)
