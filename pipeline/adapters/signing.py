"""Sign PDF documents: PAdES signatures with a visible, Dutch signature block, made with pyHanko.

This module holds the signing itself; what it signs with and what the block shows live beside it:

- `pipeline.adapters.keys` — `SigningIdentity` (a private key with its chain, PKCS#12 or PKCS#11, loaded once),
  `KeyRing` (the identities of one pki directory by role) and `read_secret`.
- `pipeline.adapters.appearance` — the visible block: `SignatureAppearance` and its one builder
  `signature_appearance`, the stamp style and embedded font, the anchor and placement on the page.
- here: `PadesSigner` turns (pdf bytes, identity, appearance, level) into signed pdf bytes (subfilter
  ETSI.CAdES.detached, SHA-256). Levels (`PadesLevel`, `pipeline.core.pades`): B-B the signature alone; B-T plus
  an RFC 3161 signature timestamp; B-LT plus the certificates, CRLs and OCSP responses needed to validate it,
  embedded in the document security store (DSS) — fetched at signing time from the URLs in the certificates,
  reused from the `RevocationCache`; B-LTA plus a document timestamp over all of that, which
  `PdfTimeStamper.update_archival_timestamp_chain` renews later (`renew_archival_timestamp`, `sopipe archive
  renew`). The timestamper and trust roots are configured once in `PadesSigner.__init__`.

The names that moved to `keys` and `appearance` are still importable from here.

PDF/A-2b: the PDF version stays 1.x as long as identities use RSA keys (pyHanko declares PDF 2.0 — catalog
/Version /2.0 — when it signs with an ECDSA key; see `pipeline.adapters.demo_pki`). Nothing here runs a PDF/A
validator (veraPDF).

Certification: the seal certifies with DocMDP "fill forms". After a certification signature pyHanko (stricter
than Acrobat) treats a *new* visible signature field as a forbidden change, so whoever certifies must reserve
the fields of later signers in the same revision: `sign(..., certify=True, reserve_fields=["SO-bedrijfsarts"])`,
then later `sign(..., field_name="SO-bedrijfsarts")`.

Threads: calls that use the same token identity (PKCS#11: a session must not be shared) are serialised by the
identity's lock. Two signatures made at the same moment from two threads crashed inside asn1crypto (the certificate
objects shared by the signatures are parsed lazily and not thread-safe), so the pipeline's `OrderSigner` makes its
signatures one after the other, also across cases running side by side. Signatures that reach the trust services run on one event loop of the signer (its
HTTP connections are kept alive there); B-B ones on a loop of their own. Either way `sign` must not be called from
inside a running event loop: use `asyncio.to_thread` there.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import io
import re
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import CRLFetcher, Fetchers, OCSPFetcher
from pypdf import PdfReader

from pipeline.adapters.appearance import (  # noqa: F401  (re-exported: the visible block lived here)
    ANCHOR_TEXT, BOX_GAP, BOX_HEIGHT, BOX_WIDTH, CM, DISPLAY_ZONE, FALLBACK_BOTTOM, FALLBACK_LEFT, FONT_CANDIDATES,
    FONT_UNICODES, PAGE_MARGIN, SignatureAppearance, dutch_time, find_anchor, identity_order, load_font,
    named_anchor, plan_placement, signature_appearance, stamp_style, text_params)
from pipeline.adapters.keys import KeyRing, SigningIdentity, read_secret  # noqa: F401  (re-exported)
from pipeline.core.pades import PadesLevel
from pipeline.errors import SigningError, TrustServiceOutage

log = logging.getLogger(__name__)

REVOCATION_MAX_AGE = timedelta(minutes=10)
"""Longest an OCSP response or CRL fetched at signing time is reused, even when its nextUpdate is later: a
revoked key stops producing signatures within this time."""


_CONTENTS = re.compile(rb"/Contents\s*<([0-9A-Fa-f]+)>")


class PadesSigner:
    """Signs PDFs as PAdES B-B … B-LTA with a visible block; build once (prepares the font, ~0.2 s), then `sign`.

    `timestamper`: the RFC 3161 client for B-T and up (e.g. `http_timestamper(url)`). `trust_roots`: the
    certificates that anchor the chains whose validation data B-LT embeds (the PKI's `ca.pem`).
    """

    def __init__(self, *, font_candidates: Sequence[Path] = FONT_CANDIDATES, font_size: int = 8,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 timestamper: TimeStamper | None = None, tsa_url: str | None = None,
                 trust_roots: Sequence[asn1_x509.Certificate] = (),
                 revocation_max_age: timedelta = REVOCATION_MAX_AGE) -> None:
        self._network = _NetworkSigning(clock=clock, max_age=revocation_max_age)
        self.timestamper = timestamper if timestamper is not None or tsa_url is None \
            else http_timestamper(tsa_url, session=self._network.session, trust_roots=trust_roots)
        self.trust_roots = tuple(trust_roots)
        self._font = load_font(font_candidates, font_size=font_size)
        self._font_size = font_size
        self._clock = clock
        self._reserved: dict[tuple, int] = {}

    @property
    def font_file(self) -> str:
        return self._font.font_file

    def close(self) -> None:
        """Close the HTTP connections to the trust services and stop the signing event loop (if started)."""
        self._network.close()

    def sign(self, pdf: bytes, *, identity: SigningIdentity, appearance: SignatureAppearance,
             certify: bool = False, field_name: str | None = None, reserve_fields: Sequence[str] = (),
             level: PadesLevel | str = PadesLevel.B_B) -> bytes:
        """Return `pdf` with one more signature (an incremental update; earlier signatures stay valid).

        `level`: the PAdES baseline level; B-T and up need the `timestamper` given to the constructor, B-LT and
        up also reach the revocation services named in the certificates (network, at signing time only).
        `certify`: a certification signature (DocMDP: form filling and signing still allowed) — must be the
        first signature of the document. `field_name`: sign this field; an existing empty field (reserved
        earlier) is filled, otherwise a new one is made. Default: a new field `Handtekening<n>`.
        `reserve_fields`: names of empty signature fields to add below the block for later signers (needed
        when certifying, see the module docstring).
        """
        level = PadesLevel.parse(level)
        if level.needs_timestamp and self.timestamper is None:
            raise SigningError(f"PAdES {level.value} vraagt een tijdstempelserver, maar er is er geen ingesteld "
                               "([signing] tsa_url)", field="tsa_url")
        self._check_certificate(identity)
        started = time.perf_counter()
        try:
            reader = PdfReader(io.BytesIO(pdf))
            if reader.is_encrypted:
                raise SigningError("Versleutelde PDF kan niet worden ondertekend")
            existing = _form_fields(reader)
            certified = _is_certified(reader)
        except SigningError:
            raise
        except Exception as e:
            raise SigningError(f"PDF kan niet worden gelezen om te ondertekenen: {e}") from e

        field_name, new_field = _choose_field(existing, certified=certified, certify=certify,
                                              field_name=field_name, reserve_fields=reserve_fields)

        page_index, own_box, reserved_boxes = len(reader.pages) - 1, None, []
        if new_field or reserve_fields:
            try:
                placement = plan_placement(reader)
            except Exception as e:
                raise SigningError(f"Plaats voor het handtekeningblok kan niet worden bepaald: {e}") from e
            if not placement.anchor_found:
                log.warning("Woord %r niet gevonden op de laatste pagina; handtekeningblok onderaan geplaatst",
                            ANCHOR_TEXT)
            try:
                own_box = next(placement.boxes) if new_field else None
                reserved_boxes = [(name, next(placement.boxes)) for name in reserve_fields]
            except StopIteration:
                raise SigningError("Geen ruimte meer op de laatste pagina voor nog een handtekeningblok") from None

        fetchers = self._network.fetchers() if level.embeds_validation_data else None
        meta = signers.PdfSignatureMetadata(
            field_name=field_name, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
            certify=certify, docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            reason=appearance.reden or None, location=appearance.locatie or None,
            embed_validation_info=level.embeds_validation_data, use_pades_lta=level is PadesLevel.B_LTA,
            validation_context=self._validation_context(fetchers) if level.embeds_validation_data else None)
        field_spec = fields.SigFieldSpec(field_name, on_page=page_index, box=own_box) if new_field else None
        def prepared() -> tuple[signers.PdfSigner, IncrementalPdfFileWriter]:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
            for name, box in reserved_boxes:
                fields.append_signature_field(writer, fields.SigFieldSpec(
                    name, on_page=page_index, box=box, empty_field_appearance=True))
            return signers.PdfSigner(meta, signer=identity.signer, stamp_style=self._style(appearance),
                                     new_field_spec=field_spec,
                                     timestamper=self.timestamper if level.needs_timestamp else None), writer

        try:
            with identity.lock if identity.exclusive else contextlib.nullcontext():
                out = self._sign_reserving(prepared, (identity.source, level, certify), appearance,
                                           run=self._network.run if level.needs_timestamp else asyncio.run,
                                           original_size=len(pdf))
            log.info("ondertekend als PAdES %s door %s in %.0f ms", level.value, identity.naam,
                     (time.perf_counter() - started) * 1000)
            return out.getvalue()
        except Exception as e:
            _raise_outage(e, fetchers, f"PAdES {level.value} kan nu niet worden gemaakt",
                          "Dit ligt niet aan het zaakbestand: het blijft in de inbox")
            raise SigningError(f"Ondertekenen met {identity.naam!r} ({identity.source}) mislukt: "
                               f"{type(e).__name__}: {e}", field=field_name) from e

    def extend(self, pdf: bytes, *, level: PadesLevel | str) -> bytes:
        """`pdf`, signed elsewhere (a doctor's own software), brought to `level` without touching its signatures.

        B-LT and B-LTA: the validation data of every signature (certificates, CRLs, OCSP answers, fetched now)
        in the document security store; B-LTA, and any level above B-B for a signature without its own signature
        timestamp: a document timestamp over it all (its proof of existence, which `sopipe archive renew` renews
        before its certificate expires). B-B: unchanged.
        Raises TrustServiceOutage when a service does not answer, SigningError (in Dutch, with the known reason)
        when the data cannot be had, e.g. a certificate that names no revocation service.
        """
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.signers import PdfTimeStamper
        from pyhanko.sign.validation.dss import async_add_validation_info

        from pipeline.adapters.validation import has_signature_timestamp
        level = PadesLevel.parse(level)
        if level is PadesLevel.B_B:
            return pdf
        if self.timestamper is None:
            raise SigningError(f"PAdES {level.value} vraagt een tijdstempelserver, maar er is er geen ingesteld "
                               "([signing] tsa_url)", field="tsa_url")
        fetchers = self._network.fetchers()
        # "require": a certificate that names no revocation service cannot be brought to B-LT at all (hard-fail
        # would let it pass without any revocation data, and the archive could never show its status)
        context = self._validation_context(fetchers, revocation_mode="require")
        started = time.perf_counter()

        async def extended() -> bytes:
            out = pdf
            signatures = [s for s in PdfFileReader(io.BytesIO(pdf)).embedded_signatures if s.sig_object_type == "/Sig"]
            names = [s.field_name for s in signatures]
            own_timestamp = all(has_signature_timestamp(s) for s in signatures)
            for name in names if level.embeds_validation_data else ():
                # each signature read from the document as the previous one's validation data left it
                sig = next(s for s in PdfFileReader(io.BytesIO(out)).embedded_signatures if s.field_name == name)
                out = (await async_add_validation_info(sig, context, in_place=False)).getvalue()
            if level is PadesLevel.B_LTA or not own_timestamp:  # (B-T, B-LT: the signature's own timestamp)
                writer = IncrementalPdfFileWriter(io.BytesIO(out))
                out = (await PdfTimeStamper(self.timestamper).async_timestamp_pdf(
                    writer, "sha256", validation_context=context if level.embeds_validation_data else None)
                       ).getvalue()
            return out

        try:
            out = self._network.run(extended())
        except Exception as e:
            _raise_outage(e, fetchers, f"kan het ondertekende document nu niet naar PAdES {level.value} worden "
                          "gebracht", "Het document blijft in de inbox")
            raise SigningError(f"Het ondertekende document kan niet naar PAdES {level.value} worden gebracht: "
                               f"{_known_reason(e)}", rule="validatiegegevens") from e
        log.info("ondertekend document naar PAdES %s gebracht in %.0f ms", level.value,
                 (time.perf_counter() - started) * 1000)
        return out

    def _sign_reserving(self, prepared: Callable, key: tuple, appearance: SignatureAppearance, *,
                        run: Callable = asyncio.run, original_size: int = 0) -> io.BytesIO:
        """Sign with the space for the signature container measured once per identity, level and kind.

        Without `bytes_reserved` pyHanko makes every signature twice (a dry run to measure it), which costs
        about as much as the signature itself. The measured space (pyHanko's estimate, margin included) is
        reused; should a container ever not fit, the document is signed again the measuring way. `run` runs
        pyHanko's coroutine: `asyncio.run`, or the signing loop that keeps the trust services' connections.
        """
        params = text_params(appearance)
        reserved = self._reserved.get(key)
        if reserved is not None:
            pdf_signer, writer = prepared()
            try:
                return run(pdf_signer.async_sign_pdf(writer, appearance_text_params=params, bytes_reserved=reserved))
            except Exception as e:
                if "larger than expected" not in str(e):
                    raise
                log.info("signature container larger than the %d hex digits reserved; measuring again", reserved)
        pdf_signer, writer = prepared()
        out = run(pdf_signer.async_sign_pdf(writer, appearance_text_params=params))
        # the first /Contents after the original document is the signature's; a B-LTA document timestamp follows
        found = _CONTENTS.search(out.getvalue(), original_size)
        if found:
            self._reserved[key] = len(found.group(1))  # hex digits, as bytes_reserved counts them
        return out

    def _validation_context(self, fetchers: Fetchers, *, revocation_mode: str = "hard-fail") -> ValidationContext:
        # Fetching is allowed here, at signing time, and only from the URLs in our own chain's certificates;
        # answers still valid are reused from the signer's cache, over one kept-alive HTTP session.
        return ValidationContext(trust_roots=list(self.trust_roots), allow_fetching=True,
                                 revocation_mode=revocation_mode, fetchers=fetchers)

    def _check_certificate(self, identity: SigningIdentity) -> None:
        now = self._clock()
        validity = identity.certificate["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= now <= validity["not_after"].native:
            raise SigningError(f"Certificaat van {identity.naam!r} is niet geldig op {now:%Y-%m-%d} "
                               f"({identity.source})")

    def _style(self, appearance: SignatureAppearance):
        return stamp_style(appearance, font=self._font, font_size=self._font_size)


def http_timestamper(url: str, *, timeout: float = 10, session=None, trust_roots: Sequence = ()) -> TimeStamper:
    """An RFC 3161 client for `url` (pyHanko's, every fault of an answer a `TimestampRequestError`, which `sign`
    turns into a `TrustServiceOutage`; `pipeline.adapters.tsa`). `trust_roots`: the TSA must chain to one of them.

    `session`: an aiohttp session (or pyHanko's `LazySession`) to keep connections alive; without one, each
    request opens and closes its own (fine for a one-off, ~0.1 s per request for the TLS set-up alone).
    """
    from pipeline.adapters.tsa import CheckedTimeStamper
    return CheckedTimeStamper(url, timeout=timeout, session=session, trust_roots=trust_roots)


class RevocationCache:
    """OCSP responses and CRLs by the certificate they are about, reused until their nextUpdate (capped at
    `max_age` after fetching). An answer without nextUpdate is never reused. Thread-safe."""

    def __init__(self, *, clock: Callable[[], datetime], max_age: timedelta = REVOCATION_MAX_AGE) -> None:
        self._clock = clock
        self._max_age = max_age
        self._ocsp: dict[bytes, tuple[asn1_ocsp.OCSPResponse, datetime]] = {}
        self._crls: dict[bytes, tuple[list[asn1_crl.CertificateList], datetime]] = {}
        self._lock = threading.Lock()

    def ocsp(self, cert) -> asn1_ocsp.OCSPResponse | None:
        return self._get(self._ocsp, cert)

    def crls(self, cert) -> list[asn1_crl.CertificateList] | None:
        return self._get(self._crls, cert)

    def put_ocsp(self, cert, response: asn1_ocsp.OCSPResponse) -> None:
        try:
            if response["response_status"].native != "successful":
                return
            [single] = response["response_bytes"]["response"].parsed["tbs_response_data"]["responses"]
            next_update = single["next_update"].native
        except (ValueError, KeyError, TypeError):  # several answers or an odd structure: do not reuse it
            return
        self._put(self._ocsp, cert, response, [next_update])

    def put_crls(self, cert, crls: list[asn1_crl.CertificateList]) -> None:
        self._put(self._crls, cert, list(crls), [c["tbs_cert_list"]["next_update"].native for c in crls])

    def _get(self, table: dict, cert):
        with self._lock:
            hit = table.get(cert.issuer_serial)
            if hit is None:
                return None
            if self._clock() >= hit[1]:
                del table[cert.issuer_serial]
                return None
            return hit[0]

    def _put(self, table: dict, cert, value, next_updates: list) -> None:
        if not next_updates or any(n is None for n in next_updates):
            return
        until = min([*next_updates, self._clock() + self._max_age])
        with self._lock:
            table[cert.issuer_serial] = (value, until)


class _CachedOcspFetcher(OCSPFetcher):
    """pyHanko's OCSP fetcher for one signature, answering from the shared cache first; reports (and so lets
    pyHanko embed) only the responses this signature used. `failures` is shared with the CRL fetcher: pyHanko's
    validator swallows a failed fetch into "could not be validated", and this is how it is told from a bad key."""

    def __init__(self, inner: OCSPFetcher, cache: RevocationCache, failures: list[str]) -> None:
        self._inner, self._cache, self._used, self.failures = inner, cache, {}, failures

    def failed(self) -> str | None:
        """What failed to be fetched for this signature (a service down), or None."""
        return "; ".join(self.failures) or None

    async def fetch(self, cert, authority):
        response = self._cache.ocsp(cert)
        if response is None:
            response = await _logged(self.failures, self._inner.fetch(cert, authority), readable=_read_ocsp)
            self._cache.put_ocsp(cert, response)
        self._used[cert.issuer_serial] = response
        return response

    def fetched_responses(self):
        return list(self._used.values())

    def fetched_responses_for_cert(self, cert):
        response = self._used.get(cert.issuer_serial) or self._cache.ocsp(cert)
        if response is None:
            return []
        self._used[cert.issuer_serial] = response
        return [response]


class _CachedCrlFetcher(CRLFetcher):
    """As `_CachedOcspFetcher`, for CRLs."""

    def __init__(self, inner: CRLFetcher, cache: RevocationCache, failures: list[str]) -> None:
        self._inner, self._cache, self._used, self.failures = inner, cache, {}, failures

    async def fetch(self, cert, *, use_deltas=None):
        crls = self._cache.crls(cert)
        if crls is None:
            crls = list(await _logged(self.failures, self._inner.fetch(cert, use_deltas=use_deltas),
                                      readable=_read_crls))
            self._cache.put_crls(cert, crls)
        self._used[cert.issuer_serial] = crls
        return crls

    def fetched_crls(self):
        return [c for crls in self._used.values() for c in crls]

    def fetched_crls_for_cert(self, cert):
        crls = self._used.get(cert.issuer_serial) or self._cache.crls(cert)
        if crls is None:
            raise KeyError(cert.issuer_serial)  # pyHanko's contract: not fetched yet
        self._used[cert.issuer_serial] = crls
        return crls


class _NetworkSigning:
    """What signatures that reach the trust services share: one event loop in a thread (aiohttp sessions belong
    to the loop that made them), one kept-alive HTTP session, and the revocation cache. Started on first use."""

    def __init__(self, *, clock: Callable[[], datetime], max_age: timedelta) -> None:
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers.util import LazySession
        self.session = LazySession()
        self.cache = RevocationCache(clock=clock, max_age=max_age)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def run(self, coroutine):
        """Run `coroutine` on the signing loop and return its result (called from any thread but the loop's)."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=self._loop.run_forever, name="sopipe-signing-loop",
                                                daemon=True)
                self._thread.start()
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def fetchers(self) -> Fetchers:
        """Fresh fetchers for one signature over the shared session, answering from the cache first."""
        from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend
        inner = AIOHttpFetcherBackend(session=self.session, per_request_timeout=10).get_fetchers()
        failures: list[str] = []
        return Fetchers(ocsp_fetcher=_CachedOcspFetcher(inner.ocsp_fetcher, self.cache, failures),
                        crl_fetcher=_CachedCrlFetcher(inner.crl_fetcher, self.cache, failures),
                        cert_fetcher=inner.cert_fetcher)

    def close(self) -> None:
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(self.session.close(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()


async def _logged(failures: list[str], fetching, *, readable: Callable = lambda answer: None):
    """Await a fetch; a fetch that fails (no answer, or an answer `readable` cannot read) is noted in `failures`
    before pyHanko sees it: the service's fault, not the document's."""
    try:
        answer = await fetching
        readable(answer)
        return answer
    except Exception as e:
        failures.append(f"{type(e).__name__}: {e}")
        raise


def _read_ocsp(response) -> None:
    """Parse an OCSP answer now (asn1crypto parses lazily: junk would fail later, inside pyHanko's validation)."""
    response.native  # noqa: B018 (an OCSP response is small)


def _read_crls(crls) -> None:
    """Parse the head of every CRL now, not its (possibly long) list of revoked certificates."""
    for crl in crls:
        crl["signature_algorithm"].native  # noqa: B018
        crl["tbs_cert_list"]["issuer"].native  # noqa: B018
        crl["tbs_cert_list"]["next_update"].native  # noqa: B018


def _service_outage(error: BaseException) -> str | None:
    """What in `error`'s chain says a trust service could not be reached (None: a real signing failure)."""
    import aiohttp
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError
    from pyhanko_certvalidator.errors import CRLFetchError, OCSPFetchError
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, (TimestampRequestError, OCSPFetchError, CRLFetchError, aiohttp.ClientError,
                              ConnectionError, TimeoutError)):
            return f"{type(error).__name__}: {error}"
        error = error.__cause__ or error.__context__
    return None


def _raise_outage(error: Exception, fetchers, what: str, stays: str) -> None:
    """TrustServiceOutage when `error` comes from a trust service that did not answer (then: a retry)."""
    outage = _service_outage(error) or (fetchers and fetchers.ocsp_fetcher.failed())
    if outage is not None:
        raise TrustServiceOutage(
            f"De tijdstempel- of intrekkingsdienst is niet bereikbaar of geeft geen bruikbaar antwoord, dus {what} "
            f"({outage}). {stays} en wordt opnieuw verwerkt zodra de dienst weer goed antwoordt; de beheerder "
            "controleert de dienst en [signing] tsa_url (sopipe doctor).", field="tsa_url",
            rule="vertrouwensdienst") from error


def _known_reason(error: BaseException) -> str:
    """In Dutch, why validation data could not be gathered; pyHanko's own words only as the last resort."""
    from pyhanko_certvalidator.errors import InsufficientRevinfoError, PathBuildingError, PathValidationError
    seen: set[int] = set()
    first = error
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, InsufficientRevinfoError):
            return ("voor het certificaat van de ondertekenaar (of een certificaat in de keten) is geen "
                    "intrekkingsinformatie te krijgen: het certificaat noemt geen CRL- of OCSP-dienst, of die gaf "
                    "geen antwoord dat de status vaststelt")
        if isinstance(error, PathBuildingError):
            return "het certificaat van de ondertekenaar leidt niet naar een vertrouwd basiscertificaat"
        if isinstance(error, PathValidationError):
            return f"de certificaatketen van de ondertekenaar is niet geldig ({error})"
        error = error.__cause__ or error.__context__
    return f"de validatiegegevens konden niet worden verzameld ({type(first).__name__}: {first})"


# --- reading the document ----------------------------------------------------------------------------------------

class _FieldState(enum.Enum):
    EMPTY_SIGNATURE = "leeg handtekeningveld"
    SIGNED = "ondertekend"
    OTHER = "ander formulierveld"


def _form_fields(reader: PdfReader) -> dict[str, _FieldState]:
    result = {}
    for name, fld in (reader.get_fields() or {}).items():
        if fld.get("/FT") != "/Sig":
            result[name] = _FieldState.OTHER
        else:
            result[name] = _FieldState.SIGNED if fld.get("/V") is not None else _FieldState.EMPTY_SIGNATURE
    return result


def _choose_field(existing: Mapping[str, _FieldState], *, certified: bool, certify: bool, field_name: str | None,
                  reserve_fields: Sequence[str]) -> tuple[str, bool]:
    """The field to sign and whether it must be created; refuses what would break the document or pyHanko."""
    names = ([field_name] if field_name else []) + list(reserve_fields)
    for name in names:
        if not name or "." in name or not name.isprintable():
            raise SigningError(f"Ongeldige naam voor een handtekeningveld: {name!r} (niet leeg, geen punt)",
                               field=name)
    if len(set(names)) != len(names):
        raise SigningError(f"Dubbele veldnamen: {names}")
    if reserve_fields and certified:
        raise SigningError("Document is al gecertificeerd: velden reserveren kan alleen bij het certificeren")
    for name in reserve_fields:
        if name in existing:
            raise SigningError(f"Veld {name!r} bestaat al en kan niet worden gereserveerd", field=name)
    if certify and any(state is _FieldState.SIGNED for state in existing.values()):
        raise SigningError("Een certificerende handtekening (zegel) moet de eerste zijn; dit document is al "
                           "ondertekend")
    if field_name is None:
        n = 1
        while f"Handtekening{n}" in existing:
            n += 1
        field_name = f"Handtekening{n}"
    state = existing.get(field_name)
    if state is _FieldState.SIGNED or state is _FieldState.OTHER:
        raise SigningError(f"Veld {field_name!r} kan niet worden ondertekend: {state.value}", field=field_name)
    if state is None and certified:
        free = sorted(name for name, st in existing.items() if st is _FieldState.EMPTY_SIGNATURE)
        raise SigningError("Document is gecertificeerd: een nieuw handtekeningveld zou de certificering breken; "
                           f"onderteken een gereserveerd veld ({', '.join(free) or 'er is er geen'})",
                           field=field_name)
    return field_name, state is None


def _is_certified(reader: PdfReader) -> bool:
    perms = reader.trailer["/Root"].get("/Perms")
    return perms is not None and "/DocMDP" in perms.get_object()

def renew_archival_timestamp(pdf: bytes, *, timestamper: TimeStamper,
                             trust_roots: Sequence[asn1_x509.Certificate]) -> bytes:
    """`pdf` with the validation data of its newest document timestamp and one fresh document timestamp added.

    pyHanko's `PdfTimeStamper.update_archival_timestamp_chain`: keeps a B-LTA document verifiable after the
    certificate of its last timestamp expires (repeat before each expiry).
    """
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.signers import PdfTimeStamper
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=True, revocation_mode="hard-fail")
        out = PdfTimeStamper(timestamper).update_archival_timestamp_chain(reader, context, in_place=False)
        return out.getvalue()
    except Exception as e:
        raise SigningError(f"Archieftijdstempel vernieuwen mislukt: {type(e).__name__}: {e}") from e
