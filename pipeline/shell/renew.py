"""Renew the archive timestamps of archived PAdES B-LTA documents before their certificates expire.

`sopipe archive renew` is a thin command over `renew_archive_timestamps`. Each archived PDF of `outbox/archief/`
is checked offline first; a document whose signatures or timestamps no longer hold is never renewed (a fresh
timestamp over a broken signature would hide the break) and is reported. A renewal embeds the validation data
of the newest document timestamp and adds a fresh one (`pipeline.adapters.signing.renew_archival_timestamp`),
written atomically, with the validation report beside the file made again.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.errors import PipelineError, SigningError, TrustServiceOutage


class RenewStatus(enum.Enum):
    SKIPPED = "skip"
    """The file could not be read as a signed PDF; nothing done."""
    REFUSED = "fail"
    """A signature or timestamp is invalid: not renewed."""
    DUE = "due"
    """Would be renewed (dry run)."""
    RENEWED = "renewed"


@dataclass(frozen=True)
class Renewal:
    """What happened to one archived PDF that needed attention."""
    path: Path
    status: RenewStatus
    reason: str | None = None
    """Why skipped or refused."""
    expiry: datetime | None = None
    """When the certificate of the newest archive timestamp expires."""
    seconds: float | None = None
    """How long the renewal took."""


@dataclass(frozen=True)
class RenewResult:
    checked: int
    """Archived documents with an archive timestamp (B-LTA) that were checked."""
    items: tuple[Renewal, ...]

    @property
    def renewed(self) -> int:
        return sum(1 for r in self.items if r.status is RenewStatus.RENEWED)

    @property
    def refused(self) -> int:
        return sum(1 for r in self.items if r.status is RenewStatus.REFUSED)


def renew_archive_timestamps(settings, *, days: int, dry_run: bool = False, now: datetime | None = None,
                             on_item: Callable[[Renewal], None] | None = None) -> RenewResult:
    """Renew every archived B-LTA document of `settings.outbox/archief` whose newest archive timestamp's
    certificate expires within `days` of `now`; `dry_run`: only report them. `on_item` hears of each document
    that needed attention as it is handled (a renewal reaches the timestamp server: seconds each)."""
    from pyhanko.keys import load_certs_from_pemder

    from pipeline.adapters.mailbox import atomic_write
    from pipeline.adapters.signing import http_timestamper, renew_archival_timestamp
    from pipeline.adapters.validation import verify_pdf
    from pipeline.shell.validation_reports import write_validation_report

    if not settings.signing.tsa_url and not dry_run:
        raise SigningError("No timestamp server: set [signing] tsa_url in sopipe.toml.", field="tsa_url")
    roots = [p for p in settings.trust_roots if p.exists()]
    certs = [c for p in roots for c in load_certs_from_pemder([str(p)])]
    limit = (now or datetime.now(UTC)) + timedelta(days=days)
    items: list[Renewal] = []
    checked = 0

    def note(item: Renewal) -> None:
        items.append(item)
        if on_item is not None:
            on_item(item)

    for path in sorted(settings.archive.rglob("*.pdf")):
        try:
            data = path.read_bytes()
            result = verify_pdf(data, trust_roots=roots)
        except PipelineError as e:
            note(Renewal(path, RenewStatus.SKIPPED, reason=e.message))
            continue
        except Exception as e:  # one unreadable document is a finding, never the end of the run for the others
            note(Renewal(path, RenewStatus.SKIPPED, reason=f"niet te lezen als ondertekende PDF ({type(e).__name__})"))
            continue
        expiry = result.last_timestamp_expiry
        if expiry is None and not result.document_timestamps:
            continue  # no archive timestamp (not B-LTA): nothing to renew
        checked += 1
        if not result.ok:
            reasons = [f"{s.field_name}: {s.reason or s.indication}" for s in result.signatures if not s.ok] + \
                [f"{t.field_name}: {t.reason or t.indication}" for t in result.document_timestamps if not t.ok]
            note(Renewal(path, RenewStatus.REFUSED, reason="; ".join(reasons), expiry=expiry))
            continue
        if expiry > limit:
            continue
        if dry_run:
            note(Renewal(path, RenewStatus.DUE, expiry=expiry))
            continue
        started = time.perf_counter()
        try:
            updated = renew_archival_timestamp(data, timestamper=http_timestamper(settings.signing.tsa_url),
                                               trust_roots=certs)
        except TrustServiceOutage:
            raise  # the timestamp server is away: a retry later for all of them, not a verdict on this document
        except PipelineError as e:  # this document stays as it was, and is reported; the others are renewed
            note(Renewal(path, RenewStatus.REFUSED, reason=e.message, expiry=expiry))
            continue
        atomic_write(path, updated)
        write_validation_report(path, updated, trust_roots=roots)
        note(Renewal(path, RenewStatus.RENEWED, expiry=expiry, seconds=time.perf_counter() - started))
    return RenewResult(checked, tuple(items))
