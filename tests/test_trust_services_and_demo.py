"""Trust services: their faults are outages (a retry and a message for the operator, never "correct the file"), a
watcher trusts only DEMO services that prove they hold its root's keys, and a root is DEMO by the fingerprint of
the CA `init` made, never by a certificate's name.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

from pipeline.adapters import demo_pki, demo_services
from pipeline.adapters.signing import PadesSigner
from pipeline.adapters.tsa import probe_timestamp
from pipeline.errors import PipelineError, TrustServiceOutage
from pipeline.settings import load_settings
from pipeline.shell.app import OrderSigner, make_keyring
from pipeline.shell.layout import DEMO_DOCTORS, DEMO_ORGANISATIE, EXAMPLES
from tests.conftest import _free_port
from tests.appearances import SEAL
from tests.pdfs import minimal_pdf


@contextmanager
def _answering(answers: dict[str, tuple[str, bytes]], *, port: int = 0):
    """A loopback HTTP server answering GET/POST `path` with (content type, body or a function of the request
    body); 404 elsewhere."""
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = self.rfile.read(length) if length else b""
            found = answers.get(self.path)
            if found is None:
                self.send_error(404)
                return
            body = found[1](request) if callable(found[1]) else found[1]
            self.send_response(200)
            self.send_header("Content-Type", found[0])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _sign_b_t(signer: PadesSigner, keyring) -> bytes:
    try:
        return signer.sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(), appearance=SEAL,
                           certify=True, level="B-T")
    finally:
        signer.close()


# --- outages: no answer, garbage, a chain that does not validate ----------------------------------------------

def test_a_garbage_answer_from_the_tsa_is_an_outage(keyring, shared_pki):
    with _answering({"/tsa": ("application/timestamp-reply", b"\x30\x05geen!")}) as url:
        with pytest.raises(TrustServiceOutage) as outage:
            _sign_b_t(PadesSigner(tsa_url=f"{url}/tsa",
                                  trust_roots=[load_cert_from_pemder(str(shared_pki / "ca.pem"))]), keyring)
    assert "zaakbestand" in outage.value.message and outage.value.field == "tsa_url"


def test_a_tsa_whose_chain_does_not_validate_is_an_outage_and_its_timestamp_never_embedded(keyring, shared_pki,
                                                                                          trust_services):
    """The TSA of another PKI: at B-T pyHanko itself would embed its timestamp without validating it."""
    signer = PadesSigner(tsa_url=trust_services.tsa_url,
                         trust_roots=[load_cert_from_pemder(str(shared_pki / "ca.pem"))])
    with pytest.raises(TrustServiceOutage) as outage:
        _sign_b_t(signer, keyring)
    assert "does not chain to a trusted root" in outage.value.message


def test_a_trusted_tsa_still_signs(services_keyring, trust_services):
    signer = PadesSigner(tsa_url=trust_services.tsa_url, trust_roots=[load_cert_from_pemder(str(trust_services.ca))])
    assert b"/ByteRange" in _sign_b_t(signer, services_keyring)


def test_a_garbage_tsa_answer_leaves_the_case_file_for_a_retry(make_root, keyring, shared_pki):
    with _answering({"/tsa": ("application/timestamp-reply", b"\x30\x05geen!")}) as url:
        pades = PadesSigner(tsa_url=f"{url}/tsa", trust_roots=[load_cert_from_pemder(str(shared_pki / "ca.pem"))])
        root = make_root(signer=OrderSigner(keyring, pades, level_for=lambda kind: "B-T"))
        try:
            case = sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))
            for path in case[:4]:
                root.drop(path.name, path.read_bytes())
            assert {o.status for o in root.run()} == {"processed"}
            root.drop(case[4].name, case[4].read_bytes())  # the request: its machtiging is sealed with a timestamp
            [outcome] = root.run()
        finally:
            pades.close()
    assert outcome.status == "retry", outcome
    assert (root.settings.inbox / case[4].name).exists()
    assert not list((root.settings.inbox / "failed").iterdir()), "not 'correct the file'"


def test_garbage_from_the_revocation_services_is_an_outage(tmp_path):
    """The certificates name OCSP and CRL services that answer junk (the TSA answers well): B-LT cannot be made,
    and that is the services' fault, not the case file's."""
    from pipeline.adapters.signing import KeyRing
    pki_dir, port = _services_pki(tmp_path)
    genuine = demo_services.DemoTrustServices(pki_dir)
    junk = b"\x30\x03\x02\x01\x07"
    with _answering({"/tsa": ("application/timestamp-reply", genuine.timestamp),
                     "/ocsp": ("application/ocsp-response", junk),
                     "/crl/root.crl": ("application/pkix-crl", junk),
                     "/crl/intermediate.crl": ("application/pkix-crl", junk)}, port=port) as url:
        signer = PadesSigner(tsa_url=f"{url}/tsa", trust_roots=[load_cert_from_pemder(str(pki_dir / "ca.pem"))])
        try:
            with pytest.raises(TrustServiceOutage):
                signer.sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=KeyRing.from_pki_dir(pki_dir).seal(),
                            appearance=SEAL, certify=True, level="B-LT")
        finally:
            signer.close()


def test_probe_timestamp_obtains_and_validates_a_fresh_timestamp(trust_services, shared_pki):
    probe = probe_timestamp(trust_services.tsa_url, trust_roots=[trust_services.ca])
    assert "TSA" in probe.tsa and abs(probe.time - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    with pytest.raises(TimestampRequestError, match="does not chain"):
        probe_timestamp(trust_services.tsa_url, trust_roots=[shared_pki / "ca.pem"])


# --- DEMO services: only ours, proven fresh -------------------------------------------------------------------

def _services_pki(folder):
    port = _free_port()
    demo_pki.init_demo_pki(folder / "pki", organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS,
                           services_url=f"http://127.0.0.1:{port}")
    return folder / "pki", port


def test_a_replayed_crl_on_the_demo_port_is_not_taken_for_our_services(tmp_path):
    """Another local user binds the port after the real services stopped and serves a genuine, recorded CRL."""
    pki_dir, port = _services_pki(tmp_path)
    recorded = demo_services.DemoTrustServices(pki_dir).crl("root")  # signed by the root: genuine, but replayed
    with _answering({"/crl/root.crl": ("application/pkix-crl", recorded),
                     "/crl/intermediate.crl": ("application/pkix-crl", recorded)}, port=port):
        with demo_services.serve_pki(pki_dir) as urls:
            assert urls.base != f"http://127.0.0.1:{port}", "the squatter was taken for our services"
            assert demo_pki.read_services_url(pki_dir) == urls  # the certificates now name our own services


# --- DEMO by fingerprint --------------------------------------------------------------------------------------

def _self_made_demo_root(path) -> None:
    """A certificate named exactly like the DEMO root, made by someone else with a key of their own."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, demo_pki.PKI_ORGANISATIE),
                      x509.NameAttribute(NameOID.COMMON_NAME, demo_pki.ROOT_CN)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_a_root_is_demo_by_the_fingerprint_init_recorded_not_by_the_name(tmp_path):
    made = demo_pki.init_demo_pki(tmp_path / "pki", organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS)
    pki_dir, ca_dir = made.pki_dir, made.ca_dir
    assert demo_pki.is_demo_pki(pki_dir)
    assert (ca_dir / demo_pki.CA_FINGERPRINT).read_text().strip() == demo_pki.fingerprint(
        x509.load_pem_x509_certificate((pki_dir / "ca.pem").read_bytes()))
    genuine = (pki_dir / "ca.pem").read_bytes()
    _self_made_demo_root(pki_dir / "ca.pem")  # same name, marker still there
    assert not demo_pki.is_demo_pki(pki_dir)
    (pki_dir / "ca.pem").write_bytes(genuine)
    (ca_dir / demo_pki.CA_FINGERPRINT).chmod(0o666)  # a record others could have written counts for nothing
    assert not demo_pki.is_demo_pki(pki_dir)
    (ca_dir / demo_pki.CA_FINGERPRINT).unlink()  # a root made before the fingerprint was recorded
    assert not demo_pki.is_demo_pki(pki_dir)
    demo_pki.init_demo_pki(pki_dir, organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS)  # `sopipe init` records it
    assert demo_pki.is_demo_pki(pki_dir) and (pki_dir / "ca.pem").read_bytes() == genuine


def test_a_self_made_demo_named_ca_does_not_let_a_production_root_sign_as_a_doctor(tmp_path):
    """The attack: a production root with a doctor's key left in pki/, a DEMO marker and a self-made certificate
    with the DEMO root's name; auto_sign_doctors = true must still stop start-up."""
    from click.testing import CliRunner

    from pipeline.cli import cli
    root = tmp_path / "prod"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    _self_made_demo_root(root / "pki" / "ca.pem")
    settings = load_settings(root)
    assert settings.signing.auto_sign_doctors and (root / "pki" / demo_pki.DEMO_MARKER).exists()
    assert list((root / "pki").glob("doctor-*.p12"))
    with pytest.raises(PipelineError) as refused:
        make_keyring(settings)
    assert refused.value.field == "auto_sign_doctors"
