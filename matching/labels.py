"""Vietnamese labels of the engine's own codes: comparisons, their levels, blocking rules.

Why here: the engine names these codes (`comparisons.py`, `blocking.py`, the deterministic
passes of `link.py`) and `explain.py` labels them for whoever asks; the reports label the same
codes. One table, owned by the engine (which must not import `pipelines/`), imported by
`pipelines/labels.py`."""

from __future__ import annotations

COMPARISON = {
    "ho_ten": "Họ và tên",
    "ngay_sinh": "Ngày sinh",
    "gioi_tinh": "Giới tính",
    "id": "Số định danh/CMND",
    "dia_chi": "Nơi cư trú",
    "ho_ten_cha": "Họ tên cha",
    "ho_ten_me": "Họ tên mẹ",
    "prior": "Tỷ lệ khớp ban đầu (λ)",
}

COMPARISON_LEVEL = {  # level labels of matching/comparisons.py
    "null": "thiếu dữ liệu",
    "exact": "trùng khớp",
    "different": "khác nhau",
    "else": "khác nhau",
    "agree": "trùng khớp",
    "conflict": "khác số",
    "one_edit": "lệch một chữ số hoặc đảo hai số",
    "key_exact": "trùng khi bỏ dấu",
    "key_nomid": "trùng khi bỏ “Thị/Văn”",
    "surname_variant": "họ biến thể vùng miền (Hoàng/Huỳnh, Vũ/Võ)",
    "given_equal_surname_fuzzy": "trùng tên, họ gần giống",
    "jw_0.95": "rất giống (Jaro-Winkler ≥ 0,95)",
    "jw_0.90": "giống (Jaro-Winkler ≥ 0,90)",
    "jw_0.85": "gần giống (Jaro-Winkler ≥ 0,85)",
    "day_month_swapped": "đảo ngày và tháng",
    "one_digit": "lệch một chữ số",
    "placeholder_01_01": "trùng năm, một bên ghi 01/01 (có thể ghi tạm)",
    "same_year": "cùng năm, khác ngày",
    "year_only": "chỉ trùng năm sinh",
    "year_pm1": "lệch một năm",
    "same_xa": "cùng xã/phường",
    "same_tinh": "cùng tỉnh, khác xã",
    # levels of the library's templates (matching/templates.py)
    "swapped": "đảo tên và họ",
    "given_exact_family_close": "trùng tên, họ gần giống",
    "family_exact_given_close": "trùng họ, tên gần giống",
    "one_part_exact": "chỉ trùng tên hoặc họ",
    "words_reordered": "cùng các từ, khác thứ tự",
    "jw_0.92": "rất giống (Jaro-Winkler ≥ 0,92)",
    "transposition": "đảo hai ký tự liền nhau",
    "two_edits": "lệch hai ký tự",
    "three_edits": "lệch ba ký tự",
    "words_0.80": "trùng phần lớn các từ (≥ 80 %)",
    "words_0.50": "trùng một nửa số từ (≥ 50 %)",
}

TEMPLATE = {  # comparison templates of the library (matching/library.py TEMPLATES)
    "vietnamese_name": "họ tên tiếng Việt",
    "person_name": "họ tên (không phải tiếng Việt)",
    "date": "ngày tháng",
    "vietnamese_id": "số định danh/CMND",
    "generic_id": "mã số (mọi độ dài)",
    "exact_code": "mã (so nguyên giá trị)",
    "vietnamese_address": "địa chỉ theo đơn vị hành chính",
    "text_tokens": "văn bản tự do (so từng từ)",
    "numeric": "số",
}

RULE = {  # blocking rules (blocking.RULES) and the deterministic passes of link.py
    "id_exact": "Trùng số định danh",
    "cmnd9": "Trùng số CMND cũ (9 số)",
    "id_one_edit": "Số định danh lệch một chữ số",
    "id_conflict": "Số định danh mâu thuẫn",
    "id_ambiguous": "Số định danh trùng nhiều người",
    "id_near": "Số định danh gần giống",
    "ho_ten_key": "Cùng họ tên (bỏ dấu)",
    "ho_ten_nam_sinh": "Cùng họ tên và năm sinh",
    "ho_ten_ngay_thang": "Cùng họ tên, ngày và tháng sinh",
    "ho_ten_tinh": "Cùng họ tên và tỉnh",
    "ho_ten_xa": "Cùng họ tên và xã",
    "ten_ngay_sinh": "Cùng tên và ngày sinh",
    "ho_ngay_sinh": "Cùng họ và ngày sinh",
    "ho_ten_don_nam_sinh": "Cùng họ, tên và năm sinh",
    "ngay_sinh_xa": "Cùng ngày sinh và xã",
    "me_ngay_sinh": "Cùng họ tên mẹ và năm sinh",
    "ten_nam_sinh_xa": "Cùng tên, năm sinh và xã",
    "household": "Đồng sở hữu trong cùng hộ",
}
