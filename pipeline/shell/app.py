"""Wiring: the real adapters for one root, opened together and closed together."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from typing import Iterator

from pipeline.adapters.audit import Audit
from pipeline.adapters.converter import UnoConverterPool
from pipeline.adapters.renderer import DocxRenderer
from pipeline.adapters.signing import KeyRing, PadesSigner, SignatureAppearance
from pipeline.adapters.store import Store
from pipeline.core.procedure import DocumentOrder, SignOrder
from pipeline.errors import SigningError
from pipeline.settings import Settings
from pipeline.shell.layout import TEMPLATES
from pipeline.shell.runner import Pipeline


class OrderSigner:
    """Signs a document as its order says: the arbodienst seal (certifying) or the SO doctor's own key."""

    def __init__(self, keyring: KeyRing, pades: PadesSigner | None = None, *,
                 level_for: Callable[[str], str] = lambda kind: "B-B", auto_sign_doctors: bool = True) -> None:
        self.keyring = keyring
        self.pades = pades or PadesSigner()
        self.level_for = level_for
        """PAdES level per document kind (`Settings.signing_level`)."""
        self.auto_sign_doctors = auto_sign_doctors

    def can_sign(self, s: SignOrder) -> bool:
        """Whether this signature can be made here; a doctor's personal signature otherwise waits for the doctor."""
        if s.wie == "zegel":
            return True
        return self.auto_sign_doctors and self.keyring.doctor(s.big_nummer) is not None

    def sign(self, pdf: bytes, order: DocumentOrder) -> bytes:
        s = order.sign
        if s.wie == "zegel":
            identity = self.keyring.seal()
        else:
            identity = self.keyring.doctor(s.big_nummer)
            if identity is None:
                raise SigningError(f"Er is geen ondertekeningssleutel van {s.naam} (BIG {s.big_nummer}) in de PKI; "
                                   f"{order.row.titel.lower()} kan niet worden ondertekend.", kenmerk=order.kenmerk,
                                   field=("bedrijfsarts" if s.wie == "bedrijfsarts" else "so_bedrijfsarts")
                                   + ".big_nummer", rule="ondertekening")
        appearance = SignatureAppearance(naam=s.naam, rol=s.rol, big_nummer=s.big_nummer, organisatie=s.organisatie,
                                         reden=s.reden, locatie="Nederland")
        return self.pades.sign(pdf, identity=identity, appearance=appearance, certify=s.certify,
                               level=self.level_for(order.kind))


def make_order_signer(settings: Settings) -> OrderSigner:
    """The signer for a root: its KeyRing, its timestamp server and trust roots, its levels per kind."""
    from pyhanko.keys import load_certs_from_pemder

    from pipeline.adapters.signing import http_timestamper
    roots = [c for p in settings.trust_roots if p.exists() for c in load_certs_from_pemder([str(p)])]
    pades = PadesSigner(timestamper=http_timestamper(settings.tsa_url) if settings.tsa_url else None,
                        trust_roots=roots)
    return OrderSigner(KeyRing.from_pki_dir(settings.pki_dir), pades, level_for=settings.signing_level,
                       auto_sign_doctors=settings.auto_sign_doctors)


@contextmanager
def open_pipeline(settings: Settings, *, guard=None) -> Iterator[Pipeline]:
    from pipeline.shell.returns import ReturnPolicy
    from pipeline.shell.validation_reports import ValidatingMailboxes
    store = Store(settings.database)
    signer = make_order_signer(settings)
    converter = UnoConverterPool(workers=settings.lo_workers or None, timeout=settings.lo_timeout,
                                 max_conversions=settings.lo_max_conversions, max_rss_mb=settings.lo_max_rss_mb,
                                 retries=settings.lo_retries)
    if guard is None:
        from pipeline.shell.guard import PrivacyGuard
        guard = PrivacyGuard()
    pipeline = Pipeline(inbox=settings.inbox, outbox=settings.outbox, quarantine=settings.quarantine, store=store,
                        renderer=DocxRenderer(TEMPLATES), converter=converter, signer=signer,
                        guard=guard, max_file_bytes=settings.max_file_bytes,
                        parallel=max(2, settings.lo_workers or 2), audit=Audit(store),
                        returns=ReturnPolicy(trust_roots=settings.trust_roots),
                        mailboxes=ValidatingMailboxes(settings.outbox, trust_roots=settings.trust_roots),
                        organisaties=settings.organisaties)
    try:
        yield pipeline
    finally:
        pipeline.close()
        converter.close()
        store.close()
