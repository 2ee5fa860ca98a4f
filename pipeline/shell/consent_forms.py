"""A consent form the employee sends back: what its parsed contents must show, and replacing an archived one.

The runner (`ConsentFormWork`) reads the form once as a PDF (`pipeline.adapters.consent_form_pdf`) and calls the
pure checks here before the case-level checks of `pipeline.shell.returns.check_consent_form`:
  - no active content: JavaScript, an action on opening, automatic actions, a launch action, an embedded file
    (an attached `scan.exe`), multimedia or an XFA form are refused; the dossier is kept for 20 years and
    exported to others, so nothing in it may run;
  - every signature dictionary the parsed PDF holds is one pyHanko validated (however `/ByteRange` is spelled).

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
from typing import Iterable, Sequence

from pipeline.core.signatures import kenmerk_from_file_name
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError, ReturnRefused

REPLACEMENT = "vervanging-toegestaan"
"""The `wat` of the audit record that allows one file (by SHA-256) to replace an archived consent form."""


def check_form_kenmerk(form, keywords: str | None) -> None:
    """The kenmerk our converter wrote into the form (/Keywords), when there, is the one its name gives."""
    if keywords and keywords != form.kenmerk and kenmerk_from_file_name(f"{keywords}_advies.pdf"):
        raise ReturnRefused(f"De bestandsnaam noemt zaak {form.kenmerk}, maar het formulier zelf zaak "
                            f"{keywords}.", kenmerk=form.kenmerk, rule="kenmerk-verschilt")


def check_no_active_content(form, active: Sequence[str]) -> None:
    if active:
        raise ReturnRefused("Het formulier bevat inhoud die bij het openen iets kan uitvoeren of meebrengt: "
                            f"{'; '.join(active)}. Zo'n bestand wordt niet in het dossier bewaard.",
                            kenmerk=form.kenmerk, rule="actieve-inhoud")


def check_all_signatures_validated(form, *, found: int, validated: int) -> None:
    """Every signature dictionary of the parsed PDF was validated: none is skipped by spelling it differently."""
    if validated < found:
        raise ReturnRefused(f"Het formulier bevat {found} handtekening(en), maar er kunnen er maar {validated} "
                            "worden gecontroleerd; een handtekening die niet te controleren is, wordt niet "
                            "aangenomen.", kenmerk=form.kenmerk, rule="onleesbaar")


def check_timestamps_intact(form, timestamps: Sequence) -> None:
    if any(not (t.intact and t.valid) for t in timestamps):
        raise ReturnRefused("Een tijdstempel op het formulier klopt niet: het document is na het tijdstempel "
                            "gewijzigd of het tijdstempel is beschadigd.", kenmerk=form.kenmerk,
                            rule="handtekening-ongeldig")


def replacement_granted(trail: Iterable, *, kind: str, sha256: str) -> bool:
    """Whether the audit trail holds a grant for exactly this file to replace the archived form `kind`."""
    return any(r.gebeurtenis == Gebeurtenis.TOESTEMMING and r.details.get("wat") == REPLACEMENT
               and r.details.get("document") == kind and r.details.get("bestand_sha256") == sha256 for r in trail)


def archive_name(form, *, earlier: int) -> str:
    """The form's name in the archive: the first under its own name, each replacement beside it, numbered."""
    if earlier == 0:
        return form.archive_name
    return f"machtiging-{form.label}-ondertekend-vervanging-{earlier}.pdf"


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
    from pipeline.shell.returns import consent_form_of
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
