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


def sha256(data: bytes) -> str:
    """The hex SHA-256 the manifest lists for every member."""
    return hashlib.sha256(data).hexdigest()
