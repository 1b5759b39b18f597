"""What the four frequency by data element reports (FDEEAF, FDEMAF, FDEPAF, FDESAF) share: every
element name below the Phase 1 header, declared once (all assumed: the issuer guide names the
reports, not their content).

A report is the header followed by one ``includedDataElementFrequency`` per (data element,
value): the element's name as the report states it, the value (absent when the element was
absent or empty in the inbound file) and how many accepted records of the file carry it.
Entries come in the layout's element order, then by frequency (highest first), then by value.
"""

from __future__ import annotations

from edge_pipeline.edge.layouts.outbound.model import Group, Leaf

#: Default ``top`` of a data element with very many values (NDC): the report lists only the
#: most frequent ones (assumed).
TOP_VALUES = 20

DATA_ELEMENT_FREQUENCY = Group(
    "includedDataElementFrequency",
    (
        Leaf(
            "dataElementName",
            "code",
            doc="the inbound element counted, or this project's name for a derived value",
            assumed=True,
            column="element",
        ),
        Leaf(
            "dataElementValue",
            min_occurs=0,
            doc="the value; absent when the element was absent or empty",
            assumed=True,
            column="value",
        ),
        Leaf(
            "dataElementValueFrequency",
            "integer",
            doc="accepted records of the file carrying the value",
            assumed=True,
            column="frequency",
        ),
    ),
    min_occurs=0,
    max_occurs=None,
    assumed=True,
    type_name="DataElementFrequencyType",
    doc="how often one value of one data element occurs in the file's accepted records",
)
