#!/usr/bin/env bash
# Link a registry in FEBRL's column layout against a reference list in the same layout, with the
# spec files beside this script and `doisoat` from PATH.
#
#   examples/febrl/run.sh REFERENCE_CSV REGISTRY_CSV DB OUT_DIR [doisoat run options: -q, -v, --key-file ...]
#
# Columns of both files: rec_id, given_name, surname, street_number, address_1, address_2, suburb,
# postcode, state, date_of_birth, soc_sec_id (UTF-8, header row). The links of the run land in the
# DuckDB warehouse DB (table `links`; `so_dinh_danh` holds the reference record's rec_id), the
# reports under OUT_DIR. Exits non-zero when doisoat fails.
set -euo pipefail

if [ "$#" -lt 4 ]; then
    echo "usage: $0 REFERENCE_CSV REGISTRY_CSV DB OUT_DIR [doisoat run options]" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v doisoat >/dev/null || { echo "$0: doisoat is not on PATH (e.g. PATH=\$PWD/.venv/bin:\$PATH)" >&2; exit 127; }

exec doisoat run \
    --spec "$here/registry.yaml" \
    --population-spec "$here/reference.yaml" \
    --population "$1" \
    --input "$2" \
    --db "$3" \
    --out "$4" \
    "${@:5}"
