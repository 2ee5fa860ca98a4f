"""Wiring: the real adapters for one root, opened together and closed together."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Iterator

from pipeline.adapters.audit import Audit
from pipeline.adapters.clock import SYSTEM_CLOCK, Clock
from pipeline.adapters.converter import Converter, UnoConverterPool
from pipeline.adapters.renderer import DocxRenderer
from pipeline.adapters.demo_pki import is_demo_pki
from pipeline.adapters.appearance import signature_appearance
from pipeline.adapters.keys import KeyRing, SigningIdentity, read_secret
from pipeline.adapters.signing import PadesSigner
from pipeline.adapters.store import Store
from pipeline.core.kinds import Signer
from pipeline.core.pades import PadesLevel
from pipeline.core.procedure import DocumentOrder, SignOrder
from pipeline.errors import PipelineError, SigningError
from pipeline.settings import Settings
from pipeline.shell.runner import Pipeline


class OrderSigner:
    """Signs a document as its order says: the arbodienst seal (certifying) or a doctor's own key, with the block
    of `signature_appearance` (the one builder, also `sopipe sign`'s)."""

    def __init__(self, keyring: KeyRing, pades: PadesSigner | None = None, *,
                 level_for: Callable[[Signer], str] = lambda signer: "B-B", auto_sign_doctors: bool = True) -> None:
        self.keyring = keyring
        self.pades = pades or PadesSigner()
        self.level_for = level_for
        """PAdES level per signer (`Settings.signing_level`)."""
        self.auto_sign_doctors = auto_sign_doctors
        self._one_at_a_time = threading.Lock()
        """Cases run side by side, but their signatures one after the other: the certificate objects pyHanko
        shares between signatures (asn1crypto, parsed lazily) are not safe to use from two threads at once."""

    def can_sign(self, s: SignOrder) -> bool:
        """Whether this signature can be made here; a doctor's personal signature otherwise waits for the doctor."""
        if s.wie is Signer.ZEGEL:
            return True
        return self.auto_sign_doctors and self.keyring.doctor(s.big_nummer) is not None

    def sign(self, pdf: bytes, order: DocumentOrder) -> bytes:
        s = order.sign
        if s.wie is Signer.ZEGEL:
            identity = self.keyring.seal()
        else:
            identity = self.keyring.doctor(s.big_nummer)
            if identity is None:
                raise SigningError(f"Er is geen ondertekeningssleutel van {s.naam} (BIG {s.big_nummer}) in de PKI; "
                                   f"{order.row.titel.lower()} kan niet worden ondertekend.", kenmerk=order.kenmerk,
                                   field=f"{s.wie.value}.big_nummer", rule="ondertekening")
        with self._one_at_a_time:
            return self.pades.sign(pdf, identity=identity, appearance=signature_appearance(s, identity),
                                   certify=s.certify, level=self.level_for(s.wie))


    def extend(self, pdf: bytes, signer: Signer, *, current: str) -> bytes:
        """A document `signer` signed elsewhere, at PAdES level `current`, brought to the level configured for
        that signer (`PadesSigner.extend`); unchanged when it is there already."""
        wanted = PadesLevel.parse(self.level_for(signer))
        if current in set(PadesLevel) and PadesLevel(current).rank >= wanted.rank:
            return pdf
        with self._one_at_a_time:
            return self.pades.extend(pdf, level=wanted)



def case_sign_order(settings: Settings, kenmerk: str, signer: Signer) -> SignOrder | None:
    """The order for `signer`'s personal signature in case `kenmerk` of this root, with the root's master data, as
    the pipeline made it (`sopipe sign --root`); None when the root holds no such case."""
    from pipeline.core.procedure import personal_sign_order

    if not settings.database.exists():
        return None
    store = Store(settings.database)
    try:
        state = store.case_state(kenmerk)
    finally:
        store.close()
    if state is None or (signer is Signer.SO_BEDRIJFSARTS and state.so_arts is None):
        return None
    return personal_sign_order(dataclasses.replace(state, organisaties=settings.organisaties), signer)


def make_keyring(settings: Settings, *, doctors: bool = True) -> KeyRing:
    """The root's keys: outside the DEMO only the seal, from a token or with a passphrase kept elsewhere.

    A doctor's personal key is loaded only from a DEMO PKI with `auto_sign_doctors`; with a production PKI that
    setting stops start-up, so no case file can make the pipeline sign in a doctor's name. `doctors=False`:
    the seal only (archive export).
    """
    demo = is_demo_pki(settings.pki_dir)
    if doctors and settings.signing.auto_sign_doctors and not demo:
        raise PipelineError(
            f"[signing] auto_sign_doctors = true is only for the DEMO PKI, and {settings.pki_dir} is not one: "
            "a doctor's personal signature is never applied by the pipeline. Set auto_sign_doctors = false in "
            f"{settings.config_file}; the final advice then waits in "
            "outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/ and the request form in "
            "outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/ for the doctor (`sopipe sign`).",
            field="auto_sign_doctors")
    seal = None
    if settings.signing.seal_pkcs11_module:
        chain = [p for p in (settings.pki_dir / "intermediate.pem", *settings.trust_roots) if p.exists()]
        seal = SigningIdentity.from_pkcs11(
            settings.signing.seal_pkcs11_module, token_label=settings.signing.seal_token_label,
            key_label=settings.signing.seal_key_label, pin=read_secret(settings.signing.seal_pin, setting="seal_pin").decode("utf-8"), chain=chain)
    elif settings.signing.seal_passphrase:
        seal = SigningIdentity.from_pkcs12(settings.seal_p12 or settings.pki_dir / "seal.p12",
                                           read_secret(settings.signing.seal_passphrase, setting="seal_passphrase"))
    elif not demo:
        raise PipelineError(
            f"No seal configured for the production PKI in {settings.pki_dir}: set [signing] seal_pkcs11_module "
            "(a token) or seal_passphrase (env:/file:/credential:, never beside the key) in sopipe.toml",
            field="seal_passphrase")
    return KeyRing.from_pki_dir(settings.pki_dir, seal=seal,
                                doctors=doctors and demo and settings.signing.auto_sign_doctors)


def make_order_signer(settings: Settings) -> OrderSigner:
    """The signer for a root: its KeyRing, its timestamp server and trust roots, its levels per kind."""
    from pyhanko.keys import load_certs_from_pemder

    roots = [c for p in settings.trust_roots if p.exists() for c in load_certs_from_pemder([str(p)])]
    pades = PadesSigner(tsa_url=settings.signing.tsa_url, trust_roots=roots)
    return OrderSigner(make_keyring(settings), pades, level_for=settings.signing_level,
                       auto_sign_doctors=settings.signing.auto_sign_doctors)


def check_signing_setup(settings: Settings) -> None:
    """Refuse to start signing below B-LTA on a production PKI without a timestamp server, unless the lower levels
    were chosen explicitly (`sopipe status` keeps warning about them)."""
    from pipeline.adapters.demo_pki import is_demo_pki
    unset = [k for k in ("level_machtiging", "level_advies") if getattr(settings.signing, k) is None]
    if settings.signing.tsa_url or not unset or is_demo_pki(settings.pki_dir):
        return
    raise SigningError(
        "Er is geen tijdstempelserver ingesteld ([signing] tsa_url in sopipe.toml), dus machtigingen en adviezen "
        "zouden alleen PAdES B-B krijgen: die zijn na het verlopen van het certificaat van de ondertekenaar niet "
        "meer te controleren, terwijl het dossier 20 jaar bewaard wordt. Stel [signing] tsa_url in (PAdES B-LTA), "
        "of kies bewust een lager niveau met " + " en ".join(f'[signing] {k} = "B-B"' for k in unset) + ".",
        field="tsa_url", rule="ondertekeningsniveau")


@contextmanager
def signing_services(settings: Settings) -> Iterator[Settings]:
    """The settings to sign with while the block runs: checked (`check_signing_setup`), and on a DEMO root without
    a configured tsa_url with the DEMO timestamp, OCSP and CRL services running on loopback (stopped on exit)."""
    check_signing_setup(settings)
    if not settings.demo_services:
        yield settings
        return
    from pipeline.adapters.demo_services import serve_pki
    with serve_pki(settings.pki_dir) as urls:
        yield settings.replace(signing={"tsa_url": urls.tsa})


@contextmanager
def open_pipeline(settings: Settings, *, guard=None, converter: Converter | None = None,
                  signer: OrderSigner | None = None, clock: Clock | None = None,
                  validators: ProcessPoolExecutor | None = None) -> Iterator[Pipeline]:
    """The pipeline of one root, as `sopipe watch` runs it. `converter`: another Converter than the root's
    LibreOffice pool (the tests' FakeConverter); whoever passes it in closes it. `signer`: one made by
    `make_order_signer` for another root with the same keys and settings (tests share one: loading the keys and
    preparing the signature font take seconds). `clock`: the one clock of the runner, the store and the audit
    trail (default: the system clock). `validators`: the child processes that make the archive's validation
    reports (`validation_pool`), shared with other roots and shut down by whoever passes them in (the tests);
    default: two of the root's own."""
    clock = clock or SYSTEM_CLOCK
    from pipeline.shell.returns import ReturnPolicy
    from pipeline.shell.validation_reports import ValidatingMailboxes
    from pipeline.shell.layout import access_from_settings
    mailbox_access, intake_access = access_from_settings(settings)
    store = Store(settings.database, clock=clock)
    signer = signer or make_order_signer(settings)
    own_converter = converter is None
    if own_converter:
        converter = UnoConverterPool(workers=settings.libreoffice.workers or None, timeout=settings.libreoffice.timeout,
                                     max_conversions=settings.libreoffice.max_conversions,
                                     max_rss_mb=settings.libreoffice.max_rss_mb, retries=settings.libreoffice.retries,
                                     scratch_dir=settings.scratch)
    if guard is None:
        from pipeline.shell.guard import PrivacyGuard
        guard = PrivacyGuard()
    pipeline = Pipeline(inbox=settings.inbox, outbox=settings.outbox, quarantine=settings.quarantine, store=store,
                        staging=settings.staging,
                        renderer=DocxRenderer(settings.templates), converter=converter, signer=signer,
                        guard=guard, max_file_bytes=settings.intake.max_file_bytes,
                        parallel=max(2, settings.libreoffice.workers or 2), audit=Audit(store, clock=clock),
                        returns=ReturnPolicy(trust_roots=settings.trust_roots, artsen=settings.artsen),
                        mailboxes=ValidatingMailboxes(settings.outbox, trust_roots=settings.trust_roots,
                                                      processes=2, access=mailbox_access, ledger=store,
                                                      pool=validators),
                        intake_access=intake_access, organisaties=settings.organisaties, clock=clock)
    try:
        yield pipeline
    finally:
        pipeline.close()
        pipeline.mailboxes.close()
        if own_converter:
            converter.close()
        signer.pades.close()
        store.close()
