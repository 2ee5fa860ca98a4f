"""The archive's CMS adapter (`pipeline.adapters.cms`) against pyHanko and asn1crypto themselves, no fakes: a
detached seal made with the DEMO seal identity checks out against the root it chains to, and each way it can
fail (other data, another root, no CMS at all) is told apart; the chain travels as PEM, each certificate once; the
signatures a PDF carries are counted, document timestamps apart."""

from __future__ import annotations

import pytest

from pipeline.adapters.cms import (certificate_pem, chain_pem, check_detached_seal, load_chain, load_trust_roots,
                                   pdf_signature_counts, seal_detached)
from pipeline.adapters.demo_pki import init_demo_pki
from pipeline.adapters.signing import PadesSigner
from pipeline.errors import ArchiveError
from tests.hostile_pdfs import document_timestamp
from tests.test_signing import SEAL_APPEARANCE, minimal_pdf

MANIFEST = b'{"formaat": "sopipe-archiefbundel/v1", "kenmerk": "SO-2026-0042"}'


@pytest.fixture(scope="module")
def seal(keyring):
    return keyring.seal()


@pytest.fixture(scope="module")
def sealed(seal) -> bytes:
    return seal_detached(MANIFEST, seal)


@pytest.fixture(scope="module")
def chain(seal, shared_pki):
    return load_chain(chain_pem(seal, shared_pki))


@pytest.fixture(scope="module")
def roots(shared_pki):
    return load_trust_roots([shared_pki / "ca.pem"])


def test_a_seal_checks_out_against_the_root_it_chains_to(sealed, seal, chain, roots):
    check = check_detached_seal(MANIFEST, sealed, roots=roots, chain=chain)
    assert (check.intact, check.valid, check.trusted, check.unreadable) == (True, True, True, "")
    assert check.signer == seal.certificate.subject.native["common_name"]
    assert check.summary


def test_other_data_under_the_seal_is_not_intact(sealed, chain, roots):
    check = check_detached_seal(MANIFEST.replace(b"0042", b"0043"), sealed, roots=roots, chain=chain)
    assert not check.intact and not check.unreadable


def test_a_seal_of_this_pki_is_not_trusted_under_another_root(sealed, chain, tmp_path):
    other = init_demo_pki(tmp_path / "pki", organisatie="Andere Arbodienst", doctors=[], ca_dir=tmp_path / "ca")
    check = check_detached_seal(MANIFEST, sealed, roots=load_trust_roots([other.ca_cert]), chain=chain)
    assert check.intact and check.valid and not check.trusted


@pytest.mark.parametrize("signature", [b"", b"geen CMS", b"\x30\x03\x02\x01\x01"])
def test_no_cms_at_all_is_unreadable_not_an_exception(signature, chain, roots):
    check = check_detached_seal(MANIFEST, signature, roots=roots, chain=chain)
    assert check.unreadable and not (check.intact or check.valid or check.trusted)


def test_the_chain_holds_the_seal_and_the_root_each_once(seal, shared_pki):
    certs = load_chain(chain_pem(seal, shared_pki))
    ders = [c.dump() for c in certs]
    assert len(ders) == len(set(ders))
    assert seal.certificate.dump() in ders
    assert [c.dump() for c in load_trust_roots([shared_pki / "ca.pem"])][0] in ders
    assert [c.dump() for c in load_chain(certificate_pem(seal.certificate))] == [seal.certificate.dump()]


def test_a_chain_file_that_is_no_pem_is_an_empty_chain():
    assert load_chain(b"geen certificaat") == []


def test_an_unreadable_trust_root_is_refused_naming_the_file(tmp_path):
    missing = tmp_path / "basis.pem"
    with pytest.raises(ArchiveError, match="basis.pem"):
        load_trust_roots([missing])
    missing.write_bytes(b"-----BEGIN CERTIFICATE-----\nbm9n\n-----END CERTIFICATE-----\n")
    with pytest.raises(ArchiveError, match="kan niet worden gelezen"):
        load_trust_roots([missing])


def test_signatures_and_document_timestamps_are_counted_apart(seal):
    unsigned = minimal_pdf([[(72, 700, "Machtiging")]])
    assert pdf_signature_counts(unsigned) == {"handtekeningen": 0, "archieftijdstempels": 0}
    signer = PadesSigner()
    try:
        signed = signer.sign(unsigned, identity=seal, appearance=SEAL_APPEARANCE, certify=True)
    finally:
        signer.close()
    assert pdf_signature_counts(signed) == {"handtekeningen": 1, "archieftijdstempels": 0}
    stamped = document_timestamp(signed, seal)
    assert pdf_signature_counts(stamped) == {"handtekeningen": 2, "archieftijdstempels": 1}
    assert pdf_signature_counts(b"%PDF-1.7 kapot") == {"handtekeningen": 0}
