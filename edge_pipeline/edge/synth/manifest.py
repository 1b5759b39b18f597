"""The generation manifest: ground truth of what was written and which defects were injected."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edge_pipeline.edge.synth.defects import DefectEntry

MANIFEST_FILE = "manifest.json"


@dataclass
class FileEntry:
    """One written XML file.  ``path`` is relative to the output directory."""

    path: str
    file_identifier: str
    submission_type: str
    layout: str
    role: str  # "submission": one of the four files; "defect": an extra file-level defect
    expected_effect: str  # "processed", "file_rejected" or "issuer_rejected"
    execution_zone: str
    generation_datetime: str
    records: int
    bytes: int
    counts: dict[str, int] = field(default_factory=dict)
    totals: dict[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    """Everything a test needs to know about a generated issuer, written as manifest.json."""

    seed: int
    benefit_year: int
    enrollees: int
    error_rate: float
    issuer_id: str
    execution_zone: str
    plan_registry: str
    files: list[FileEntry] = field(default_factory=list)
    defects: list[DefectEntry] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    code_sets: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"] = [asdict(f) for f in self.files]
        data["defects"] = [d.to_json() for d in self.defects]
        return data

    def write(self, out_dir: Path) -> Path:
        path = out_dir / MANIFEST_FILE
        text = json.dumps(self.to_json(), indent=2, sort_keys=False) + "\n"
        path.write_text(text, encoding="utf-8", newline="\n")
        return path

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        data = json.loads((out_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        files = [FileEntry(**f) for f in data.pop("files")]
        defects = [DefectEntry(**d) for d in data.pop("defects")]
        return cls(files=files, defects=defects, **data)

    def file(self, name: str) -> FileEntry:
        return next(f for f in self.files if f.path == name)
