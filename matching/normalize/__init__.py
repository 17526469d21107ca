"""Vietnamese normalization: names, land owners, dates, ID numbers, sex, addresses, legacy encodings.

Scalar functions for one value and polars functions for whole columns (ARCHITECTURE.md,
"Normalized columns"); `frame.normalize_columns` is the entry point the pipeline uses.

    from matching.normalize.frame import normalize_columns
    from matching.normalize.names import normalize_name        # -> Name(clean, key, ...)
    from matching.normalize.dates import parse_date            # -> ParsedDate(year, month, ...)
    from matching.normalize.ids import normalize_id            # -> NormalizedId(clean, kind, problems)
    from matching.normalize.addresses import parse_address     # -> ParsedAddress(ma_tinh, ma_xa, ...)
    from matching.normalize.encodings import decode_bytes, repair_legacy_text

Modules import only polars and the standard library (plus the admin-unit tables), so the
normalizer can be used and tested without Prefect, Great Expectations or DuckDB.
"""
