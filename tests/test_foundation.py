"""Invariants of the pieces every stage shares: admin-unit reference tables, registry specs, CLI."""

from __future__ import annotations

import subprocess
import sys

import pytest

from matching.reference.admin_units import current_units, legacy_units
from pipelines.registries import REGISTRIES, get_spec


def test_current_units_are_the_2025_two_level_units():
    units = current_units()
    assert units.height == 3321
    assert units["ma_tinh"].n_unique() == 34
    assert units["ma_xa"].is_unique().all()


def test_every_legacy_ward_maps_to_a_current_unit():
    legacy = legacy_units()
    assert legacy.height == 10040
    # island districts had no wards: they map to the 2025 special zone ("Đặc khu") of that name
    assert legacy["new_ma_xa"].null_count() == 0
    # a split ward lists several candidates and must be reported as ambiguous
    split = legacy.filter("is_split")
    assert split.height > 0
    assert (split["new_ma_xa_candidates"].list.len() > 1).all()


def test_hai_duong_merged_into_hai_phong():
    legacy = legacy_units()
    hd = legacy.filter(legacy["tinh_cu_key"] == "tinhhaiduong")
    assert hd.height > 0
    assert set(hd["new_ma_tinh"].unique()) == {"31"}


@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_spec_is_consistent(name):
    spec = get_spec(name)
    names = [c.name for c in spec.columns]
    assert len(names) == len(set(names)), "duplicate column names"
    assert spec.key_column in names
    assert spec.role_column("ho_ten") is not None, "every registry names a person"
    assert 0 < spec.match.review_threshold < spec.match.match_threshold <= 1
    if spec.payment:
        assert spec.payment.mode_column in names and spec.payment.account_column in names


def test_unknown_registry_is_a_clear_error():
    with pytest.raises(SystemExit, match="Không có sổ đăng ký"):
        get_spec("hospital")


def test_cli_help_runs_without_heavy_imports():
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from pipelines.cli import main; main(['--help'])"],
        capture_output=True,
        text=True,
    )
    assert "đối soát" in out.stdout.lower() or "Đối soát" in out.stdout
