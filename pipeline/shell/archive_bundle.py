"""The sealed dossier bundle's format: one zip that proves itself without the pipeline.

    manifest.json         what is in the bundle: SHA-256 and size of every other file, signature counts,
                          the case's retention date and the audit-chain head at export time
    manifest.json.p7s     the arbodienst's seal over manifest.json: detached CMS, CAdES signed attributes
    zegel-keten.pem       the seal certificate and its chain (the root is NOT a trust anchor: see verify)
    audit.json            the case's audit records, each with its chain hash
    LEESMIJ.txt           how to check the bundle by hand
    documenten/...        every file of outbox/archief/<kenmerk>/ (PDFs and any validation reports beside them)

`pipeline.shell.archive_export` makes a bundle, `pipeline.shell.archive_verify` checks one offline; the seal is
made and checked in `pipeline.adapters.cms`.
"""

from __future__ import annotations

import hashlib

FORMAT = "sopipe-archiefbundel/v1"
MANIFEST = "manifest.json"
SEAL = "manifest.json.p7s"
CHAIN = "zegel-keten.pem"
AUDIT = "audit.json"
README = "LEESMIJ.txt"
DOCS = "documenten/"

LEESMIJ = """\
Verzegelde dossierbundel {kenmerk} (sopipe)
==========================================

manifest.json      lijst van alle bestanden in deze bundel met hun SHA-256; de bewaartermijn
manifest.json.p7s  het elektronisch zegel van de arbodienst over manifest.json (CMS/CAdES, losgekoppeld)
zegel-keten.pem    het zegelcertificaat en de keten erboven
audit.json         het logboek van de zaak (NEN 7513), ieder record met zijn keten-hash
documenten/        de archiefexemplaren (PDF/A, ondertekende stukken met hun PAdES-handtekening)

Controleren zonder sopipe:
  openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
      -CAfile <basiscertificaat van de arbodienst> -purpose any > /dev/null
  sha256sum documenten/*   (vergelijk met manifest.json)
Met sopipe:  sopipe archive verify <bundel>.zip --trust <basiscertificaat van de arbodienst>
Gebruik als vertrouwensanker een basiscertificaat dat u langs een andere weg hebt gekregen, niet het
certificaat uit deze bundel.
"""
"""`README` of every bundle (`{kenmerk}` filled in): what the files are and how to check them without sopipe."""


def sha256(data: bytes) -> str:
    """The hex SHA-256 the manifest lists for every member."""
    return hashlib.sha256(data).hexdigest()
