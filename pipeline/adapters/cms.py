"""CMS (RFC 5652) for the archive bundle: the arbodienst's detached seal over a manifest, its check, the chain.

The bundle's `manifest.json.p7s` is a detached CMS with CAdES signed attributes, made with the seal identity
(`SigningIdentity`, pyHanko's signer) and checked with pyHanko's CMS validation against trust roots given from
outside (never fetched: a bundle is checked offline). Certificates travel as PEM (asn1crypto). The counts of the
signatures a PDF carries (each one a CMS in a signature field) are read here too, for the bundle's manifest.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509

from pipeline.adapters.signing import SigningIdentity
from pipeline.errors import ArchiveError


def seal_detached(data: bytes, identity: SigningIdentity) -> bytes:
    """The detached CAdES seal (DER) of `identity` over `data`."""
    async def sign() -> cms.ContentInfo:
        return await identity.signer.async_sign_general_data(data, "sha256", detached=True, use_cades=True)
    try:
        with identity.lock:
            return asyncio.run(sign()).dump()
    except Exception as e:
        raise ArchiveError(f"Het manifest kan niet worden verzegeld: {e}") from e


def chain_pem(identity: SigningIdentity, pki_dir: Path | None) -> bytes:
    """The seal certificate, its chain and the root(s) of `pki_dir/ca.pem` when there is one, as PEM, each once."""
    certs = [identity.certificate, *identity.signer.cert_registry]
    if pki_dir is not None and (pki_dir / "ca.pem").exists():
        from pyhanko.keys import load_certs_from_pemder_data
        certs += list(load_certs_from_pemder_data((pki_dir / "ca.pem").read_bytes()))
    seen, out = set(), []
    for c in certs:
        der = c.dump()
        if der not in seen:
            seen.add(der)
            out.append(certificate_pem(c))
    return b"".join(out)


def certificate_pem(cert: asn1_x509.Certificate) -> bytes:
    return pem.armor("CERTIFICATE", cert.dump())


def load_chain(data: bytes) -> list[asn1_x509.Certificate]:
    """The certificates of a PEM file; an unreadable file is an empty chain (the seal check then says why)."""
    certs = []
    try:
        for _type, _headers, der in pem.unarmor(data, multiple=True):
            certs.append(asn1_x509.Certificate.load(der))
    except (ValueError, TypeError):
        pass
    return certs


def load_trust_roots(paths: Sequence[Path]) -> list[asn1_x509.Certificate]:
    """The root certificates in the given PEM or DER files (obtained independently of any bundle)."""
    from pyhanko.keys import load_certs_from_pemder_data
    roots = []
    for p in paths:
        try:
            roots += list(load_certs_from_pemder_data(Path(p).read_bytes()))
        except (OSError, ValueError) as e:
            raise ArchiveError(f"Vertrouwd basiscertificaat kan niet worden gelezen: {p} ({e})") from e
    return roots


@dataclass(frozen=True)
class SealCheck:
    """What the check of a detached seal found."""
    signer: str = "?"
    """The common name of the seal certificate."""
    intact: bool = False
    """The data is what was sealed."""
    valid: bool = False
    """The signature is cryptographically sound."""
    trusted: bool = False
    """The seal certificate chains to one of the trust roots."""
    summary: str = ""
    """pyHanko's one-line summary of the status."""
    unreadable: str = ""
    """Why the seal could not be checked at all (`TypeError: ...`); empty when it was."""


def check_detached_seal(data: bytes, signature: bytes, *, roots: Sequence[asn1_x509.Certificate],
                        chain: Sequence[asn1_x509.Certificate]) -> SealCheck:
    """Check the detached CMS `signature` over `data` offline: no certificate or revocation data is fetched."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms
    from pyhanko_certvalidator import ValidationContext
    try:
        signed_data = cms.ContentInfo.load(signature)["content"]
        context = ValidationContext(trust_roots=list(roots), other_certs=list(chain), allow_fetching=False,
                                    revocation_mode="soft-fail")
        status = asyncio.run(async_validate_detached_cms(data, signed_data, signer_validation_context=context))
    except Exception as e:
        return SealCheck(unreadable=f"{type(e).__name__}: {e}")
    return SealCheck(status.signing_cert.subject.native.get("common_name", "?"), bool(status.intact),
                     bool(status.valid), bool(status.trusted), status.summary())


def pdf_signature_counts(pdf: bytes) -> dict[str, int]:
    """The manifest's counts of a PDF: `handtekeningen`, every filled signature field (document timestamps
    included, as bundles always counted them), and `archieftijdstempels`, the document timestamps among them."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    try:
        fields = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        return {"handtekeningen": len(fields),
                "archieftijdstempels": sum(1 for f in fields if f.sig_object_type == "/DocTimeStamp")}
    except Exception:
        return {"handtekeningen": 0}
