"""The records officer's, the FG's and IT's operations behind the desk: retention list, sealed bundle out and
checked back in, destruction with every check before the confirmation, legal hold; who looked at what per case and
per employee, its export for an art. 15 AVG request, the chain's state; the system checks as data. Each refuses the
other roles (recorded) and records its access under the person's name before it returns anything.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import zipfile

import pytest

from pipeline.adapters.audit import Audit
from pipeline.core import trail
from pipeline.errors import ArchiveError
from pipeline.shell import role_views as rv
from tests.role_roots import K, archivaris, beheer, fg, held_root, role_root, secretariaat, visser

BSN = "111222333"
LATER = dt.date(2099, 1, 1)


@pytest.fixture(scope="module")
def root(tmp_path_factory, shared_fake_converter, keyring, shared_pki):
    r = held_root(tmp_path_factory.mktemp("records") / "root", converter=shared_fake_converter, keyring=keyring,
                  pki=shared_pki)
    yield r
    r.close()


def _last(root):
    return Audit(root.store).records()[-1]


@pytest.mark.parametrize("call", [
    lambda r, a: rv.te_vernietigen(r, a, today=LATER), lambda r, a: rv.exporteer(r, a, K),
    lambda r, a: rv.vernietig(r, a, K, reden=None, today=LATER), lambda r, a: rv.toegang_per_zaak(r, a, K),
    lambda r, a: rv.toegang_per_werknemer(r, a, BSN), lambda r, a: rv.keten_status(r, a),
    lambda r, a: rv.systeemcontrole(r, a), lambda r, a: rv.te_ondertekenen(r, a)])
def test_each_operation_refuses_the_roles_it_is_not_for(root, call):
    r = role_root(root)
    allowed = []
    for who in (secretariaat, visser, archivaris, fg, beheer):
        before = Audit(root.store).count()
        try:
            call(r, who)
        except rv.BuitenBereik:
            rec = _last(root)
            assert (rec.gebruiker, rec.uitkomst, rec.details["regel"]) == (who.audit_naam, "geweigerd", "rol")
        else:
            allowed.append(who.rol.value)
            new = Audit(root.store).records()[before:]
            assert all(x.gebruiker == who.audit_naam and x.uitkomst != "geweigerd" for x in new)
    assert len(allowed) == 1, allowed  # exactly the role it is for got through


def test_retention_list_and_destruction_check_everything_before_the_confirmation(root):
    r = role_root(root)
    [due] = rv.te_vernietigen(r, archivaris, today=LATER)
    assert due["kenmerk"] == K and due["blokkade"] is False
    assert rv.te_vernietigen(r, archivaris, today=dt.date(2030, 1, 1)) == []
    with pytest.raises(ArchiveError, match="persoonsgegevens"):
        rv.vernietig(r, archivaris, K, reden="verzoek van M.A. Jansen", today=dt.date(2030, 1, 1), vervroegd=True)
    with pytest.raises(ArchiveError, match="bewaartermijn"):
        rv.vernietig(r, archivaris, K, reden=None, today=dt.date(2030, 1, 1), bevestigd=True)
    asked = rv.vernietig(r, archivaris, K, reden=None, today=LATER)
    assert asked["status"] == "bevestiging-nodig" and asked["bestanden"] > 0 and root.store.events(K)
    held = rv.blokkeer(r, archivaris, K, reden="klacht in behandeling")
    assert held["blokkade"] is True
    assert rv.te_vernietigen(r, archivaris, today=LATER)[0]["blokkade"] is True
    with pytest.raises(ArchiveError, match="juridische blokkade"):
        rv.vernietig(r, archivaris, K, reden=None, today=LATER, bevestigd=True)
    assert root.store.events(K)
    rv.blokkeer(r, archivaris, K, reden="klacht afgehandeld", opheffen=True)
    holds = [x for x in Audit(root.store).trail(K) if x.gebeurtenis == "blokkade" and x.uitkomst == "geslaagd"]
    assert [(x.gebruiker, x.details["wat"]) for x in holds] == [(archivaris.audit_naam, "geplaatst"),
                                                                (archivaris.audit_naam, "opgeheven")]


def test_bundle_export_and_its_check(root):
    r = role_root(root)
    bundle = rv.exporteer(r, archivaris, K)
    assert bundle.media_type == "application/zip" and zipfile.ZipFile(io.BytesIO(bundle.data)).namelist()
    export = [x for x in Audit(root.store).trail(K) if x.gebeurtenis == "export"][-1]
    assert export.gebruiker == archivaris.audit_naam
    assert not list(root.settings.state.glob(".export-*")), "no copy left on the server"
    report = rv.controleer_bundel(r, archivaris, bundle.data, naam=f"{K}.zip")
    assert report["ok"] and report["kenmerk"] == K and not report["vertrouwen_uit_bundel"], report["problemen"]
    tampered = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, data + b" " if item.filename.startswith("documenten/") else data)
    bad = rv.controleer_bundel(r, archivaris, tampered.getvalue())
    assert not bad["ok"] and bad["problemen"]
    assert _last(root).uitkomst == "mislukt" and _last(root).gebruiker == archivaris.audit_naam


def test_the_fg_sees_who_looked_per_case_and_per_employee_without_the_bsn_in_the_trail(root):
    r = role_root(root)
    rv.download_te_ondertekenen(r, visser, K, "advies")
    with pytest.raises(rv.BuitenBereik):
        rv.download_te_ondertekenen(r, secretariaat, K, "advies")
    per_case = rv.toegang_per_zaak(r, fg, K)["toegang"]
    assert {"naam": "Dr. E. Visser", "rol": "second opinion-bedrijfsarts", "wat": "te-ondertekenen",
            "document": "advies", "uitkomst": "geslaagd"}.items() <= per_case[-2].items()
    assert (per_case[-1]["naam"], per_case[-1]["uitkomst"]) == ("J. de Vries", "geweigerd")
    assert _last(root).gebruiker == fg.audit_naam and _last(root).details["wat"] == "inzage-overzicht"
    per_employee = rv.toegang_per_werknemer(r, fg, BSN)
    assert [z["kenmerk"] for z in per_employee["zaken"]] == [K]
    assert rv.toegang_per_werknemer(r, fg, "999999990")["zaken"] == []
    with pytest.raises(rv.BuitenBereik):
        rv.toegang_per_zaak(r, fg, "SO-2026-9999")

    export = rv.avg_inzage_export(r, fg, BSN)
    document = json.loads(export.data)
    [zaak] = document["zaken"]
    assert "art. 15 AVG" in document["titel"] and zaak["kenmerk"] == K
    assert any("gedownload door Dr. E. Visser (second opinion-bedrijfsarts)" in regel["tekst"]
               for regel in zaak["logboek"])
    assert any(t["wie"] == "Dr. E. Visser" and t["rol"] == "second opinion-bedrijfsarts" for t in zaak["toegang"])
    assert _last(root).details == {"wat": "avg-inzage", "sha256": export.sha256}
    with pytest.raises(rv.BuitenBereik):
        rv.avg_inzage_export(r, fg, "999999990")
    everything = json.dumps([x.as_dict() for x in Audit(root.store).records()])
    assert BSN not in everything and "999999990" not in everything


def test_chain_state_for_the_fg_and_system_checks_for_it(root):
    r = role_root(root)
    state = rv.keten_status(r, fg)
    assert state["ok"] and state["records"] > 0 and state["kop"]["id"] > 0
    assert _last(root).details["wat"] == "audit-keten" and _last(root).gebruiker == fg.audit_naam
    checks = rv.systeemcontrole(r, beheer)
    assert {c["name"] for c in checks["checks"]} >= {"configuration"}
    assert all(c["status"] in ("ok", "warn", "fail") for c in checks["checks"])
    assert _last(root).details["wat"] == "systeemcontrole" and _last(root).gebruiker == beheer.audit_naam


def test_a_failing_audit_returns_no_data(root, monkeypatch):
    r = role_root(root)

    def broken(self, entries):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Audit, "_append", broken)
    for call in (lambda: rv.toegang_per_zaak(r, fg, K), lambda: rv.exporteer(r, archivaris, K),
                 lambda: rv.avg_inzage_export(r, fg, BSN), lambda: rv.te_vernietigen(r, archivaris, today=LATER)):
        with pytest.raises(sqlite3.OperationalError):
            call()
    assert not list(root.settings.state.glob(".export-*"))


def test_the_employees_overview_names_the_records_officer(root):
    lines = [x.tekst for x in trail.werknemer_view(Audit(root.store).trail(K))]
    assert "er is een verzegelde archiefkopie van uw dossier gemaakt." in lines
    assert any("het overzicht van wie uw dossier heeft ingezien is bekeken door F. Toezicht (functionaris "
               "gegevensbescherming)." == line for line in lines), lines
