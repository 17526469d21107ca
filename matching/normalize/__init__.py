"""Vietnamese normalization: names, land owners, dates, ID numbers, sex, amounts, addresses, legacy encodings.

Scalar functions for one value and polars functions for whole columns (ARCHITECTURE.md,
"Normalized columns"); `frame.normalize_columns` is the entry point the pipeline uses.

    from matching.normalize.frame import normalize_columns
    from matching.normalize.names import normalize_name        # -> Name(clean, key, ...)
    from matching.normalize.dates import parse_date            # -> ParsedDate(year, month, ...)
    from matching.normalize.ids import normalize_id            # -> NormalizedId(clean, kind, problems)
    from matching.normalize.amounts import parse_amount        # -> (value, problems)
    from matching.normalize.addresses import parse_address     # -> ParsedAddress(ma_tinh, ma_xa, ...)
    from matching.normalize.encodings import decode_bytes, repair_legacy_text

Modules import only polars, the standard library and the reference tables (matching/reference:
administrative units, legacy font tables, Vietnamese letters), so the normalizer can be used and
tested without Prefect, Great Expectations or DuckDB. These are the only parsers of names, dates,
IDs, sex and amounts: the expectation suites (validation/suites.py) read values through them.
"""
