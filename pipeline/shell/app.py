"""Wiring: the real adapters for one root, opened together and closed together."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from pipeline.adapters.audit import Audit
from pipeline.adapters.converter import UnoConverterPool
from pipeline.adapters.renderer import DocxRenderer
from pipeline.adapters.signing import KeyRing, PadesSigner, SignatureAppearance
from pipeline.adapters.store import Store
from pipeline.core.procedure import DocumentOrder
from pipeline.errors import SigningError
from pipeline.settings import Settings
from pipeline.shell.layout import TEMPLATES
from pipeline.shell.runner import Pipeline


class OrderSigner:
    """Signs a document as its order says: the arbodienst seal (certifying) or the SO doctor's own key."""

    def __init__(self, keyring: KeyRing, pades: PadesSigner | None = None) -> None:
        self.keyring = keyring
        self.pades = pades or PadesSigner()

    def sign(self, pdf: bytes, order: DocumentOrder) -> bytes:
        s = order.sign
        if s.wie == "zegel":
            identity = self.keyring.seal()
        else:
            identity = self.keyring.doctor(s.big_nummer)
            if identity is None:
                raise SigningError(f"Er is geen ondertekeningssleutel van {s.naam} (BIG {s.big_nummer}) in de PKI; "
                                   "het definitieve advies kan niet worden ondertekend.", kenmerk=order.kenmerk,
                                   field="so_bedrijfsarts.big_nummer", rule="ondertekening")
        appearance = SignatureAppearance(naam=s.naam, rol=s.rol, big_nummer=s.big_nummer, organisatie=s.organisatie,
                                         reden=s.reden, locatie="Nederland")
        return self.pades.sign(pdf, identity=identity, appearance=appearance, certify=s.certify)


@contextmanager
def open_pipeline(settings: Settings, *, guard=None) -> Iterator[Pipeline]:
    store = Store(settings.database)
    keyring = KeyRing.from_pki_dir(settings.pki_dir)
    converter = UnoConverterPool(workers=settings.lo_workers or None, timeout=settings.lo_timeout,
                                 max_conversions=settings.lo_max_conversions, max_rss_mb=settings.lo_max_rss_mb,
                                 retries=settings.lo_retries)
    if guard is None:
        from pipeline.shell.guard import PrivacyGuard
        guard = PrivacyGuard()
    pipeline = Pipeline(inbox=settings.inbox, outbox=settings.outbox, quarantine=settings.quarantine, store=store,
                        renderer=DocxRenderer(TEMPLATES), converter=converter, signer=OrderSigner(keyring),
                        guard=guard, max_file_bytes=settings.max_file_bytes,
                        parallel=max(2, settings.lo_workers or 2), audit=Audit(store))
    try:
        yield pipeline
    finally:
        pipeline.close()
        converter.close()
        store.close()
