"""A tiny crafted warehouse (real DuckDB file, real schema from pipelines.warehouse) for the
report tests: one social-welfare run of 8 rows whose every outcome is known by construction.

Row  status     method         unit (commune)  other facts
1    matched    id_exact       01/00004        clean, paid by account
2    matched    id_exact       01/00004        dia_chi mismatch; missing ngay_sinh (CSDLQG supplies it)
3    matched    cmnd9          01/00008        dead in CSDLQG, still paid (alert)
4    matched    probabilistic  01/00008        paid by account
5    review     probabilistic  79/25747        two candidates in link_evidence
6    unmatched  none           79/25747        so_tai_khoan missing although paid by account
7    rejected   rejected       NULL (unplaced) no name
8    duplicate  id_exact       01/00004        same person as row 1
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.registries import REGISTRIES
from pipelines.spec import spec_to_dict
from pipelines.warehouse import connect, exclusive, start_run, write_run

SPEC = REGISTRIES["social_welfare"]
RUN_ID = "social_welfare-20261124T100000Z-abc123"
IDS = ["001050000011", "001160000022", "012345678", "002070000044", "079080000055", "079090000066", "", "001050000011"]
POP_IDS = ["001050000011", "001160000022", "031040000033", "002070000044", "079080000055", "079081000077"]


def build(db: Path):
    con = connect(db, REGISTRIES.values())
    try:
        start_run(
            con,
            RUN_ID,
            SPEC.name,
            {"spec": spec_to_dict(SPEC)},  # what a run saves: reports rebuild the run's spec from it
            {"doisoat": "0.1.0", "duckdb": "1.5.5"},
        )
    finally:
        con.close()
    n = 8
    rows = pl.DataFrame(
        {
            "run_id": [RUN_ID] * n,
            "source_file": ["btxh_2026.xlsx"] * n,
            "source_row": list(range(1, n + 1)),
            "excel_row": [r + 4 for r in range(1, n + 1)],
            "ma_doi_tuong": [f"DT{r:03d}" for r in range(1, n + 1)],
            "ho_ten": [
                "Nguyễn Văn An",
                "Trần Thị Bình",
                "Lê Văn Cường",
                "Phạm Thi Dung",
                "Hoàng Văn Em",
                "Vũ Thị Gấm",
                "",
                "Nguyễn Văn An",
            ],
            "ngay_sinh": [
                "02/03/1950",
                "",
                "05/05/1940",
                "1970",
                "08/08/1980",
                "09/09/1990",
                "01/01/1960",
                "02/03/1950",
            ],
            "gioi_tinh": ["Nam", "Nữ", "Nam", "Nữ", "Nam", "Nữ", "Nam", "Nam"],
            "so_cccd": IDS,
            "dia_chi": ["Ba Đình, Hà Nội"] * 4 + ["Thủ Dầu Một"] * 2 + ["?", "Ba Đình, Hà Nội"],
            "loai_doi_tuong": ["Người cao tuổi"] * n,
            "muc_tro_cap": ["500.000"] * n,
            "hinh_thuc_chi_tra": [
                "Chuyển khoản",
                "Tiền mặt",
                "Tiền mặt",
                "Qua tài khoản",
                "Tiền mặt",
                "chuyển khoản",
                "Tiền mặt",
                "Chuyển khoản",
            ],
            "so_tai_khoan": ["0011223344", None, None, "0099887766", None, None, None, "0011223344"],
            "ma_tinh": ["01", "01", "01", "01", "79", "79", None, "01"],
            "ma_xa": ["00004", "00004", "00008", "00008", "25747", "25747", None, "00004"],
            "row_status": ["ok"] * 6 + ["rejected", "ok"],
        }
    )
    status = ["matched", "matched", "matched", "matched", "review", "unmatched", "rejected", "duplicate"]
    method = ["id_exact", "id_exact", "cmnd9", "probabilistic", "probabilistic", "none", "rejected", "id_exact"]
    linked_id = [
        "001050000011",
        "001160000022",
        "031040000033",
        "002070000044",
        "079080000055",
        None,
        None,
        "001050000011",
    ]
    key = {
        "run_id": [RUN_ID] * n,
        "registry": [SPEC.name] * n,
        "source_file": ["btxh_2026.xlsx"] * n,
        "source_row": list(range(1, n + 1)),
        "excel_row": [r + 4 for r in range(1, n + 1)],
        "owner_index": [0] * n,
    }
    links = pl.DataFrame(
        {
            **key,
            "rec_id": [r * 10 for r in range(1, n + 1)],
            "pop_rec_id": [1, 2, 3, 4, 5, None, None, 1],
            "so_dinh_danh": linked_id,
            "status": status,
            "method": method,
            "match_weight": [None, None, None, 12.5, 1.2, -8.0, None, None],
            "match_probability": [1.0, 1.0, 1.0, 0.99982, 0.6967, 0.0039, None, 1.0],
            "duplicate_of": [None] * 7 + [1],
            "entity": ["person"] * n,
            "reason": [None] * 6 + ["ho_ten:no_name", None],
        },
        schema_overrides={"pop_rec_id": pl.Int64, "duplicate_of": pl.Int64, "owner_index": pl.Int16},
    )

    def ev(rec, pop, sdd, rank, parts):
        return [
            {
                "run_id": RUN_ID,
                "registry": SPEC.name,
                "source_row": rec,
                "owner_index": 0,
                "rec_id": rec * 10,
                "pop_rec_id": pop,
                "so_dinh_danh": sdd,
                "candidate_rank": rank,
                "comparison": c,
                "level": lv,
                "partial_weight": w,
            }
            for c, lv, w in parts
        ]

    evidence = pl.DataFrame(
        ev(
            4,
            4,
            "002070000044",
            1,
            [
                ("ho_ten", "accent_free", 6.1),
                ("ngay_sinh", "year", 3.2),
                ("gioi_tinh", "exact", 0.9),
                ("id", "null", 0.0),
                ("dia_chi", "commune", 5.6),
            ],
        )
        + ev(
            5,
            5,
            "079080000055",
            1,
            [
                ("ho_ten", "exact", 8.0),
                ("ngay_sinh", "different", -4.5),
                ("gioi_tinh", "exact", 0.9),
                ("id", "null", 0.0),
                ("dia_chi", "province", 0.1),
            ],
        )
        + ev(
            5,
            6,
            "079081000077",
            2,
            [
                ("ho_ten", "jw_0.92", 3.0),
                ("ngay_sinh", "different", -4.5),
                ("gioi_tinh", "exact", 0.9),
                ("id", "null", 0.0),
                ("dia_chi", "province", 0.1),
            ],
        )
        + ev(
            6,
            6,
            "079081000077",
            1,
            [
                ("ho_ten", "different", -6.0),
                ("ngay_sinh", "different", -4.5),
                ("gioi_tinh", "exact", 0.9),
                ("id", "null", 0.0),
                ("dia_chi", "commune", 5.6),
            ],
        ),
        schema_overrides={"owner_index": pl.Int16, "candidate_rank": pl.Int16},
    )
    rowkey = lambda rs: {k: [v[r - 1] for r in rs] for k, v in key.items()}  # noqa: E731
    mismatches = pl.DataFrame(
        {
            **rowkey([2]),
            "so_dinh_danh": ["001160000022"],
            "field": ["dia_chi"],
            "registry_value": ["Ba Đình, Hà Nội"],
            "csdlqg_value": ["Phường Ngọc Hà, Hà Nội"],
            "kind": ["residence"],
        },
        schema_overrides={"owner_index": pl.Int16},
    )
    missing = pl.DataFrame(
        {
            **rowkey([2, 6, 7]),
            "so_dinh_danh": ["001160000022", None, None],
            "field": ["ngay_sinh", "so_tai_khoan", "ho_ten"],
            "csdlqg_value": ["12/06/1960", None, None],
        },
        schema_overrides={"owner_index": pl.Int16},
    )
    duplicates = pl.DataFrame(
        {**rowkey([8]), "so_dinh_danh": ["001050000011"], "duplicate_of": [1], "basis": ["same_person"]},
        schema_overrides={"owner_index": pl.Int16},
    )
    alerts = pl.DataFrame(
        {
            **rowkey([3]),
            "so_dinh_danh": ["031040000033"],
            "kind": ["dead_still_paid"],
            "severity": ["high"],
            "death_source": ["csdlqg"],
            "ngay_mat_csdlqg": ["2025-02-01"],
            "ngay_mat_khai_tu": [None],
            "old_value": [None],
            "new_value": [None],
            "message_vi": ["Đã chết từ 01/02/2025, vẫn trong danh sách chi trả"],
        },
        schema_overrides={"owner_index": pl.Int16},
    )
    population = pl.DataFrame(
        {
            "extract_sha256": ["f" * 64] * 6,
            "run_id": [RUN_ID] * 6,
            "pop_rec_id": [1, 2, 3, 4, 5, 6],
            "so_dinh_danh": POP_IDS,
            "so_cmnd_cu": [None, None, "012345678", None, None, None],
            "ho_ten": [
                "Nguyễn Văn An",
                "Trần Thị Bình",
                "Lê Văn Cường",
                "Phạm Thị Dung",
                "Hoàng Văn Em",
                "Hoàng Văn Êm",
            ],
            "ngay_sinh": ["1950-03-02", "1960-06-12", "1940-05-05", "1970-01-01", "1981-08-08", "1982-08-08"],
        }
    )
    expectations = pl.DataFrame(
        {
            "run_id": [RUN_ID] * 2,
            "registry": [SPEC.name] * 2,
            "suite": ["social_welfare_suite"] * 2,
            "expectation": ["expect_column_values_to_not_be_null"] * 2,
            "column": ["ho_ten", "so_tai_khoan"],
            "element_count": [8, 4],
            "unexpected_count": [1, 1],
            "unexpected_rate": [0.125, 0.25],
            "success": [False, False],
            "details": [json.dumps({"check": "required"}), json.dumps({"check": "account_present"})],
        }
    )
    model = pl.DataFrame(
        {
            "run_id": [RUN_ID],
            "registry": [SPEC.name],
            "model": [json.dumps({"lambda": 0.001})],
            "settings": [json.dumps({"match_threshold": 0.95, "review_threshold": 0.5})],
            "blocking": [json.dumps({"ho_ten_key": 120})],
        }
    )
    frames = {
        "social_welfare_rows": rows,
        "links": links,
        "link_evidence": evidence,
        "mismatches": mismatches,
        "missing_fields": missing,
        "duplicates": duplicates,
        "alerts": alerts,
        "population": population,
        "expectation_results": expectations,
        "match_models": model,
    }
    ledger = dict(
        input_files=[
            {"role": "registry", "file": "btxh_2026.xlsx", "sha256": "a" * 64, "rows": 8, "bytes": 12345},
            {"role": "population", "file": "csdlqg.csv", "sha256": "f" * 64, "rows": 6, "bytes": 999},
        ],
        population_sha256="f" * 64,
        row_counts={"input_rows": 8, "matched": 4, "review": 1, "unmatched": 1, "rejected": 1, "duplicate": 1},
    )
    with exclusive(db, command="run", run_id=RUN_ID):  # as a run does: the pipeline's one atomic write
        write_run(db, RUN_ID, frames, ledger, specs=REGISTRIES.values())
    return connect(db, REGISTRIES.values())
