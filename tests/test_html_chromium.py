"""Render the audit report in real headless Chromium, offline: the charts must draw and the page
must make no request (DNS resolution is disabled, and CSP violations would be logged)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import reports_warehouse as rw

from pipelines.reports import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium); .ci/run installs it"
)


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_report_renders_offline_with_charts(tmp_path):
    con = rw.build(tmp_path / "w.duckdb")
    html = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    con.close()
    source = html.read_text(encoding="utf-8")
    assert not re.search(r"https?://", source), "the report must not reference any network address"

    done = _chromium(tmp_path, "--dump-dom", html.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # the DOM after rendering holds the charts with their drawn bars and both thresholds
    assert dom.count("<svg") >= 6
    assert len(re.findall(r'<rect class="bar"', dom)) >= 10
    assert dom.count('class="threshold"') == 2
    # the page's own inline script measured the laid-out charts: the 4 always-open ones drew
    drawn = re.search(r'data-charts-drawn="(\d+)"', dom)
    assert drawn and int(drawn.group(1)) >= 4
    assert "Tỷ lệ so với mục tiêu Đề án 06" in dom
    # nothing was blocked by the Content-Security-Policy, so nothing tried to load
    assert "Content Security Policy" not in done.stderr
    assert "net::ERR" not in done.stderr

    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, "--window-size=1280,1000", f"--screenshot={shot}", html.as_uri())
    assert done.returncode == 0 and shot.stat().st_size > 10_000


def _assert_row_9_shown(tmp_path, html) -> subprocess.CompletedProcess:
    """Open the page on #dong=9 (the crafted review row): its waterfall and the two candidates it
    was compared with, masked, drawn by the page's own script."""
    done = _chromium(tmp_path, "--dump-dom", html.as_uri() + "#dong=9")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    result = dom[dom.index('id="lookup-result"') :]
    result = result[: result.index("</div>")]
    assert 'data-shown="9:0"' in dom
    assert "Dòng 9 — Cần xem xét" in result
    assert result.count('<rect class="bar"') == 7  # prior + 5 comparisons + total
    assert "*********077" in result and "*********055" in result
    return done


def test_row_lookup_renders_from_the_address(tmp_path):
    """report.html#dong=9 opens the lookup on row 9 (the crafted review row): its waterfall and
    the two candidates it was compared with are drawn by the page's own script, offline."""
    con = rw.build(tmp_path / "w.duckdb")
    html = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    con.close()
    done = _assert_row_9_shown(tmp_path, html)
    assert "Content Security Policy" not in done.stderr


def test_row_lookup_of_a_large_run_loads_its_side_script_offline(tmp_path, monkeypatch):
    """A large run's lookup reads `<page>_tra_cuu/<k>.js` with a <script src> when a row is asked
    for: from disk, network blocked, no server, no request and no console error. The crafted run
    takes that path with the limits lowered (2 records inline, 4 rows per side script)."""
    from chromium_offline import check_pages

    from pipelines.reports import html as html_report

    monkeypatch.setattr(html_report, "INLINE_LOOKUP", 2)
    monkeypatch.setattr(html_report, "CHUNK_ROWS", 4)
    con = rw.build(tmp_path / "w.duckdb")
    html = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    con.close()
    embedded = html.read_text(encoding="utf-8").split('id="lookup-data">')[1].split("</script>")[0]
    assert '"records":{}' in embedded and "*********077" not in embedded  # row 9 comes from its side script
    _assert_row_9_shown(tmp_path, html)
    (report,) = check_pages([html.as_uri() + "#dong=9"])
    assert report.loaded and report.requests == [] and report.errors == []


def test_row_lookup_names_the_run_a_kept_link_comes_from(tmp_path):
    """Record 4 (Excel row 8) was linked by an earlier run and kept (runs that remember): the lookup says which."""
    con = rw.build(tmp_path / "w.duckdb")
    con.execute(
        "UPDATE links SET link_from_run = 'social_welfare-20261024T100000Z-def456' WHERE run_id = ? AND source_row = 4",
        [rw.RUN_ID],
    )
    html = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    con.close()
    done = _chromium(tmp_path, "--dump-dom", html.as_uri() + "#dong=8")
    assert done.returncode == 0, done.stderr[-2000:]
    result = done.stdout[done.stdout.index('id="lookup-result"') :]
    result = result[: result.index("</p>")]
    assert "Dòng 8 — Đã khớp" in result and "liên kết giữ từ lần chạy social_welfare-20261024T100000Z-def456" in result
    done = _chromium(tmp_path, "--dump-dom", html.as_uri() + "#dong=5")
    head = done.stdout[done.stdout.index('id="lookup-result"') :]
    head = head[: head.index("</p>")]
    assert "Dòng 5 — Đã khớp" in head and "liên kết giữ từ" not in head
