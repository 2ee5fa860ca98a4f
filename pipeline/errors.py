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


class ConverterUnavailable(ConversionError):
    """LibreOffice itself cannot be started (after the bounded restarts): an outage, not a bad case file.

    The pipeline leaves the case file in the inbox for a later pass instead of moving it to `failed/`."""


class SigningError(PipelineError):
    """A document could not be signed (missing key, wrong passphrase, pyHanko failure)."""


class TrustServiceOutage(SigningError):
    """A timestamp (TSA) or revocation (OCSP/CRL) service could not be reached while signing: an outage of the
    pipeline's surroundings, not a fault of the case file, which stays in the inbox and is retried."""


class DeliveryError(PipelineError):
    """A document could not be written to a mailbox (disk full, read-only, permissions)."""


class PdfInspectionError(PipelineError):
    """The PDF could not be read well enough to prove what it holds (`pipeline.adapters.pdfinspect`)."""


class ReturnRefused(PipelineError):
    """A returned PDF is not accepted; `rule` is the short reason, `message` says it in Dutch
    (`pipeline.core.returns`)."""


class WatcherLocked(PipelineError):
    """Another `sopipe watch` holds this root (`pipeline.shell.watcher.exclusive_root`)."""


class UnsafeAuditDetail(PipelineError, ValueError):
    """A detail that could carry personal or medical data was offered to the audit trail (`pipeline.core.trail`).
    Also a ValueError: the trail refuses a value, as it always did."""


class ArchiveError(PipelineError):
    """An archive action was refused or failed: unknown dossier, destruction before the retention date without a
    recorded reason, an unreadable bundle."""


class UnsafePathError(DeliveryError):
    """A place the pipeline would write, move or delete is a symlink or not a folder; nothing is done there."""


class InternalError(PipelineError):
    """Processing one inbox file failed in sopipe itself (an unexpected exception, or the process stopped while
    handling it `interruptions` times): the file is set aside unchanged in `inbox/failed/` and the loop goes on."""

    def __init__(self, message: str, *, cause: str, interruptions: int = 0, **kw) -> None:
        super().__init__(message, rule="interne-fout", **kw)
        self.cause = cause
        """The exception's type name (never its message, which may quote the file's values)."""
        self.interruptions = interruptions
        """How often the process stopped while this file was in progress (0: an exception, caught)."""


class GatewayError(Exception):
    """A refusal or failure the desk shows: `code` for the program (`niet-gevonden`, `sessie`, `inloggen`, ...),
    `bericht` in Dutch for the person."""

    def __init__(self, code: str, bericht: str) -> None:
        super().__init__(f"{code}: {bericht}")
        self.code = code
        self.bericht = bericht


class BuitenBereik(PipelineError):
    """Outside the asking person's scope, or not there: one answer for both (the gateway answers 404)."""


class OngeldigeInvoer(PipelineError):
    """What was sent in cannot be taken (not a PDF, too large): the message says why, in Dutch."""
