"""The archive end to end: the example case's audit trail, a sealed export bundle and its offline check (and every
way of tampering with it), the chain check against raw-SQL tampering, retention, and destruction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit
from pipeline.cli import cli
from pipeline.core.planning import retention_end
from pipeline.shell.archive_retention import retention
from tests.casefactory import event, full_case, intrekking
from tests.config_variants import configure


K = "SO-2026-0042"


def sopipe(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input)


@pytest.fixture(scope="module")
def example(tmp_path_factory, shared_fake_converter, shared_pki):
    """The whole example case processed once, with the audit trail wired as in production."""
    from tests.conftest import Root
    root = Root(tmp_path_factory.mktemp("archive") / "root", converter=shared_fake_converter, pki=shared_pki)
    for i, ev in enumerate(full_case(), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * 11, [(o.file_name, o.detail) for o in outcomes]
    yield root
    root.close()


@pytest.fixture(scope="module")
def bundle(example, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / f"{K}.zip"
    result = sopipe("archive", "export", K, "--root", example.path, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def trust(root) -> Path:
    return root.settings.pki_dir / "ca.pem"


# --- the audit trail of the example case -------------------------------------------------------------------------

def test_every_step_and_every_delivery_is_in_the_trail(example):
    records = Audit(example.store).trail(K)
    intakes = [r.details["stap"] for r in records if r.gebeurtenis == "intake" and r.uitkomst == "geslaagd"]
    assert intakes == ["verzoek", "beoordeling", "selectie", "beschikbaarheid", "aanvraag", "uitvoering",
                       "extra_informatie", "conceptadvies", "definitief_advies", "beoordeling_advies", "facturatie"]
    delivered = [r for r in records if r.gebeurtenis == "bezorging" and r.uitkomst == "geslaagd"]
    stored = [d for d in example.store.deliveries(K) if d.status == "delivered"]
    assert len(delivered) == len(stored) > 0
    for r in delivered:  # mailbox path and the hash of the very file in it
        # digit runs (a doctor's BIG number in the recipient folder) are masked in the trail
        (path,) = example.path.glob(re.sub("#+", "*", r.details["pad"]))
        # the case's folder; the employer's anonymous specification in its invoice folder, by reference (issue 20)
        folder = "/facturen/" if r.details["document"] == "doorbelasting-werkgever" and \
            r.details["partij"] == "werkgever" else f"/{K}/"
        assert r.details["pad"].startswith(f"outbox/{r.details['partij']}/") and folder in r.details["pad"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r.details["sha256"]
    signed = {r.details["document"] for r in records if r.gebeurtenis == "ondertekening"}
    assert signed == {"aanvraagformulier", "machtiging-medische-gegevens", "machtiging-extra-informatie",
                      "machtiging-advies-delen", "advies"}
    consents = [(r.details["toestemming"], r.details["naar"]) for r in records if r.gebeurtenis == "toestemming"]
    # the example's consents for medical data and the physiotherapist are signed, their forms kept (issue 20)
    assert consents == [("medische_gegevens", "ondertekend"), ("extra_informatie:behandelaar", "ondertekend"),
                        ("advies_delen_bedrijfsarts", "verleend")]
    first = records[0]
    assert first.namens == event("verzoek")["ingediend_door"] and first.gebruiker


def test_no_bsn_name_or_medical_text_in_any_audit_record(example):
    text = json.dumps([r.as_dict() for r in Audit(example.store).records()], ensure_ascii=False)
    verzoek, aanvraag, advies = event("verzoek"), event("aanvraag"), event("definitief_advies")
    w = verzoek["werknemer"]
    for secret in (w["naam"], w["bsn"], w["email"], w["telefoon"], w["adres"]["straat"], w["geboortedatum"],
                   aanvraag["medische_gegevens"][:30], advies["bevindingen"][:30], advies["conclusie"][:30],
                   verzoek["betwist_advies"][:30]):
        assert secret not in text, secret


def test_status_view_is_recorded(example):
    before = len(Audit(example.store).trail(K))
    assert sopipe("status", "--root", example.path, K, "--json").exit_code == 0
    after = Audit(example.store).trail(K)
    assert len(after) == before + 1 and after[-1].gebeurtenis == "inzage" and after[-1].details["wat"] == "status"


def test_audit_command_shows_the_trail(example):
    result = sopipe("audit", K, "--root", example.path, "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.output)
    assert records[0]["gebeurtenis"] == "intake" and all(r["kenmerk"] == K for r in records)
    table = sopipe("audit", K, "--root", example.path)
    assert table.exit_code == 0 and "bezorging" in table.output


def test_employee_sees_plain_dutch_and_nothing_of_what_the_employer_got(example):
    result = sopipe("audit", K, "--root", example.path, "--for", "werknemer")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "7 november 2026: uw ondertekende machtiging voor het delen van medische gegevens is vastgelegd." in out
    assert "24 november 2026: het definitieve advies is aan u gestuurd." in out
    assert "uw werkgever is geïnformeerd." in out
    for hidden in ("factuur", "gewijzigd", "werkadvies", "archief", "quarantaine", "rendering", "sha256", "outbox"):
        assert hidden not in out.lower(), hidden
    lines = json.loads(sopipe("audit", K, "--root", example.path, "--for", "werknemer", "--json").output)
    assert all(set(line) == {"datum", "tekst"} for line in lines)


# --- export and verify -------------------------------------------------------------------------------------------

def test_bundle_holds_every_archive_file_the_trail_and_a_sealed_manifest(example, bundle):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    archived = {p.name for p in (example.settings.outbox / "archief" / K).iterdir()}
    assert {n.removeprefix("documenten/") for n in names if n.startswith("documenten/")} == archived
    assert {"manifest.json", "manifest.json.p7s", "zegel-keten.pem", "audit.json"} <= names
    assert {e["naam"] for e in manifest["bestanden"]} == names - {"manifest.json", "manifest.json.p7s"}
    assert manifest["kenmerk"] == K and manifest["audit"]["keten_intact_bij_export"]
    assert manifest["bewaren_tot"] == retention_end(dt.date.fromisoformat(manifest["laatste_wijziging"])).isoformat()
    assert bundle.stat().st_mode & 0o077 == 0
    export = [r for r in Audit(example.store).trail(K) if r.gebeurtenis == "export"]
    assert export and export[-1].details["manifest_sha256"] == hashlib.sha256(
        zipfile.ZipFile(bundle).read("manifest.json")).hexdigest()


def test_bundle_verifies_offline(example, bundle):
    result = sopipe("archive", "verify", bundle, "--trust", trust(example), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] and not report["vertrouwen_uit_bundel"]
    checked = " ".join(report["gecontroleerd"])
    assert "zegel van" in checked and "handtekening van Dr. E. Visser klopt" in checked
    assert report["seconden"] < 10


def rewrite(src: Path, dst: Path, *, change: dict[str, bytes | None] | None = None,
            add: dict[str, bytes] | None = None) -> Path:
    """Copy a bundle, replacing (bytes) or dropping (None) members, adding others."""
    change, add = change or {}, add or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = change.get(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in add.items():
            zout.writestr(name, data)
    return dst


def flip(data: bytes, at: int | None = None) -> bytes:
    i = len(data) // 2 if at is None else at
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


def failures(root, path: Path) -> list[dict]:
    result = sopipe("archive", "verify", path, "--trust", trust(root), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1 and not report["ok"], result.output
    return report["problemen"]


def member_names(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as zf:
        return zf.namelist()


def test_one_byte_changed_in_any_file_is_named(example, bundle, tmp_path):
    names = member_names(bundle)
    assert len(names) >= 10  # the PDFs, their validation reports, audit, manifest, seal, chain, LEESMIJ
    for name in names:
        data = zipfile.ZipFile(bundle).read(name)
        problems = failures(example, rewrite(bundle, tmp_path / "t.zip", change={name: flip(data)}))
        named = {p["bestand"] for p in problems}
        if name == "manifest.json.p7s":
            assert named & {"manifest.json", "manifest.json.p7s"}, (name, problems)
        else:
            assert name in named, (name, problems)


def test_byte_changed_inside_the_zip_file_itself_is_named(example, bundle, tmp_path):
    raw = bundle.read_bytes()
    with zipfile.ZipFile(bundle) as zf:
        info = zf.getinfo(f"documenten/{K}_advies.pdf")
    at = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    (tmp_path / "t.zip").write_bytes(flip(raw, at))
    problems = failures(example, tmp_path / "t.zip")
    assert any(p["bestand"] == f"documenten/{K}_advies.pdf" for p in problems), problems


def test_removed_file_is_named(example, bundle, tmp_path):
    name = f"documenten/{K}_machtiging-medische-gegevens.pdf"
    problems = failures(example, rewrite(bundle, tmp_path / "t.zip", change={name: None}))
    assert problems == [{"bestand": name, "reden": "ontbreekt in de bundel (staat wel in het manifest)"}]


def test_added_file_is_named(example, bundle, tmp_path):
    problems = failures(example, rewrite(bundle, tmp_path / "t.zip", add={"documenten/extra.pdf": b"%PDF-1.7"}))
    assert [p["bestand"] for p in problems] == ["documenten/extra.pdf"]


def test_forged_manifest_rehashed_but_not_resealed_is_named(example, bundle, tmp_path):
    name = f"documenten/{K}_factuur.pdf"  # unsigned: only the seal can tell
    with zipfile.ZipFile(bundle) as zf:
        forged_pdf = zf.read(name) + b"\n% bedrag gewijzigd\n"
        manifest = json.loads(zf.read("manifest.json"))
    for entry in manifest["bestanden"]:
        if entry["naam"] == name:
            entry["sha256"] = hashlib.sha256(forged_pdf).hexdigest()
            entry["bytes"] = len(forged_pdf)
    forged = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    problems = failures(example, rewrite(bundle, tmp_path / "t.zip", change={name: forged_pdf,
                                                                              "manifest.json": forged}))
    assert [p["bestand"] for p in problems] == ["manifest.json"]
    assert "zegel" in problems[0]["reden"]


def test_bundle_from_another_authority_is_not_trusted(example, bundle, tmp_path):
    other = tmp_path / "other-ca.pem"
    other.write_bytes(_self_signed_pem())
    result = sopipe("archive", "verify", bundle, "--trust", other, "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1
    reasons = " ".join(p["reden"] for p in report["problemen"])
    assert "niet vertrouwd" in reasons


def test_without_trust_anchor_verify_warns(bundle):
    result = sopipe("archive", "verify", bundle)
    assert result.exit_code == 0 and "LET OP" in result.output


def test_verify_with_root_checks_the_sealed_chain_head_and_is_recorded(example, bundle):
    result = sopipe("archive", "verify", bundle, "--trust", trust(example), "--root", example.path, "-v")
    assert result.exit_code == 0, result.output
    assert "kop bij de export" in result.output
    last = Audit(example.store).trail(K)[-1]
    assert last.gebeurtenis == "verificatie" and last.uitkomst == "geslaagd"


# --- audit --verify against an attacker with file access ---------------------------------------------------------

@pytest.fixture
def copied_root(example, tmp_path) -> Path:
    """A copy of the example's state database, to tamper with."""
    target = tmp_path / "copy"
    (target / "state").mkdir(parents=True)
    src = sqlite3.connect(example.settings.database)
    dst = sqlite3.connect(target / "state" / "sopipe.db")
    src.backup(dst)
    src.close()
    dst.close()
    return target


def attacker(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "state" / "sopipe.db", isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("DROP TRIGGER audit_no_delete")
    return conn


def test_audit_verify_passes_on_an_untouched_trail(copied_root):
    result = sopipe("audit", "--verify", "--root", copied_root)
    assert result.exit_code == 0 and result.output.startswith("OK"), result.output


def test_audit_verify_names_an_altered_record(copied_root):
    conn = attacker(copied_root)
    rid, stored = conn.execute("SELECT id, hash FROM audit WHERE gebeurtenis='bezorging' AND details LIKE "
                               "'%\"partij\":\"werkgever\"%' LIMIT 1").fetchone()
    conn.execute("UPDATE audit SET details=replace(details, 'werkgever', 'werknemer') WHERE id=?", (rid,))
    conn.execute("CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END")
    conn.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'x'); END")
    result = sopipe("audit", "--verify", "--root", copied_root, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.output)["problemen"]
    assert [(p["record_id"], p["what"], p["expected"]) for p in problems] == [(rid, "gewijzigd", stored)]
    text = sopipe("audit", "--verify", "--root", copied_root).output
    assert f"record {rid} is gewijzigd" in text and stored in text


def test_audit_verify_names_a_deleted_record_and_the_dropped_triggers(copied_root):
    conn = attacker(copied_root)
    conn.execute("DELETE FROM audit WHERE id=10")
    result = sopipe("audit", "--verify", "--root", copied_root)
    assert result.exit_code == 1
    assert "record 10 ontbreekt" in result.output and "record 11" in result.output
    assert "trigger audit_no_update ontbreekt" in result.output


# --- retention and destruction -----------------------------------------------------------------------------------

def test_retention_end_is_twenty_years_after_the_last_change(example):
    ret = retention(example.store, K)
    last = max(dt.date.fromisoformat(e.accepted_at[:10]) for e in example.store.events(K))
    assert ret.laatste_wijziging == last and ret.bewaren_tot == retention_end(last)
    assert ret.bewaren_tot == last.replace(year=last.year + 20)
    assert retention_end(dt.date(2080, 2, 29)) == dt.date(2100, 2, 28)  # 2100 is no leap year
    end = ret.bewaren_tot.isoformat()
    on_the_day = json.loads(sopipe("archive", "due", "--root", example.path, "--today", end, "--json").output)
    after = json.loads(sopipe("archive", "due", "--root", example.path, "--today",
                              (ret.bewaren_tot + dt.timedelta(days=1)).isoformat(), "--json").output)
    assert on_the_day == [] and [d["kenmerk"] for d in after] == [K]


def test_destroy_refuses_before_the_date_then_forced_with_a_reason_and_logged(make_root):
    root = make_root()
    # the recipients empty their mailboxes themselves (documented setting)
    configure(root.path, {"mailboxes": {"emptied_by_recipients": True}})
    k1, k2 = "SO-2026-0901", "SO-2026-0902"
    for i, ev in enumerate(full_case(kenmerk=k1, upto="aanvraag") + full_case(kenmerk=k2, upto="verzoek")):
        root.drop(f"{i:02d}.json", ev)
    root.drop("99.json", intrekking("medische_gegevens", datum="2026-11-08", kenmerk=k1))
    assert {o.status for o in root.run()} == {"processed"}
    withdrawn = [r for r in Audit(root.store).trail(k1) if r.gebeurtenis == "toestemming"][-1]
    assert (withdrawn.details["van"], withdrawn.details["naar"]) == ("ondertekend", "ingetrokken")  # issue 20
    archive = root.settings.outbox / "archief" / k1
    # form, machtiging, and the withdrawal's confirmation and notice to the SO doctor
    archived = {f"{k1}_aanvraagformulier.pdf", f"{k1}_aanvraagformulier.pdf.validatie.xml",  # signed by the own doctor
                f"{k1}_machtiging-medische-gegevens.pdf",
                f"{k1}_machtiging-medische-gegevens.pdf.validatie.xml",  # the sealed one with its ETSI report
                f"{k1}_intrekking-medische-gegevens.pdf",  # the withdrawal confirmed to the employee
                f"{k1}_intrekking-melding-medische-gegevens.pdf"}  # and notified to the SO doctor
    assert {p.name for p in archive.iterdir()} == archived

    refused = sopipe("archive", "destroy", k1, "--root", root.path, "--yes")
    assert refused.exit_code == 1 and "bewaartermijn" in refused.output and "--force --reden" in refused.output
    no_reason = sopipe("archive", "destroy", k1, "--root", root.path, "--yes", "--force")
    assert no_reason.exit_code == 1 and "--reden" in no_reason.output
    assert {p.name for p in archive.iterdir()} == archived and root.store.events(k1)

    reden = "verzoek werknemer tot vernietiging (art. 7:455 BW)"
    done = sopipe("archive", "destroy", k1, "--root", root.path, "--yes", "--force", "--reden", reden)
    assert done.exit_code == 0, done.output
    assert not archive.exists() and root.store.events(k1) == [] and root.store.deliveries(k1) == []
    assert not any(_mentions(p, k1) for p in (root.settings.inbox / "processed").iterdir())
    assert (root.settings.outbox / "werknemer" / k1).is_dir(), "the employee's own copies stay"
    assert "outbox/werknemer/" + k1 in done.output
    assert root.store.events(k2), "another case is untouched"

    trail = Audit(root.store).trail(k1)
    refusals = [r for r in trail if r.gebeurtenis == "vernietiging" and r.uitkomst == "geweigerd"]
    assert [r.details["regel"] for r in refusals] == ["bewaartermijn", "reden-ontbreekt"]
    started, finished = [r for r in trail if r.gebeurtenis == "vernietiging" and r.uitkomst != "geweigerd"]
    assert (started.uitkomst, finished.uitkomst) == ("gestart", "geslaagd")
    assert set(finished.details) == {"wat", "reden", "manifest_sha256"} and finished.details["reden"] == reden
    assert finished.details["wat"] == "vervroegd" and finished.kenmerk == k1 and finished.gebruiker
    assert sopipe("audit", "--verify", "--root", root.path).exit_code == 0
    employee = sopipe("audit", k1, "--root", root.path, "--for", "werknemer").output
    assert f"uw dossier is vernietigd (reden: {reden})." in employee
    again = sopipe("archive", "destroy", k1, "--root", root.path, "--yes", "--force", "--reden", reden)
    assert again.exit_code == 1 and "al vernietigd" in again.output

    # the ordinary way: once the retention date has passed, no reason needed
    later = (retention(root.store, k2).bewaren_tot + dt.timedelta(days=1)).isoformat()
    assert sopipe("archive", "destroy", k2, "--root", root.path, "--today", later, "--yes").exit_code == 0
    assert root.store.events(k2) == []
    assert Audit(root.store).trail(k2)[-1].details["wat"] == "bewaartermijn-verstreken"


def test_destroy_asks_for_confirmation(make_root):
    root = make_root()
    root.drop("01.json", event("verzoek", kenmerk="SO-2026-0903"))
    root.run()
    later = "2099-01-01"
    result = sopipe("archive", "destroy", "SO-2026-0903", "--root", root.path, "--today", later, input="n\n")
    assert result.exit_code == 1 and root.store.events("SO-2026-0903")


def _mentions(path: Path, kenmerk: str) -> bool:
    try:
        return json.loads(path.read_bytes()).get("kenmerk") == kenmerk
    except ValueError:
        return False


def _self_signed_pem() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Andere CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)
