"""Sign PDF documents: PAdES signatures with a visible, Dutch signature block, made with pyHanko.

Three pieces, each loaded or built once and reused:

- `SigningIdentity` — a private key with its certificate chain, wrapped as a pyHanko signer. Loading a
  PKCS#12 file (key derivation, key checks) is the expensive part, so it happens once per process, never per
  signature: `from_pkcs12`. A token (PKCS#11: a doctor's UZI-pas, SoftHSM in tests): `from_pkcs11` opens one
  session, logs in once and keeps it until `close()`.
- `KeyRing` — the identities of one pki directory by role: the arbodienst seal and the SO doctors by BIG number.
- `PadesSigner` — turns (pdf bytes, identity, appearance, level) into signed pdf bytes (subfilter
  ETSI.CAdES.detached, SHA-256). Levels (`PadesLevel`): B-B the signature alone; B-T plus an RFC 3161
  signature timestamp; B-LT plus the certificates, CRLs and OCSP responses needed to validate it, embedded in
  the document security store (DSS) — fetched at signing time from the URLs in the certificates; B-LTA plus a
  document timestamp over all of that, which `PdfTimeStamper.update_archival_timestamp_chain` renews later
  (`sopipe archive renew`). The timestamper and trust roots are configured once in `PadesSigner.__init__`.

Placement: the templates end with a paragraph that reads exactly `Ondertekening`, followed by ~4 cm of empty
space. The block (8 x 2.5 cm) goes just below that word on the last page, next to any signature block already
there; without the word it goes to the bottom of the last page, above the footer.

PDF/A-2b: the block's font is embedded (Liberation Sans, else DejaVu Sans, rescaled once to 1000 units per
em — see `_prepare_font`), the widget gets the print flag, the appearance uses no transparency, and the PDF
version stays 1.x as long as identities use RSA keys (pyHanko declares PDF 2.0 — catalog /Version /2.0 — when
it signs with an ECDSA key; see `pipeline.adapters.pki`). Nothing here runs a PDF/A validator (veraPDF).

Certification: the seal certifies with DocMDP "fill forms". After a certification signature pyHanko (stricter
than Acrobat) treats a *new* visible signature field as a forbidden change, so whoever certifies must reserve
the fields of later signers in the same revision: `sign(..., certify=True, reserve_fields=["SO-bedrijfsarts"])`,
then later `sign(..., field_name="SO-bedrijfsarts")`.

Threads: `PadesSigner.sign` may be called from several threads at once. Calls that use the same token identity
(PKCS#11: a session must not be shared) are serialised by the identity's lock; a key held in memory (PKCS#12)
signs concurrently: pyHanko builds every signature's objects afresh and the key object is thread-safe, and a
B-LTA signature spends most of its time waiting for the timestamp server, which other signatures by the same
seal should not queue behind. Signatures that reach the trust services run on one event loop of the signer (its
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
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.layout import AxisAlignment, Margins, SimpleBoxLayoutRule
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_cms import Signer, SimpleSigner
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.api import CRLFetcher, Fetchers, OCSPFetcher
from pyhanko.stamp import TextStamp, TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from pypdf import PdfReader

from pipeline.adapters import pki
from pipeline.errors import SigningError, TrustServiceOutage

log = logging.getLogger(__name__)

ANCHOR_TEXT = "Ondertekening"
CM = 72 / 2.54
BOX_WIDTH = 8 * CM
BOX_HEIGHT = 2.5 * CM
BOX_GAP = 0.3 * CM
PAGE_MARGIN = 0.75 * CM
"""Nearest a block may come to the page edge."""
FALLBACK_LEFT = 2 * CM
FALLBACK_BOTTOM = 2.5 * CM
"""Without the anchor word: the block's lower edge sits this high, above a typical footer."""

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
FONT_UNICODES = [*range(0x20, 0x250), *range(0x1E00, 0x1F00), *range(0x2000, 0x2070), 0x20AC]
"""Latin (incl. extended A/B and additional), general punctuation and the euro sign."""
DISPLAY_ZONE = "Europe/Amsterdam"
_LEFT_MIDDLE = SimpleBoxLayoutRule(x_align=AxisAlignment.ALIGN_MIN, y_align=AxisAlignment.ALIGN_MID,
                                   margins=Margins.uniform(4))
_STAMP_TS_FORMAT = "%Y-%m-%dT%H:%M:%S%z"  # machine-readable hand-over to _DutchStampStyle, never shown
REVOCATION_MAX_AGE = timedelta(minutes=10)
"""Longest an OCSP response or CRL fetched at signing time is reused, even when its nextUpdate is later: a
revoked key stops producing signatures within this time."""


class PadesLevel(str, enum.Enum):
    """PAdES baseline levels (ETSI EN 319 142-1), each including the one before."""

    B_B = "B-B"
    B_T = "B-T"
    B_LT = "B-LT"
    B_LTA = "B-LTA"

    @property
    def needs_timestamp(self) -> bool:
        return self is not PadesLevel.B_B

    @property
    def embeds_validation_data(self) -> bool:
        return self in (PadesLevel.B_LT, PadesLevel.B_LTA)

    @classmethod
    def parse(cls, value: str | PadesLevel) -> PadesLevel:
        try:
            return cls(str(value.value if isinstance(value, PadesLevel) else value).upper())
        except ValueError:
            raise SigningError(f"Onbekend PAdES-niveau {value!r}; kies uit B-B, B-T, B-LT of B-LTA",
                               field="level") from None


@dataclass(frozen=True)
class SignatureAppearance:
    """What the visible signature block says (Dutch); also the /Reason and /Location of the signature."""

    naam: str
    """Signer's name as shown, e.g. `Dr. E. Visser` or `Arbodienst Voorbeeld DEMO zegel`."""
    rol: str
    """Role in this case, e.g. `second opinion-bedrijfsarts` or `elektronisch zegel`."""
    big_nummer: str | None
    """BIG number shown after the role; None for a seal or a non-doctor."""
    organisatie: str
    """Organisation the signer acts for; may be empty."""
    reden: str
    """Reason for signing, e.g. `Definitief advies second opinion`."""
    locatie: str
    """Place of signing, e.g. `Utrecht`; may be empty."""


class SigningIdentity:
    """A signing key plus certificate chain, loaded once and reused for any number of signatures."""

    def __init__(self, signer: Signer, *, source: str) -> None:
        if signer.signing_cert is None:
            raise SigningError(f"Ondertekenidentiteit zonder certificaat: {source}")
        self._signer = signer
        self.source = source
        """Where the key came from (for messages and logs), e.g. `pkcs12:/srv/pki/seal.p12`."""
        self.lock = threading.Lock()
        """Held while this identity signs, if `exclusive`; see the module docstring on threads."""
        self.exclusive = False
        """Whether one signature at a time (a token session); a key in memory signs concurrently."""

    @classmethod
    def from_pkcs12(cls, path: Path, passphrase: bytes) -> SigningIdentity:
        """Read and decrypt a PKCS#12 file once; the chain it carries is embedded in every signature."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise SigningError(f"PKCS#12-bestand kan niet worden gelezen: {path} ({e.strerror or e})") from e
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except (ValueError, TypeError) as e:
            raise SigningError(f"PKCS#12-bestand {path} kan niet worden geopend: verkeerd wachtwoord of beschadigd "
                               f"bestand") from e
        if key is None or cert is None:
            raise SigningError(f"PKCS#12-bestand {path} bevat geen sleutel met certificaat")
        if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
            raise SigningError(f"PKCS#12-bestand {path}: sleuteltype {type(key).__name__} wordt niet ondersteund")
        registry = SimpleCertificateStore()
        registry.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in extra])
        signer = _LoadedKeySigner(key, signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
                                  signing_key=translate_pyca_cryptography_key_to_asn1(key), cert_registry=registry)
        return cls(signer, source=f"pkcs12:{path}")

    @classmethod
    def from_pkcs11(cls, module: str | Path, *, token_label: str, key_label: str, pin: str,
                    cert_label: str | None = None, chain: Sequence[Path] = ()) -> SigningIdentity:
        """Open the token once (login with `pin`) and use the key `key_label` with the certificate of the same label.

        The chain comes from the token itself (every certificate on it) plus the PEM files in `chain`.
        """
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.keys import load_certs_from_pemder
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
        try:
            session = open_pkcs11_session(str(module), token_criteria=TokenCriteria(label=token_label),
                                          user_pin=pin)
        except Exception as e:  # the PKCS#11 library's own errors carry no useful text for people
            raise SigningError(f"Token {token_label!r} kan niet worden geopend via {module}: verkeerde pincode, "
                               f"token niet aanwezig of module onbruikbaar ({type(e).__name__}: {e})") from e
        try:
            extra = list(load_certs_from_pemder([str(p) for p in chain])) if chain else []
            signer = PKCS11Signer(session, key_label=key_label, cert_label=cert_label or key_label,
                                  other_certs_to_pull=None, ca_chain=extra)
            signer.signing_cert  # load key handle and certificate now, not in the middle of a signature
        except Exception as e:
            session.close()
            raise SigningError(f"Sleutel {key_label!r} met certificaat staat niet op token {token_label!r} "
                               f"({type(e).__name__}: {e})") from e
        identity = cls(signer, source=f"pkcs11:{token_label}/{key_label}")
        identity.exclusive = True
        identity._session = session
        return identity

    def close(self) -> None:
        """Close the token session, if any (a PKCS#12 identity holds nothing to close)."""
        session = getattr(self, "_session", None)
        if session is not None:
            self._session = None
            session.close()

    @property
    def signer(self) -> Signer:
        """The pyHanko signer; shared, so hold `lock` while using it outside `PadesSigner`."""
        return self._signer

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self._signer.signing_cert

    @property
    def naam(self) -> str:
        """Common name of the certificate subject."""
        return _subject_attr(self.certificate, "common_name") or ""

    @property
    def big_nummer(self) -> str | None:
        """The subject's serialNumber attribute: the BIG number on a doctor's certificate."""
        return _subject_attr(self.certificate, "serial_number")

    @property
    def organisatie(self) -> str | None:
        return _subject_attr(self.certificate, "organization_name")

    def __repr__(self) -> str:
        return f"SigningIdentity({self.naam!r}, big_nummer={self.big_nummer!r}, source={self.source!r})"


class _LoadedKeySigner(SimpleSigner):
    """SimpleSigner that keeps the decoded key object.

    pyHanko's SimpleSigner re-parses its DER key in every `sign_raw`, and for RSA that includes cryptography's
    key-consistency check: ~100 ms for RSA-3072, paid twice per PDF signature (pyHanko signs once more to
    estimate the size). Measured: ~240 ms per document with a reused SimpleSigner, ~40 ms with this one.
    """

    def __init__(self, key: RSAPrivateKey | EllipticCurvePrivateKey, **kwargs) -> None:
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)  # e.g. RSASSA-PSS: rare, correct, slower


class KeyRing:
    """The identities of one pki directory, by role, each loaded once."""

    def __init__(self, *, seal: SigningIdentity | None, doctors: Mapping[str, SigningIdentity]) -> None:
        self._seal = seal
        self._doctors = MappingProxyType(dict(doctors))

    @classmethod
    def from_pki_dir(cls, pki_dir: Path, *, seal: SigningIdentity | None = None, doctors: bool = True) -> KeyRing:
        """Load `seal.p12` and every `doctor-*.p12` in `pki_dir` with the passphrase stored there (the DEMO).

        `seal`: the seal loaded elsewhere (a token, a PKCS#12 whose passphrase is not in `pki_dir`); then
        `seal.p12` is not read. `doctors=False`: no doctor's key is loaded at all (outside the DEMO doctors sign
        themselves), so nothing in `pki_dir` is opened with its passphrase file.
        """
        if seal is not None and not doctors:
            return cls(seal=seal, doctors={})
        passphrase = pki.read_passphrase(pki_dir)
        seal_path = pki_dir / pki.SEAL_P12
        if seal is None and seal_path.exists():
            seal = SigningIdentity.from_pkcs12(seal_path, passphrase)
        found: dict[str, SigningIdentity] = {}
        for path in sorted(pki_dir.glob("doctor-*.p12")) if doctors else ():
            identity = SigningIdentity.from_pkcs12(path, passphrase)
            big = identity.big_nummer
            if not big:
                raise SigningError(f"Certificaat in {path} heeft geen BIG-nummer (serialNumber)")
            if big in found:
                raise SigningError(f"BIG-nummer {big} komt voor in {found[big].source} en in {path}")
            found[big] = identity
        return cls(seal=seal, doctors=found)

    def seal(self) -> SigningIdentity:
        if self._seal is None:
            raise SigningError("Geen zegel (seal.p12) in de PKI; voer `sopipe init` uit")
        return self._seal

    def doctor(self, big_nummer: str) -> SigningIdentity | None:
        """The doctor whose certificate carries this BIG number, or None."""
        return self._doctors.get(big_nummer)

    @property
    def doctor_big_nummers(self) -> tuple[str, ...]:
        return tuple(self._doctors)


def read_secret(spec: str, *, setting: str) -> bytes:
    """The secret named by `spec`: `env:NAME`, `file:/path` or `credential:NAME` (systemd's
    $CREDENTIALS_DIRECTORY/NAME). One trailing newline is dropped. Errors name the setting, never the secret."""
    kind, _, name = spec.partition(":")
    try:
        if kind == "env":
            value = os.environ.get(name)
            if value is None:
                raise SigningError(f"Omgevingsvariabele {name} is niet gezet ([signing] {setting})", field=setting)
            data = value.encode("utf-8")
        elif kind == "file":
            data = Path(name).read_bytes()
        elif kind == "credential":
            directory = os.environ.get("CREDENTIALS_DIRECTORY")
            if not directory:
                raise SigningError(f"$CREDENTIALS_DIRECTORY is niet gezet: start sopipe als systemd-dienst met "
                                   f"LoadCredential={name}:... ([signing] {setting})", field=setting)
            data = (Path(directory) / name).read_bytes()
        else:
            raise SigningError(f"[signing] {setting}: onbekende bron {kind!r}", field=setting)
    except OSError as e:
        raise SigningError(f"Geheim voor [signing] {setting} kan niet worden gelezen: {e.strerror or e}",
                           field=setting) from e
    data = data[:-1] if data.endswith(b"\n") else data
    if not data:
        raise SigningError(f"Geheim voor [signing] {setting} is leeg", field=setting)
    return data


@dataclass(frozen=True)
class _Placement:
    anchor_found: bool
    boxes: Iterator[tuple[int, int, int, int]]


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
            else http_timestamper(tsa_url, session=self._network.session)
        self.trust_roots = tuple(trust_roots)
        for path in font_candidates:
            try:
                font_bytes = _prepare_font(path)
            except Exception as e:  # missing, unreadable or not a usable TrueType/OpenType font
                log.debug("Lettertype %s niet bruikbaar: %s", path, e)
                continue
            self._font = _PreloadedFontFactory(font_file=str(path), font_size=font_size, font_bytes=font_bytes)
            self._font_size = font_size
            break
        else:
            raise SigningError("Geen lettertype gevonden voor het handtekeningblok: "
                               + ", ".join(str(p) for p in font_candidates))
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
                placement = _plan_placement(reader)
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
            outage = _service_outage(e) or (fetchers and fetchers.ocsp_fetcher.failed())
            if outage is not None:
                raise TrustServiceOutage(
                    f"De tijdstempel- of intrekkingsdienst is niet bereikbaar, dus PAdES {level.value} kan nu niet "
                    f"worden gemaakt ({outage}). Dit ligt niet aan het zaakbestand: het blijft in de inbox en "
                    "wordt opnieuw verwerkt zodra de dienst weer antwoordt.", field="tsa_url",
                    rule="vertrouwensdienst") from e
            raise SigningError(f"Ondertekenen met {identity.naam!r} ({identity.source}) mislukt: "
                               f"{type(e).__name__}: {e}", field=field_name) from e

    def _sign_reserving(self, prepared: Callable, key: tuple, appearance: SignatureAppearance, *,
                        run: Callable = asyncio.run, original_size: int = 0) -> io.BytesIO:
        """Sign with the space for the signature container measured once per identity, level and kind.

        Without `bytes_reserved` pyHanko makes every signature twice (a dry run to measure it), which costs
        about as much as the signature itself. The measured space (pyHanko's estimate, margin included) is
        reused; should a container ever not fit, the document is signed again the measuring way. `run` runs
        pyHanko's coroutine: `asyncio.run`, or the signing loop that keeps the trust services' connections.
        """
        params = _text_params(appearance)
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

    def _validation_context(self, fetchers: Fetchers) -> ValidationContext:
        # Fetching is allowed here, at signing time, and only from the URLs in our own chain's certificates;
        # answers still valid are reused from the signer's cache, over one kept-alive HTTP session.
        return ValidationContext(trust_roots=list(self.trust_roots), allow_fetching=True,
                                 revocation_mode="hard-fail", fetchers=fetchers)

    def _check_certificate(self, identity: SigningIdentity) -> None:
        now = self._clock()
        validity = identity.certificate["tbs_certificate"]["validity"]
        if not validity["not_before"].native <= now <= validity["not_after"].native:
            raise SigningError(f"Certificaat van {identity.naam!r} is niet geldig op {now:%Y-%m-%d} "
                               f"({identity.source})")

    def _style(self, appearance: SignatureAppearance) -> TextStampStyle:
        lines = ["Digitaal ondertekend door %(naam)s", "%(functie)s"]
        if appearance.organisatie:
            lines.append("%(organisatie)s")
        if appearance.reden:
            lines.append("Reden: %(reden)s")
        lines.append("%(plaats)s%(ts)s")
        return _DutchStampStyle(
            stamp_text="\n".join(lines), timestamp_format=_STAMP_TS_FORMAT, border_width=1,
            inner_content_layout=_LEFT_MIDDLE,
            text_box_style=TextBoxStyle(font=self._font, font_size=self._font_size,
                                        leading=round(self._font_size * 1.25)))


def http_timestamper(url: str, *, timeout: float = 10, session=None) -> TimeStamper:
    """An RFC 3161 client for `url` (pyHanko's; transport errors surface as SigningError from `sign`).

    `session`: an aiohttp session (or pyHanko's `LazySession`) to keep connections alive; without one, each
    request opens and closes its own (fine for a one-off, ~0.1 s per request for the TLS set-up alone).
    """
    from pyhanko.sign.timestamps import HTTPTimeStamper
    return HTTPTimeStamper(url, timeout=timeout, session=session)


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
            response = await _logged(self.failures, self._inner.fetch(cert, authority))
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
            crls = list(await _logged(self.failures, self._inner.fetch(cert, use_deltas=use_deltas)))
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


async def _logged(failures: list[str], fetching):
    """Await a fetch; a fetch that fails for want of a service is noted in `failures` before pyHanko sees it."""
    try:
        return await fetching
    except Exception as e:
        if _service_outage(e):
            failures.append(f"{type(e).__name__}: {e}")
        raise


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


def _text_params(appearance: SignatureAppearance) -> dict[str, str]:
    functie = appearance.rol
    if appearance.big_nummer:
        functie = f"{functie}, BIG {appearance.big_nummer}" if functie else f"BIG {appearance.big_nummer}"
    return {"naam": appearance.naam, "functie": functie, "organisatie": appearance.organisatie,
            "reden": appearance.reden, "plaats": f"{appearance.locatie}, " if appearance.locatie else ""}


@dataclass(frozen=True)
class _DutchStampStyle(TextStampStyle):
    """Shows pyHanko's signing time (the one in the signature) as Dutch local time: `14 maart 2026, 10:22`."""

    def create_stamp(self, writer, box, text_params: dict) -> TextStamp:
        params = dict(text_params)
        if "ts" in params:
            params["ts"] = _dutch_time(datetime.strptime(params["ts"], _STAMP_TS_FORMAT))
        return TextStamp(writer=writer, style=self, box=box, text_params=params)


def _prepare_font(path: Path) -> bytes:
    """The font cut down to Latin script and rescaled to 1000 units per em, as bytes.

    pyHanko's GlyphAccumulator writes glyph widths and kerning in font units but PDF wants 1/1000 em; that
    only agrees for fonts with 1000 units per em (Noto, CFF fonts). Liberation and DejaVu use 2048, which
    spreads the letters over twice their width and makes the /W widths disagree with the embedded font
    program (a PDF/A violation). Rescaling the font once here keeps both right.
    """
    font = TTFont(io.BytesIO(path.read_bytes()))
    options = subset.Options()
    options.drop_tables += ["FFTM"]  # FontForge timestamp: the subsetter warns about it on every use
    options.hinting = False  # hinting instructions do not survive rescaling; the block is small print anyway
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=FONT_UNICODES)
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _dutch_time(moment: datetime) -> str:
    try:
        moment = moment.astimezone(ZoneInfo(DISPLAY_ZONE))
    except ZoneInfoNotFoundError:
        pass
    from pipeline.core.dutch import datum
    return f"{datum(moment.date())}, {moment:%H:%M}"  # `1 december 2026, 21:27`, as the documents write dates


@dataclass(frozen=True)
class _PreloadedFontFactory(GlyphAccumulatorFactory):
    """GlyphAccumulatorFactory on font bytes prepared once (pyHanko's opens the file per signature, never closes)."""

    font_bytes: bytes = b""

    def create_font_engine(self, writer, obj_stream=None) -> GlyphAccumulator:
        if obj_stream is None and writer.stream_xrefs and self.create_objstream_if_needed:
            obj_stream = writer.prepare_object_stream()
        return GlyphAccumulator(writer=writer, font_handle=io.BytesIO(self.font_bytes), font_size=self.font_size,
                                obj_stream=obj_stream)


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


def _named_anchor(reader: PdfReader, page_index: int, name: str) -> tuple[float, float, float] | None:
    """The anchor from the named destination LibreOffice exports for a Word bookmark called `name` (cheap)."""
    try:
        dest = reader.named_destinations.get("/" + name) or reader.named_destinations.get(name)
        if dest is None or reader.get_destination_page_number(dest) != page_index % len(reader.pages):
            return None
        if dest.left is None or dest.top is None:
            return None
        size = 11.0  # the heading's size in the shipped templates; only used to clear its descenders
        return float(dest.left), float(dest.top) - 0.94 * size, size  # /XYZ top is the line's top, not baseline
    except Exception:  # a malformed name tree: fall back to reading the page's text
        return None


def find_anchor(reader: PdfReader, page_index: int = -1, text: str = ANCHOR_TEXT) -> tuple[float, float, float] | None:
    """(x, baseline y, font size) of the lowest line on the page that reads exactly `text`, in PDF user space.

    The templates carry a bookmark on that word, which LibreOffice exports as a named destination; reading it is
    ~100x cheaper than extracting the page's text, which remains the fallback for templates without it.
    """
    named = _named_anchor(reader, page_index, text)
    if named is not None:
        return named
    page = reader.pages[page_index]
    chunks: list[tuple[str, float, float, float]] = []

    def visit(chunk: str, cm, tm, _font, font_size) -> None:
        if not chunk:
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        size = abs(font_size * tm[3] * cm[3]) or abs(font_size)
        chunks.append((chunk, x, y, size))

    page.extract_text(visitor_text=visit)
    lines: list[list] = []  # [text, x, y, size]
    for chunk, x, y, size in chunks:
        if lines and abs(lines[-1][2] - y) < 1.0 and "\n" not in lines[-1][0]:
            lines[-1][0] += chunk
        elif chunk.strip():
            lines.append([chunk, x, y, size])
    matches = [(x, y, size) for line_text, x, y, size in lines if line_text.strip() == text]
    return min(matches, key=lambda m: m[1]) if matches else None


def _plan_placement(reader: PdfReader) -> _Placement:
    page_index = len(reader.pages) - 1
    page = reader.pages[page_index]
    box = page.cropbox
    left, bottom, right, top = float(box.left), float(box.bottom), float(box.right), float(box.top)
    taken = [_rect(annot) for annot in _widgets(page)]
    anchor = find_anchor(reader, page_index)
    if anchor:
        x, baseline, size = anchor
        start_x = min(x, right - PAGE_MARGIN - BOX_WIDTH)
        start_top = baseline - max(4.0, 0.35 * size)  # clear the descenders of the anchor line
        rows = range(0, 20)
    else:
        start_x = left + FALLBACK_LEFT
        start_top = bottom + FALLBACK_BOTTOM + BOX_HEIGHT
        rows = [0, *range(-1, -20, -1)]  # no anchor: fill upwards, the footer is below

    def free_boxes() -> Iterator[tuple[int, int, int, int]]:
        for row in rows:
            y_top = start_top - row * (BOX_HEIGHT + BOX_GAP)
            if y_top - BOX_HEIGHT < bottom + PAGE_MARGIN or y_top > top - PAGE_MARGIN:
                continue
            col = 0
            while (x0 := start_x + col * (BOX_WIDTH + BOX_GAP)) + BOX_WIDTH <= right - PAGE_MARGIN:
                candidate = (round(x0), round(y_top - BOX_HEIGHT), round(x0 + BOX_WIDTH), round(y_top))
                if not any(_overlap(candidate, other) for other in taken):
                    taken.append(candidate)
                    yield candidate
                col += 1

    return _Placement(anchor_found=anchor is not None, boxes=free_boxes())


def _widgets(page) -> Iterator:
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        if annot.get("/Subtype") == "/Widget" and annot.get("/Rect"):
            yield annot


def _rect(annot) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (float(v) for v in annot["/Rect"])
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _subject_attr(cert: asn1_x509.Certificate, name: str) -> str | None:
    value = cert.subject.native.get(name)
    if isinstance(value, list):  # a multi-valued attribute: the last one is the most specific
        value = value[-1]
    return str(value) if value is not None else None


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
