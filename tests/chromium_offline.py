"""Open an HTML file in real headless Chromium with the network blocked and report, through the
DevTools protocol, every request the page tried and every console error it produced.

Why the DevTools protocol: `Network.requestWillBeSent` fires for every request the renderer
issues, before the (blocked) network answers, so a request is seen even though it can never
succeed; `Runtime.consoleAPICalled`, `Runtime.exceptionThrown` and `Log.entryAdded` carry console
errors, script exceptions and Content-Security-Policy refusals. The network is blocked twice: all
traffic goes to a proxy address where nothing listens (127.0.0.1:9), and host names resolve to
nothing. tests/test_privacy_outputs.py proves the check can fail (a page with one remote <img>)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")


@dataclass
class PageReport:
    url: str
    requests: list[str] = field(default_factory=list)  # non-local URLs the page tried to load
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, CSP refusals
    loaded: bool = False


def _launch(profile: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-default-apps",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its renderer and zygote processes share the group: stopped together
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/..."
        line = proc.stderr.readline()
        m = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line or "")
        if m:
            return proc, m.group(1)
        if not line and proc.poll() is not None:
            break
    _stop(proc)
    raise RuntimeError("chromium did not start its DevTools endpoint")


async def _visit(port: str, url: str, settle: float, warmup: str) -> PageReport:
    import websockets

    # a fresh tab per page: no event of an earlier page can land in this report
    new = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
    page = json.loads(urllib.request.urlopen(new, timeout=10).read())
    report = PageReport(url=url)
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None) as ws:
        ids = iter(range(1, 10_000))
        loop = asyncio.get_running_loop()

        async def send(method: str, params: dict | None = None) -> None:
            await ws.send(json.dumps({"id": next(ids), "method": method, "params": params or {}}))

        async def load(target: str, record: bool) -> None:
            await send("Page.navigate", {"url": target})
            end, loaded = loop.time() + (60 if record else 10), False  # the warm-up's load event may be missed
            while loop.time() < end:
                try:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=max(0.05, end - loop.time())))
                except TimeoutError:
                    break
                method, params = msg.get("method"), msg.get("params", {})
                if method == "Page.loadEventFired" and not loaded:
                    loaded = True
                    end = loop.time() + (settle if record else 0.2)  # late script-driven requests still count
                if not record:
                    continue
                report.loaded = report.loaded or loaded
                if method == "Network.requestWillBeSent":
                    target_url = params["request"]["url"]
                    if not target_url.startswith(LOCAL_SCHEMES):
                        report.requests.append(target_url)
                elif method == "Network.loadingFailed" and "ERR_FILE_NOT_FOUND" not in params.get("errorText", ""):
                    report.errors.append(f"loading failed: {params.get('errorText')}")
                elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                    report.errors.append(
                        " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
                    )
                elif method == "Runtime.exceptionThrown":
                    report.errors.append(params["exceptionDetails"].get("text", "exception"))
                elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                    report.errors.append(params["entry"].get("text", ""))

        for method in ("Network.enable", "Runtime.enable", "Log.enable", "Page.enable"):
            await send(method)
        # first a blank local page: the tab's renderer is then a file:// one, so the page under
        # test loads without a process swap (during which early events could be missed)
        await load(warmup, record=False)
        await load(url, record=True)
    urllib.request.urlopen(f"http://127.0.0.1:{port}/json/close/{page['id']}", timeout=10).read()
    return report


def _stop(proc: subprocess.Popen) -> None:
    """Kill Chromium with every process it started (a renderer still writing into the profile made
    the profile's removal fail under load), then wait until the group is gone."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def check_pages(urls: list[str], settle: float = 1.0) -> list[PageReport]:
    """Visit each URL in one Chromium; one PageReport per URL."""
    with tempfile.TemporaryDirectory(prefix="doisoat-chromium-") as profile:
        warmup = Path(profile) / "blank.html"
        warmup.write_text("<!doctype html><title>blank</title>", encoding="utf-8")
        proc, port = _launch(Path(profile) / "profile")
        try:
            return [asyncio.run(_visit(port, url, settle, warmup.as_uri())) for url in urls]
        finally:
            _stop(proc)
