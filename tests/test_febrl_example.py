"""The FEBRL example (issue 13 item 5) on an excerpt of FEBRL3, as a user runs it.

Why: FEBRL3 is data no one on this project wrote (separate given and family names, a 7-digit
social-security number, Australian postcodes and suburbs, dates as yyyymmdd, fields swapped and
misspelt by FEBRL's corruptor). The example links it with spec files alone; this test runs
`examples/febrl/run.sh` as a process with `doisoat` taken from the venv's bin on PATH, exactly as the
README says, and scores the run's links, read back from the DuckDB warehouse, against the
excerpt's truth. The excerpt (tests/fixtures/febrl: originals rec-0 … rec-299 and their 458
duplicates) was written by `examples/febrl/prepare.py --limit 300`.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "febrl"
FIXTURES = ROOT / "tests" / "fixtures" / "febrl"
sys.path.insert(0, str(EXAMPLE))

from score import REGISTRY, predicted, read_truth, score, warehouse_links  # noqa: E402  (examples/febrl/score.py)


def _run_sh(reference: Path, registry: Path, db: Path, out: Path) -> subprocess.CompletedProcess:
    """examples/febrl/run.sh as the README runs it: from the repo root, the venv's bin first on PATH."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(EXAMPLE / "run.sh"), str(reference), str(registry), str(db), str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_febrl_excerpt_is_linked_from_spec_files_alone(tmp_path):
    db = tmp_path / "febrl.duckdb"
    proc = _run_sh(FIXTURES / "reference.csv", FIXTURES / "registry.csv", db, tmp_path / "out")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    truth = read_truth(FIXTURES / "truth.csv")
    run_id, rows = warehouse_links(db)

    assert sorted(r[0] for r in rows) == sorted(truth)  # every registry row: exactly one recorded outcome
    result = score(predicted(rows), truth)
    assert result["precision"] >= 0.995, result  # measured: 1.0
    assert result["recall"] >= 0.99, result  # measured: 458 of 458

    # links.so_dinh_danh carries the reference record's own key (its rec_id), not a derived number
    with (FIXTURES / "reference.csv").open(encoding="utf-8", newline="") as fh:
        reference_ids = {r["rec_id"] for r in csv.DictReader(fh)}
    linked_keys = {ref for _, status, ref in rows if status in ("matched", "duplicate")}
    assert linked_keys and linked_keys <= reference_ids
    assert all(re.fullmatch(r"rec-\d+-org", k) for k in linked_keys)
    with duckdb.connect(str(db), read_only=True) as con:
        registry = con.execute("SELECT registry FROM runs WHERE run_id = ?", [run_id]).fetchone()[0]
    assert registry == REGISTRY


def test_run_sh_fails_when_doisoat_fails(tmp_path):
    """doisoat's failure is run.sh's failure (the benchmark and CI rely on its exit code)."""
    proc = _run_sh(FIXTURES / "reference.csv", tmp_path / "absent.csv", tmp_path / "kho.duckdb", tmp_path / "out")
    assert proc.returncode != 0
    assert "input_not_found" in proc.stderr and "Traceback" not in proc.stderr
