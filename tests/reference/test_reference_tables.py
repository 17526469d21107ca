"""The reference tables are data: they import no project logic, and they hold what they say."""

from __future__ import annotations

import ast
from pathlib import Path

from matching.reference.admin_units import legacy_province_codes, legacy_units
from matching.reference.legacy_fonts import TCVN3, VNI_PAIRS, VNI_SINGLE
from matching.reference.letters import VIET_LETTERS

REFERENCE = Path(__file__).resolve().parents[2] / "matching" / "reference"


def test_reference_modules_import_only_the_standard_library_and_polars():
    """Both the normalizer and the sample generator read these tables; importing project code here
    would let the generator share logic with the code it tests."""
    for path in sorted(REFERENCE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not [n for n in names if n.split(".")[0] in ("matching", "pipelines", "validation", "bench")], (
                path.name
            )


def test_province_codes_are_the_63_pre_2025_provinces():
    codes = legacy_province_codes()
    assert len(codes) == 63 and codes == tuple(sorted(codes))
    assert set(codes) == set(legacy_units()["ma_tinh_cu"].to_list())
    assert {"01", "79", "96"} <= set(codes)  # Hà Nội, TP Hồ Chí Minh, Cà Mau


def test_legacy_font_tables_give_vietnamese_letters_only():
    for table in (TCVN3, VNI_PAIRS, VNI_SINGLE):
        assert set(table.values()) <= VIET_LETTERS
    assert len(set(TCVN3.values())) == len(TCVN3)  # one code point per letter: the table is invertible
