"""Issue 15, part 2: long-term signatures (PAdES B-LTA) by default, and fast enough to be the default.

- A watcher on a DEMO root runs the DEMO timestamp, OCSP and CRL services itself on loopback and signs B-LTA;
  checked with pyHanko's own LTA validation and with poppler's pdfsig; the services stop with the watcher.
- A production root without `tsa_url` refuses to start unless lower levels are chosen explicitly.
- A timestamp server that is down is an outage: the case file stays in the inbox for a retry.
- Revocation data is fetched once and reused while valid, over one kept-alive connection per service.
"""

from __future__ import annotations

import io
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Mapping

import pytest
from click.testing import CliRunner
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader

from pipeline.adapters import demo_pki, demo_services
from pipeline.adapters.signing import KeyRing, PadesSigner
from pipeline.adapters.validation import verify_pdf
from pipeline.cli import cli
from pipeline.errors import SigningError, TrustServiceOutage
from pipeline.settings import load_settings
from pipeline.shell.app import OrderSigner, check_signing_setup, signing_services
from pipeline.shell.layout import DEMO_DOCTORS, DEMO_ORGANISATIE, EXAMPLES
from tests.config_variants import configure
from tests.conftest import _free_port
from tests.pdf_signatures import pdfsig, needs_pdfsig
from tests.pdfs import minimal_pdf
from tests.appearances import SEAL

SERVICE_THREADS = ("sopipe-demo-trust", "sopipe-signing-loop")


def _service_threads(*, besides: frozenset[int] = frozenset()) -> list[str]:
    """Names of the running service threads, leaving out those in `besides` (idents of threads that were running
    before: the session's shared trust services and their signer, started by tests of other modules)."""
    return [t.name for t in threading.enumerate() if t.name in SERVICE_THREADS and t.ident not in besides]


def _running_idents() -> frozenset[int]:
    return frozenset(t.ident for t in threading.enumerate())


def _port_open(url: str) -> bool:
    host, port = demo_services.bind_address(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


def _services_pki(folder: Path) -> tuple[Path, int]:
    """A DEMO PKI in `folder/pki` whose certificates name trust services on a free loopback port."""
    port = _free_port()
    demo_pki.init_demo_pki(folder / "pki", organisatie=DEMO_ORGANISATIE, doctors=DEMO_DOCTORS,
                           services_url=f"http://127.0.0.1:{port}")
    return folder / "pki", port


def _pyhanko_lta(pdf: bytes, ca: Path) -> list:
    """pyHanko's own AdES long-term validation (ETSI EN 319 102-1 § 5.6.3) of every signature, embedded data only."""
    import asyncio

    from pyhanko.sign.validation import ades
    from pyhanko.sign.validation.policy_decl import (PdfSignatureValidationSpec, RevinfoOnlineFetchingRule,
                                                     RevocationInfoGatheringSpec, SignatureValidationSpec)
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
    from pyhanko_certvalidator.registry import SimpleTrustManager

    spec = PdfSignatureValidationSpec(SignatureValidationSpec(
        cert_validation_policy=CertValidationPolicySpec(
            trust_manager=SimpleTrustManager.build([load_cert_from_pemder(str(ca))]),
            revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO)),
        revinfo_gathering_policy=RevocationInfoGatheringSpec(RevinfoOnlineFetchingRule.LOCAL_ONLY)))
    reader = PdfFileReader(io.BytesIO(pdf))
    return [asyncio.run(ades.ades_lta_validation(sig, spec)) for sig in reader.embedded_regular_signatures]


def _passed(result) -> bool:
    from pyhanko.sign.ades.report import AdESStatus
    return result.ades_subindic.status is AdESStatus.PASSED


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """`sopipe init`, `sopipe demo`, `sopipe watch --once` on a fresh root: the out-of-the-box run."""
    root = tmp_path_factory.mktemp("demo") / "root"
    before = _running_idents()
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    assert runner.invoke(cli, ["demo", "--root", str(root)]).exit_code == 0
    result = runner.invoke(cli, ["watch", "--root", str(root), "--once"])
    assert result.exit_code == 0, result.output
    return root, result, _service_threads(besides=before)


@pytest.mark.libreoffice
def test_demo_watcher_signs_machtigingen_and_advice_b_lta(demo_run):
    root, result, _ = demo_run
    assert "11 processed" in result.output and "0 failed" in result.output
    ca = root / "pki" / "ca.pem"
    archief = root / "outbox" / "archief" / "SO-2026-0042"
    for name in ("SO-2026-0042_machtiging-medische-gegevens.pdf", "SO-2026-0042_advies.pdf"):
        pdf = (archief / name).read_bytes()
        [result] = _pyhanko_lta(pdf, ca)
        assert _passed(result), (name, result.ades_subindic, result.failure_msg)
        assert result.api_status.timestamp_validity is not None, f"{name}: no signature timestamp"
        assert result.api_status.bottom_line
        reader = PdfFileReader(io.BytesIO(pdf))
        assert reader.embedded_timestamp_signatures, f"{name}: no document (archive) timestamp"
        assert "/DSS" in reader.root, f"{name}: no validation data (DSS)"


@pytest.mark.libreoffice
@needs_pdfsig
def test_pdfsig_sees_the_signature_and_the_archive_timestamp(demo_run):
    root, _, _ = demo_run
    out = pdfsig(root / "outbox" / "archief" / "SO-2026-0042" / "SO-2026-0042_advies.pdf")
    blocks = out.split("Signature #")[1:]
    assert len(blocks) == 2, out
    assert "Dr. E. Visser" in blocks[0] and "ETSI.CAdES.detached" in blocks[0]
    assert "Signature is Valid." in blocks[0]
    assert "sopipe DEMO TSA" in blocks[1], "the second signature is the document timestamp"


@pytest.mark.libreoffice
def test_the_watcher_stops_its_trust_services_on_exit(demo_run):
    root, _, left_by_watch = demo_run
    assert left_by_watch == []
    urls = demo_pki.read_services_url(root / "pki")
    assert not _port_open(urls.base), "the DEMO services still listen after the watcher ended"
    settings = load_settings(root)
    assert settings.demo_services and settings.signing.tsa_url == urls.tsa
    assert settings.signing_level("advies") == settings.signing_level("machtiging-medische-gegevens") == "B-LTA"


def test_signing_services_run_only_inside_the_block(tmp_path):
    before = _running_idents()
    _services_pki(tmp_path / "root")
    settings = load_settings(tmp_path / "root")
    with signing_services(settings) as running:
        assert _port_open(running.signing.tsa_url.removesuffix("/tsa"))
        assert "sopipe-demo-trust" in _service_threads(besides=before)
    assert not _port_open(running.signing.tsa_url.removesuffix("/tsa"))
    assert "sopipe-demo-trust" not in _service_threads(besides=before)


def test_a_taken_port_moves_the_services_and_the_certificates_follow(tmp_path):
    pki_dir, port = _services_pki(tmp_path)
    ca_before = (pki_dir / "ca.pem").read_bytes()
    with socket.socket() as squatter:  # something else listens on the port named in the certificates
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with demo_services.serve_pki(pki_dir) as urls:
            assert urls.base != f"http://127.0.0.1:{port}"
            assert demo_pki.read_services_url(pki_dir) == urls
            keyring = KeyRing.from_pki_dir(pki_dir)
            seal_cert = keyring.seal().certificate
            assert [d["access_location"] for d in seal_cert.authority_information_access_value.native
                    if d["access_method"] == "ocsp"] == [urls.ocsp]
            signer = PadesSigner(tsa_url=urls.tsa, trust_roots=[load_cert_from_pemder(str(pki_dir / "ca.pem"))])
            try:
                pdf = signer.sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(),
                                  appearance=SEAL, certify=True, level="B-LTA")
            finally:
                signer.close()
    assert (pki_dir / "ca.pem").read_bytes() == ca_before, "the root (trust anchor) is never replaced"
    [result] = _pyhanko_lta(pdf, pki_dir / "ca.pem")
    assert _passed(result), (result.ades_subindic, result.failure_msg)


def test_services_already_running_for_this_root_are_used_as_they_are(tmp_path):
    pki_dir, port = _services_pki(tmp_path)
    seal_before = (pki_dir / "seal.p12").read_bytes()
    with demo_services.running(demo_services.DemoTrustServices(pki_dir), port=port):  # `sopipe pki serve`
        with demo_services.serve_pki(pki_dir) as urls:
            assert urls.base == f"http://127.0.0.1:{port}"
    assert (pki_dir / "seal.p12").read_bytes() == seal_before, "nothing issued again"


def _production_root(tmp_path: Path, signing: Mapping[str, str] | None = None) -> Path:
    """A root whose PKI looks like a production one to sopipe, its sopipe.toml holding only `signing`."""
    root = tmp_path / "prod"
    assert CliRunner().invoke(cli, ["init", "--root", str(root)]).exit_code == 0
    (root / "pki" / demo_pki.DEMO_MARKER).unlink()  # what a production PKI looks like to sopipe
    (root / "sopipe.toml").write_text("", encoding="utf-8")
    if signing:
        configure(root, {"signing": signing})
    return root


def test_a_production_root_without_tsa_url_refuses_to_start(tmp_path):
    root = _production_root(tmp_path)
    (root / "inbox" / "01-verzoek.json").write_bytes(
        (EXAMPLES / "case-SO-2026-0042" / "01-verzoek.json").read_bytes())
    result = CliRunner().invoke(cli, ["watch", "--root", str(root), "--once"])
    assert result.exit_code != 0
    message = str(result.exception.message if isinstance(result.exception, SigningError) else result.output)
    assert "[signing] tsa_url" in message and "level_machtiging" in message and "level_advies" in message
    assert (root / "inbox" / "01-verzoek.json").exists(), "nothing was taken from the inbox"
    assert not list((root / "inbox" / "processed").iterdir()) and not list((root / "inbox" / "failed").iterdir())


def test_a_production_root_may_choose_lower_levels_explicitly_and_status_keeps_warning(tmp_path):
    root = _production_root(tmp_path, {"level_machtiging": "B-B", "level_advies": "B-B"})
    settings = load_settings(root)
    assert not settings.demo_services and settings.signing.tsa_url is None
    check_signing_setup(settings)  # no refusal
    result = CliRunner().invoke(cli, ["status", "--root", str(root)])
    assert result.exit_code == 0 and "PAdES B-B" in result.output and "tsa_url" in result.output
    only_one = _production_root(tmp_path / "b", {"level_advies": "B-B"})
    with pytest.raises(SigningError) as refused:
        check_signing_setup(load_settings(only_one))
    assert "level_machtiging" in refused.value.message and "level_advies" not in refused.value.message


def test_a_tsa_that_is_down_is_a_retryable_outage_not_a_failed_case(make_root, keyring, shared_pki):
    dead = f"http://127.0.0.1:{_free_port()}/tsa"  # nothing listens there
    pades = PadesSigner(tsa_url=dead, trust_roots=[load_cert_from_pemder(str(shared_pki / "ca.pem"))])
    root = make_root(signer=OrderSigner(keyring, pades, level_for=lambda kind: "B-LTA"))
    try:
        case = sorted((EXAMPLES / "case-SO-2026-0042").glob("*.json"))
        for path in case[:4]:  # up to the availability: no signature yet
            root.drop(path.name, path.read_bytes())
        assert {o.status for o in root.run()} == {"processed"}
        aanvraag = case[4]  # the request: the machtiging medische gegevens is sealed
        root.drop(aanvraag.name, aanvraag.read_bytes())
        [outcome] = root.run()
    finally:
        pades.close()
    assert outcome.status == "retry", outcome
    assert "tijdstempel" in outcome.detail and "opnieuw" in outcome.detail
    assert (root.settings.inbox / aanvraag.name).exists(), "the case file stays in the inbox"
    assert not list((root.settings.inbox / "failed").iterdir()), "an outage is not a failed case file"
    assert not (root.settings.outbox / "werknemer" / "SO-2026-0042" / "SO-2026-0042_aanvraagformulier.pdf").exists()
    assert [e.stap for e in root.store.events("SO-2026-0042")] == ["verzoek", "beoordeling", "selectie",
                                                                  "beschikbaarheid"]


def test_the_outage_error_is_a_signing_error_that_names_the_setting(keyring):
    pades = PadesSigner(tsa_url=f"http://127.0.0.1:{_free_port()}/tsa")
    try:
        with pytest.raises(TrustServiceOutage) as outage:
            pades.sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(), appearance=SEAL,
                       certify=True, level="B-T")
    finally:
        pades.close()
    assert isinstance(outage.value, SigningError) and outage.value.field == "tsa_url"


# --- reuse: revocation data within its validity, one connection per service ------------------------------------

class _CountingServices(demo_services.DemoTrustServices):
    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.calls = {"ocsp": 0, "crl": 0, "tsa": 0}

    def ocsp(self, request: bytes) -> bytes:
        self.calls["ocsp"] += 1
        return super().ocsp(request)

    def crl(self, issuer: str) -> bytes:
        self.calls["crl"] += 1
        return super().crl(issuer)

    def timestamp(self, request: bytes) -> bytes:
        self.calls["tsa"] += 1
        return super().timestamp(request)


@pytest.fixture
def counted(tmp_path):
    pki_dir, port = _services_pki(tmp_path)
    services = _CountingServices(pki_dir)
    clients: set = set()
    with demo_services.running(services, port=port) as server:
        handler = server.RequestHandlerClass

        class Counting(handler):
            def setup(self) -> None:
                clients.add(self.client_address)
                super().setup()

        server.RequestHandlerClass = Counting
        yield pki_dir, services, clients, f"http://127.0.0.1:{port}/tsa"


def test_revocation_data_is_fetched_once_and_reused_while_valid(counted):
    pki_dir, services, _, tsa = counted
    now = [datetime.now(UTC)]
    keyring = KeyRing.from_pki_dir(pki_dir)
    ca = load_cert_from_pemder(str(pki_dir / "ca.pem"))
    signer = PadesSigner(tsa_url=tsa, trust_roots=[ca], clock=lambda: now[0])
    document = minimal_pdf([[(72, 400, "Ondertekening")]])
    try:
        signed = [signer.sign(document, identity=keyring.seal(), appearance=SEAL, certify=True, level="B-LT")
                  for _ in range(3)]
        after_three = dict(services.calls)
        now[0] += timedelta(minutes=11)  # past the reuse limit: fetched again
        signer.sign(document, identity=keyring.seal(), appearance=SEAL, certify=True, level="B-LT")
    finally:
        signer.close()
    assert after_three["tsa"] >= 3, "every signature gets its own timestamp"
    assert 1 <= after_three["ocsp"] <= 2 and after_three["crl"] <= 2, after_three
    assert services.calls["ocsp"] > after_three["ocsp"], "stale revocation data must be fetched again"
    for pdf in signed:  # each document still carries everything needed to validate it, offline
        [report] = verify_pdf(pdf, trust_roots=[pki_dir / "ca.pem"]).signatures
        assert report.ok and report.level == "B-LT" and report.revocation_checked, report


def test_one_kept_alive_connection_serves_many_signatures(counted):
    before = _running_idents()
    pki_dir, _, clients, tsa = counted
    keyring = KeyRing.from_pki_dir(pki_dir)
    signer = PadesSigner(tsa_url=tsa, trust_roots=[load_cert_from_pemder(str(pki_dir / "ca.pem"))])
    document = minimal_pdf([[(72, 400, "Ondertekening")]])
    try:
        signer.sign(document, identity=keyring.seal(), appearance=SEAL, certify=True, level="B-LTA")
        first = len(clients)
        for _ in range(4):
            signer.sign(document, identity=keyring.seal(), appearance=SEAL, certify=True, level="B-LTA")
    finally:
        signer.close()
    assert len(clients) == first <= 3, f"{len(clients)} connections for 5 signatures"
    assert "sopipe-signing-loop" not in _service_threads(besides=before), "close() stops the signing loop"


def test_revocation_services_that_are_down_are_an_outage_too(tmp_path):
    """The signer's certificate names an OCSP responder and CRLs that do not answer: pyHanko reports only that
    the certificate "could not be validated"; the failed fetches show it is an outage, not a bad key."""
    pki_dir, port = _services_pki(tmp_path)  # nothing listens on that port
    keyring = KeyRing.from_pki_dir(pki_dir)
    pades = PadesSigner(tsa_url=f"http://127.0.0.1:{port}/tsa",
                        trust_roots=[load_cert_from_pemder(str(pki_dir / "ca.pem"))])
    try:
        with pytest.raises(TrustServiceOutage) as outage:
            pades.sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(), appearance=SEAL,
                       certify=True, level="B-LT")
    finally:
        pades.close()
    assert "niet bereikbaar" in outage.value.message and "zaakbestand" in outage.value.message


def test_a_killed_pipeline_leaves_no_validation_child_behind(tmp_path, keyring, shared_pki):
    """The archive's validation reports are made in a child process; kill -9 of the pipeline must not orphan it."""
    import signal
    import subprocess
    import sys

    import psutil

    signed = tmp_path / "signed.pdf"
    signed.write_bytes(PadesSigner().sign(minimal_pdf([[(72, 400, "Ondertekening")]]), identity=keyring.seal(),
                                          appearance=SEAL, certify=True, level="B-B"))
    script = (
        "import sys, time, psutil\n"
        "from pathlib import Path\n"
        "from pipeline.core.routing import Party\n"
        "from pipeline.shell.validation_reports import ValidatingMailboxes\n"
        "boxes = ValidatingMailboxes(Path(sys.argv[1]), trust_roots=[Path(sys.argv[2])], processes=1)\n"
        "target = boxes.deliver(Party.ARCHIEF, 'SO-2026-0042', 'SO-2026-0042_advies.pdf', Path(sys.argv[3]).read_bytes())\n"
        "assert target.with_name(target.name + '.validatie.xml').exists()\n"
        "print(*[c.pid for c in psutil.Process().children(recursive=True)], flush=True)\n"
        "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "outbox"), str(shared_pki / "ca.pem"),
                             str(signed)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        children = [psutil.Process(int(pid)) for pid in proc.stdout.readline().split()]
        assert children, "the report was made in a child process"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _, alive = psutil.wait_procs(children, timeout=20)
    for p in alive:
        p.kill()
    assert alive == [], "validation children outlived the killed pipeline"
