"""The shadow of the frequency by data element reports (FDEEAF ... FDESAF): how often each value
of each declared data element occurs among a file's accepted records, computed in SQL when the
file is verified (``shadow_data_element_frequency``).

The data elements are the layouts' (:mod:`edge_pipeline.edge.layouts.outbound.fdeeaf` ...), so
the writer, the reader and this shadow count the same thing.  Values are the landing values as
sent; an empty value counts as absent (NULL).  A ``top`` element keeps its ``top`` most
frequent values, ties broken by value, so the shadow states exactly what the report lists.
"""

from __future__ import annotations

import duckdb

from edge_pipeline.edge.layouts.outbound import FREQUENCY_BY_TYPE
from edge_pipeline.edge.layouts.outbound.model import FrequencyElement, FrequencyLayout

FREQUENCY_TABLE = "shadow_data_element_frequency"


def _element_sql(position: int, element: FrequencyElement) -> str:
    ranked = f"""
        SELECT {position} AS position, '{element.element}' AS element,
               NULLIF(CAST({element.value_expression} AS VARCHAR), '') AS value,
               count(*) AS frequency
        FROM shadow_record_status s
        JOIN {element.table} i
          ON i.file_identifier = s.file_identifier AND i.record_identifier = s.record_identifier
        WHERE s.load_id = $lid AND s.level = '{element.level}' AND s.status = 'A'
        GROUP BY ALL
    """
    if element.top is None:
        return ranked
    return f"""
        SELECT * FROM ({ranked})
        QUALIFY row_number() OVER (ORDER BY frequency DESC, value NULLS FIRST) <= {element.top}
    """


def frequency_sql(layout: FrequencyLayout) -> str:
    """One attempt's (``$lid``) frequencies of ``layout``'s elements, in report order: layout
    element order, then frequency (highest first), then value (absent first)."""
    parts = " UNION ALL ".join(
        f"({_element_sql(position, element)})" for position, element in enumerate(layout.elements)
    )
    return f"""
        SELECT element, value, frequency FROM ({parts})
        ORDER BY position, frequency DESC, value NULLS FIRST
    """


def store_frequencies(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    file_identifier: str | None,
    submission_type: str | None,
) -> None:
    """Insert the attempt's frequencies (its previous rows already deleted by the caller, in the
    caller's transaction).  A submission type without a frequency report stores nothing."""
    layout = FREQUENCY_BY_TYPE.get(submission_type or "")
    if layout is None:
        return
    con.execute(
        f"INSERT INTO {FREQUENCY_TABLE} (load_id, file_identifier, element, value, frequency) "
        f"SELECT $lid, $fid, element, value, frequency FROM ({frequency_sql(layout)})",
        {"lid": load_id, "fid": file_identifier},
    )
