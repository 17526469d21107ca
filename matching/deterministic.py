"""Deterministic ID passes, cheapest first; each link records the rule that made it.

1. `id_exact`  — the registry's 12-digit ID equals the population's so_dinh_danh.
2. `cmnd9`     — the registry's old 9-digit CMND equals the population's so_cmnd_cu.
3. `id_one_edit` — the ID is one substituted digit or two exchanged digits away (the usual
   typing slips) *and* the name key and the date of birth agree, and only one person fits.

An exact ID is not accepted blindly: when the name and the date of birth both clearly belong to
someone else, the pair is not linked here but handed to the probabilistic stage flagged
`id_conflict` (so it can end in review). Near-ID pairs that fail the name/DOB confirmation are
handed over too (`id_near`), so the probabilistic stage sees them as candidates.

One-edit search joins on the halves of the number (one wrong digit leaves a half intact) and on
the registry ID with two neighbouring digits swapped, never a cross join. An 11-digit ID that lost its leading
zero in Excel is restored when the person schema is built (`matching.person_schema`).
"""

from __future__ import annotations

import duckdb

from matching.templates import NGAY_SINH

# A pair's name clearly belongs to someone else: neither close as a whole nor sharing the given
# name. Unknown (NULL) never counts as a contradiction.
NAME_CONTRADICTS = (
    "coalesce(jaro_winkler_similarity(r.ho_ten_key_nomid, p.ho_ten_key_nomid) < 0.80"
    " AND r.ten_key IS DISTINCT FROM p.ten_key, FALSE)"
)
# The date of birth is neither equal nor one of the usual slips (year only, 01/01 placeholder,
# day/month swapped, one digit, year ±1). Being born the same year is not enough: the ID itself
# encodes the birth year, so a mistyped ID that hits another person usually shares it.
_DOB_LEVEL = NGAY_SINH.case_sql()
DOB_CONTRADICTS = (
    f"({_DOB_LEVEL}) IN ({NGAY_SINH.labels().index('same_year')}, {NGAY_SINH.labels().index('different')})"
)
NAME_AGREES = (
    "(r.ho_ten_key_nomid = p.ho_ten_key_nomid OR (r.ho_key = p.ho_key AND "
    "substr(r.ho_ten_key_nomid, strpos(r.ho_ten_key_nomid, ' ') + 1) = "
    "substr(p.ho_ten_key_nomid, strpos(p.ho_ten_key_nomid, ' ') + 1)))"
)
DOB_AGREES = (
    "(r.ngay_sinh_year = p.ngay_sinh_year"
    " AND (r.ngay_sinh_month IS NULL OR p.ngay_sinh_month IS NULL OR r.ngay_sinh_month = p.ngay_sinh_month)"
    " AND (r.ngay_sinh_day IS NULL OR p.ngay_sinh_day IS NULL OR r.ngay_sinh_day = p.ngay_sinh_day))"
)


def _exact_pass(con, registry: str, population: str, column: str, method: str) -> None:
    """Link rows whose `column` equals exactly one population row's, unless both name and DOB contradict."""
    con.execute(
        f"""
        INSERT INTO _det_hits
        WITH todo AS (
            SELECT r.* FROM {registry} r ANTI JOIN _det_done d ON r.rec_id = d.rec_id
            WHERE r.{column} IS NOT NULL
        ),
        hits AS (
            SELECT r.rec_id, p.rec_id AS pop_rec_id,
                   ({NAME_CONTRADICTS} AND {DOB_CONTRADICTS}) AS contradicts,
                   count(*) OVER (PARTITION BY r.rec_id) AS n_hits
            FROM todo r JOIN {population} p ON r.{column} = p.{column}
        )
        SELECT rec_id, pop_rec_id,
               CASE WHEN contradicts THEN 'id_conflict' WHEN n_hits > 1 THEN 'id_ambiguous' ELSE '{method}' END
        FROM hits
        """
    )
    con.execute(
        "INSERT INTO _det_done SELECT DISTINCT rec_id FROM _det_hits WHERE rec_id NOT IN (SELECT rec_id FROM _det_done)"
    )


def _near_pairs_sql(registry: str, population: str, column: str, width: int) -> str:
    """Pairs whose `column` differs by one substituted digit or two swapped neighbours.

    One substituted digit leaves one half of the number intact, so two equi-joins on the halves
    (then a Hamming check) find every such pair; swapped neighbours are found by joining each
    swapped variant of the registry number to the population number. Neither is a cross join,
    and the population side is never expanded.
    """
    h = width // 2
    return f"""
        SELECT r.rec_id, p.rec_id AS pop_rec_id
        FROM todo r JOIN {population} p
          ON substr(p.{column}, 1, {h}) = substr(r.{column}, 1, {h})
        WHERE (CASE WHEN length(p.{column}) = length(r.{column}) THEN hamming(p.{column}, r.{column}) END) = 1
        UNION
        SELECT r.rec_id, p.rec_id AS pop_rec_id
        FROM todo r JOIN {population} p
          ON substr(p.{column}, {h + 1}) = substr(r.{column}, {h + 1})
        WHERE (CASE WHEN length(p.{column}) = length(r.{column}) THEN hamming(p.{column}, r.{column}) END) = 1
        UNION
        SELECT r.rec_id, p.rec_id AS pop_rec_id
        FROM (SELECT rec_id, {column} AS original,
                     substr({column}, 1, i - 1) || substr({column}, i + 1, 1) || substr({column}, i, 1)
                     || substr({column}, i + 2) AS swapped
              FROM todo, range(1, {width}) t(i) WHERE {column} IS NOT NULL) r
        JOIN {population} p ON p.{column} = r.swapped AND r.swapped <> r.original
    """


def _one_edit_pass(con, registry: str, population: str) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _det_near AS
        WITH todo AS (
            SELECT r.* FROM {registry} r ANTI JOIN _det_done d ON r.rec_id = d.rec_id
            WHERE r.id12 IS NOT NULL OR r.cmnd9 IS NOT NULL
        ),
        near AS (
            {_near_pairs_sql(registry, population, "id12", 12)}
            UNION
            {_near_pairs_sql(registry, population, "cmnd9", 9)}
        ),
        checked AS (
            SELECT n.rec_id, n.pop_rec_id, ({NAME_AGREES} AND {DOB_AGREES}) AS confirmed
            FROM near n JOIN {registry} r ON r.rec_id = n.rec_id JOIN {population} p ON p.rec_id = n.pop_rec_id
        )
        SELECT rec_id, pop_rec_id, coalesce(confirmed, FALSE) AS confirmed,
               count(*) FILTER (WHERE coalesce(confirmed, FALSE)) OVER (PARTITION BY rec_id) AS n_confirmed
        FROM checked
        """
    )
    con.execute(
        """
        INSERT INTO _det_hits
        SELECT rec_id, pop_rec_id,
               CASE WHEN confirmed AND n_confirmed = 1 THEN 'id_one_edit' ELSE 'id_near' END
        FROM _det_near
        """
    )


def run_deterministic(con: duckdb.DuckDBPyConnection, registry: str, population: str) -> None:
    """Create `_det_links` (rec_id, pop_rec_id, method) and `_det_candidates` (rec_id, pop_rec_id, rule).

    `_det_links` holds accepted links; `_det_candidates` holds pairs the ID passes found but did
    not accept (id_conflict, id_ambiguous, id_near) for the probabilistic stage.
    """
    con.execute("CREATE OR REPLACE TEMP TABLE _det_hits (rec_id BIGINT, pop_rec_id BIGINT, method VARCHAR)")
    con.execute("CREATE OR REPLACE TEMP TABLE _det_done (rec_id BIGINT)")
    _exact_pass(con, registry, population, "id12", "id_exact")
    _exact_pass(con, registry, population, "cmnd9", "cmnd9")
    _one_edit_pass(con, registry, population)
    accepted = "('id_exact', 'cmnd9', 'id_one_edit')"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _det_links AS
        SELECT rec_id, pop_rec_id, method FROM _det_hits WHERE method IN {accepted}
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _det_candidates AS
        SELECT rec_id, pop_rec_id, min(method) AS rule FROM _det_hits h
        WHERE method NOT IN {accepted} AND rec_id NOT IN (SELECT rec_id FROM _det_links)
        GROUP BY ALL
        """
    )
