"""`doisoat` command line: sample | clean | run | demo | report | review | registries.

Each sub-command only parses arguments and calls one plain function, imported inside the
command (the imports marked `lazy: start-up`): `doisoat --help` starts in 0.15 s, while importing
the pipeline (polars, DuckDB, xlsxwriter, the normalizers) costs about 1 s more on this machine
(`python bench/bench_start.py`; `python -X importtime -c "import pipelines.flow"`). The CLI never
imports Prefect (`pipelines/orchestration.py` holds
the flows the deployments run).

Everything an officer reads is Vietnamese: help texts with their defaults ("mặc định: …"),
registries with their titles, argparse's own usage errors, and errors as
"Lỗi: <message> [<code>]" (the English code is for engineers, `pipelines/errors.py`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from pipelines import progress
from pipelines.catalogue import registry_titles
from pipelines.errors import DoisoatError, InputError, safe_text
from pipelines.private_files import owner_only_umask

REGISTRY_TITLES = registry_titles()  # the shipped spec files' names and titles, read without the model
REGISTRY_CHOICES = tuple(REGISTRY_TITLES)
DEFAULT_DB = "out/doisoat.duckdb"
DEFAULT_OUT = "out"


def _registry_list() -> str:
    width = max(map(len, REGISTRY_TITLES))
    return "\n".join(f"  {name.ljust(width)}  {title}" for name, title in REGISTRY_TITLES.items())


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help in Vietnamese: every option shows its default as "(mặc định: …)"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        return super().add_usage(usage, actions, groups, "Cách dùng: " if prefix is None else prefix)

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and "mặc định" not in text
            and default not in (None, False, argparse.SUPPRESS)
            and not action.required
            and action.option_strings
        ):
            text += " (mặc định: %(default)s)"
        return text


# argparse's own messages (Python 3.11–3.13 wording) → Vietnamese.
_ARGPARSE_VI = [
    (r"the following arguments are required: (.*)", r"thiếu tham số bắt buộc: \1"),
    (
        r"argument (.*?): invalid choice: (.*?) \(choose from (.*)\)",
        r"tham số \1: giá trị \2 không có trong danh sách (chọn một trong: \3)",
    ),
    (r"argument (.*?): invalid (\w+) value: (.*)", r"tham số \1: giá trị \3 không hợp lệ (cần kiểu \2)"),
    (r"argument (.*?): expected one argument", r"tham số \1: cần một giá trị"),
    (r"argument (.*?): ignored explicit argument (.*)", r"tham số \1: không nhận giá trị \2"),
    (r"unrecognized arguments: (.*)", r"tham số không nhận ra: \1"),
    (r"ambiguous option: (.*?) could match (.*)", r"tuỳ chọn \1 không rõ, có thể là: \2"),
    (r"one of the arguments (.*) is required", r"cần một trong các tham số \1"),
]


class _Parser(argparse.ArgumentParser):
    """ArgumentParser speaking Vietnamese: section titles, -h, and usage errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "tham số vị trí"
        self._optionals.title = "tuỳ chọn"
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="in trợ giúp này rồi thoát")

    def error(self, message):
        for pattern, replacement in _ARGPARSE_VI:
            if re.fullmatch(pattern, message):
                message = re.sub(pattern, replacement, message)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: lỗi: {message} [usage_error]\n")


class _Version(argparse.Action):
    """--version from the installed package metadata (read only when asked)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            text = version("doisoat")
        except PackageNotFoundError:
            text = "chưa cài đặt"
        print(f"doisoat {text}")
        parser.exit(0)


def _output_options(p: argparse.ArgumentParser) -> None:
    """--quiet/--verbose for the commands that run the pipeline (pipelines/progress.py)."""
    group = p.add_mutually_exclusive_group()
    group.add_argument("-q", "--quiet", action="store_true", help="chỉ in lỗi và bảng tổng hợp cuối cùng")
    group.add_argument("-v", "--verbose", action="store_true", help="in thêm thời gian từng bước và chi tiết kỹ thuật")


def _verbosity(args: argparse.Namespace) -> int:
    return (
        progress.QUIET
        if getattr(args, "quiet", False)
        else (progress.VERBOSE if getattr(args, "verbose", False) else progress.NORMAL)
    )


def _starting() -> None:
    """Say something at once: loading the pipeline (polars, DuckDB, the normalizers) takes a few
    seconds on a busy machine, and a silent terminal looks like a hung one."""
    progress.logger().info("Đang nạp chương trình đối soát…")


def _existing(path: str, what: str) -> Path:
    """Refuse a missing input file at once, before any heavy import."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"không tìm thấy {what}", file=str(p), code="input_not_found")
    return p


def _cmd_sample(args: argparse.Namespace) -> int:
    if args.next_month:
        from pipelines.sample.next_month import write_next_month  # lazy: start-up (module docstring)

        source = _existing(args.next_month, "thư mục dữ liệu của tháng trước (--next-month)")
        summary = write_next_month(source, Path(args.out), args.month)
        print(f"Dữ liệu tháng {args.month} (từ {source}): {Path(args.out) / 'changes.json'} ghi những gì đã đổi")
        for name, rows in summary.items():
            print(f"{name}: {rows:,} dòng")
        return 0
    from pipelines.sample.generator import generate  # lazy: start-up (module docstring)

    summary = generate(persons=args.persons, seed=args.seed, out_dir=Path(args.out))
    for name, rows in summary.items():
        print(f"{name}: {rows:,} dòng")
    return 0


def _cmd_clean(args: argparse.Namespace) -> int:
    from pipelines.clean import clean_file  # lazy: start-up (module docstring)

    stats = clean_file(Path(args.file), registry=args.registry, out=Path(args.out))
    print(f"Đã ghi {args.out}: {stats['rows']:,} dòng, {stats['rows_with_problems']:,} dòng có vấn đề")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    population = _existing(args.population, "trích xuất CSDLQG (--population)")
    input_file = _existing(args.input, "tệp sổ đăng ký (--input)")
    _starting()
    from pipelines.flow import run_registry_cli  # lazy: start-up (module docstring)

    if (args.registry is None) == (args.spec is None):
        raise DoisoatError(
            "cần đúng một trong hai: tên sổ có sẵn (SỔ) hoặc tệp khai báo sổ (--spec TỆP_YAML)", code="registry_or_spec"
        )
    return run_registry_cli(
        registry=args.registry,
        spec_file=_existing(args.spec, "tệp khai báo sổ (--spec)") if args.spec else None,
        population_spec=(
            _existing(args.population_spec, "tệp khai báo trích xuất (--population-spec)")
            if args.population_spec
            else None
        ),
        population=population,
        input_file=input_file,
        db=Path(args.db),
        out_dir=Path(args.out),
        unmasked=args.unmasked,
        column_map=Path(args.column_map) if args.column_map else None,
        by_commune=args.by_commune,
        password_file=Path(args.password_file) if args.password_file else None,
        full=args.full,
        retrain=args.retrain,
        dask_address=args.dask_address,
        dask_workers=args.dask_workers,
        dask_workdir=Path(args.dask_workdir) if args.dask_workdir else None,
    )


def _cmd_demo(args: argparse.Namespace) -> int:
    _starting()
    from pipelines.flow import run_demo_cli  # lazy: start-up (module docstring)

    return run_demo_cli(
        sample_dir=Path(args.sample),
        db=Path(args.db),
        out_dir=Path(args.out),
        unmasked=args.unmasked,
        by_commune=args.by_commune,
        password_file=Path(args.password_file) if args.password_file else None,
    )


def _cmd_report(args: argparse.Namespace) -> int:
    from pipelines.reports import regenerate_cli  # lazy: start-up (module docstring)

    return regenerate_cli(
        run_id=args.run_id,
        db=Path(args.db),
        out_dir=Path(args.out),
        unmasked=args.unmasked,
        by_commune=args.by_commune,
        password_file=Path(args.password_file) if args.password_file else None,
    )


def _cmd_review(args: argparse.Namespace) -> int:
    from pipelines.flow import review_cli  # lazy: start-up (module docstring)

    out = Path(args.out) if args.out else None
    return review_cli(
        workbook=Path(args.workbook), db=Path(args.db), reviewer=args.reviewer, out_dir=out, unmasked=args.unmasked
    )


def _cmd_registries(args: argparse.Namespace) -> int:
    print("Các sổ đăng ký doisoat đối soát được (tên dùng trong lệnh — tên sổ):")
    print(_registry_list())
    return 0


def _warehouse_options(p: argparse.ArgumentParser) -> None:
    """--db, --unmasked and --key-file: the same for every command that opens the warehouse."""
    p.add_argument("--db", default=DEFAULT_DB, metavar="TỆP", help="tệp kho dữ liệu DuckDB")
    p.add_argument("--unmasked", action="store_true", help="không che số định danh trong báo cáo (mặc định: che)")
    p.add_argument("--key-file", metavar="TỆP", help=KEY_FILE_HELP)


def _commune_options(p: argparse.ArgumentParser) -> None:
    """--by-commune and its password option (run, report, demo)."""
    p.add_argument(
        "--by-commune",
        action="store_true",
        help="ghi thêm mỗi xã một sổ Excel riêng (chỉ các dòng của xã, số định danh KHÔNG che), mã hoá bằng mật khẩu; "
        "sổ cấp tỉnh vẫn che số định danh",
    )
    p.add_argument(
        "--password-file",
        help="tệp văn bản chứa mật khẩu (dòng đầu, ít nhất 12 ký tự) dùng cho mọi sổ của xã; nếu bỏ trống, "
        "mỗi xã một mật khẩu ngẫu nhiên, ghi vào mat_khau_<sổ>.csv (chỉ chủ sở hữu đọc được) — "
        "gửi mật khẩu riêng, không kèm tệp",
    )


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"cần một số nguyên từ 1 trở lên, không phải '{text}'")
    return value


def _dask_options(p: argparse.ArgumentParser) -> None:
    """run: the match stage in partitions on a Dask cluster (pipelines/cluster.py; README "Chạy ở quy mô quốc gia")."""
    p.add_argument(
        "--dask-address",
        metavar="ĐỊA_CHỈ",
        help="địa chỉ bộ lập lịch của một cụm Dask (vd. tcp://10.0.0.5:8786): bước ghép nối chạy chia phần "
        "trên các worker của cụm, kết quả giống hệt khi chạy trên một máy",
    )
    p.add_argument(
        "--dask-workers",
        type=_at_least_one,
        metavar="SỐ",
        help="không có cụm sẵn: dựng một cụm Dask tạm trên máy này với SỐ tiến trình worker",
    )
    p.add_argument(
        "--dask-workdir",
        metavar="THƯ_MỤC",
        help="thư mục mọi worker cùng đọc/ghi được (hệ thống tệp dùng chung) cho các tệp Parquet của từng phần; "
        "xoá khi ghép nối xong (mặc định: thư mục tạm của máy này)",
    )


KEY_FILE_HELP = (
    "tệp chứa khoá mã hoá kho dữ liệu (một dòng, ít nhất 16 ký tự); hoặc đặt biến môi trường DOISOAT_DB_KEY. "
    "Không bao giờ ghi khoá trực tiếp trên dòng lệnh"
)


def _warehouse_session(args: argparse.Namespace):
    """run/demo/report/review: the key, the spill folder and the lock on the warehouse for the whole command."""
    if not hasattr(args, "key_file"):
        return contextlib.nullcontext()
    from pipelines import warehouse  # lazy: start-up (module docstring)

    out = getattr(args, "out", None) or Path(args.db).parent
    command = f"{args.command} {getattr(args, 'registry', '')}".strip()
    return warehouse.session(Path(args.db), command=command, key_file=args.key_file, spill_root=Path(out))


def _cmd_serve(args: argparse.Namespace) -> int:
    from pipelines.serve import serve  # lazy: start-up (module docstring)

    home = Path(args.prefect_home) if args.prefect_home else None
    return serve(port=args.port, prefect_home=home, ui=not args.no_ui, timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="doisoat",
        description="Đối soát sổ đăng ký chuyên ngành với CSDLQG về dân cư (Đề án 06): đúng, đủ, sạch, sống.",
        epilog="Các sổ đăng ký:\n" + _registry_list() + "\n\nTrợ giúp từng lệnh: doisoat <lệnh> --help",
    )
    parser.add_argument("--version", action=_Version, help="in phiên bản doisoat rồi thoát")
    sub = parser.add_subparsers(dest="command", required=True, title="lệnh", metavar="<lệnh>")
    registries_help = "Các sổ đăng ký:\n" + _registry_list()

    p = sub.add_parser(
        "sample",
        help="sinh dữ liệu mẫu tổng hợp (CSDLQG + 8 sổ) kèm đáp án",
        description=(
            "Sinh dữ liệu mẫu tổng hợp: trích xuất CSDLQG, 8 sổ đăng ký (5 sổ của bản chạy thử, thẻ BHYT, "
            "học bạ số, khách lưu trú ASM) và đáp án (truth/)."
        ),
    )
    p.add_argument(
        "--persons", type=int, metavar="SỐ", default=5000, help="số người trong trích xuất CSDLQG (từ 200 trở lên)"
    )
    p.add_argument(
        "--seed", type=int, metavar="SỐ", default=6, help="hạt giống ngẫu nhiên (cùng hạt giống → cùng dữ liệu)"
    )
    p.add_argument("--out", default="data/generated", metavar="THƯ_MỤC", help="thư mục ghi dữ liệu mẫu")
    p.add_argument(
        "--next-month",
        metavar="THƯ_MỤC",
        help="thay vì sinh mới: từ population.csv và social_welfare.csv của thư mục này, ghi dữ liệu tháng sau "
        "(người chết, chuyển đi, đổi tên, cấp lại số định danh; hồ sơ thêm, bớt, sửa, đổi thứ tự) và changes.json",
    )
    p.add_argument("--month", type=int, default=2, metavar="SỐ", help="số thứ tự của tháng sau (với --next-month)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "clean",
        help="chuẩn hoá một tệp: thêm cột <cột>_clean và cột problems",
        description="Chuẩn hoá một tệp mà không ghép: ghi lại tệp, thêm <cột>_clean, problems và van_de.",
        epilog=registries_help,
    )
    p.add_argument("file", metavar="TỆP", help="tệp cần chuẩn hoá (.csv, .xlsx, .xls, .parquet)")
    p.add_argument(
        "--registry",
        required=True,
        choices=REGISTRY_CHOICES + ("population",),
        metavar="SỔ",
        help="sổ đăng ký của tệp (xem danh sách bên dưới), hoặc population cho trích xuất CSDLQG",
    )
    p.add_argument("--out", required=True, metavar="TỆP", help="tệp kết quả (.csv hoặc .xlsx)")
    p.set_defaults(func=_cmd_clean)

    p = sub.add_parser(
        "run",
        help="đối soát một sổ với trích xuất CSDLQG",
        description="Đối soát một sổ đăng ký với trích xuất CSDLQG; ghi kết quả vào kho DuckDB và báo cáo Excel/HTML.",
        epilog=registries_help,
    )
    p.add_argument(
        "registry",
        nargs="?",
        choices=REGISTRY_CHOICES,
        metavar="SỔ",
        help="tên sổ đăng ký có sẵn (xem danh sách bên dưới); bỏ trống khi dùng --spec",
    )
    p.add_argument(
        "--spec",
        metavar="TỆP_YAML",
        help="tệp YAML khai báo một sổ khác (cột, tiêu đề, phép so sánh…; xem README) thay cho SỔ",
    )
    p.add_argument(
        "--population", required=True, metavar="TỆP", help="tệp trích xuất CSDLQG về dân cư (.csv, .xlsx, .parquet)"
    )
    p.add_argument(
        "--population-spec",
        metavar="TỆP_YAML",
        help="tệp YAML khai báo cột và tiêu đề của trích xuất (như pipelines/population.yaml), "
        "khi trích xuất có tiêu đề khác (mặc định: pipelines/population.yaml)",
    )
    p.add_argument(
        "--input", required=True, metavar="TỆP", help="tệp sổ đăng ký cần đối soát (.csv, .xlsx, .xls, .parquet)"
    )
    _warehouse_options(p)
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="THƯ_MỤC",
        help="thư mục báo cáo; nhật ký chạy ghi vào <thư mục>/doisoat.log",
    )
    p.add_argument(
        "--column-map", metavar="TỆP_YAML", help="tệp YAML ánh xạ tiêu đề cột → tên cột chuẩn (mặc định: không dùng)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="ghép lại mọi hồ sơ (mặc định khi kho đã có lần chạy trước của sổ: chạy tăng dần, chỉ ghép hồ sơ mới, "
        "đã đổi hoặc chưa ghép được; liên kết không đổi được giữ nguyên); vẫn dùng mô hình của lần trước",
    )
    p.add_argument(
        "--retrain",
        action="store_true",
        help="huấn luyện lại mô hình ghép và ghép lại mọi hồ sơ (lần chạy hằng tháng); liên kết không đổi vẫn giữ",
    )
    _commune_options(p)
    _dask_options(p)
    _output_options(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "demo",
        help="đối soát cả 5 sổ trên dữ liệu mẫu đi kèm",
        description="Đối soát cả 5 sổ của thư mục mẫu (khai tử trước) và in bảng tổng hợp.",
    )
    p.add_argument(
        "--sample",
        metavar="THƯ_MỤC",
        default=str(Path(__file__).resolve().parent.parent / "data" / "sample"),
        help="thư mục có population.csv và tệp của 5 sổ",
    )
    _warehouse_options(p)
    p.add_argument(
        "--out",
        default=DEFAULT_OUT,
        metavar="THƯ_MỤC",
        help="thư mục báo cáo (mỗi sổ một thư mục con); nhật ký chạy ghi vào <thư mục>/doisoat.log",
    )
    _commune_options(p)
    _output_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "report",
        help="tạo lại báo cáo của một lần chạy từ kho DuckDB",
        description="Tạo lại sổ Excel và báo cáo HTML của một lần chạy đã có trong kho.",
    )
    p.add_argument("run_id", metavar="MÃ_LẦN_CHẠY", help="mã lần chạy (cột run_id của bảng runs, in ra khi chạy)")
    _warehouse_options(p)
    p.add_argument("--out", default=DEFAULT_OUT, metavar="THƯ_MỤC", help="thư mục báo cáo")
    _commune_options(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "review",
        help="nạp quyết định của người xem xét từ trang 'Cần xem xét' của sổ Excel",
        description="Nạp quyết định (Đồng ý / Bác bỏ) từ trang 'Cần xem xét' và viết lại báo cáo của lần chạy.",
    )
    p.add_argument("workbook", metavar="SỔ_EXCEL", help="sổ .xlsx do doisoat tạo, đã điền cột Quyết định")
    p.add_argument("--reviewer", required=True, metavar="TÊN", help="tên người xem xét (ghi vào nhật ký kiểm toán)")
    _warehouse_options(p)
    p.add_argument("--out", metavar="THƯ_MỤC", help="thư mục báo cáo (mặc định: thư mục báo cáo của lần chạy đó)")
    p.set_defaults(func=_cmd_review)

    p = sub.add_parser(
        "registries",
        help="liệt kê các sổ đăng ký và tên tiếng Việt",
        description="Liệt kê các sổ đăng ký doisoat đối soát được.",
    )
    p.set_defaults(func=_cmd_registries)

    p = sub.add_parser(
        "serve",
        help="chạy các lịch đối soát: máy chủ Prefect, nhóm máy chạy, prefect.yaml và worker; Ctrl-C để dừng",
        description="Khởi động máy chủ Prefect cục bộ (127.0.0.1), tạo nhóm máy chạy doisoat-process, "
        "triển khai prefect.yaml và chạy một worker; Ctrl-C hoặc SIGTERM dừng tất cả.",
    )
    p.add_argument(
        "--port",
        type=int,
        default=4200,
        metavar="CỔNG",
        help="cổng của máy chủ Prefect trên 127.0.0.1 (mặc định: 4200)",
    )
    p.add_argument(
        "--prefect-home",
        metavar="THƯ_MỤC",
        help="thư mục dữ liệu của Prefect (mặc định: out/prefect trong thư mục mã nguồn)",
    )
    p.add_argument("--no-ui", action="store_true", help="không mở giao diện web của Prefect (mặc định: có giao diện)")
    p.add_argument(
        "--timeout", type=float, default=180, metavar="GIÂY", help="số giây chờ máy chủ Prefect trả lời (mặc định: 180)"
    )
    p.set_defaults(func=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `doisoat` command. Called from the command line (argv None), it also ends the run's
    validation process before returning (pipelines.flow.stop_validation_process); a caller in the
    same interpreter (the tests) passes argv and keeps that process for its next run."""
    try:
        return _main(argv)
    finally:
        flow = sys.modules.get("pipelines.flow")  # not imported: no validation process was started
        if argv is None and flow is not None:
            flow.stop_validation_process()


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    owner_only_umask()  # everything this command writes is readable by its owner only
    # run and demo also write their log to <out>/doisoat.log; other commands log to stderr only
    log = progress.logger()
    try:
        progress.setup(Path(args.out) if args.command in ("run", "demo") else None, _verbosity(args))
    except OSError as exc:  # --out under a file or not writable: refused before anything runs
        log.error(
            f"--out {safe_text(args.out)}: không ghi được vào thư mục này "
            f"({exc.strerror or type(exc).__name__}). [output_unwritable]"
        )
        return 2
    try:
        with _warehouse_session(args):
            return int(args.func(args) or 0)
    except DoisoatError as exc:
        log.error(f"{safe_text(exc)} [{exc.code}]")
        return 2
    except KeyboardInterrupt:
        log.error("đã dừng theo yêu cầu (Ctrl+C) [interrupted]")
        return 130
    except Exception as exc:  # noqa: BLE001 - an officer gets a sentence, the engineer the log
        if os.environ.get("DOISOAT_DEBUG"):  # an engineer asked for the traceback
            raise
        # the traceback's frames, not the exception's text: a library message can quote a value
        log.debug(f"{type(exc).__name__} tại:\n" + "".join(traceback.format_tb(exc.__traceback__)))
        log.error(
            f"lỗi không lường trước ({type(exc).__name__}); "
            "chạy lại với --verbose để ghi chi tiết vào doisoat.log [internal_error]"
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
