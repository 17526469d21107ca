"""`doisoat` command line: sample | clean | run | demo | report | review.

Each sub-command only parses arguments and calls one plain function; heavy imports (Prefect,
Great Expectations) happen inside the commands that need them, so `doisoat --help` and
`doisoat clean` start fast."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from pipelines.errors import DoisoatError

REGISTRY_CHOICES = ("social_welfare", "pension", "civil_births", "civil_deaths", "land")


def _cmd_sample(args: argparse.Namespace) -> int:
    from pipelines.sample.generator import generate

    summary = generate(persons=args.persons, seed=args.seed, out_dir=Path(args.out))
    for name, rows in summary.items():
        print(f"{name}: {rows:,} dòng")
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from pipelines.clean import clean_file

    stats = clean_file(Path(args.file), registry=args.registry, out=Path(args.out))
    print(f"Đã ghi {args.out}: {stats['rows']:,} dòng, {stats['rows_with_problems']:,} dòng có vấn đề")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from pipelines.flow import run_registry_cli

    return run_registry_cli(
        registry=args.registry,
        population=Path(args.population),
        input_file=Path(args.input),
        db=Path(args.db),
        out_dir=Path(args.out),
        unmasked=args.unmasked,
        column_map=Path(args.column_map) if args.column_map else None,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    from pipelines.flow import run_demo_cli

    return run_demo_cli(sample_dir=Path(args.sample), db=Path(args.db), out_dir=Path(args.out), unmasked=args.unmasked)


def _cmd_report(args: argparse.Namespace) -> int:
    from pipelines.reports import regenerate_cli

    return regenerate_cli(run_id=args.run_id, db=Path(args.db), out_dir=Path(args.out), unmasked=args.unmasked)


def _cmd_review(args: argparse.Namespace) -> int:
    from pipelines.review import review_cli

    out = Path(args.out) if args.out else None
    return review_cli(workbook=Path(args.workbook), db=Path(args.db), reviewer=args.reviewer, out_dir=out, unmasked=args.unmasked)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="doisoat", description="Đối soát sổ đăng ký chuyên ngành với CSDLQG về dân cư (Đề án 06).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample", help="sinh dữ liệu mẫu tổng hợp (CSDLQG + 4 sổ) kèm đáp án")
    p.add_argument("--persons", type=int, default=5000)
    p.add_argument("--seed", type=int, default=6)
    p.add_argument("--out", default="data/generated")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("clean", help="chuẩn hoá một tệp: thêm cột <cột>_clean và cột problems")
    p.add_argument("file")
    p.add_argument("--registry", required=True, choices=REGISTRY_CHOICES + ("population",))
    p.add_argument("--out", required=True)
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser("run", help="đối soát một sổ với trích xuất CSDLQG")
    p.add_argument("registry", choices=REGISTRY_CHOICES)
    p.add_argument("--population", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--db", default="out/doisoat.duckdb")
    p.add_argument("--out", default="out")
    p.add_argument("--column-map", help="tệp YAML ánh xạ tiêu đề cột → tên cột chuẩn")
    p.add_argument("--unmasked", action="store_true", help="không che số định danh trong báo cáo")
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("demo", help="đối soát cả bốn sổ trên dữ liệu mẫu đi kèm")
    p.add_argument("--sample", default=str(Path(__file__).resolve().parent.parent / "data" / "sample"))
    p.add_argument("--db", default="out/doisoat.duckdb")
    p.add_argument("--out", default="out")
    p.add_argument("--unmasked", action="store_true")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("report", help="tạo lại báo cáo của một lần chạy từ kho DuckDB")
    p.add_argument("run_id")
    p.add_argument("--db", default="out/doisoat.duckdb")
    p.add_argument("--out", default="out")
    p.add_argument("--unmasked", action="store_true")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("review", help="nạp quyết định của người xem xét từ trang 'Cần xem xét' của sổ Excel")
    p.add_argument("workbook", help="sổ .xlsx do doisoat tạo, đã điền cột Quyết định")
    p.add_argument("--reviewer", required=True, help="tên người xem xét (ghi vào nhật ký kiểm toán)")
    p.add_argument("--db", default="out/doisoat.duckdb")
    p.add_argument("--out", help="thư mục báo cáo; mặc định: thư mục báo cáo của lần chạy đó")
    p.add_argument("--unmasked", action="store_true")
    p.set_defaults(func=_cmd_review)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except DoisoatError as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a defect of ours: no traceback for the officer (DOISOAT_DEBUG=1 shows it)
        if os.environ.get("DOISOAT_DEBUG"):
            raise
        print(f"Lỗi nội bộ của doisoat ({type(exc).__name__}); hãy báo cho nhóm phát triển kèm lệnh đã chạy "
              "(đặt DOISOAT_DEBUG=1 để xem chi tiết).", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
