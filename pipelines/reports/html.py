"""The auditors' report: one self-contained HTML file per run.

What an auditor needs to re-trace a run: its inputs (files, SHA-256, row counts), parameters
and package versions; the outcome of every row; coverage against the targets by commune; the
distribution of match weights with both thresholds drawn; and, for reviewed and a sample of
probabilistically linked rows, how each comparison moved the score (a waterfall of partial
weights) and which candidates it beat.

Self-contained by construction: charts are inline SVG drawn in Python (charts.py), styles are
inline, the scripts are inline (the chart layout check read by the headless-browser test, the row
lookup) and a Content-Security-Policy meta forbids any fetch — the page opens from the file system
with no network. IDs are masked and names left out unless the report is generated unmasked; the
explanations are capped (200 reviewed + 50 sampled linked).

Small whatever the run's size: the page embeds aggregates, the capped lists and the review rows.
The row lookup of a run above INLINE_LOOKUP records reads side scripts in `<page>_tra_cuu/` next to
the page, one per CHUNK_ROWS input rows, loaded only when a row of theirs is asked for (the
Content-Security-Policy allows scripts of the page's own folder, 'self'; still no network): a
100,000-row run made a 24 MB page when every record was embedded. All record JSON is built by
DuckDB, not by a Python loop over the records.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from html import escape
from pathlib import Path
from string import Template

import duckdb
import polars as pl

from pipelines import labels as L
from pipelines.findings.coverage import DETERMINISTIC_METHODS
from pipelines.foreigners import ENTITY as FOREIGNER
from pipelines.foreigners import NOT_CSDLQG_SQL
from pipelines.formats import ZONE_NOTE, now_vn, vn_time
from pipelines.private_files import write_private_text
from pipelines.reports import charts
from pipelines.reports.masking import mask_id, mask_ids
from pipelines.reports.queries import population_issue_counts, run_info, standing_in
from pipelines.spec import RegistrySpec
from pipelines.warehouse import LINK_STATUSES, rows_table_name

TEMPLATE = Path(__file__).with_name("templates") / "audit.html"
MAX_REVIEW, MAX_SAMPLE, MAX_COMMUNES = 200, 50, 40
# The row lookup: up to INLINE_LOOKUP records embedded in the page (about 200 bytes each), more
# in side scripts of CHUNK_ROWS input rows each (_lookup_section)
INLINE_LOOKUP, CHUNK_ROWS = 5_000, 1_000
SIDE_SUFFIX = "_tra_cuu"
LOOKUP_JS = Path(__file__).with_name("templates") / "lookup.js"
RUN_STATUS = {"succeeded": "thành công", "failed": "thất bại", "running": "đang chạy"}


def _json(value) -> object:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value if value is not None else {}


def _table(headers: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _pct(v) -> str:
    return "" if v is None else f"{v:.2%}"


def _weight(p: float) -> float:
    """A probability threshold as a match weight (log2 odds): w = log2(p / (1 - p))."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _inputs_section(info: dict) -> str:
    files = _json(info.get("input_files")) or []

    def dropped(v):
        return len(v) if isinstance(v, list) else v

    rows = [
        [
            L.label(L.INPUT_ROLE, f.get("role")),
            f.get("file") or f.get("path"),
            f.get("rows"),
            dropped(f.get("dropped_rows")),
            f.get("bytes"),
            f.get("encoding"),
            f.get("sha256"),
        ]
        for f in files
    ]
    notes = _json(info.get("notes")) or []
    out = _table(["Vai trò", "Tệp", "Số dòng", "Dòng bỏ qua", "Byte", "Mã hoá", "SHA-256"], rows, "mono")
    out += f"<p>SHA-256 của trích xuất CSDLQG: <code>{escape(str(info.get('population_sha256') or ''))}</code></p>"
    if notes:
        out += "<ul>" + "".join(f"<li>{escape(str(n))}</li>" for n in notes) + "</ul>"
    return out


def _parameters_section(
    con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str, info: dict
) -> tuple[str, float, float]:
    model = con.execute("SELECT model, settings, blocking FROM match_models WHERE run_id = ?", [run_id]).fetchone()
    settings = _json(model[1]) if model else {}
    match_t = float(settings.get("match_threshold", spec.match.match_threshold))
    review_t = float(settings.get("review_threshold", spec.match.review_threshold))
    params = _json(info.get("parameters")) or {}
    rows = [
        ["Ngưỡng khớp (xác suất)", f"{match_t:.2f} (điểm {_weight(match_t):.2f})"],
        ["Ngưỡng cần xem xét (xác suất)", f"{review_t:.2f} (điểm {_weight(review_t):.2f})"],
        [
            "Phép so sánh",
            ", ".join(L.match_entry(L.COMPARISON, c) for c in settings.get("comparisons", spec.match.comparisons)),
        ],
        [
            "Luật phân khối",
            ", ".join(L.match_entry(L.RULE, r) for r in settings.get("blocking_rules", spec.match.blocking_rules)),
        ],
        ["Che số định danh", "không" if params.get("unmasked") else "có"],
    ]
    out = _table(["Tham số", "Giá trị"], rows)
    blocking = _json(model[2]) if model else []
    if isinstance(blocking, list) and blocking:
        blocking = {b.get("rule"): b.get("pairs") for b in blocking}
    if isinstance(blocking, dict) and blocking:
        out += "<h3>Số cặp so sánh theo luật phân khối</h3>" + _table(
            ["Luật phân khối", "Mã luật (trong kho dữ liệu)", "Số cặp"],
            [[L.label(L.RULE, k), k, f"{v:,}" if isinstance(v, int) else v] for k, v in blocking.items()],
            "mono",
        )
    versions = _json(info.get("package_versions")) or {}
    out += "<h3>Phiên bản phần mềm</h3>" + _table(
        ["Gói", "Phiên bản"], [[k, v] for k, v in sorted(versions.items())], "mono"
    )
    return out, match_t, review_t


def _outcomes(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple[dict[str, int], int, int, str]:
    """Outcomes of person records after reviewers' decisions (links_effective; equal to links when
    none). Organizations (land) are not persons and foreigners (ASM guests) not in CSDLQG: counted
    apart, never as "not found", so these figures share their denominator with `coverage` and the workbook."""
    counts = dict(
        con.execute(
            "SELECT status, count(*) FROM links_effective "
            f"WHERE run_id = ? AND coalesce(entity, 'person') NOT IN {NOT_CSDLQG_SQL} GROUP BY status",
            [run_id],
        ).fetchall()
    )
    apart = dict(
        con.execute(
            f"SELECT entity, count(*) FROM links_effective WHERE run_id = ? AND entity IN {NOT_CSDLQG_SQL} "
            "GROUP BY entity",
            [run_id],
        ).fetchall()
    )
    orgs, aliens = apart.get("organization", 0), apart.get(FOREIGNER, 0)
    parts = [(L.label(L.STATUS, s), int(counts.get(s, 0)), charts.STATUS_COLORS[s]) for s in LINK_STATUSES]
    legend = " ".join(f'<span style="background:{c}"></span>{escape(label)}: {n:,}' for label, n, c in parts)
    note = (
        f"<p>Ngoài ra {orgs:,} bản ghi là tổ chức (không phải cá nhân), "
        "không đối soát với CSDLQG và không tính vào các tỷ lệ.</p>"
        if orgs
        else ""
    ) + (
        f"<p>Ngoài ra {aliens:,} bản ghi là người nước ngoài (CSDLQG về dân cư không có), "
        "không đối soát và không tính vào các tỷ lệ.</p>"
        if aliens
        else ""
    )
    return (
        counts,
        orgs,
        aliens,
        charts.stacked_bar(parts, "Kết quả đối soát của mọi bản ghi cá nhân")
        + f'<p class="legend">{legend}</p>'
        + note,
    )


def _coverage_section(spec: RegistrySpec, coverage: pl.DataFrame) -> str:
    overall = coverage.filter(pl.col("level") == "all")
    bars = [(L.label(L.METRIC, r["metric"]), r["value"], r["target"]) for r in overall.iter_rows(named=True)]
    out = charts.hbar_targets(bars, "Tỷ lệ đạt so với mục tiêu Đề án 06 (vạch đen = mục tiêu)")
    out += _table(
        ["Chỉ tiêu", "Tỷ lệ đạt", "Mục tiêu", "Còn thiếu", "Đạt", "Tổng"],
        [
            [
                L.label(L.METRIC, r["metric"]),
                _pct(r["value"]),
                _pct(r["target"]),
                _pct(r["gap"]),
                r["numerator"],
                r["denominator"],
            ]
            for r in overall.iter_rows(named=True)
        ],
    )
    communes = coverage.filter(pl.col("level") == "commune")
    wide = {}
    for r in communes.iter_rows(named=True):
        wide.setdefault((r["ma_don_vi"], r["ten_don_vi"]), {"n": r["denominator"]})[r["metric"]] = r["value"] or 0.0
    ranked = sorted(wide.items(), key=lambda kv: (-kv[1]["n"], kv[0][1] or ""))[:MAX_COMMUNES]
    rows = [
        (
            f"{name} ({vals['n']:,})",
            [
                (vals.get("linked_id", 0.0), charts.GREEN, "Liên kết bằng số định danh"),
                (vals.get("linked_probabilistic", 0.0), charts.BLUE, "Liên kết xác suất"),
                (vals.get("linked_household", 0.0), charts.TEAL, "Đồng sở hữu liên kết qua hộ"),
            ],
        )
        for (code, name), vals in ranked
    ]
    out += f"<h3>Tỷ lệ liên kết theo xã/phường ({len(ranked)} xã có nhiều bản ghi nhất / {len(wide)})</h3>"
    legend = (
        '<span style="background:#2ca02c"></span>bằng số định danh/CMND '
        '<span style="background:#1f77b4"></span>bằng so khớp xác suất'
    )
    if spec.owner_split:
        legend += f' <span style="background:{charts.TEAL}"></span>đồng sở hữu tìm thấy trong hộ của người đứng tên đầu'
    out += f'<p class="legend">{legend}</p>'
    out += charts.stacked_hbars(rows, "Tỷ lệ bản ghi đã liên kết với CSDLQG theo xã/phường")
    return out


def _weights_section(con: duckdb.DuckDBPyConnection, run_id: str, match_t: float, review_t: float) -> str:
    frame = con.execute(
        "SELECT status, match_weight FROM links "
        "WHERE run_id = ? AND match_weight IS NOT NULL AND isfinite(match_weight)",
        [run_id],
    ).pl()
    by_status = {s: frame.filter(pl.col("status") == s)["match_weight"].to_list() for s in LINK_STATUSES}
    by_status = {s: v for s, v in by_status.items() if v}
    thresholds = [(_weight(review_t), "Ngưỡng xem xét", charts.ORANGE), (_weight(match_t), "Ngưỡng khớp", charts.GREEN)]
    legend = " ".join(
        f'<span style="background:{charts.STATUS_COLORS[s]}"></span>{escape(L.label(L.STATUS, s))} ({len(v):,})'
        for s, v in by_status.items()
    )
    return (
        f"<p>{frame.height:,} bản ghi có điểm khớp xác suất (liên kết bằng số định danh không cần điểm).</p>"
        f'<p class="legend">{legend}</p>' + charts.histogram(by_status, thresholds, "Phân bố điểm khớp với hai ngưỡng")
    )


def _checks_section(con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str) -> str:
    frame = con.execute(
        'SELECT "column", element_count, unexpected_count, unexpected_rate, success, details '
        'FROM expectation_results WHERE run_id = ? ORDER BY suite, "column"',
        [run_id],
    ).pl()
    rows = [
        [
            L.label(L.CHECKS, (_json(r["details"]) or {}).get("check")),
            L.column_label(spec, r["column"]),
            r["element_count"],
            r["unexpected_count"],
            _pct(r["unexpected_rate"]),
            "Đạt" if r["success"] else "Không đạt",
        ]
        for r in frame.iter_rows(named=True)
    ]
    return _table(["Kiểm tra", "Cột", "Số giá trị", "Số lỗi", "Tỷ lệ lỗi", "Kết quả"], rows) + (
        "<p>Các kiểm tra là bộ kỳ vọng Great Expectations sinh từ đặc tả của sổ; "
        "kết quả (chỉ số đếm, không có giá trị) ghi ở đây "
        "và trong bảng <code>expectation_results</code> của kho dữ liệu.</p>"
    )


def _prior(con: duckdb.DuckDBPyConnection, run_id: str) -> float:
    """The model's prior log2 odds (λ): where every waterfall starts."""
    model = con.execute("SELECT model FROM match_models WHERE run_id = ?", [run_id]).fetchone()
    return float((_json(model[0]) or {}).get("prior_log2_odds", 0.0)) if model else 0.0


def _explanations(con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str, unmasked: bool) -> str:
    name_col = spec.role_column("ho_ten")
    name_sql = f'r."{name_col.name}"' if (unmasked and name_col) else "NULL"
    chosen = con.execute(
        f"""
        WITH reviewed AS (
            SELECT * FROM links WHERE run_id = $run_id AND status = 'review'
            ORDER BY match_probability DESC, source_row LIMIT {MAX_REVIEW}
        ),
        sampled AS (
            SELECT * FROM links WHERE run_id = $run_id AND status = 'matched' AND method = 'probabilistic'
            ORDER BY hash(source_row, owner_index) LIMIT {MAX_SAMPLE}
        ),
        chosen AS (SELECT * FROM reviewed UNION ALL SELECT * FROM sampled)
        SELECT c.source_file, c.source_row, c.excel_row, c.owner_index, c.status, c.pop_rec_id,
               c.so_dinh_danh, c.match_weight, c.match_probability, {name_sql} AS ho_ten
        FROM chosen c LEFT JOIN "{rows_table_name(spec.name)}" r
          ON r.run_id = $run_id AND r.source_file = c.source_file AND r.source_row = c.source_row
        ORDER BY c.status DESC, c.match_probability DESC, c.source_row
        """,
        {"run_id": run_id},
    ).pl()
    if chosen.height == 0:
        return "<p>Không có bản ghi nào cần giải thích (mọi liên kết đều bằng số định danh).</p>"
    prior = _prior(con, run_id)
    con.register("_chosen_records", chosen.select("source_row", "owner_index").to_arrow())
    try:  # evidence of the chosen records only (a large run keeps millions of evidence rows)
        evidence = con.execute(
            """
            SELECT e.source_row, e.owner_index, e.pop_rec_id, e.so_dinh_danh, e.candidate_rank,
                   e.comparison, e.level, e.partial_weight
            FROM link_evidence e
            SEMI JOIN _chosen_records c ON c.source_row = e.source_row AND c.owner_index = e.owner_index
            WHERE e.run_id = $run_id
            ORDER BY e.source_row, e.owner_index, e.candidate_rank, e.comparison
            """,
            {"run_id": run_id},
        ).pl()
    finally:
        con.unregister("_chosen_records")
    by_record = {k: g for k, g in evidence.group_by(["source_row", "owner_index"], maintain_order=True)}
    mask = (lambda v: v) if unmasked else mask_id
    parts = []
    for rec in chosen.iter_rows(named=True):
        ev = by_record.get((rec["source_row"], rec["owner_index"]))
        who = f"{rec['source_file']}, dòng {rec['excel_row']}" + (
            f", người thứ {rec['owner_index'] + 1}" if spec.owner_split else ""
        )
        if rec["ho_ten"]:
            who += f" — {rec['ho_ten']}"
        prob = "" if rec["match_probability"] is None else f" — xác suất {rec['match_probability']:.1%}"
        head = f"{who} — {L.label(L.STATUS, rec['status'])}{prob}"
        if ev is None or ev.height == 0:
            parts.append(
                f"<details><summary>{escape(head)}</summary><p>Không có bằng chứng so sánh được lưu.</p></details>"
            )
            continue
        cands = []
        for (pop_id, sdd, rank), g in ev.group_by(
            ["pop_rec_id", "so_dinh_danh", "candidate_rank"], maintain_order=True
        ):
            total = prior + float(g["partial_weight"].fill_null(0).sum())
            cands.append({"pop": pop_id, "sdd": sdd, "rank": rank, "total": total, "g": g})
        cands.sort(key=lambda c: c["rank"])
        best = next((c for c in cands if c["pop"] == rec["pop_rec_id"]), cands[0])
        steps = [(L.label(L.COMPARISON, "prior"), prior, "")] + [
            (
                L.label(L.COMPARISON, r["comparison"]),
                float(r["partial_weight"] or 0.0),
                L.label(L.COMPARISON_LEVEL, r["level"] or ""),
            )
            for r in best["g"].iter_rows(named=True)
        ]
        svg = charts.waterfall(steps, "Tổng điểm", f"Đóng góp của từng phép so sánh: {head}")
        comps = sorted({c for cand in cands for c in cand["g"]["comparison"].to_list()})
        rows = []
        for cand in cands:
            lv = {c: L.label(L.COMPARISON_LEVEL, v) for c, v in zip(cand["g"]["comparison"], cand["g"]["level"])}
            p = 1 / (1 + 2 ** (-cand["total"])) if cand["total"] > -1000 else 0.0
            rows.append(
                [cand["rank"], mask(cand["sdd"]) if cand["sdd"] else "", f"{cand['total']:.2f}", f"{p:.1%}"]
                + [lv.get(c, "") for c in comps]
            )
        table = _table(
            ["Hạng", "Số định danh ứng viên", "Điểm", "Xác suất"] + [L.label(L.COMPARISON, c) for c in comps],
            rows,
            "mono",
        )
        parts.append(
            f"<details><summary>{escape(head)}</summary>{svg}<h4>Các ứng viên đã so sánh</h4>{table}</details>"
        )
    n_review = chosen.filter(pl.col("status") == "review").height
    intro = (
        f"<p>{n_review:,} bản ghi cần xem xét (tối đa {MAX_REVIEW}) và "
        f"{chosen.height - n_review:,} bản ghi đã khớp xác suất được chọn ngẫu nhiên (tối đa {MAX_SAMPLE}). "
        "Bấm vào một dòng để xem điểm từng phép so sánh.</p>"
    )
    return intro + "\n".join(parts)


def _lookup_records(con: duckdb.DuckDBPyConnection, run_id: str, unmasked: bool) -> pl.DataFrame:
    """Every record of the run as one JSON text each, with no Python loop over rows: `key`
    "excel_row:owner_index", `rec` [status, method, probability, pop_rec_id, decision,
    candidates, the earlier run a kept link comes from],
    each candidate [rank, pop_rec_id, ID (masked), [[comparison, level, weight]…]]
    (rank <= 5), and `chunk` (excel_row // CHUNK_ROWS), ordered by row.

    DuckDB writes every JSON value (its escaping and number format) and sorts; polars joins the
    values into lists (DuckDB's ordered list aggregates took most of the report's time at 100,000
    records). IDs are masked by `mask_ids`, once per distinct ID, and joined in."""
    params = {"run_id": run_id}
    evidence = con.execute(
        """
        SELECT source_row, owner_index, candidate_rank, pop_rec_id, so_dinh_danh AS sdd,
               '[' || coalesce(to_json(comparison), 'null') || ',' || coalesce(to_json(level), 'null') || ','
                   || to_json(coalesce(round(partial_weight, 3), 0.0)) || ']' AS part
        FROM link_evidence
        WHERE run_id = $run_id AND candidate_rank <= 5
        ORDER BY source_row, owner_index, candidate_rank, pop_rec_id, comparison
        """,
        params,
    ).pl()
    ids = evidence.select(pl.col("sdd").unique().drop_nulls())
    shown = ids.with_columns(shown=ids["sdd"] if unmasked else mask_ids(ids["sdd"]))
    con.register("_lookup_ids", shown.to_arrow())
    try:  # the IDs as JSON strings, escaped by DuckDB like every other value
        shown = con.execute("SELECT sdd, to_json(shown) AS shown FROM _lookup_ids").pl()
    finally:
        con.unregister("_lookup_ids")
    record = ["source_row", "owner_index"]
    candidates = (
        evidence.group_by([*record, "candidate_rank", "pop_rec_id"], maintain_order=True)
        .agg(pl.col("sdd").drop_nulls().first(), parts="[" + pl.col("part").str.join(",") + "]")
        .join(shown, on="sdd", how="left", maintain_order="left")
        .group_by(record, maintain_order=True)
        .agg(
            cands="["
            + pl.concat_str(
                pl.lit("["),
                pl.col("candidate_rank").cast(pl.String),
                pl.lit(","),
                pl.col("pop_rec_id").cast(pl.String).fill_null("null"),
                pl.lit(","),
                pl.col("shown").fill_null("null"),
                pl.lit(","),
                "parts",
                pl.lit("]"),
            ).str.join(",")
            + "]"
        )
    )
    records = con.execute(
        """
        SELECT source_row, owner_index, excel_row // $chunk_rows AS chunk,
               excel_row::VARCHAR || ':' || owner_index::VARCHAR AS key,
               json_array(status, method, round(match_probability, 6), pop_rec_id, review_decision)::VARCHAR AS head,
               to_json(CASE WHEN link_from_run <> run_id THEN link_from_run END) AS tail
        FROM links_effective
        WHERE run_id = $run_id
        ORDER BY excel_row, owner_index
        """,
        {**params, "chunk_rows": CHUNK_ROWS},
    ).pl()
    return records.join(candidates, on=record, how="left", maintain_order="left").select(
        "chunk",
        "key",
        rec=pl.concat_str(
            pl.col("head").str.head(-1),
            pl.lit(","),
            pl.col("cands").fill_null("[]"),
            pl.lit(","),
            pl.col("tail").fill_null("null"),
            pl.lit("]"),
        ),
    )


def _records_json(frame: pl.DataFrame) -> str:
    """`"key":rec,…` of a frame of _lookup_records (the keys are digits and a colon: no escaping)."""
    return ",".join(('"' + frame["key"] + '":' + frame["rec"]).to_list())


def _lookup_section(
    con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str, unmasked: bool, prior: float, path: Path
) -> str:
    """A search box over every record of the run, rendered by lookup.js: outcome, method,
    probability, reviewer decision and, where candidates were compared, the waterfall of the best
    one and the candidates it beat (rank <= 5).

    Up to INLINE_LOOKUP records the data is a JSON block in the page (one self-contained file).
    A larger run would make a page of tens of MB (24 MB at 100,000 records), slow to open, so its
    records go to `<page>_tra_cuu/<k>.js`, one small script per CHUNK_ROWS rows of the input file
    next to the page; the page loads only the one holding the row asked for, with a <script src>
    (a fetch() of a file:// address is refused by browsers; a script from the page's own folder is
    allowed by the page's Content-Security-Policy 'self' and needs no network or server)."""
    frame = _lookup_records(con, run_id, unmasked)
    side = path.with_name(path.stem + SIDE_SUFFIX)
    if side.exists():  # a report regenerated into the same folder: no chunk of the former one stays
        shutil.rmtree(side)
    data = {
        "prior": prior,
        "owner_split": spec.owner_split,
        "truncated": False,
        "embedded": frame.height,
        "deterministic": list(DETERMINISTIC_METHODS),
        "labels": {
            "status": L.STATUS,
            "method": L.METHOD,
            "decision": L.DECISION,
            "comparison": L.COMPARISON,
            "level": L.COMPARISON_LEVEL,
        },
    }
    if frame.height <= INLINE_LOOKUP:
        records = "{" + _records_json(frame) + "}"
        note = ""
    else:
        records = "{}"
        chunks = []
        for (chunk,), part in frame.group_by("chunk", maintain_order=True):
            write_private_text(side / f"{chunk}.js", f"doisoatLookupChunk({chunk},{{{_records_json(part)}}});\n")
            chunks.append(chunk)
        data.update({"chunks": chunks, "chunk_rows": CHUNK_ROWS, "folder": side.name})
        note = (
            f"<p>{frame.height:,} bản ghi: dữ liệu tra cứu nằm trong thư mục <code>{escape(side.name)}</code> "
            "bên cạnh tệp này (mỗi tệp một nhóm dòng, trang chỉ mở tệp của dòng được hỏi); "
            "gửi báo cáo thì gửi kèm cả thư mục.</p>"
        )
    meta = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    blob = (meta[:-1] + ',"records":' + records + "}").replace("</", "<\\/")
    owner_input = (
        '<label>người thứ <input name="nguoi" type="number" min="1" value="1" style="width:4em"></label>'
        if spec.owner_split
        else ""
    )
    return (
        "<h3>Tra cứu một bản ghi</h3>"
        "<p>Nhập số dòng trong tệp (như cán bộ thấy trong Excel) để xem vì sao bản ghi được khớp, "
        "cần xem xét hoặc không khớp. "
        "Có thể mở thẳng một dòng bằng địa chỉ <code>…_audit.html#dong=12</code>.</p>"
        '<form id="lookup-form"><label>Dòng <input name="dong" type="number" min="1" style="width:7em"></label> '
        f"{owner_input} "
        '<button type="submit">Xem</button></form>'
        f'{note}<div id="lookup-result"></div>'
        f'<script type="application/json" id="lookup-data">{blob}</script>'
        f"<script>{LOOKUP_JS.read_text(encoding='utf-8')}</script>"
    )


MAX_POPULATION_ISSUES = 200


def _population_section(con: duckdb.DuckDBPyConnection, run_id: str, unmasked: bool) -> str:
    """The CSDLQG extract's own problems (validation.population.population_issues): counts, then the first rows."""

    counts = population_issue_counts(con, run_id)
    if counts.height == 0:
        return (
            "<p>Không phát hiện vấn đề nào trong trích xuất CSDLQG (số định danh không lặp lại, "
            "khớp giới tính và năm sinh, ngày mất sau ngày sinh).</p>"
        )
    out = _table(
        ["Vấn đề", "Số dòng", "Số định danh khác nhau"],
        [
            [L.label(L.POPULATION_ISSUE, r["issue"]), f"{r['rows']:,}", f"{r['ids']:,}"]
            for r in counts.iter_rows(named=True)
        ],
    )
    rows = con.execute(
        """
        WITH extract AS (SELECT population_sha256 AS sha FROM runs WHERE run_id = $run_id)
        SELECT excel_row, so_dinh_danh, issue, detail FROM population_issues
        WHERE extract_sha256 = (SELECT sha FROM extract) ORDER BY pop_rec_id, issue LIMIT $limit
        """,
        {"run_id": run_id, "limit": MAX_POPULATION_ISSUES},
    ).pl()
    mask = (lambda v: v) if unmasked else mask_id
    total = int(counts["rows"].sum())
    out += (
        f"<h3>Các dòng có vấn đề (tối đa {MAX_POPULATION_ISSUES}; "
        'đủ danh sách trong sổ Excel, trang "Vấn đề trích xuất CSDLQG")</h3>'
    )
    out += _table(
        ["Dòng trong tệp CSDLQG", "Số định danh", "Vấn đề", "Chi tiết"],
        [
            [
                r["excel_row"],
                mask(r["so_dinh_danh"]) if r["so_dinh_danh"] else "",
                L.label(L.POPULATION_ISSUE, r["issue"]),
                r["detail"] or "",
            ]
            for r in rows.iter_rows(named=True)
        ],
        "mono",
    )
    return (
        f"<p>{total:,} vấn đề trong trích xuất CSDLQG dùng cho lần chạy này; "
        "chúng được báo cáo, không làm dừng đối soát.</p>" + out
    )


def _changes_section(
    con: duckdb.DuckDBPyConnection, run_id: str, changes: Callable[[], pl.DataFrame] | None = None
) -> str:
    """Biến động so với lần trước: counts per kind of change and the coverage then and now (views
    `changes`, `coverage_changes`; `changes` gives the run's rows of the first when computed once
    for both reports); the records themselves are in the workbook's sheet."""
    previous = con.execute(
        "SELECT any_value(previous_run_id) FROM coverage_changes WHERE run_id = ?", [run_id]
    ).fetchone()[0]
    if previous is None:
        return "<p>Đây là lần chạy đầu tiên của sổ này trong kho dữ liệu: chưa có lần trước để so sánh.</p>"
    with standing_in(con, "changes", changes() if changes else None):
        counts = dict(
            con.execute("SELECT change, count(*) FROM changes WHERE run_id = ? GROUP BY change", [run_id]).fetchall()
        )
    out = (
        f"<p>So với lần chạy <code>{escape(previous)}</code>; "
        f"danh sách từng hồ sơ ở trang “{L.CHANGES_SHEET}” của sổ Excel.</p>"
    )
    out += _table(["Biến động", "Số hồ sơ"], [[L.label(L.CHANGE, c), f"{counts.get(c, 0):,}"] for c in L.CHANGE])
    cov = con.execute(
        "SELECT metric, previous_value, value, change FROM coverage_changes "
        "WHERE run_id = ? AND level = 'all' ORDER BY metric",
        [run_id],
    ).fetchall()
    out += "<h3>Tỷ lệ: lần trước và lần này</h3>" + _table(
        ["Chỉ tiêu", "Lần trước", "Lần này", "Thay đổi"],
        [[L.label(L.METRIC, m), _pct(p), _pct(v), "" if d is None else f"{d * 100:+.1f} điểm %"] for m, p, v, d in cov],
    )
    return out


def _review_section(con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str, unmasked: bool) -> str:
    """What reviewers decided on the run's review candidates: who, when, from which workbook."""
    decided = con.execute(
        """
        SELECT l.source_file, l.excel_row, l.owner_index,
               CASE WHEN d.decision = 'accept' THEN e.so_dinh_danh ELSE l.so_dinh_danh END AS so_dinh_danh,
               l.match_probability,
               d.decision, d.reviewer, d.decided_at, d.note, d.decision_file, d.decision_file_sha256, e.status AS after
        FROM links l
        LEFT JOIN review_decisions_latest d
          ON d.run_id = l.run_id AND d.source_file = l.source_file
         AND d.source_row = l.source_row AND d.owner_index = l.owner_index
        LEFT JOIN links_effective e
          ON e.run_id = l.run_id AND e.source_file = l.source_file
         AND e.source_row = l.source_row AND e.owner_index = l.owner_index
        WHERE l.run_id = $run_id AND l.status = 'review'
        ORDER BY d.decided_at NULLS LAST, l.source_row, l.owner_index
        """,
        {"run_id": run_id},
    ).pl()
    if decided.height == 0:
        return "<p>Lần chạy này không có bản ghi cần xem xét.</p>"
    n_acc = decided.filter(pl.col("decision") == "accept").height
    n_rej = decided.filter(pl.col("decision") == "reject").height
    pending = decided.height - n_acc - n_rej
    history = con.execute("SELECT count(*) FROM review_decisions WHERE run_id = ?", [run_id]).fetchone()[0]
    out = (
        f"<p>{decided.height:,} bản ghi cần xem xét: {n_acc:,} được xác nhận là cùng một người, {n_rej:,} bị bác bỏ, "
        f"{pending:,} chưa có quyết định. "
        f"Nhật ký lưu {history:,} quyết định (kể cả quyết định đã được thay bằng quyết định sau). "
        "Kết quả, tỷ lệ và các danh sách của báo cáo này đã tính theo các quyết định; "
        "bảng <code>links</code> giữ nguyên kết quả của thuật toán, "
        "bảng <code>links_effective</code> là kết quả sau xem xét.</p>"
    )
    mask = (lambda v: v) if unmasked else mask_id
    fmt = lambda t: vn_time(t, zone=False)  # noqa: E731  (the column header names the zone)
    rows = [
        [r["source_file"], r["excel_row"]]
        + ([r["owner_index"] + 1] if spec.owner_split else [])
        + [
            mask(r["so_dinh_danh"]) if r["so_dinh_danh"] else "",
            _pct(r["match_probability"]),
            L.label(L.DECISION, r["decision"]) or "Chưa quyết định",
            L.label(L.STATUS, r["after"]),
            r["reviewer"] or "",
            fmt(r["decided_at"]),
            r["note"] or "",
            f"{r['decision_file']} ({r['decision_file_sha256'][:12]}…)" if r["decision_file"] else "",
        ]
        for r in decided.iter_rows(named=True)
    ]
    headers = (
        ["Tệp nguồn", "Dòng"]
        + (["Người thứ"] if spec.owner_split else [])
        + [
            "Người được chọn / ứng viên đầu",
            "Xác suất (ứng viên đầu)",
            "Quyết định",
            "Kết quả sau xem xét",
            "Người xem xét",
            f"Thời điểm ({ZONE_NOTE})",
            "Ghi chú",
            "Sổ quyết định (SHA-256)",
        ]
    )
    return out + _table(headers, rows)


def write_html(
    con: duckdb.DuckDBPyConnection,
    spec: RegistrySpec,
    run_id: str,
    coverage: pl.DataFrame,
    path: Path,
    unmasked: bool = False,
    changes: Callable[[], pl.DataFrame] | None = None,
) -> Path:
    """Write the audit page (and the row lookup's side scripts) of one run. `changes` gives the
    run's rows of the `changes` view when computed once for both reports (queries.changes_of_run)."""
    info = run_info(con, run_id)
    counts, orgs, aliens, outcome_svg = _outcomes(con, run_id)
    params_html, match_t, review_t = _parameters_section(con, spec, run_id, info)
    started = info.get("started_at")
    finished = info.get("finished_at")
    fmt = lambda t: vn_time(t, seconds=True)  # noqa: E731
    total = sum(counts.values())
    cards = "".join(
        f'<div class="card"><div class="n">{n:,}</div><div>{escape(label)}</div></div>'
        for label, n in [("Bản ghi cá nhân", total)]
        + [(L.label(L.STATUS, s), int(counts.get(s, 0))) for s in LINK_STATUSES]
        + ([("Tổ chức (không đối soát)", orgs)] if orgs else [])
        + ([("Người nước ngoài (không đối soát)", aliens)] if aliens else [])
    )
    html = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=escape(f"Báo cáo kiểm toán đối soát — {spec.title_vi}"),
        registry=escape(spec.title_vi),
        run_id=escape(run_id),
        status=escape(RUN_STATUS.get(str(info.get("status")), str(info.get("status") or ""))),
        started=escape(fmt(started)),
        finished=escape(fmt(finished)),
        masked="IDs hiển thị đầy đủ (--unmasked)"
        if unmasked
        else "Số định danh đã được che một phần; không hiển thị họ tên",
        cards=cards,
        outcomes=outcome_svg,
        inputs=_inputs_section(info),
        parameters=params_html,
        population=_population_section(con, run_id, unmasked),
        coverage=_coverage_section(spec, coverage),
        weights=_weights_section(con, run_id, match_t, review_t),
        checks=_checks_section(con, spec, run_id),
        explanations=_lookup_section(con, spec, run_id, unmasked, _prior(con, run_id), path)
        + "<h3>Bản ghi cần xem xét và mẫu bản ghi khớp xác suất</h3>"
        + _explanations(con, spec, run_id, unmasked),
        review=_review_section(con, spec, run_id, unmasked),
        changes=_changes_section(con, run_id, changes),
        generated=escape(now_vn()),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
