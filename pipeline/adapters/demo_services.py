"""DEMO trust services for the DEMO PKI: CRLs, an OCSP responder and an RFC 3161 time-stamping authority.

PAdES B-T needs a timestamp, B-LT needs revocation data to embed, B-LTA a document timestamp; this serves all
three over plain HTTP for one pki directory (`sopipe pki serve --root DIR`, and the tests on 127.0.0.1 with a
random port). NEVER for production: a real deployment uses the TSA and OCSP/CRL services of its trust service
provider, and sopipe only needs their URLs (`[signing] tsa_url`; the revocation URLs are in the certificates).

Why this shape: the protocol work (building and signing CRLs, OCSP responses and timestamp tokens) is done by
certomancer's service classes (`certomancer.services`: `CRLBuilder`, `SimpleOCSPResponder`, `TimeStamper`),
the maintained tool pyHanko's own tests use. Certomancer's WSGI "animator" expects a certomancer YAML
configuration with its own key store; our PKI is files made by `pipeline.adapters.demo_pki` with `cryptography`,
so we feed certomancer's builders our keys directly and put them behind the standard library's
`ThreadingHTTPServer` — no extra dependency and no second description of the PKI that could drift.

Routes (see `pipeline.adapters.demo_pki.ServiceUrls`):

    GET  /crl/root.crl           CRL of the root (covers the signing CA and the TSA)
    GET  /crl/intermediate.crl   CRL of the signing CA (covers seal, doctors, OCSP responder)
    POST /ocsp                   OCSP for certificates issued by the signing CA
    POST /tsa                    RFC 3161 timestamps

Revoked certificates: serial numbers (decimal or 0x-hex), one a line, in `pki/revoked.txt` (read per request).
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import urlsplit

from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509
from certomancer import services as cm
from cryptography.hazmat.primitives import serialization
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1

from asn1crypto import keys as asn1_keys

from pipeline.adapters import demo_pki
from pipeline.errors import SigningError

log = logging.getLogger(__name__)

CRL_VALIDITY = timedelta(days=7)
OCSP_VALIDITY = timedelta(days=7)
REVOKED = "revoked.txt"
MAX_REQUEST_BYTES = 64 * 1024


def _asn1_key(key) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


@dataclass(frozen=True)
class _Issuer:
    cert: asn1_x509.Certificate
    crl: cm.CRLBuilder


class DemoTrustServices:
    """The CRL, OCSP and TSA answers for one pki directory; `clock` pins the time (tests)."""

    def __init__(self, pki_dir: Path, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.pki_dir = Path(pki_dir)
        self.clock = clock
        self.urls = demo_pki.read_services_url(self.pki_dir)
        if self.urls is None:
            raise SigningError(f"De PKI in {pki_dir} heeft geen vertrouwensdiensten (bestand "
                               f"{demo_pki.SERVICES_URL} ontbreekt); voer `sopipe init` opnieuw uit")
        self.issuers = {name: self._issuer(cert) for name, cert in (
            ("root", demo_pki.CA_CERT), ("intermediate", demo_pki.INTERMEDIATE_CERT))}
        ocsp_cert, ocsp_key = demo_pki.load_service_identity(self.pki_dir, demo_pki.OCSP_CERT, demo_pki.OCSP_KEY)
        self._ocsp_cert = translate_pyca_cryptography_cert_to_asn1(ocsp_cert)
        self._ocsp_key = _asn1_key(ocsp_key)
        tsa_cert, tsa_key = demo_pki.load_service_identity(self.pki_dir, demo_pki.TSA_CERT, demo_pki.TSA_KEY)
        tsa_asn1 = translate_pyca_cryptography_cert_to_asn1(tsa_cert)
        self._tsa_cert = tsa_asn1
        self._tsa_key = _asn1_key(tsa_key)

    def _issuer(self, cert_name: str) -> _Issuer:
        cert, key = demo_pki.load_ca_identity(self.pki_dir, cert_name)  # CA keys live outside the root
        asn1_cert = translate_pyca_cryptography_cert_to_asn1(cert)
        builder = cm.CRLBuilder(issuer_name=asn1_cert.subject, issuer_key=_asn1_key(key),
                                signature_algo=cm.choose_signed_digest("sha256", asn1_cert.public_key),
                                authority_key_identifier=asn1_cert.key_identifier_value)
        return _Issuer(asn1_cert, builder)

    def revoked_serials(self) -> set[int]:
        try:
            lines = (self.pki_dir / REVOKED).read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return set()
        return {int(x, 0) for x in lines if x.strip()}

    # --- answers ---------------------------------------------------------------------------------------------

    def crl(self, issuer: str) -> bytes:
        now = self.clock()
        revoked = [cm.CRLBuilder.format_revoked_cert(serial, None, now - timedelta(hours=1))
                   for serial in sorted(self.revoked_serials())]
        crl_number = int(now.timestamp())
        return self.issuers[issuer].crl.build_crl(crl_number=crl_number, this_update=now - timedelta(minutes=5),
                                                  next_update=now + CRL_VALIDITY, revoked_certs=revoked).dump()

    def ocsp(self, request: bytes) -> bytes:
        now = self.clock()
        services = self

        class _Status(cm.RevocationInfoInterface):
            def get_issuer_cert(self) -> asn1_x509.Certificate:
                return services.issuers["intermediate"].cert

            def check_revocation_status(self, cid, at_time):
                if cid["serial_number"].native in services.revoked_serials():
                    return asn1_ocsp.CertStatus(name="revoked", value=asn1_ocsp.RevokedInfo(
                        {"revocation_time": at_time - timedelta(hours=1)})), []
                return asn1_ocsp.CertStatus(name="good", value=None), []

        responder = cm.SimpleOCSPResponder(
            responder_cert=self._ocsp_cert, responder_key=self._ocsp_key,
            signature_algo=cm.choose_signed_digest("sha256", self._ocsp_cert.public_key), at_time=now,
            revinfo_interface=_Status(), validity=OCSP_VALIDITY)
        try:
            req = asn1_ocsp.OCSPRequest.load(request)
            req.native  # parse fully now: a broken request must fail here, not half-way
        except Exception:
            return cm.SimpleOCSPResponder.build_error_response("malformed_request").dump()
        return responder.build_ocsp_response(req).dump()

    def timestamp(self, request: bytes) -> bytes:
        stamper = cm.TimeStamper(tsa_cert=self._tsa_cert, tsa_key=self._tsa_key,
                                 certs_to_embed=[self.issuers["root"].cert], fixed_dt=self.clock())
        try:
            req = asn1_tsp.TimeStampReq.load(request)
            req.native
        except Exception:
            return asn1_tsp.TimeStampResp({"status": {"status": "rejection",
                                                      "fail_info": asn1_tsp.PKIFailureInfo({"bad_request"})}}).dump()
        return stamper.request_tsa_response(req).dump()


def _handler(services: DemoTrustServices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sopipe-demo-trust/1"
        protocol_version = "HTTP/1.1"  # keep-alive: a signer reuses one connection per service
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait for a delayed ACK

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = urlsplit(self.path).path
            issuer = {"/crl/root.crl": "root", "/crl/intermediate.crl": "intermediate"}.get(path)
            if issuer is None:
                self.send_error(404)
                return
            self._answer(services.crl(issuer), "application/pkix-crl")

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_REQUEST_BYTES:
                self.send_error(400)
                return
            body = self.rfile.read(length)
            if path == "/ocsp":
                self._answer(services.ocsp(body), "application/ocsp-response")
            elif path == "/tsa":
                self._answer(services.timestamp(body), "application/timestamp-reply")
            else:
                self.send_error(404)

        def _answer(self, data: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # requests go to the debug log, not stderr
            log.debug("demo trust services: " + format, *args)

    return Handler


def make_server(services: DemoTrustServices, *, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for `services` (not started); port 0 picks a free port (`server.server_address`)."""
    try:
        server = ThreadingHTTPServer((host, port), _handler(services))
    except OSError as e:
        raise SigningError(f"Kan de vertrouwensdiensten niet starten op {host}:{port}: {e.strerror or e}") from e
    server.daemon_threads = True
    return server


@contextmanager
def running(services: DemoTrustServices, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[ThreadingHTTPServer]:
    """Serve `services` from a background thread for the duration of the block."""
    with _serving(make_server(services, host=host, port=port)) as server:
        yield server


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, name="sopipe-demo-trust", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def serve_pki(pki_dir: Path) -> Iterator[demo_pki.ServiceUrls]:
    """The DEMO trust services of `pki_dir` on loopback for the duration of the block (what a watcher on a DEMO
    root runs itself), yielding their URLs.

    They listen where `pki/services-url` says. When that port is taken: by these very services (`sopipe pki
    serve` on the same root, which prove it with a fresh, nonce-bound timestamp signed under this root) they are
    used as they are;
    by anything else, a free port is taken and the certificates below the root are issued again naming it
    (`demo_pki.move_services`), so that the URLs in the certificates always lead to these services.
    """
    services = DemoTrustServices(pki_dir)
    host, port = bind_address(services.urls.base)
    try:
        server = make_server(services, host=host, port=port)
    except SigningError:
        if _answers_as(services):
            log.info("DEMO trust services already running at %s; using those", services.urls.base)
            yield services.urls
            return
        server = make_server(services, host=host, port=0)
        try:
            moved = f"http://{host}:{server.server_address[1]}"
            log.info("port %d is taken: DEMO trust services on %s, certificates issued again for it", port, moved)
            demo_pki.move_services(pki_dir, moved)
            services = DemoTrustServices(pki_dir)
        except BaseException:
            server.server_close()
            raise
        server.RequestHandlerClass = _handler(services)
    with _serving(server):
        yield services.urls


def _answers_as(services: DemoTrustServices) -> bool:
    """Whether the services at `services.urls` hold this PKI's keys now: they answer a timestamp request for a
    fresh random message with a fresh nonce, signed by a TSA certificate that chains to this root. A replayed
    CRL, or anything else recorded earlier, cannot pass; whoever merely holds the port is not trusted."""
    from pipeline.adapters.tsa import probe_timestamp
    try:
        probe_timestamp(services.urls.tsa, trust_roots=[services.pki_dir / demo_pki.CA_CERT], timeout=3)
        return True
    except Exception as e:  # anything short of a valid fresh answer: not ours
        log.info("the service at %s is not this root's DEMO trust services (%s)", services.urls.base, e)
        return False


def bind_address(services_url: str) -> tuple[str, int]:
    """(host, port) to listen on for a services base URL such as `http://127.0.0.1:8765`."""
    parts = urlsplit(services_url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
