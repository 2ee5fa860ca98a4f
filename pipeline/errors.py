"""One exception hierarchy for the pipeline.

Every error carries structured fields (case, field, rule) and is turned into user output in exactly one place:
the error report written next to a failed case file (`pipeline.shell.report`) or the CLI edge (`pipeline.cli`).
"""

from __future__ import annotations


class PipelineError(Exception):
    """Base class. `message` is plain Dutch or English a secretariat can read."""

    def __init__(self, message: str, *, kenmerk: str | None = None, field: str | None = None,
                 rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kenmerk = kenmerk
        self.field = field
        self.rule = rule


class CaseFileError(PipelineError):
    """The case file itself is unreadable or breaks the schema (bad JSON, wrong type, unknown field)."""


class ProcedureError(PipelineError):
    """The case file is well formed but breaks a rule of the procedure (order, who may ask, consent...)."""


class TemplateError(PipelineError):
    """A Word template cannot be rendered (missing placeholder, broken tag)."""

    def __init__(self, message: str, *, template: str, **kw) -> None:
        super().__init__(message, **kw)
        self.template = template


class ConversionError(PipelineError):
    """LibreOffice failed to convert a document (crash, hang, bad output)."""


class SigningError(PipelineError):
    """A document could not be signed (missing key, wrong passphrase, pyHanko failure)."""


class DeliveryError(PipelineError):
    """A document could not be written to a mailbox (disk full, read-only, permissions)."""


class PrivacyViolation(PipelineError):
    """The privacy guard found data on a finished file that its audience may not see."""


class ArchiveError(PipelineError):
    """An archive action was refused or failed: unknown dossier, destruction before the retention date without a
    recorded reason, an unreadable bundle."""


class UnsafePathError(DeliveryError):
    """A place the pipeline would write, move or delete is a symlink or not a folder; nothing is done there."""
