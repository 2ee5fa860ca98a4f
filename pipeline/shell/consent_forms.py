"""Replacing an archived consent form the employee sent back: the records officer's act.

The runner (`ConsentFormWork`) checks a returned form with the pure checks of `pipeline.core.returns` on the form
read once (`pipeline.adapters.returned_pdf`): no active content, every signature dictionary validated, the case's
machtiging recorded and not refused, and signed over exactly the form we made.

Which form counts is never decided by arrival order alone. The first form of a consent is archived; a second,
different one is refused with a report that says so and how to make it count: the records officer runs
`sopipe archive replace-form FILE --reden "..."` on it (`allow_replacement`). That records in the audit trail who
allowed which file (by SHA-256) to replace the form of which consent, and why, and puts the file back into the
inbox. The watcher then checks it like any form and archives it beside the earlier one
(`machtiging-<consent>-ondertekend-vervanging-<n>.pdf`, the earlier one stays); the latest archived form
counts. A grant is for those exact bytes only.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.returns import REPLACEMENT, consent_form_of
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError


# --- the records officer's act: `sopipe archive replace-form` -------------------------------------------------

@dataclass(frozen=True)
class ReplacementGrant:
    kenmerk: str
    kind: str
    sha256: str
    replaces: str
    """The archived form it will replace (its path below the root)."""
    back_in_inbox: Path


def allow_replacement(settings, store, audit, path: Path, *, reden: str) -> ReplacementGrant:
    """Allow the refused form `path` (in `inbox/failed/`) to replace the archived form of its consent: recorded in
    the audit trail (who, which file by SHA-256, which form, why), then the file goes back into the inbox."""
    from pipeline.shell.archive_retention import check_reden
    path = Path(path)
    failed = settings.failed.resolve()
    if path.is_symlink() or not path.is_file() or path.resolve().parent != failed:
        raise ArchiveError(f"{path} is geen bestand in {settings.failed}: alleen een geweigerd formulier kan een "
                           "gearchiveerd formulier vervangen.", field="bestand")
    form = consent_form_of(path.name)
    if form is None:
        raise ArchiveError(f"{path.name} is geen ondertekend toestemmingsformulier "
                           "(<kenmerk>_machtiging-<soort>….pdf).", field="bestand")
    reden = (reden or "").strip()
    if not reden:
        raise ArchiveError("Noem met --reden waarom dit formulier het gearchiveerde vervangt (bijvoorbeeld "
                           "\"werknemer heeft het formulier opnieuw ondertekend\"); die reden wordt vastgelegd.",
                           kenmerk=form.kenmerk, field="reden", rule="reden")
    archived = [d for d in store.deliveries(form.kenmerk) if d.kind == form.kind and d.status == "delivered"]
    if not archived:
        raise ArchiveError(f"Zaak {form.kenmerk} heeft nog geen gearchiveerd formulier voor {form.label}; er is niets "
                           "te vervangen. Zet het formulier gewoon in inbox/.", kenmerk=form.kenmerk, rule="niets")
    check_reden(audit, store, form.kenmerk, reden)
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    audit.record(Gebeurtenis.TOESTEMMING, kenmerk=form.kenmerk, actie=Actie.UPDATE, uitkomst=Uitkomst.GESLAAGD,
                 wat=REPLACEMENT, document=form.kind, bestand_sha256=digest, reden=reden,
                 pad=archived[-1].path)
    target = settings.inbox / path.name
    if target.exists() or target.is_symlink():
        raise ArchiveError(f"In inbox/ staat al een bestand {path.name}; verplaats dat eerst.",
                           kenmerk=form.kenmerk)
    os.rename(path, target)
    report = path.with_name(path.name + ".error.txt")
    if report.is_file() and not report.is_symlink():
        report.unlink()
    return ReplacementGrant(form.kenmerk, form.kind, digest, archived[-1].path, target)
