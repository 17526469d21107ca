"""`doisoat serve`: the scheduled runs of `prefect.yaml` on one machine, with one command.

Why a launcher rather than five pasted commands: an officer's machine needs a Prefect server,
the process work pool, a worker and the deployments, and each step must wait for the previous
one (the server takes 5-60 s to answer on a busy machine; `prefect work-pool
create` against a server that is not up yet dies with a traceback). It also has to stop
cleanly: a Prefect worker started from a non-interactive shell inherits SIGINT as *ignored* and
then survives one SIGTERM (../shared/reference/ecosystem.md, "Prefect workers and SIGTERM"), so
every child here is started with SIGINT and SIGTERM at their defaults, in its own session, and
is stopped with one SIGTERM (worker first, then server) when `serve` gets Ctrl-C or SIGTERM.

This module imports neither Prefect nor Great Expectations: it drives the venv's `prefect`
command and the server's REST API (`urllib`), so `doisoat --help` stays fast.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines.errors import DoisoatError
from pipelines.processes import die_with_parent

CHECKOUT = Path(__file__).resolve().parent.parent
POOL = "doisoat-process"
# A child that has not stopped this long after its one SIGTERM is killed (and serve exits 1).
STOP_GRACE_SECONDS = 40


class _Stop(Exception):
    """Raised by the signal handler: Ctrl-C or SIGTERM asked serve to stop."""


def _raise_stop(signum, frame):
    raise _Stop(signal.Signals(signum).name)


def _child_setup() -> None:  # runs in the child between fork and exec
    """SIGINT/SIGTERM at their defaults (an ignored SIGINT makes the worker survive SIGTERM), and
    on Linux ask the kernel to SIGTERM the child if serve itself dies without cleaning up."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(signum=signal.SIGTERM)


def _prefect_command() -> str:
    exe = Path(sys.executable).parent / "prefect"
    if exe.exists():
        return str(exe)
    raise DoisoatError(
        f"không tìm thấy lệnh prefect cạnh {sys.executable}; cài doisoat vào môi trường ảo bằng `make install` "
        "(prefect_not_installed)"
    )


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


# Local calls to our own server; a busy 2-core machine (a run and the server's services at once)
# has been measured answering after more than 10 s, so the default waits a minute, not seconds.
def _get_json(url: str, timeout: float = 60):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.load(r)


def _post_json(url: str, body: dict, timeout: float = 60):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def deployed_schedules(api: str) -> list[tuple[str, str]]:
    """("flow/deployment", "cron (timezone), …") as the server holds them, for the summary."""
    flows = {f["id"]: f["name"] for f in _post_json(f"{api}/flows/filter", {})}
    out = []
    for d in _post_json(f"{api}/deployments/filter", {}):
        crons = [s["schedule"] for s in d.get("schedules") or [] if s.get("active")]
        when = ", ".join(
            f"{c['cron']} ({c.get('timezone') or 'UTC'})" if "cron" in c else f"mỗi {c.get('interval')} giây"
            for c in crons
        )
        out.append((f"{flows.get(d['flow_id'], '?')}/{d['name']}", when or "không có lịch"))
    return sorted(out)


class Services:
    """The server and the worker `serve` started, stopped in reverse order with one SIGTERM each."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.children: list[tuple[str, subprocess.Popen, Path]] = []
        self.forced: list[str] = []

    def start(self, label: str, args: list[str], env: dict, log_name: str) -> subprocess.Popen:
        log = self.log_dir / log_name
        with open(log, "ab") as fh:
            proc = subprocess.Popen(
                args,
                env=env,
                cwd=CHECKOUT,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_child_setup,
            )
        self.children.append((label, proc, log))
        return proc

    def died(self) -> tuple[str, subprocess.Popen, Path] | None:
        return next((c for c in self.children if c[1].poll() is not None), None)

    def stop(self) -> None:
        # A second Ctrl-C while stopping kills at once instead of waiting for the grace period.
        hurry = {"now": False}
        signal.signal(signal.SIGINT, lambda *_: hurry.update(now=True))
        signal.signal(signal.SIGTERM, lambda *_: hurry.update(now=True))
        for label, proc, _log in reversed(self.children):
            if proc.poll() is None:
                print(f"Đang dừng {label} (PID {proc.pid}) …", flush=True)
                proc.send_signal(signal.SIGTERM)
                deadline = time.monotonic() + STOP_GRACE_SECONDS
                while proc.poll() is None and time.monotonic() < deadline and not hurry["now"]:
                    time.sleep(0.2)
                if proc.poll() is None:
                    self.forced.append(label)
                    print(f"{label} (PID {proc.pid}) không dừng sau SIGTERM: buộc dừng (SIGKILL).", flush=True)
                    _killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                else:
                    print(f"Đã dừng {label} (PID {proc.pid}).", flush=True)
            # anything the child left behind in its session (flow-run processes, server services)
            _killpg(proc.pid, signal.SIGTERM)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_healthy(api: str, server: subprocess.Popen, log: Path, timeout: float) -> float:
    t0 = time.monotonic()
    print(f"Đang khởi động máy chủ Prefect tại {api.removesuffix('/api')} (lần đầu có thể mất 1–2 phút) …", flush=True)
    next_note = t0 + 15
    while True:
        if server.poll() is not None:
            raise DoisoatError(
                f"máy chủ Prefect dừng ngay khi khởi động (mã thoát {server.returncode}); xem nhật ký {log} "
                "(prefect_server_exited)"
            )
        try:
            _get_json(f"{api}/health", timeout=2)
            return time.monotonic() - t0
        except (OSError, ValueError):
            pass
        now = time.monotonic()
        if now - t0 > timeout:
            raise DoisoatError(
                f"máy chủ Prefect không trả lời sau {timeout:.0f} giây ({api}/health); xem nhật ký {log}, "
                "hoặc tăng thời gian chờ: doisoat serve --timeout 600 (prefect_server_timeout)"
            )
        if now >= next_note:
            print(f"  … vẫn đang chờ máy chủ Prefect trả lời ({now - t0:.0f} giây)", flush=True)
            next_note = now + 15
        time.sleep(1)


def _run_step(what: str, args: list[str], env: dict, log: Path, timeout: float) -> None:
    with open(log, "ab") as fh:
        done = subprocess.run(
            args, env=env, cwd=CHECKOUT, stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout
        )
    if done.returncode != 0:
        raise DoisoatError(
            f"{what} không thành công (mã thoát {done.returncode}); xem nhật ký {log} (prefect_step_failed)"
        )


def _pool_exists(api: str) -> bool:
    try:
        _get_json(f"{api}/work_pools/{POOL}")
        return True
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
        return False


def _wait_worker(api: str, worker: subprocess.Popen, log: Path, timeout: float) -> None:
    """Until the worker has registered with the pool (its first heartbeat)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise DoisoatError(
                f"worker dừng ngay khi khởi động (mã thoát {worker.returncode}); "
                f"xem nhật ký {log} (prefect_worker_exited)"
            )
        try:
            if _post_json(f"{api}/work_pools/{POOL}/workers/filter", {}):
                return
        except (OSError, ValueError):
            pass
        time.sleep(1)
    raise DoisoatError(
        f"worker chưa kết nối với máy chủ sau {timeout:.0f} giây; xem nhật ký {log} (prefect_worker_timeout)"
    )


def serve(
    *,
    host: str = "127.0.0.1",
    port: int = 4200,
    prefect_home: Path | None = None,
    ui: bool = True,
    timeout: float = 180,
) -> int:
    """Start server → wait for /api/health → worker (creating the work pool) → deploy prefect.yaml; then wait
    for Ctrl-C/SIGTERM and stop the worker and the server with one SIGTERM each.

    Returns 0 after a requested stop in which every child stopped on its SIGTERM, 1 when a child
    died on its own or had to be killed."""
    prefect_file = CHECKOUT / "prefect.yaml"
    if not prefect_file.exists():
        raise DoisoatError(
            f"không tìm thấy {prefect_file}: `doisoat serve` chạy từ thư mục mã nguồn doisoat (git clone, "
            "cài bằng `make install`) (prefect_yaml_missing)"
        )
    prefect = _prefect_command()
    if not _port_free(host, port):
        raise DoisoatError(
            f"cổng {port} trên {host} đang được dùng (có thể một máy chủ Prefect khác đang chạy); "
            f"chọn cổng khác, ví dụ: doisoat serve --port {port + 100} (port_in_use)"
        )
    home = Path(prefect_home) if prefect_home else CHECKOUT / "out" / "prefect"
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    base = f"http://{host}:{port}"
    api = f"{base}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true" if ui else "false",
        "DOISOAT_HOME": str(CHECKOUT),  # prefect.yaml's pull step: the worker runs flows from this checkout
        "GX_ANALYTICS_ENABLED": "False",
    }
    services = Services(home)
    previous = {s: signal.signal(s, _raise_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    requested = False
    try:
        server = services.start(
            "máy chủ Prefect", [prefect, "server", "start", "--host", host, "--port", str(port)], env, "server.log"
        )
        took = _wait_healthy(api, server, home / "server.log", timeout)
        print(f"Máy chủ Prefect đã sẵn sàng sau {took:.0f} giây.", flush=True)
        # The worker creates the process pool when it is missing (as `prefect work-pool create
        # doisoat-process --type process` would), so no separate command has to start up for it;
        # `prefect deploy` needs the pool to exist. --limit 1: one flow run at a time, since a
        # DuckDB warehouse file has a single writer.
        existed = _pool_exists(api)
        worker = services.start(
            "worker",
            [prefect, "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1"],
            env,
            "worker.log",
        )
        _wait_worker(api, worker, home / "worker.log", 180)
        print(f"Nhóm máy chạy (work pool) {POOL}: {'đã có' if existed else 'đã tạo'}; worker đã kết nối.", flush=True)
        print("Đang triển khai các lịch đối soát trong prefect.yaml …", flush=True)
        _run_step(
            "Triển khai prefect.yaml",
            [prefect, "--no-prompt", "deploy", "--all", "--prefect-file", str(prefect_file)],
            env,
            home / "setup.log",
            600,
        )
        _print_ready(base, api, ui, home, services)
        while True:
            dead = services.died()
            if dead:
                label, proc, log = dead
                print(
                    f"Lỗi: {label} (PID {proc.pid}) đã dừng bất ngờ (mã thoát {proc.returncode}); xem nhật ký {log}. "
                    "Dừng các phần còn lại.",
                    file=sys.stderr,
                    flush=True,
                )
                break
            time.sleep(1)
    except _Stop as stop:
        requested = True
        print(f"\nĐã nhận {stop}: đang dừng doisoat serve …", flush=True)
    finally:
        services.stop()
        for s, h in previous.items():
            signal.signal(s, h)
    print("doisoat serve đã dừng.", flush=True)
    return 0 if requested and not services.forced else 1


def _print_ready(base: str, api: str, ui: bool, home: Path, services: Services) -> None:
    pids = {label: proc.pid for label, proc, _ in services.children}
    lines = [
        "",
        "doisoat serve đang chạy:",
        f"  Máy chủ Prefect: {base} (PID {pids['máy chủ Prefect']})" + (f", giao diện web: {base}" if ui else ""),
        f"  Worker (PID {pids['worker']}) nhận các lần chạy của nhóm {POOL}, từng lần một",
        f"  Lịch đối soát (từ prefect.yaml; mặc định trên dữ liệu mẫu, kết quả trong {CHECKOUT / 'out'}):",
        *[f"    {name}: {when}" for name, when in deployed_schedules(api)],
        f"  Nhật ký: {home / 'server.log'}, {home / 'worker.log'}",
        "Trong cửa sổ dòng lệnh khác:",
        f"  export PREFECT_API_URL={api}",
        "  .venv/bin/prefect deployment ls        # các lịch",
        "  .venv/bin/prefect flow-run ls          # các lần chạy và trạng thái",
        f"Dừng tất cả: nhấn Ctrl-C ở đây (hoặc kill -TERM {os.getpid()}).",
        "Sẵn sàng.",
    ]
    print("\n".join(lines), flush=True)
