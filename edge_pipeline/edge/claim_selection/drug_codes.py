"""``ra_drug_code``: the NDC and HCPCS codes of RA-included claims (the RXC inputs).

Why every HCPCS line code and not only table-10b codes: which HCPCS map to an RXC is the risk
model's business (DIY table 10b of the year it scores); selection hands over every service
code of an included medical claim's lines, so an updated 10b never needs a re-selection.
Codes are kept only when their service date is in the benefit year (the fill date for an NDC,
R11 already guarantees it; the line's service-to date for a HCPCS, falling back to its
service-from date and then the claim's through date).
"""

from __future__ import annotations

from edge_pipeline.edge.claim_selection.run import Run


def drug_code_sql(run: Run) -> str:
    """Rows of ``ra_drug_code`` (after the run columns)."""
    return f"""
SELECT p.member_id, p.plan_id, 'NDC' AS code_type, p.national_drug_code AS code,
  p.prescription_fill_date AS service_date, p.claim_identifier, p.file_identifier,
  p.record_identifier
FROM _cs_pharmacy p
WHERE p.reason_code IS NULL
UNION ALL
SELECT member_id, plan_id, 'HCPCS', code, service_date, claim_identifier, file_identifier,
  record_identifier
FROM (
  SELECT m.member_id, m.plan_id, l.service_code AS code,
    coalesce(l.service_to_date, l.service_from_date, m._through) AS service_date,
    m.claim_identifier, l.file_identifier, l.record_identifier
  FROM _cs_medical m
  JOIN _cs_line l ON l.file_identifier = m.file_identifier
    AND l.claim_record_identifier = m.record_identifier
  WHERE m.reason_code IS NULL AND l.service_code IS NOT NULL
)
WHERE service_date BETWEEN {run.first_day} AND {run.last_day}
"""
