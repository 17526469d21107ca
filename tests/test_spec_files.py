"""Registry specs declared in YAML files (pipelines/spec_files.py, pipelines/catalogue.py).

The shipped files must declare exactly today's Python specs (dataclass equality), and a broken
file must be refused with the file, line and column of each problem, in Vietnamese with the
English detail — never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path

import pytest

from pipelines.catalogue import (
    known_registries,
    load_registry,
    reference_columns,
    registry_titles,
    shipped_spec_files,
)
from pipelines.errors import InputError
from pipelines.normalize import POPULATION_COLUMNS, ingest_registry, normalize_registry, registry_persons
from pipelines.registries import REGISTRIES
from pipelines.spec import spec_to_dict
from pipelines.spec_files import (
    SpecFileError,
    column_languages,
    load_reference_file,
    load_spec_file,
    spec_from_dict,
)

PIPELINES = Path(__file__).resolve().parents[1] / "pipelines"
# The five registries and the extract's columns as the Python specs declared them before they became
# YAML files (written from those specs, then the specs were deleted): the files must say the same.
BEFORE = json.loads((Path(__file__).parent / "fixtures" / "specs_before_yaml.json").read_text(encoding="utf-8"))
SOCIAL_WELFARE, LAND = REGISTRIES["social_welfare"], REGISTRIES["land"]
SHIPPED = {
    "social_welfare/registry.yaml": "social_welfare",
    "pension/registry.yaml": "pension",
    "civil_status/births.yaml": "civil_births",
    "civil_status/deaths.yaml": "civil_deaths",
    "land/registry.yaml": "land",
}


def _plain(value):
    """asdict output as JSON would store it (tuples become lists)."""
    return json.loads(json.dumps(value, ensure_ascii=False))


# Fields ColumnSpec gained after the snapshot was written, with their default: a column at the
# default declares what the snapshot's column declared (any other value must show as a difference).
NEW_COLUMN_DEFAULTS = {"language": "vi"}


def _as_before(column: dict) -> dict:
    """A column's asdict without the newer fields still at their default."""
    return {k: v for k, v in column.items() if k not in NEW_COLUMN_DEFAULTS or v != NEW_COLUMN_DEFAULTS[k]}


@pytest.mark.parametrize("relative", SHIPPED)
def test_shipped_file_declares_the_former_python_spec(relative):
    loaded = asdict(load_spec_file(PIPELINES / relative))
    loaded["columns"] = [_as_before(c) for c in loaded["columns"]]
    before = BEFORE["registries"][SHIPPED[relative]]
    # the engine's own knobs joined the saved settings when LinkSettings became the one home of the defaults
    assert _plain(loaded) == before | {
        "match": before["match"] | {k: v for k, v in _plain(loaded["match"]).items() if k not in before["match"]}
    }
    assert {k: v for k, v in _plain(loaded["match"]).items() if k in before["match"]} == before["match"]


def test_catalogue_finds_the_five_shipped_registries():
    assert {p.relative_to(PIPELINES).as_posix() for p in shipped_spec_files()} == set(SHIPPED)
    # the titles the CLI reads without the model, and the fully loaded registries, against the former Python specs
    titles_before = {name: spec["title_vi"] for name, spec in BEFORE["registries"].items()}
    assert registry_titles() == titles_before
    assert {name: spec.title_vi for name, spec in known_registries().items()} == titles_before


def test_spec_files_are_package_data():
    """The installed package (here an editable install) must carry the YAML files: pyproject's
    package-data pattern covers them."""
    text = (PIPELINES.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert '"*" = ["*.yaml"' in text


def _write(tmp_path: Path, text: str, name: str = "my.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


MINIMAL = """
name: bhyt
title_vi: Thẻ bảo hiểm y tế
key_column: ma_the
columns:
  - {name: ma_the, kind: text, aliases: [Mã thẻ BHYT], required: true}
  - {name: ho_ten, kind: name, aliases: [$HO_TEN], required: true, role: ho_ten}
  - {name: ngay_sinh, kind: date, aliases: [$NGAY_SINH], required: true, role: ngay_sinh}
  - {name: so_dinh_danh, kind: id, aliases: [$SO_CCCD], role: id}
match:
  comparisons: [ho_ten, ngay_sinh, id]
  blocking_rules: [ho_ten_nam_sinh, ten_ngay_sinh]
"""


def test_a_users_own_file_with_shared_and_own_alias_lists(tmp_path):
    text = (
        MINIMAL.replace("aliases: [Mã thẻ BHYT]", "aliases: [$MA_THE, $$Mã]")
        + "alias_lists:\n  MA_THE: [Mã thẻ BHYT, Mã thẻ]\n"
    )
    spec = load_registry(_write(tmp_path, text))
    assert spec.name == "bhyt" and spec.key_column == "ma_the"
    assert spec.column("ma_the").aliases == ("Mã thẻ BHYT", "Mã thẻ", "$Mã")
    assert spec.column("ho_ten").aliases == SOCIAL_WELFARE.column("ho_ten").aliases
    assert spec.match.match_threshold == SOCIAL_WELFARE.match.match_threshold  # dataclass default
    assert spec.mismatch_fields == SOCIAL_WELFARE.mismatch_fields and spec.payment is None
    assert column_languages(tmp_path / "my.yaml") == {"ho_ten": "vi"}


def test_a_user_file_may_not_take_a_builtin_name_but_may_copy_one(tmp_path):
    copy = tmp_path / "land.yaml"
    shutil.copy(PIPELINES / "land/registry.yaml", copy)
    assert load_registry(copy) == LAND
    changed = _write(tmp_path, MINIMAL.replace("name: bhyt", "name: land"))
    with pytest.raises(InputError) as err:
        load_registry(changed)
    assert err.value.code == "spec_name_taken"


def _error(tmp_path: Path, text: str) -> SpecFileError:
    with pytest.raises(SpecFileError) as err:
        load_spec_file(_write(tmp_path, text))
    assert isinstance(err.value, InputError)
    return err.value


def test_bad_kind_names_line_column_and_the_column(tmp_path):
    err = _error(tmp_path, MINIMAL.replace("{name: ho_ten, kind: name,", "{name: ho_ten, kind: nam,"))
    assert err.code == "spec_invalid" and err.row == 6
    message = str(err)
    assert message.startswith("tệp my.yaml, dòng 6, cột 26: cột 'ho_ten': kind 'nam' không hợp lệ (name, owner, date,")
    assert "English: columns[1].kind: Input should be 'name'" in message


def test_unknown_key_points_at_the_key(tmp_path):
    err = _error(tmp_path, MINIMAL.replace("key_column: ma_the", "key_column: ma_the\ntitel: x"))
    assert str(err).startswith("tệp my.yaml, dòng 4, cột 1: khóa 'titel' không được biết")
    assert "Extra inputs are not permitted" in str(err)


def test_missing_required_key_points_at_its_mapping(tmp_path):
    err = _error(tmp_path, MINIMAL.replace("  - {name: ma_the, kind: text,", "  - {name: ma_the,"))
    assert str(err).startswith("tệp my.yaml, dòng 5, cột 5: cột 'ma_the': thiếu khóa bắt buộc 'kind'")
    err = _error(tmp_path, MINIMAL.replace("title_vi: Thẻ bảo hiểm y tế\n", ""))
    assert str(err).startswith("tệp my.yaml, dòng 1, cột 1: thiếu khóa bắt buộc 'title_vi'")


def test_yaml_syntax_error_has_line_and_column_and_no_quoted_text(tmp_path):
    err = _error(
        tmp_path, MINIMAL.replace("  comparisons: [ho_ten, ngay_sinh, id]", "  comparisons: [ho_ten, ngay_sinh, id")
    )
    assert err.code == "spec_invalid"
    assert str(err).startswith("tệp my.yaml, dòng 11, cột ") and "lỗi cú pháp YAML" in str(err)
    assert "^" not in str(err)  # PyYAML's snippet of the file is not quoted


def test_wrong_types_each_reported(tmp_path):
    text = MINIMAL.replace("required: true, role: ho_ten}", "required: có, role: ho_ten}") + "  match_threshold: 0,95\n"
    err = _error(tmp_path, text)
    lines = str(err).splitlines()
    assert len(lines) == 2 and len(err.problems) == 2
    assert lines[0].startswith("tệp my.yaml, dòng 6, cột 62: cột 'ho_ten': required: cần true hoặc false, gặp 'có'")
    assert lines[1].startswith("tệp my.yaml, dòng 12, cột 20: match_threshold: cần một số (dấu chấm thập phân")


def test_a_list_item_of_the_wrong_shape_is_named_by_its_place(tmp_path):
    err = _error(
        tmp_path,
        MINIMAL.replace("  - {name: ma_the, kind: text, aliases: [Mã thẻ BHYT], required: true}", "  - ma_the"),
    )
    assert str(err).startswith("tệp my.yaml, dòng 5, cột 5: columns[0]: cần một bảng khóa: giá trị, gặp 'ma_the'")


def test_references_checked_against_columns_and_the_engine(tmp_path):
    text = (
        MINIMAL.replace("key_column: ma_the", "key_column: ma_so")
        .replace("[ho_ten, ngay_sinh, id]", "[ho_ten, ngay_sinh, cccd]")
        .replace("aliases: [$SO_CCCD]", "aliases: [$SO_CMT]")
        + "targets: {linked: 1.0, lien_ket: 1.0}\ndeath_column: ma_the\n"
    )
    problems = [(p.line, p.column, p.vi.split(" (")[0]) for p in _error(tmp_path, text).problems]
    assert problems == [
        (3, 13, "không có cột 'ma_so' trong columns"),
        (8, 46, "cột 'so_dinh_danh': không có danh sách tiêu đề '$SO_CMT'"),
        (10, 36, "không có phép so sánh 'cccd'"),
        (12, 24, "không có chỉ tiêu 'lien_ket'"),
        (13, 15, "cột ngày mất 'ma_the' cần kind date"),
    ]


def test_roles_kinds_names_and_duplicates(tmp_path):
    text = (
        MINIMAL.replace("{name: ngay_sinh, kind: date,", "{name: ngay_sinh, kind: text,")
        .replace(
            "{name: so_dinh_danh, kind: id, aliases: [$SO_CCCD], role: id}", "{name: Số CCCD, kind: id, role: ho_ten}"
        )
        .replace("name: bhyt\n", "name: bhyt\nname: bhyt2\n")
    )
    vi = [p.vi for p in _error(tmp_path, text).problems]
    assert vi[0] == "khóa 'name' lặp lại"  # found while reading the YAML, before the model
    text = text.replace("name: bhyt\nname: bhyt2\n", "name: bhyt\n")
    vi = [p.vi for p in _error(tmp_path, text).problems]
    assert vi[0].startswith("cột 'ngay_sinh': vai trò 'ngay_sinh' cần kind date hoặc year")
    assert vi[1].startswith("cột 'Số CCCD': tên 'Số CCCD' phải viết thường không dấu")
    assert vi[2].startswith("cột 'Số CCCD': vai trò 'ho_ten' cần kind name hoặc owner, gặp 'id'")
    assert vi[3].startswith("cột 'Số CCCD': vai trò 'ho_ten' đã gán cho cột 'ho_ten'")


def test_a_non_vietnamese_name_column_loads_with_its_language(tmp_path):
    text = MINIMAL.replace("role: ho_ten}", "role: ho_ten, language: other}")
    assert column_languages(_write(tmp_path, text)) == {"ho_ten": "other"}
    spec = load_spec_file(tmp_path / "my.yaml")
    assert spec.column("ho_ten").language == "other"
    assert {c.name: c.language for c in spec.columns if c.name != "ho_ten"} == dict.fromkeys(
        ("ma_the", "ngay_sinh", "so_dinh_danh"), "vi"
    )
    # saved with a run and read back: the language survives (and "vi" on a date column is the default)
    assert spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))), "lần chạy x") == spec
    err = _error(tmp_path, MINIMAL.replace("role: ho_ten}", "role: ho_ten, language: en}"))
    assert "cột 'ho_ten': language 'en' không hợp lệ" in str(err)
    err = _error(tmp_path, MINIMAL.replace("kind: date, aliases", "kind: date, language: vi, aliases"))
    assert "language chỉ dùng cho kind name, owner, address" in str(err)


def test_not_a_spec_file(tmp_path):
    with pytest.raises(InputError) as err:
        load_spec_file(tmp_path / "khong_co.yaml")
    assert err.value.code == "spec_not_found"
    assert "tệp rỗng" in str(_error(tmp_path, "# chỉ có chú thích\n"))
    # a CSV given by mistake: refused, and none of its IDs or dates is printed
    csv = "so_cccd,ho_ten,ngay_sinh\n001203004512,Nguyễn Văn An,12/03/1985\n"
    message = str(_error(tmp_path, csv))
    assert "phải là một bảng khóa: giá trị" in message
    assert "001203004512" not in message and "1985" not in message
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Trân\n".encode("cp1258"))
    with pytest.raises(SpecFileError, match="UTF-8"):
        load_spec_file(path)


def test_shipped_reference_spec_declares_todays_population_columns(tmp_path):
    assert [_plain(_as_before(asdict(c))) for c in reference_columns()] == BEFORE["population"]
    assert load_reference_file(PIPELINES / "population.yaml") == POPULATION_COLUMNS == reference_columns()
    # a province's own master list with other headers: a file like the shipped one
    own = (PIPELINES / "population.yaml").read_text(encoding="utf-8").replace("[Mã xã]", "[Mã xã, Mã ĐVHC xã]")
    columns = reference_columns(_write(tmp_path, own, "tinh.yaml"))
    assert next(c for c in columns if c.name == "ma_xa").aliases == ("Mã xã", "Mã ĐVHC xã")
    # a reference spec is not a registry spec, and the other way round
    err = _error(tmp_path, (PIPELINES / "population.yaml").read_text(encoding="utf-8"))
    assert "spec 'reference' không hợp lệ (registry)" in str(err)
    with pytest.raises(SpecFileError, match="spec 'registry' không hợp lệ"):
        load_reference_file(PIPELINES / "land/registry.yaml")


def test_listing_the_registries_does_not_load_the_engine():
    """`registry_titles()` serves `doisoat --help`: it must not import duckdb or polars (the
    engine-vocabulary check that needs them runs in `known_registries()` and `load_spec_file`)."""
    code = (
        "import sys; from pipelines.catalogue import registry_titles; titles = registry_titles(); "
        "print(len(titles), 'duckdb' in sys.modules, 'polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PIPELINES.parent)
    assert out.stdout.split() == ["5", "False", "False"]


def test_a_runs_saved_spec_is_rebuilt_by_the_same_model(tmp_path):
    for spec in REGISTRIES.values():
        saved = json.loads(json.dumps(spec_to_dict(spec)))  # as runs.parameters holds it
        assert spec_from_dict(saved, "lần chạy x") == spec
    text = MINIMAL.replace("aliases: [Mã thẻ BHYT]", "aliases: [$$Mã]")
    own = load_spec_file(_write(tmp_path, text))
    assert spec_from_dict(json.loads(json.dumps(spec_to_dict(own))), "lần chạy x") == own  # "$Mã" kept
    broken = json.loads(json.dumps(spec_to_dict(LAND)))
    broken["columns"][0]["kind"] = "nam"
    with pytest.raises(SpecFileError) as err:
        spec_from_dict(broken, "lần chạy x")
    assert str(err.value).startswith("tệp lần chạy x: cột 'so_giay_chung_nhan': kind 'nam' không hợp lệ")


GUESTS = """
name: khach_luu_tru
title_vi: Khách lưu trú (ASM)
key_column: ma_khach
columns:
  - {name: ma_khach, kind: text, aliases: [Mã khách], required: true}
  - {name: ho_ten, kind: name, aliases: [Họ tên khách], required: true, role: ho_ten, language: other}
  - {name: ngay_sinh, kind: date, aliases: [Ngày sinh], required: true, role: ngay_sinh}
  - {name: so_ho_chieu, kind: text, aliases: [Số hộ chiếu]}
  - {name: chu_co_so, kind: name, aliases: [Chủ cơ sở lưu trú]}
match:
  comparisons: [ho_ten, ngay_sinh]
  blocking_rules: [ho_ten_nam_sinh, ten_ngay_sinh]
"""


def test_a_foreign_name_column_through_the_pipeline_normalizer(tmp_path):
    """A guest list from a spec file, read and normalized by the pipeline's own path: the guests'
    names keep their letters, the Vietnamese host column is repaired exactly as before."""
    spec = load_spec_file(_write(tmp_path, GUESTS, "khach.yaml"))
    data = tmp_path / "khach.csv"
    data.write_text(
        "Mã khách,Họ tên khách,Ngày sinh,Số hộ chiếu,Chủ cơ sở lưu trú\n"
        "K1,harry max,01/02/1990,X1,Nguyeenx Vawn An\n"
        "K2,PARIS HILTON,17/02/1981,X2,Traafn Thij Lan\n"
        "K3,John O'Neil,03/04/1975,X3,Lê Văn Bình\n"
        "K4,Thomas Müller,13/09/1989,X4,NguyÔn V¨n An\n",
        encoding="utf-8",
    )
    rows = normalize_registry(spec, ingest_registry(spec, data))
    assert rows["ho_ten_clean"].to_list() == ["Harry Max", "Paris Hilton", "John O'Neil", "Thomas Müller"]
    assert rows["ho_ten_key"].to_list() == ["harry max", "paris hilton", "john oneil", "thomas muller"]
    assert rows["chu_co_so_clean"].to_list() == ["Nguyễn Văn An", "Trần Thị Lan", "Lê Văn Bình", "Nguyễn Văn An"]
    assert not any(p.startswith("ho_ten:") for ps in rows["problems"].to_list() for p in ps if p != "ho_ten:all_caps")
    assert rows["row_status"].to_list() == ["ok"] * 4
    persons = registry_persons(spec, rows).sort("rec_id")
    assert persons["ho_ten"].to_list() == ["Harry Max", "Paris Hilton", "John O'Neil", "Thomas Müller"]
    assert persons["ho_ten_key"].to_list() == rows["ho_ten_key"].to_list()
    # the same file under a spec without the language: today's Vietnamese reading, invented names
    vi = load_spec_file(_write(tmp_path, GUESTS.replace(", language: other}", "}"), "khach_vi.yaml"))
    assert normalize_registry(vi, ingest_registry(vi, data))["ho_ten_clean"].to_list()[:2] == ["Hảy Mã", "Pái Hilton"]


LIBRARY = """
name: khach_nuoc_ngoai
title_vi: Khách nước ngoài
key_column: ma_khach
columns:
  - {name: ma_khach, kind: text, aliases: [rec_id], required: true}
  - {name: ten, kind: name, aliases: [Given name], language: other}
  - {name: ho, kind: name, aliases: [Family name], language: other}
  - {name: ngay_sinh, kind: date, aliases: [Ngày sinh]}
  - {name: so_ho_chieu, kind: text, aliases: [Số hộ chiếu]}
  - {name: quoc_tich, kind: text, aliases: [Quốc tịch]}
match:
  comparisons:
    - {template: person_name, name: ho_ten_khach, given: ten, family: ho}
    - {template: date, column: ngay_sinh}
    - {template: generic_id, column: so_ho_chieu, params: {max_edits: 2}}
    - {template: exact_code, column: quoc_tich}
  blocking_rules:
    - {name: ho_chieu, keys: [so_ho_chieu]}
    - {name: ho_ngay_sinh, keys: [ho, ngay_sinh]}
mismatch_fields: []
"""


def test_comparison_library_entries_load_and_travel_with_the_run(tmp_path):
    spec = load_spec_file(_write(tmp_path, LIBRARY))
    assert spec.match.comparisons[2] == {"template": "generic_id", "column": "so_ho_chieu", "params": {"max_edits": 2}}
    assert spec.match.blocking_rules[1] == {"name": "ho_ngay_sinh", "keys": ["ho", "ngay_sinh"]}
    assert spec_from_dict(json.loads(json.dumps(spec_to_dict(spec))), "lần chạy x") == spec


def test_comparison_library_mistakes_name_line_and_column(tmp_path):
    text = (
        LIBRARY.replace("column: so_ho_chieu, params: {max_edits: 2}", "column: so_passport, params: {edits: 2}")
        .replace("{template: exact_code, column: quoc_tich}", "{template: postcode, column: quoc_tich}")
        .replace("keys: [ho, ngay_sinh]", "keys: [ho, noi_sinh]")
        .replace("{name: ma_khach, kind: text, aliases: [rec_id]", "{name: rec_id, kind: text, aliases: [rec_id]")
    )
    problems = [(p.line, p.column, p.vi.split(" (")[0]) for p in _error(tmp_path, text).problems]
    assert problems[0] == (3, 13, "không có cột 'ma_khach' trong columns")
    assert problems[1][:2] == (5, 12) and problems[1][2].startswith("cột 'rec_id': tên cột 'rec_id' dành cho hệ thống")
    assert problems[2:] == [
        (15, 7, "mẫu so sánh thiếu cột hoặc có tham số không hợp lệ"),
        (15, 38, "không có cột 'so_passport' trong columns"),
        (16, 18, "không có mẫu so sánh 'postcode'"),
        (18, 30, "mỗi khóa ghép khối phải là một cột được so sánh bằng mẫu"),  # so_ho_chieu's comparison failed
        (19, 34, "mỗi khóa ghép khối phải là một cột được so sánh bằng mẫu"),
    ]
    english = [p.en for p in _error(tmp_path, text).problems]
    assert "has no parameter(s) ['edits']" in english[2] and "'noi_sinh' is neither" in english[6]
