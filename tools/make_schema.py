"""Regenerate pipeline/schema/casefile.schema.json from the pydantic model (tests/test_model.py keeps them in sync)."""

import json
from pathlib import Path

from pipeline.core.model import json_schema

target = Path(__file__).resolve().parents[1] / "pipeline" / "schema" / "casefile.schema.json"
target.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(f"wrote {target}")
