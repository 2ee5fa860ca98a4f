"""Signing on the doctor's own smart card while the document stays on the server (pyHanko's interrupted signing).

1. `bereid_voor`: the server prepares the waiting document for the doctor's certificate (from his UZI-pas): it
   reserves the signature in an incremental update and returns only the CMS signed attributes to be signed (they
   hold the document's SHA-256, nothing of its content). The prepared state waits in `state/ondertekening/`.
2. The doctor signs those bytes on his card: `sopipe sign-digest` (PKCS#11 or a PKCS#12 file), on his own machine.
3. `voltooi`: the server embeds the signature value in the reserved place and hands the signed document in
   exactly as an upload would (`role_views.lever_ondertekend_in`): the pipeline checks it like any return (the
   certificate and BIG number, the unchanged pages, the exact bytes it sent), then follows it by SHA-256.

Only the doctor the document waits for can prepare or finish it (same scope and audit as the doctors' queue).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from asn1crypto import cms, pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_byterange import PreparedByteRangeDigest
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument
from pyhanko_certvalidator.registry import SimpleCertificateStore

from pipeline.adapters import safefs
from pipeline.adapters.keys import subject_attr
from pipeline.core.actor import Actor
from pipeline.core.trail import Actie, Gebeurtenis, Uitkomst
from pipeline.errors import PipelineError
from pipeline.shell import role_views as rv

FOLDER = "ondertekening"
"""Below `state/`: one prepared document (`<sessie>.pdf`) and its state (`<sessie>.json`) per session."""
_SESSIE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
DIGEST = "sha256"
SESSION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Voorbereiding:
    """What the doctor's card must sign, and the session to finish it with."""
    sessie: str
    te_ondertekenen: bytes
    """The DER of the CMS signed attributes: sign these bytes with SHA-256 and the card's key."""
    digest_algoritme: str = DIGEST

    def as_dict(self) -> dict[str, Any]:
        return {"sessie": self.sessie, "digest_algoritme": self.digest_algoritme,
                "te_ondertekenen": base64.b64encode(self.te_ondertekenen).decode("ascii")}


def _certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """The card's certificate first, then its chain (a PEM bundle, as `sopipe sign-digest --certificate` prints
    it), or one DER certificate."""
    try:
        blobs = [der for _, _, der in pem.unarmor(data, multiple=True)] if pem.detect(data) else [data]
        certs = [asn1_x509.Certificate.load(b) for b in blobs]
        for cert in certs:
            cert.native  # parse it all now: a broken certificate is refused here, not half-way
        if not certs:
            raise ValueError("no certificate")
        return certs
    except Exception as e:
        raise rv.OngeldigeInvoer("Dit is geen leesbaar certificaat (verwacht: het certificaat van uw UZI-pas met "
                                 "zijn keten, zoals `sopipe sign-digest --certificate` het geeft).",
                                 rule="certificaat") from e


def bereid_voor(r: rv.RoleRoot, actor: Actor, kenmerk: str, kind: str, certificaat: bytes) -> Voorbereiding:
    """Prepare the document waiting for this doctor for a signature by `certificaat` (his card's certificate);
    the prepared document stays on the server. The preparation is recorded before the bytes to sign go out."""
    pending = rv._own_pending(r, actor, kenmerk, kind, wat="ondertekening")
    chain = _certificates(certificaat)
    cert = chain[0]
    if subject_attr(cert, "serial_number") != actor.big:
        raise rv.OngeldigeInvoer(f"Dit certificaat hoort niet bij BIG-nummer {actor.big}: het document moet worden "
                                 "ondertekend met het certificaat van uw eigen UZI-pas.", kenmerk=kenmerk,
                                 rule="verkeerde-ondertekenaar")
    unsigned = rv._read(r, pending.path, sha256=pending.sha256)
    signer = signers.ExternalSigner(signing_cert=cert, cert_registry=SimpleCertificateStore.from_certs(chain),
                                    signature_value=_placeholder(cert))
    meta = signers.PdfSignatureMetadata(field_name=f"Handtekening-{actor.big}", md_algorithm=DIGEST,
                                        subfilter=fields.SigSeedSubFilter.PADES)

    async def prepare():
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned))
        digest, _tbs, output = await signers.PdfSigner(meta, signer=signer).async_digest_doc_for_signing(writer)
        attrs = await signer.signed_attrs(digest.document_digest, DIGEST, use_pades=True)
        return digest, output.getvalue(), attrs

    try:
        digest, prepared, attrs = asyncio.run(prepare())
    except Exception as e:
        raise PipelineError(f"Het document kon niet worden voorbereid voor ondertekening: {type(e).__name__}",
                            kenmerk=kenmerk, rule="voorbereiden") from e
    sessie = secrets.token_urlsafe(24)
    state = {"kenmerk": kenmerk, "document": kind, "gebruikersnaam": actor.gebruikersnaam, "kanaal": actor.kanaal.value,
             "big": actor.big, "certificaten": [base64.b64encode(c.dump()).decode("ascii") for c in chain],
             "attributen": base64.b64encode(attrs.dump()).decode("ascii"),
             "digest": {"document_digest": digest.document_digest.hex(), "start": digest.reserved_region_start,
                        "end": digest.reserved_region_end}}
    rv._as(r, actor).record(Gebeurtenis.ONDERTEKENING, kenmerk=kenmerk, actie=Actie.EXECUTE,
                            uitkomst=Uitkomst.GESTART, wat="voorbereid", document=kind, sha256=pending.sha256)
    folder = (*rv._below_root(r.settings, r.settings.state), FOLDER)
    with safefs.folder(r.settings.root, folder, create=safefs.PRIVATE_DIR) as fd:
        _drop_old_sessions(fd, state)
        safefs.write_at(fd, f"{sessie}.pdf", prepared)
        safefs.write_at(fd, f"{sessie}.json", json.dumps(state).encode("utf-8"))
    return Voorbereiding(sessie, attrs.dump())


def voltooi(r: rv.RoleRoot, actor: Actor, sessie: str, handtekening: bytes) -> rv.Inlevering:
    """Embed the card's signature value in the prepared document and hand it in (`lever_ondertekend_in`); the
    session is used up either way."""
    if not _SESSIE.match(sessie or ""):
        raise rv._refuse(r, actor, kenmerk=None, wat="ondertekening")
    folder = (*rv._below_root(r.settings, r.settings.state), FOLDER)
    try:
        with safefs.folder(r.settings.root, folder) as fd:
            state = json.loads(safefs.read_at(fd, f"{sessie}.json", limit=1 << 20)[0])
            prepared = safefs.read_at(fd, f"{sessie}.pdf", limit=rv.MAX_UPLOAD_BYTES)[0]
    except (OSError, ValueError):
        raise rv._refuse(r, actor, kenmerk=None, wat="ondertekening") from None
    if (state["gebruikersnaam"], state["kanaal"], state["big"]) != (actor.gebruikersnaam, actor.kanaal.value,
                                                                    actor.big):
        raise rv._refuse(r, actor, kenmerk=state["kenmerk"], wat="ondertekening")
    _remove(r, folder, sessie)
    if not handtekening or len(handtekening) > 4096:
        raise rv.OngeldigeInvoer("De handtekening is leeg of te groot: lever het bestand in dat `sopipe sign-digest` "
                                 "maakte.", kenmerk=state["kenmerk"], rule="handtekening")
    chain = [asn1_x509.Certificate.load(base64.b64decode(c)) for c in state["certificaten"]]
    attrs = cms.CMSAttributes.load(base64.b64decode(state["attributen"]))
    d = state["digest"]
    digest = PreparedByteRangeDigest(bytes.fromhex(d["document_digest"]), reserved_region_start=d["start"],
                                     reserved_region_end=d["end"])
    signer = signers.ExternalSigner(signing_cert=chain[0], cert_registry=SimpleCertificateStore.from_certs(chain),
                                    signature_value=handtekening)

    async def finish() -> bytes:
        container = await signer.async_sign_prescribed_attributes(DIGEST, signed_attrs=attrs)
        output = io.BytesIO(prepared)
        await PdfTBSDocument.async_finish_signing(output, digest, container)
        return output.getvalue()

    try:
        signed = asyncio.run(finish())
    except Exception as e:
        raise rv.OngeldigeInvoer("De handtekening past niet in het voorbereide document (is zij gemaakt over de "
                                 "gegevens van deze sessie?).", kenmerk=state["kenmerk"], rule="handtekening") from e
    return rv.lever_ondertekend_in(r, actor, state["kenmerk"], state["document"], signed)


def _drop_old_sessions(fd: int, new: dict) -> None:
    """A session lives until it is finished, replaced by a new one for the same doctor and document, or a day old."""
    now = time.time()
    for name in os.listdir(fd):
        if not name.endswith(".json"):
            continue
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            old = json.loads(safefs.read_at(fd, name, limit=1 << 20)[0])
            same = all(old.get(k) == new[k] for k in ("gebruikersnaam", "kanaal", "kenmerk", "document"))
        except (OSError, ValueError):
            continue
        if same or now - st.st_mtime > SESSION_SECONDS:
            for stale in (name, name.removesuffix(".json") + ".pdf"):
                try:
                    os.unlink(stale, dir_fd=fd)
                except FileNotFoundError:
                    pass


def _remove(r: rv.RoleRoot, folder: tuple[str, ...], sessie: str) -> None:
    with safefs.folder(r.settings.root, folder) as fd:
        for name in (f"{sessie}.json", f"{sessie}.pdf"):
            try:
                os.unlink(name, dir_fd=fd)
            except FileNotFoundError:
                pass


def _placeholder(cert: asn1_x509.Certificate) -> bytes:
    """A stand-in signature value of the largest size this key can give, so the reserved space fits the real one."""
    key = cert.public_key
    if key.algorithm == "rsa":
        return bytes(key.bit_size // 8)
    return bytes(2 * ((key.bit_size + 7) // 8) + 9)  # a DER ECDSA signature at its longest
