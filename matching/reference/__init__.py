"""Reference tables as data: administrative units, legacy Vietnamese font encodings, letters.

Why a package of its own: the normalizer (matching/normalize) and the sample generator
(pipelines/sample) both need these tables, and the generator must share no logic with the code it
tests. So the tables live here, as data with trivial loaders only, and both read them:

- `admin_units`: current (2025) and legacy (pre-2025) units and province codes, read from the
  data files bundled with the `vietnamadminunits` package;
- `legacy_fonts`: the TCVN3 (ABC) and VNI-Windows character tables;
- `letters`: the Vietnamese letters, tone marks and syllable parts (onsets, rhymes, finals).

Modules here import only the standard library and polars; never matching.normalize.
"""
