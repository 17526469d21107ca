"""Runs that remember the previous run: which links are kept, which model scores, which mode ran.

Why: officers run the same registry every month on next month's file and next month's CSDLQG
extract. Most records and most persons have not changed; re-deciding them costs time and, worse,
lets links move for no reason. So a run that finds an earlier successful run of its registry in
the warehouse (`plan`):

- keeps every link of that run whose record and person are both unchanged — the record by its
  `record_key` and `identity_hash` (pipelines/normalize.py), the person by `so_dinh_danh` and
  `person_hash` — with the run that made the link (`links.link_from_run`). Kept links are stable:
  a new row that matches a kept person is its duplicate, not a thief of its link
  (`matching.link.link_records(kept=...)`);
- re-tries everything else: new and changed records, records whose person changed (died, moved,
  corrected name or date) or left the extract (an ID replaced), unmatched, review and duplicate
  rows (new persons may have arrived), and records with a reviewer's decision (decisions rule them);
- scores with the model of the run it was trained in, with that run's term frequencies (frozen),
  unless `retrain` (the monthly full run) or the match settings changed.

Modes (`runs.mode`): `first` (no earlier run: every record matched, model trained), `incremental`
(kept records are not matched again: only their kept pair is scored), `full` (every record goes
through the ID passes and blocking again; kept links still hold; with `retrain` a new model).
An incremental run gives the links a full run with the same model gives (tests/test_incremental.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import progress, warehouse
from pipelines.spec import RegistrySpec, spec_to_dict

# The latest succeeded run of the registry that saved a model, with the run the model was trained in.
PREVIOUS_RUN_SQL = """
SELECT r.run_id, r.population_sha256, m.model, m.settings,
       coalesce(m.trained_in_run_id, r.run_id) AS trained_in_run_id
FROM runs r JOIN match_models m USING (run_id)
WHERE r.registry = $registry AND r.status = 'succeeded' AND r.run_id <> $run_id
ORDER BY r.started_at DESC
LIMIT 1
"""

# That run's links to a person, with the record's fingerprints and the person's as they were then
# (runs before links.person_hash existed: from that run's extract).
PREVIOUS_LINKS_SQL = """
WITH linked AS (
    SELECT l.run_id, l.source_row, l.owner_index, l.so_dinh_danh, l.method, l.person_hash,
           coalesce(l.link_from_run, l.run_id) AS link_from_run
    FROM links l
    WHERE l.run_id = $run_id AND l.status = 'matched' AND l.entity = 'person' AND l.so_dinh_danh IS NOT NULL
),
with_record AS (
    SELECT x.*, rp.record_key, rp.identity_hash
    FROM linked x
    JOIN registry_persons rp
      ON rp.run_id = x.run_id AND rp.source_row = x.source_row AND rp.owner_index = x.owner_index
    WHERE rp.record_key IS NOT NULL
)
SELECT w.record_key, w.identity_hash, w.so_dinh_danh, w.method, w.link_from_run,
       coalesce(w.person_hash, (SELECT any_value(p.person_hash) FROM population p
                                WHERE p.extract_sha256 = $population_sha256 AND p.so_dinh_danh = w.so_dinh_danh))
         AS person_hash
FROM with_record w
"""

TERM_FREQUENCIES_SQL = "SELECT tf_column, value, tf FROM term_frequencies WHERE run_id = $run_id"

# Why a link of the previous run was not kept (counts in the run's notes and row_counts).
FATES = ("kept", "record_changed", "record_gone", "person_changed", "person_missing", "decided", "key_not_unique")


@dataclass
class Plan:
    """What this run takes from the previous one (empty for a first run)."""

    mode: str  # first, incremental or full
    previous_run_id: str | None = None
    model_run_id: str | None = None  # None: this run trains its own model
    model: dict | None = None
    term_frequencies: dict[str, pl.DataFrame] | None = None
    kept: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=KEPT_SCHEMA))
    fates: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rematch_kept(self) -> bool:
        return self.mode != "incremental"

    def engine_options(self) -> dict:
        """`matching.link.link_records` keyword arguments: kept links, frozen model and its counts."""
        return {
            "kept": self.kept,
            "rematch_kept": self.rematch_kept,
            "model": self.model,
            "term_frequencies": self.term_frequencies,
        }

    def counts(self) -> dict[str, int]:
        """For the ledger's row_counts: links kept and why the others were re-tried."""
        return {"links_kept": self.kept.height, **{f"previous_links_{k}": n for k, n in self.fates.items()}}


KEPT_SCHEMA = {"rec_id": pl.Int64, "pop_rec_id": pl.Int64, "method": pl.String, "link_from_run": pl.String}


def _read(db: Path, spec: RegistrySpec, sql: str, params: dict) -> pl.DataFrame:
    con = warehouse.connect(db, [spec])
    try:
        return con.execute(sql, params).pl()
    finally:
        con.close()


def _frozen_frequencies(db: Path, spec: RegistrySpec, run_id: str, model: dict) -> dict[str, pl.DataFrame] | None:
    """The trained-in run's term frequencies, keyed as the model's levels count them; None if not saved."""
    keys = {
        lv["tf"]["column"]: lv["tf"]["key"]
        for c in model["comparisons"].values()
        for lv in c["levels"]
        if lv.get("tf") and lv["tf"].get("key")
    }
    stored = _read(db, spec, TERM_FREQUENCIES_SQL, {"run_id": run_id})
    if keys and stored.is_empty():
        return None
    return {
        col: stored.filter(pl.col("tf_column") == col).select(pl.col("value").alias(key), "tf")
        for col, key in keys.items()
    }


def kept_links(
    previous: pl.DataFrame, persons: pl.DataFrame, population: pl.DataFrame, carried: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The previous run's links that still hold, as this run's (rec_id, pop_rec_id), and every other's fate.

    A record key or an ID that is not unique in either run cannot be recognized: nothing is kept for it."""
    listed_now = persons.filter(pl.col("record_key").is_not_null()).select(
        "rec_id", "record_key", pl.col("identity_hash").alias("identity_now"), pl.len().over("record_key").alias("_n")
    )
    persons_now = population.filter(pl.col("so_dinh_danh").is_not_null() & pl.col("so_dinh_danh").is_unique()).select(
        "so_dinh_danh", "pop_rec_id", pl.col("person_hash").alias("person_now")
    )
    decided = set(carried["rec_id"].to_list()) if carried.height else set()
    joined = (
        previous.with_columns(pl.len().over("record_key").alias("_n_prev"))
        .join(listed_now, on="record_key", how="left")
        .join(persons_now, on="so_dinh_danh", how="left")
        .with_columns(
            pl.when(pl.col("rec_id").is_null())
            .then(pl.lit("record_gone"))
            .when((pl.col("_n_prev") > 1) | (pl.col("_n") > 1))
            .then(pl.lit("key_not_unique"))
            .when(pl.col("identity_now") != pl.col("identity_hash"))
            .then(pl.lit("record_changed"))
            .when(pl.col("pop_rec_id").is_null())
            .then(pl.lit("person_missing"))
            .when(pl.col("person_now").is_null() | (pl.col("person_now") != pl.col("person_hash")))
            .then(pl.lit("person_changed"))
            .when(pl.col("rec_id").is_in(list(decided)))
            .then(pl.lit("decided"))
            .otherwise(pl.lit("kept"))
            .alias("fate")
        )
        # a key listed twice joins each previous link to each row: one fate per previous link
        .unique(subset=["record_key", "so_dinh_danh"], keep="first", maintain_order=True)
    )
    fates = dict.fromkeys(FATES, 0)
    fates.update(dict(joined.group_by("fate").len().iter_rows()))
    kept = joined.filter(pl.col("fate") == "kept").select([pl.col(c).cast(t) for c, t in KEPT_SCHEMA.items()])
    return kept.sort("rec_id"), fates


def _mode_note(plan: Plan) -> str:
    if plan.mode == "first":
        return "Lần chạy đầu tiên của sổ này trong kho: ghép toàn bộ và huấn luyện mô hình."
    f = plan.fates
    retried = sum(n for k, n in f.items() if k not in ("kept", "record_gone"))
    head = {
        "incremental": "Chạy tăng dần",
        "full": "Chạy toàn bộ",
    }[plan.mode]
    model = (
        f"mô hình của lần chạy {plan.model_run_id}" if plan.model_run_id else "mô hình huấn luyện lại ở lần chạy này"
    )
    n = progress.number
    return (
        f"{head} so với lần chạy {plan.previous_run_id}: giữ {n(plan.kept.height)} liên kết không đổi "
        f"(hồ sơ và người trong CSDLQG đều không đổi); ghép lại {n(retried)} liên kết cũ vì hồ sơ đổi "
        f"{n(f.get('record_changed', 0))}, người đổi {n(f.get('person_changed', 0))}, người không còn trong "
        f"trích xuất {n(f.get('person_missing', 0))}, có quyết định {n(f.get('decided', 0))}; "
        f"{n(f.get('record_gone', 0))} hồ sơ không còn trong tệp; dùng {model}."
    )


def plan(
    db: Path,
    spec: RegistrySpec,
    run_id: str,
    persons: pl.DataFrame,
    population: pl.DataFrame,
    carried: pl.DataFrame,
    *,
    full: bool = False,
    retrain: bool = False,
) -> Plan:
    """Decide the mode, the kept links and the model of this run (see the module docstring)."""
    previous = _read(db, spec, PREVIOUS_RUN_SQL, {"registry": spec.name, "run_id": run_id})
    if previous.is_empty():
        out = Plan(mode="first")
        out.notes.append(_mode_note(out))
        return out
    prev = previous.row(0, named=True)
    links = _read(
        db, spec, PREVIOUS_LINKS_SQL, {"run_id": prev["run_id"], "population_sha256": prev["population_sha256"]}
    )
    kept, fates = kept_links(links, persons, population, carried)
    out = Plan(mode="full" if (full or retrain) else "incremental", previous_run_id=prev["run_id"], kept=kept)
    out.fates = fates
    model = json.loads(prev["model"])
    settings_now = spec_to_dict(spec)["match"]
    frequencies = None if retrain else _frozen_frequencies(db, spec, prev["trained_in_run_id"], model)
    if not retrain and json.loads(prev["settings"]) != json.loads(json.dumps(settings_now)):
        out.notes.append("Cấu hình ghép đã đổi so với lần chạy trước: huấn luyện lại mô hình, ghép toàn bộ.")
        out.mode = "full"
    elif not retrain and frequencies is None:
        out.notes.append("Mô hình của lần chạy trước không lưu tần suất tên: huấn luyện lại mô hình, ghép toàn bộ.")
        out.mode = "full"
    elif not retrain:
        out.model, out.term_frequencies, out.model_run_id = model, frequencies, prev["trained_in_run_id"]
    out.notes.insert(0, _mode_note(out))
    return out


def term_frequency_rows(frequencies: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """A trained model's term frequencies as `term_frequencies` rows (without run_id, registry)."""
    parts = [
        f.select(pl.lit(col).alias("tf_column"), pl.col(f.columns[0]).cast(pl.String).alias("value"), "tf")
        for col, f in frequencies.items()
    ]
    schema = {"tf_column": pl.String, "value": pl.String, "tf": pl.Float64}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)
