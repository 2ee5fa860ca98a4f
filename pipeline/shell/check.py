"""The check of a case file before it is dropped: `sopipe check FILE` and the desk's form check (via the gateway).

Exactly what the intake does with the file's bytes (`intake.decode_case_file`, `model.parse_event`) and then what
the pipeline would decide on the case's current state (`procedure.decide`, pure: nothing is made, written or
sent). The problems are (field path, Dutch text) from the one translation the failure reports use
(`pipeline.shell.report.describe_validation`), so a form, the command line and `inbox/failed/*.error.txt` say the
same thing in the same words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from pipeline.core import model
from pipeline.core.organisaties import Facts, Organisatie
from pipeline.core.procedure import decide
from pipeline.core.state import CaseState
from pipeline.errors import CaseFileError, PipelineError
from pipeline.shell import report
from pipeline.shell.intake import decode_case_file


@dataclass(frozen=True)
class CheckResult:
    problems: tuple[tuple[str, str], ...]
    """(field path, problem in Dutch); the field is "" for a problem of the whole file."""
    kenmerk: str | None = None
    stap: str | None = None
    event: Any = field(default=None, compare=False)
    """The parsed event when the file is valid."""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_case_file(data: bytes | Mapping[str, Any], *, state_of: Callable[[str], CaseState | None] | None = None,
                    organisaties: Mapping[str, Organisatie] | None = None) -> CheckResult:
    """Check a case file (its bytes, or its decoded object) as the intake would. `state_of(kenmerk)`: the case's
    current state (None: no such case); without it only the schema is checked."""
    try:
        obj = decode_case_file(data) if isinstance(data, bytes) else dict(data)
    except CaseFileError as e:
        return CheckResult(((e.field or "", e.message),))
    kenmerk = obj.get("kenmerk") if isinstance(obj.get("kenmerk"), str) else None
    stap = obj.get("stap") if obj.get("stap") in model.STAPPEN else None
    try:
        event = model.parse_event(obj)
    except ValidationError as e:
        return CheckResult(tuple(report.describe_validation(e)), kenmerk, stap)
    if state_of is None:
        return CheckResult((), event.kenmerk, event.stap, event)
    try:
        decide(state_of(event.kenmerk), event, facts=Facts(organisaties=organisaties or {}))
    except PipelineError as e:
        return CheckResult(((e.field or "", e.message),), event.kenmerk, event.stap, event)
    return CheckResult((), event.kenmerk, event.stap, event)
