"""The DuckDB warehouse: one file analysts query, written by one transaction per run.

Modules, in the order they build on each other:
- `lock.py` — `<db>.lock` (flock) held by each command and run, the busy message, the stage a run
  is in, and marking the runs of killed processes failed;
- `schema.py` — the declared tables and views with their comments (`TABLES`, `VIEWS`,
  `rows_table`), the person-schema columns taken from `matching/person_schema.py`,
  `ensure_schema`, `transaction`;
- `ledger.py` — the `runs` row (`start_run`, `finish_run`) and the population cache lookup;
- `connection.py` — `connect` (key, encryption via httpfs, spill folder, schema) and `session`;
- `evidence.py` — the run's link evidence, stored once: an incremental run's unchanged kept links
  point to the identical rows an earlier run stored (`write_run` calls it);
- `write.py` — `insert_frame` and `write_run`, the run's one atomic write.

Callers use the names re-exported here (`from pipelines import warehouse; warehouse.connect(...)`).
"""

from pipelines.warehouse.connection import (
    KEY_ENV,
    connect,
    httpfs_extension,
    read_key_file,
    remove_spill_dirs,
    session,
    spill_dir,
    warehouse_key,
)
from pipelines.warehouse.ledger import finish_run, population_cached, start_run
from pipelines.warehouse.lock import (
    HOST,
    KILLED_MESSAGE,
    WarehouseBusy,
    exclusive,
    lock_path,
    mark_interrupted_runs,
    note_stage,
)
from pipelines.warehouse.schema import (
    LINK_STATUSES,
    TABLES,
    VIEWS,
    Table,
    View,
    all_tables,
    ensure_schema,
    rows_table,
    rows_table_name,
    schema_markdown,
    transaction,
)
from pipelines.warehouse.write import ROW_GROUP_ROWS, ParquetRows, insert_frame, insert_parquet, write_run

__all__ = [
    "HOST",
    "KEY_ENV",
    "KILLED_MESSAGE",
    "LINK_STATUSES",
    "ROW_GROUP_ROWS",
    "TABLES",
    "VIEWS",
    "Table",
    "View",
    "WarehouseBusy",
    "all_tables",
    "connect",
    "ensure_schema",
    "exclusive",
    "finish_run",
    "httpfs_extension",
    "ParquetRows",
    "insert_frame",
    "insert_parquet",
    "lock_path",
    "mark_interrupted_runs",
    "note_stage",
    "population_cached",
    "read_key_file",
    "remove_spill_dirs",
    "rows_table",
    "rows_table_name",
    "schema_markdown",
    "session",
    "spill_dir",
    "start_run",
    "transaction",
    "warehouse_key",
    "write_run",
]
