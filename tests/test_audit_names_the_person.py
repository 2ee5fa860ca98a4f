"""Every access in the audit trail names the person (desk user or Unix user), never only the service account; the
employee's overview says who looked and in which role, in plain Dutch."""

from __future__ import annotations

import pwd

import pytest
from click.testing import CliRunner

from pipeline.adapters.audit import Audit, login_name, shell_actor
from pipeline.cli import cli
from pipeline.core import trail
from pipeline.core.actor import Actor, Kanaal, Rol, persoon
from tests.casefactory import event
from tests.processed_roots import run_all

K = "SO-2026-0042"
ROOT_USER = pwd.getpwuid(0).pw_name


def _rec(i, gebeurtenis, gebruiker, uitkomst="geslaagd", **details) -> trail.AuditRecord:
    return trail.seal_record(id=i, at="2026-11-24T10:00:00+00:00", kenmerk=K, gebeurtenis=gebeurtenis, actie="R",
                             uitkomst=uitkomst, gebruiker=gebruiker, namens=None, systeem="h", details=details,
                             prev_hash=trail.GENESIS)


def test_audit_name_reads_back_as_the_person_and_role():
    actor = Actor("jdevries", "J. de Vries", Rol.SECRETARIAAT, Kanaal.DESK, organisatie="ARBONOORD")
    back = persoon(actor.audit_naam)
    assert (back.naam, back.gebruikersnaam, back.rol, back.kanaal) == ("J. de Vries", "jdevries", Rol.SECRETARIAAT,
                                                                       Kanaal.DESK)
    assert back.omschrijving == "J. de Vries (medewerker secretariaat)"
    assert persoon("sopipe").omschrijving == "gebruiker 'sopipe' van de arbodienst"  # an old record
    assert persoon("x (y, onbekend, via desk)").rol is None  # an unknown role is not made up


def test_employee_view_names_who_looked_and_their_role():
    visser = Actor("evisser", "Dr. E. Visser", Rol.SO_BEDRIJFSARTS, Kanaal.DESK, big="39087654301")
    records = [
        _rec(1, "inzage", "J. de Vries (jdevries, secretariaat, via desk)", wat="zaak"),
        _rec(2, "inzage", visser.audit_naam, wat="document", document="advies"),
        _rec(3, "inzage", "P. Bakker (pbakker, systeem, via shell)", wat="status"),
        _rec(4, "inzage", "root", wat="audit"),
        _rec(5, "inzage", "X (x, fg, via desk)", uitkomst="geweigerd", wat="zaak"),
        _rec(6, "inzage", "A (a, secretariaat, via desk)", wat="status-overzicht", aantal=3),
    ]
    assert [r.tekst for r in trail.werknemer_view(records)] == [
        "uw dossier is bekeken door J. de Vries (medewerker secretariaat).",
        "het definitieve advies is gedownload door Dr. E. Visser (second opinion-bedrijfsarts).",
        "de stand van uw dossier is bekeken door P. Bakker (medewerker van de arbodienst).",
        "het logboek van uw dossier is bekeken door gebruiker 'root' van de arbodienst.",
    ]


def test_the_fg_overview_lists_people_and_leaves_the_pipeline_out():
    records = [
        _rec(1, "intake", "sopipe", stap="verzoek"),
        _rec(2, "inzage", "J. de Vries (jdevries, secretariaat, via desk)", wat="zaak"),
        _rec(3, "inzage", "oldaccount", wat="status"),
        _rec(4, "inzage", "Z (z, bedrijfsarts, via desk)", uitkomst="geweigerd", wat="te-ondertekenen"),
    ]
    rows = trail.toegang(records)
    assert [(r.record_id, r.naam, r.rol, r.uitkomst) for r in rows] == [
        (2, "J. de Vries", "medewerker secretariaat", "geslaagd"), (3, "oldaccount", None, "geslaagd"),
        (4, "Z", "bedrijfsarts", "geweigerd")]


def test_login_name_prefers_the_session_then_a_real_sudo_then_the_account(tmp_path):
    loginuid = tmp_path / "loginuid"
    loginuid.write_text("0")
    assert login_name(environ={}, loginuid=loginuid) == ROOT_USER
    loginuid.write_text("4294967295")  # no login session (a service, a container)
    nobody = pwd.getpwnam("nobody")
    assert login_name(environ={"SUDO_USER": "nobody", "SUDO_UID": str(nobody.pw_uid)}, loginuid=loginuid) == "nobody"
    # a SUDO_USER that does not match its SUDO_UID is not believed: it could be typed by anyone
    spoofed = login_name(environ={"SUDO_USER": "nobody", "SUDO_UID": "12345"}, loginuid=loginuid)
    assert spoofed != "nobody"
    assert login_name(environ={}, loginuid=tmp_path / "missing") == spoofed


def test_shell_actor_takes_the_full_name_from_passwd():
    actor = shell_actor(login="nobody")
    assert actor.kanaal is Kanaal.SHELL and actor.gebruikersnaam == "nobody"
    gecos = pwd.getpwnam("nobody").pw_gecos.split(",")[0].strip()
    assert actor.naam == (gecos or "nobody")


@pytest.fixture
def one_case(make_root):
    root = make_root()
    run_all(root, [event("verzoek", kenmerk=K)])
    return root


def test_cli_views_are_recorded_under_the_person_at_the_keyboard(one_case, monkeypatch):
    monkeypatch.setattr("pipeline.adapters.audit.login_name", lambda **kw: "nobody")
    for args in (["status", K], ["audit", K], ["audit", K, "--for", "werknemer"]):
        result = CliRunner().invoke(cli, [*args, "--root", str(one_case.path)])
        assert result.exit_code == 0, result.output
    views = [r for r in Audit(one_case.store).trail(K) if r.gebeurtenis == "inzage"]
    assert [r.details["wat"] for r in views] == ["status", "audit", "audit-werknemer"]
    assert all(persoon(r.gebruiker).gebruikersnaam == "nobody" and persoon(r.gebruiker).kanaal is Kanaal.SHELL
               for r in views), [r.gebruiker for r in views]
    employee = CliRunner().invoke(cli, ["audit", K, "--for", "werknemer", "--root", str(one_case.path)]).output
    assert "bekeken door" in employee and "(medewerker van de arbodienst)" in employee


def test_employee_view_names_a_signed_form_filed_as_it_came():
    """The employee's signed consent form is filed as it came back (no kind of the registry makes it); a look at it
    is worded as that form, not as "een document"."""
    records = [_rec(1, "inzage", "J. de Vries (jdevries, secretariaat, via desk)", wat="document",
                    document="machtiging-medische-gegevens-ondertekend")]
    assert [r.tekst for r in trail.werknemer_view(records)] == [
        "de door u ondertekende machtiging is gedownload door J. de Vries (medewerker secretariaat).",
    ]
