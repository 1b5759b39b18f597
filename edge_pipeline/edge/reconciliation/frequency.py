"""Reconcile the frequency by data element reports (FDEEAF ... FDESAF): each (data element,
value) the report states against ``shadow_data_element_frequency`` of the same attempt.

One set-based query: a FULL JOIN on element and value (an absent value matches an absent
value), keeping the pairs whose frequencies differ or that only one side has.  Output holds
element names, values of coded elements and counts: never a member identifier.
"""

from __future__ import annotations

#: Kinds of ``phase1_frequency_reconciliation.difference``.
FREQUENCY_DIFFERENCE_KINDS: dict[str, str] = {
    "frequency": "both state the value, with different frequencies",
    "not_reported": "the shadow counts the value; the frequency report does not list it",
    "not_in_shadow": "the frequency report lists the value; the shadow does not count it",
}

FREQUENCY_RECONCILIATION_DDL = (
    "file_identifier VARCHAR NOT NULL, load_id BIGINT, element VARCHAR, value VARCHAR, "
    "shadow_frequency BIGINT, reported_frequency BIGINT, difference VARCHAR, "
    "reconciled_at TIMESTAMP"
)

FREQUENCY_DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "file_identifier",
    "load_id",
    "element",
    "value",
    "shadow_frequency",
    "reported_frequency",
    "difference",
)

#: Parameters: $fid, $lid (attempt), $frequency (the frequency report; NULL compares nothing:
#: a file without one, e.g. rejected with its ESFAR alone, has nothing to compare).
FREQUENCY_DIFFERENCES_SQL = """
WITH
s AS (SELECT element, value, frequency, TRUE AS present FROM shadow_data_element_frequency
      WHERE load_id = $lid),
r AS (SELECT element, value, frequency, TRUE AS present FROM reported_data_element_frequency
      WHERE file_identifier = $fid AND outbound_file_identifier = $frequency)
SELECT $fid::VARCHAR AS file_identifier, $lid::BIGINT AS load_id,
       coalesce(s.element, r.element) AS element,
       CASE WHEN s.present THEN s.value ELSE r.value END AS value,
       s.frequency AS shadow_frequency, r.frequency AS reported_frequency,
       CASE WHEN r.present IS NULL THEN 'not_reported'
            WHEN s.present IS NULL THEN 'not_in_shadow'
            ELSE 'frequency' END AS difference
FROM s FULL JOIN r
  ON r.element IS NOT DISTINCT FROM s.element AND r.value IS NOT DISTINCT FROM s.value
WHERE $frequency IS NOT NULL
  AND (s.present IS NULL OR r.present IS NULL OR s.frequency IS DISTINCT FROM r.frequency)
"""
