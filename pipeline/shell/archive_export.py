"""`sopipe archive export`: the sealed bundle of one dossier (the format: `pipeline.shell.archive_bundle`)."""

from __future__ import annotations

import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.adapters import safefs
from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock, utc_iso
from pipeline.adapters.cms import chain_pem, pdf_signature_counts, seal_detached
from pipeline.adapters.signing import SigningIdentity
from pipeline.adapters.store import Store
from pipeline.core import trail
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.errors import ArchiveError, UnsafePathError
from pipeline.settings import ARCHIVE, Settings
from pipeline.shell.archive_bundle import AUDIT, CHAIN, DOCS, FORMAT, LEESMIJ, MANIFEST, README, SEAL, sha256
from pipeline.shell.archive_retention import retention


@dataclass(frozen=True)
class ExportResult:
    path: Path
    manifest_sha256: str
    files: int
    """Files in the bundle besides manifest.json and its seal."""
    seconds: float
    chain_intact: bool
    """`audit --verify` found nothing at export time (recorded in the manifest either way)."""


def export_dossier(settings: Settings, store: Store, audit: Audit, kenmerk: str, out: Path, *,
                   seal: SigningIdentity, pki_dir: Path | None = None, clock: Clock | None = None) -> ExportResult:
    """Write the sealed bundle of one dossier to `out` (mode 0600: it holds medical data). `clock`: when the
    bundle is made (default: the store's clock)."""
    clock = clock or getattr(store, "clock", SYSTEM_CLOCK)
    start = time.perf_counter()
    folder = settings.archive / kenmerk
    ret = retention(store, kenmerk)
    if ret is None:
        raise ArchiveError(f"Er is geen dossier {kenmerk} in {settings.root} (geen zaak of geen archiefmap "
                           f"{folder}).", kenmerk=kenmerk)
    members = {DOCS + rel: data for rel, data in _read_archive_folder(settings, kenmerk).items()}
    chain_ok = not audit.verify()
    records = audit.trail(kenmerk)
    head_id, head_hash = audit.head()
    members[AUDIT] = json.dumps({"kenmerk": kenmerk, "records": [r.as_dict() for r in records]},
                                indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    members[CHAIN] = chain_pem(seal, pki_dir)
    members[README] = LEESMIJ.format(kenmerk=kenmerk).encode("utf-8")
    manifest = {
        "formaat": FORMAT,
        "kenmerk": kenmerk,
        "gemaakt_op": utc_iso(clock),
        "gemaakt_door": audit.user,
        "laatste_wijziging": ret.laatste_wijziging.isoformat(),
        "bewaren_tot": ret.bewaren_tot.isoformat(),
        "zegel": {"handtekening": SEAL, "keten": CHAIN, "ondertekenaar": seal.naam},
        "audit": {"bestand": AUDIT, "records": len(records), "keten_kop": {"id": head_id, "hash": head_hash},
                  "keten_intact_bij_export": chain_ok},
        "bestanden": [{"naam": name, "sha256": sha256(data), "bytes": len(data),
                       **(pdf_signature_counts(data) if name.lower().endswith(".pdf") else {})}
                      for name, data in sorted(members.items())],
    }
    manifest_bytes = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    signature = seal_detached(manifest_bytes, seal)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(MANIFEST, manifest_bytes)
                zf.writestr(SEAL, signature)
                for name, data in sorted(members.items()):
                    zf.writestr(name, data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    digest = sha256(manifest_bytes)
    audit.record(Gebeurtenis.EXPORT, kenmerk=kenmerk, actie=Actie.READ,
                 uitkomst=Uitkomst.GESLAAGD, bundel=trail.scrub(out.name), manifest_sha256=digest,
                 aantal=len(members))
    return ExportResult(out, digest, len(members), time.perf_counter() - start, chain_ok)


def _read_archive_folder(settings: Settings, kenmerk: str) -> dict[str, bytes]:
    """The files of `outbox/archief/<kenmerk>/`, read by descriptors from the root down: a symlink at any level
    (outbox/, archief/, the case folder or anything in it) refuses the export before a byte is read through it."""
    parts = (*ARCHIVE, kenmerk)
    shown = "/".join(parts)
    try:
        with safefs.folder(settings.root, parts) as fd:
            return safefs.read_tree(fd, shown=shown)
    except FileNotFoundError:
        raise ArchiveError(f"Er is geen dossier {kenmerk} in {settings.root} (geen zaak of geen archiefmap "
                           f"{shown}).", kenmerk=kenmerk) from None
    except UnsafePathError as e:
        raise ArchiveError(f"De archiefmap van {kenmerk} wordt niet geëxporteerd: {e.message} Er is geen export "
                           "gemaakt en niets door de koppeling gelezen; exporteer opnieuw zodra dit is opgelost.",
                           kenmerk=kenmerk, rule=e.rule or "symlink") from None
