"""`sopipe doctor`: is this machine and this root ready to make, sign and deliver documents?

Each check returns `ok`, `warn` or `fail` with what it saw and, when it is not ok, what to do about it. The checks
only look, plus what `watch` will do tried once: a test conversion through a real LibreOffice pool, a timestamp
from the configured TSA (validated), the seal opened (a token with its PIN) and a test document sealed at the
configured level and validated. They change nothing in the root, except what `watch` would do too: a DEMO
root's trust services run meanwhile, and when their port is taken the DEMO certificates follow them to a free one.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import os
import shutil
import stat
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.routing import Party
from pipeline.errors import PipelineError
from pipeline.settings import Settings, load_settings

CERT_WARN_DAYS = 90
DISK_FAIL_BYTES = 1 * 1024**3
DISK_WARN_BYTES = 5 * 1024**3
TOOL_TIMEOUT = 60
APT = "apt-get install"


class Status(str, enum.Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    """What was found, in one line."""
    fix: str = ""
    """What to do when the status is not ok."""


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, Status.FAIL, detail, fix)


def _run(args: list[str]) -> str:
    from pipeline.adapters.child_env import child_environment
    done = subprocess.run(args, capture_output=True, text=True, timeout=TOOL_TIMEOUT, stdin=subprocess.DEVNULL,
                          env=child_environment())
    return (done.stdout + done.stderr).strip()


# --- configuration and folders ---------------------------------------------------------------------------------

def check_config(root: Path) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(root)
    except PipelineError as e:
        return fail("configuration", e.message, "correct sopipe.toml; every key is described in docs/configuration.md "
                    "(Configuration)"), None
    config = settings.config_file
    where = str(config) if config.exists() else f"no {config.name}, defaults in use"
    return ok("configuration", where), settings


def check_root(settings: Settings) -> Check:
    missing = [p for p in (settings.inbox, settings.outbox, settings.quarantine, settings.database)
               if not p.exists()]
    if missing:
        return fail("root folder", "missing: " + ", ".join(str(p.relative_to(settings.root)) for p in missing),
                    f"sopipe init --root {settings.root}")
    return ok("root folder", str(settings.root))


# --- programs and fonts ------------------------------------------------------------------------------------------

def check_libreoffice() -> Check:
    from pipeline.adapters.converter import find_soffice, find_uno_python
    try:
        soffice = find_soffice()
        python = find_uno_python()
    except PipelineError as e:
        return fail("LibreOffice", e.message, f"{APT} libreoffice-writer-nogui python3-uno")
    try:
        version = _run([soffice, "--version"]).splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError) as e:
        return fail("LibreOffice", f"{soffice} does not answer --version: {e}",
                    f"reinstall: {APT} --reinstall libreoffice-writer-nogui")
    return ok("LibreOffice", f"{version.strip()} ({soffice}; UNO via {python})")


def _test_docx() -> bytes:
    from docx import Document
    document = Document()
    document.add_paragraph("sopipe doctor: proefconversie — één pagina, € 485,00")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def check_conversion(settings: Settings | None) -> Check:
    """One real conversion through a fresh one-worker pool: LibreOffice starts, converts and writes PDF/A."""
    from pipeline.adapters.converter import PdfMetadata, UnoConverterPool
    timeout = settings.libreoffice.timeout if settings else 60.0
    started = time.monotonic()
    try:
        with UnoConverterPool(workers=1, timeout=timeout, retries=0) as pool:
            pdf = pool.convert(_test_docx(), metadata=PdfMetadata(title="sopipe doctor", author="sopipe"))
    except PipelineError as e:
        return fail("test conversion", e.message, "see the LibreOffice check; run `sopipe -v doctor` for the "
                    "worker's output")
    seconds = time.monotonic() - started
    if b"pdfaid:part" not in pdf:
        return fail("test conversion", "LibreOffice wrote a PDF without PDF/A identification",
                    "update LibreOffice (7.0 or newer writes PDF/A-2b)")
    return ok("test conversion", f"Word → PDF/A in {seconds:.1f}s (worker start included)")


FONTS = (
    ("Liberation Sans", Status.FAIL, "the templates use Arial, which LibreOffice replaces by the metrically "
     "equal Liberation Sans; the signature block uses it too", "fonts-liberation2"),
    ("DejaVu Sans", Status.WARN, "fallback for characters Liberation Sans lacks", "fonts-dejavu-core"),
)


def _font_families() -> set[str] | None:
    if not shutil.which("fc-list"):
        return None
    try:
        listing = _run(["fc-list", ":", "family"])
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {name.strip() for line in listing.splitlines() for name in line.split(",")}


def check_fonts(families: set[str] | None = None) -> list[Check]:
    families = _font_families() if families is None else families
    checks = []
    for family, severity, why, package in FONTS:
        if families is None:
            found = any(Path("/usr/share/fonts").rglob(family.replace(" ", "") + "*.ttf"))
        else:
            found = family in families
        if found:
            checks.append(ok(f"font {family}", "installed"))
        else:
            checks.append(Check(f"font {family}", severity, f"not installed ({why})", f"{APT} {package}"))
    return checks


def check_poppler() -> Check:
    missing = [tool for tool in ("pdftoppm", "pdftotext", "pdfsig") if not shutil.which(tool)]
    if missing:
        return warn("poppler", "missing: " + ", ".join(missing) + " (needed for signature checks, `make docs` "
                    "and the tests)", f"{APT} poppler-utils")
    try:
        version = _run(["pdftoppm", "-v"]).splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        version = "pdftoppm"
    return ok("poppler", version)


# --- PKI -----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateInfo:
    file: str
    subject: str
    not_after: dt.datetime


def _certificates(pki_dir: Path, *, seal: tuple[Path, bytes] | None = None, demo: bool = True
                  ) -> tuple[list[CertificateInfo], list[Check]]:
    """The certificates in the PKI folder (PEM files and the leaf of each PKCS#12).

    `demo=False`: a production PKI: no PKCS#12 but the `seal` is opened, with its passphrase from elsewhere.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pipeline.adapters.demo_pki import read_passphrase

    infos: list[CertificateInfo] = []
    problems: list[Check] = []

    def add(file: str, cert) -> None:
        infos.append(CertificateInfo(file, cert.subject.rfc4514_string(), cert.not_valid_after_utc))

    for pem in sorted(pki_dir.glob("*.pem")):
        if pem.name.endswith("-key.pem"):
            continue
        try:
            add(pem.name, x509.load_pem_x509_certificate(pem.read_bytes()))
        except (OSError, ValueError) as e:
            problems.append(fail(f"certificate {pem.name}", f"unreadable: {e}", "replace the file"))
    if not demo:
        if seal is None:
            return infos, problems
        try:
            _, cert, _ = pkcs12.load_key_and_certificates(seal[0].read_bytes(), seal[1])
        except (OSError, ValueError) as e:
            return infos, problems + [fail(f"identity {seal[0].name}", f"cannot be opened with [signing] "
                                           f"seal_passphrase: {e}", "check the seal file and its passphrase")]
        if cert is not None:
            add(seal[0].name, cert)
        return infos, problems
    p12s = sorted(pki_dir.glob("*.p12"))
    if p12s:
        try:
            passphrase = read_passphrase(pki_dir)
        except PipelineError as e:
            return infos, problems + [fail("PKI passphrase", e.message, "restore pki/passphrase (mode 0600)")]
        for p12 in p12s:
            try:
                _, cert, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), passphrase)
            except (OSError, ValueError) as e:
                problems.append(fail(f"identity {p12.name}", f"cannot be opened with pki/passphrase: {e}",
                                     "replace the identity or the passphrase file"))
                continue
            if cert is not None:
                add(p12.name, cert)
    return infos, problems


def check_pki(settings: Settings, *, now: dt.datetime | None = None) -> list[Check]:
    now = now or dt.datetime.now(dt.timezone.utc)
    pki = settings.pki_dir
    if not pki.is_dir():
        return [fail("PKI", f"{pki} does not exist", f"sopipe init --root {settings.root} (DEMO PKI), or put the "
                     "production identities there")]
    from pipeline.adapters.demo_pki import is_demo_pki
    demo = is_demo_pki(pki)
    checks: list[Check] = []
    ca_keys = [p.name for p in sorted(pki.glob("*-key.pem")) if p.name in ("ca-key.pem", "intermediate-key.pem")]
    if ca_keys:
        checks.append(fail("PKI: CA keys", f"{', '.join(ca_keys)} in {pki}: whoever reads the root can issue "
                           "trusted certificates", "DEMO: run sopipe init (moves them out of the root); "
                           "production: remove them, a CA key never belongs on this server"))
    if demo:
        checks.append(warn("PKI", "this is the DEMO PKI: signatures are for trying the pipeline only; the "
                           "pipeline signs the final advice with the doctors' DEMO keys",
                           "for real documents: sopipe init --no-demo in a new root, then install identities "
                           "from a trust service (PKIoverheid, a QTSP)"))
        return checks + _check_demo_pki(settings, pki, now)
    checks.append(ok("PKI", "production: doctors sign themselves, the seal's secret is not stored in the root"))
    return checks + _check_production_pki(settings, pki, now)


def _check_demo_pki(settings: Settings, pki: Path, now: dt.datetime) -> list[Check]:
    checks: list[Check] = []
    for required in ("ca.pem", "seal.p12"):
        if not (pki / required).exists():
            checks.append(fail("PKI", f"{required} missing in {pki}", "restore it, or run sopipe init for a DEMO PKI"))
    doctors = sorted(pki.glob("doctor-*.p12"))
    if not doctors:
        checks.append(warn("PKI", "no SO doctor identities (doctor-<BIG>.p12): final advice cannot be signed",
                           "add the SO doctors' PKCS#12 files"))
    infos, problems = _certificates(pki)
    return checks + problems + _expiry(infos, now)


def _check_production_pki(settings: Settings, pki: Path, now: dt.datetime) -> list[Check]:
    from pipeline.adapters.signing import read_secret
    checks: list[Check] = []
    if settings.signing.auto_sign_doctors:
        checks.append(fail("PKI: auto_sign_doctors", "auto_sign_doctors = true with a production PKI: the pipeline will not "
                           "start", f"set [signing] auto_sign_doctors = false in {settings.config_file}"))
    if (pki / "passphrase").exists():
        checks.append(fail("PKI: passphrase", f"{pki / 'passphrase'} lies beside the keys",
                           "remove it; name the seal's passphrase with [signing] seal_passphrase "
                           "(env:, file: outside the root, credential:)"))
    doctors = sorted(pki.glob("doctor-*.p12"))
    if doctors:
        checks.append(warn("PKI: doctors", f"{len(doctors)} doctor identities in {pki}: never used outside the "
                           "DEMO (doctors sign themselves)", "remove them; personal keys stay with the doctor"))
    if not (pki / "ca.pem").exists():
        checks.append(fail("PKI", f"ca.pem missing in {pki}", "install the root certificate of your trust service"))
    seal = None
    if settings.signing.seal_pkcs11_module:
        found = Path(settings.signing.seal_pkcs11_module).is_file()
        checks.append((ok if found else fail)("PKI: seal", f"on token {settings.signing.seal_token_label!r} via "
                                              f"{settings.signing.seal_pkcs11_module}"
                                              + ("" if found else ": module not found"),
                                              *(() if found else ("install the token's PKCS#11 module",))))
    elif settings.signing.seal_passphrase:
        path = settings.seal_p12 or pki / "seal.p12"
        try:
            seal = (path, read_secret(settings.signing.seal_passphrase, setting="seal_passphrase"))
            source = settings.signing.seal_passphrase.split(":")[0]
            checks.append(ok("PKI: seal", f"{path.name}, passphrase from {source}:"))
        except PipelineError as e:
            checks.append(fail("PKI: seal", e.message, "provide the passphrase where seal_passphrase says"))
    else:
        checks.append(fail("PKI: seal", "no seal configured", "set [signing] seal_pkcs11_module (token) or "
                           "seal_passphrase (PKCS#12) in sopipe.toml"))
    infos, problems = _certificates(pki, seal=seal, demo=False)
    return checks + problems + _expiry(infos, now)


def _expiry(infos: list[CertificateInfo], now: dt.datetime) -> list[Check]:
    checks: list[Check] = []
    for info in infos:
        days = (info.not_after - now).days
        until = info.not_after.date().isoformat()
        name = f"certificate {info.file}"
        if info.not_after <= now:
            checks.append(fail(name, f"expired on {until}", "renew it (DEMO: run sopipe init again)"))
        elif days < CERT_WARN_DAYS:
            checks.append(warn(name, f"expires on {until}, in {days} days", "renew it before then "
                               "(DEMO: sopipe init renews what expires within 30 days)"))
        else:
            checks.append(ok(name, f"valid until {until} ({days} days)"))
    return checks


# --- signing as `watch` will sign: timestamp, token, a test signature at the configured level ----------------------

def check_signing(settings: Settings) -> list[Check]:
    """What `watch` needs of the trust services and the seal, tried now: the level's timestamp server is set,
    the seal opens (a token with the configured PIN), a real timestamp is obtained and validated, and a test
    document signed at the configured level validates (a seal without revocation data is found here)."""
    from pipeline.core.kinds import Signer
    from pipeline.shell.app import check_signing_setup, make_keyring, signing_services

    try:
        check_signing_setup(settings)
    except PipelineError as e:
        return [fail("signing: level", e.message, "set [signing] tsa_url (your trust service's TSA), or choose "
                     "lower levels explicitly")]
    try:
        with signing_services(settings) as running:  # the keys after the services: a DEMO move reissues them
            try:
                seal = make_keyring(running, doctors=False).seal()
            except PipelineError as e:
                return [fail("signing: seal", e.message, "check the seal's file, token and secret in [signing]")]
            if seal is None:
                return [fail("signing: seal", "no seal identity", "configure the seal in [signing]")]
            checks = [ok("signing: seal", f"{seal.naam} opens ({seal.source})")]
            try:
                if running.signing.tsa_url:
                    checks.append(_check_timestamp(running))
                checks.append(_check_test_signature(running, seal, running.signing_level(Signer.ZEGEL)))
            finally:
                seal.close()
    except PipelineError as e:
        return [fail("signing: trust services", e.message, "see the DEMO services (sopipe pki serve) or "
                     "[signing] tsa_url")]
    return checks


def _check_timestamp(settings: Settings) -> Check:
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    from pipeline.adapters.tsa import probe_timestamp
    try:
        probe = probe_timestamp(settings.signing.tsa_url, trust_roots=settings.trust_roots)
    except TimestampRequestError as e:
        return fail("signing: timestamp", f"{settings.signing.tsa_url}: {e}", "check [signing] tsa_url and that its "
                    "TSA's root is in pki/ca.pem or [signing] extra_trust_roots")
    return ok("signing: timestamp", f"{probe.tsa}, {probe.time:%Y-%m-%d %H:%M:%S} UTC, in {probe.seconds:.2f}s "
              f"({settings.signing.tsa_url})")


def _check_test_signature(settings: Settings, seal, level: str) -> Check:
    from fpdf import FPDF
    from pyhanko.keys import load_certs_from_pemder

    from pipeline.adapters.signing import PadesSigner, SignatureAppearance
    from pipeline.adapters.validation import verify_pdf
    name = f"signing: test seal PAdES {level}"
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="sopipe doctor: proefdocument")
    pdf.ln(20)
    pdf.cell(text="Ondertekening")
    roots = [c for p in settings.trust_roots if p.exists() for c in load_certs_from_pemder([str(p)])]
    signer = PadesSigner(tsa_url=settings.signing.tsa_url, trust_roots=roots)
    appearance = SignatureAppearance(naam=seal.naam, rol="elektronisch zegel", big_nummer=None,
                                     organisatie=seal.organisatie or "", reden="sopipe doctor: proefhandtekening",
                                     locatie="")
    try:
        signed = signer.sign(bytes(pdf.output()), identity=seal, appearance=appearance, certify=True, level=level)
    except PipelineError as e:
        return fail(name, e.message, "a seal certificate needs revocation information (OCSP or CRL) for B-LT and "
                    "B-LTA; check the seal and [signing] tsa_url")
    finally:
        signer.close()
    try:
        [report] = verify_pdf(signed, trust_roots=settings.trust_roots).signatures
    except (PipelineError, ValueError) as e:
        return fail(name, f"the test signature cannot be validated: {e}", "see `sopipe verify` on a signed file")
    if not report.ok:
        verdict = f"{report.indication}{' / ' + report.sub_indication if report.sub_indication else ''}"
        return fail(name, f"the test seal does not validate ({verdict}): {report.reason or 'no reason given'}",
                    "a seal certificate without revocation information (OCSP/CRL) cannot reach B-LT/B-LTA; ask "
                    "your trust service for one, or choose a lower level explicitly")
    return ok(name, f"signed and validated ({report.indication})")


def check_demo_organisations(settings: Settings, *, demo: bool) -> Check | None:
    """In a production root, the DEMO organisations of the example case (their names, KvK numbers, IBANs) would
    end up on real letters and invoices."""
    if demo:
        return None
    from pipeline.settings import DEFAULT_CONFIG
    import tomllib
    examples = tomllib.loads(DEFAULT_CONFIG).get("organisaties", {})
    marks = {(k, str(v)) for org in examples.values() for k, v in org.items() if k in ("naam", "kvk_nummer", "iban")}
    found = sorted(code for code, org in settings.organisaties.items()
                   if code in examples or {(k, str(getattr(org, k, None))) for k in ("naam", "kvk_nummer", "iban")}
                   & marks)
    if found:
        return warn("master data", f"DEMO organisations in a production root: {', '.join(found)} (the example "
                    "case's fictional arbodienst and practices)", f"replace [organisaties.*] in "
                    f"{settings.config_file} with your own organisations")
    return ok("master data", f"{len(settings.organisaties)} organisation(s), none of the DEMO ones")


# --- permissions and disk ------------------------------------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode) & 0o777  # setgid on mailbox folders is wanted, not a difference


def _permission(label: str, paths: Iterable[Path], expected: int, *, root: Path) -> Check:
    """Fail when others (or, for private files, the group) can get in; warn on any other difference."""
    too_open, different = [], []
    for path in paths:
        if not path.exists():
            continue
        mode = _mode(path)
        extra = mode & ~expected
        if extra & 0o007 or (extra & 0o070 and not expected & 0o070):
            too_open.append((path, mode))
        elif mode != expected:
            different.append((path, mode))
    fix = f"chmod {expected:o} " + " ".join(str(p) for p, _ in (too_open or different))
    if too_open:
        return fail(label, f"open to others: {_listing(too_open, root)}", fix)
    if different:
        return warn(label, f"not {expected:04o}: {_listing(different, root)}", fix)
    return ok(label, f"{expected:04o}")


def _listing(items: list[tuple[Path, int]], root: Path, limit: int = 5) -> str:
    shown = ", ".join(f"{_rel(p, root)} ({m:04o})" for p, m in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _combined(name: str, checks: list[Check]) -> Check:
    """One line for several related checks: the worst status, every label with its finding."""
    order = [Status.OK, Status.WARN, Status.FAIL]
    worst = max((c.status for c in checks), key=order.index)
    detail = ", ".join(f"{c.name} {c.detail}" for c in checks if worst is Status.OK or c.status is not Status.OK)
    fix = "; ".join(c.fix for c in checks if c.fix)
    return Check(name, worst, detail, fix)


def check_links(settings: Settings) -> Check:
    """Symlinks planted where the pipeline writes: it refuses them (nothing is delivered there), so they are found
    here first."""
    from pipeline.adapters.safefs import find_links
    tops = [settings.inbox, settings.outbox, settings.quarantine, settings.database.parent]
    links = [link for top in tops if top.exists() or top.is_symlink() for link in find_links(top)]
    if links:
        shown = ", ".join(f"{_rel(p, settings.root)} -> {os.readlink(p)}" for p in links[:5])
        more = f" and {len(links) - 5} more" if len(links) > 5 else ""
        return fail("symlinks", f"{len(links)} symbolic link(s) where the pipeline writes: {shown}{more}",
                    "remove them (rm, not rm -r: that would remove the target's content); sopipe never writes "
                    "through a link and leaves the case file for retry until the link is gone")
    return ok("symlinks", "none in inbox/, outbox/, quarantine/, state/")


def _group_check(label: str, paths: Iterable[Path], gid: int | None, root: Path) -> Check | None:
    if gid is None:
        return None
    wrong = [p for p in paths if p.exists() and (p.lstat().st_gid != gid or not p.lstat().st_mode & stat.S_ISGID)]
    if wrong:
        return warn(label, "group or setgid missing: " + ", ".join(_rel(p, root) for p in wrong[:5]),
                    f"sopipe init --root {root} (applies the groups of sopipe.toml)")
    return None


def check_permissions(settings: Settings) -> list[Check]:
    from pipeline.shell.layout import access_from_settings
    pki, root = settings.pki_dir, settings.root
    keys = sorted([*pki.glob("*.p12"), *pki.glob("*-key.pem"), pki / "passphrase"]) if pki.is_dir() else []
    try:
        mailbox_access, intake_access = access_from_settings(settings)
    except PipelineError as e:
        return [fail("permissions: groups", e.message, "groupadd the group or correct sopipe.toml")]
    folders = [(party.value,) for party in Party] + [tuple(k.split("/")) for k in mailbox_access.recipient_groups]
    mailboxes = [_permission(f"outbox/{'/'.join(parts)}", [settings.outbox.joinpath(*parts)],
                             mailbox_access.folder(parts).mode, root=root) for parts in folders]
    groups = [c for parts in folders if (c := _group_check(f"outbox/{'/'.join(parts)}",
                                                          [settings.outbox.joinpath(*parts)],
                                                          mailbox_access.folder(parts).gid, root))]
    inbox = [settings.processed, settings.failed]
    case_files = [p for folder in inbox if folder.is_dir() and not folder.is_symlink() for p in folder.iterdir()
                  if p.is_file() and not p.is_symlink()]
    return [
        _combined("permissions: keys", [_permission("pki/", [pki], 0o700, root=root),
                                        _permission("keys", keys, 0o600, root=root)]),
        _combined("permissions: mailboxes", mailboxes + groups),
        _combined("permissions: case files", [
            _permission("inbox/", [settings.inbox], intake_access.inbox.mode, root=root),
            _permission("processed/ and failed/", inbox, intake_access.done.mode, root=root),
            _permission("case files", case_files, intake_access.case_file.mode, root=root)]),
        _combined("permissions: state", [_permission("database", [settings.database], 0o600, root=root),
                                         _permission("state/ and quarantine/",
                                                     [settings.database.parent, settings.quarantine], 0o700,
                                                     root=root)]),
    ]


def check_disk(settings: Settings) -> Check:
    usage = shutil.disk_usage(settings.root)
    free = f"{usage.free / 1024**3:.1f} GiB free of {usage.total / 1024**3:.0f} GiB"
    if usage.free < DISK_FAIL_BYTES:
        return fail("disk space", free, "free space on this disk; a full disk leaves case files in the inbox")
    if usage.free < DISK_WARN_BYTES:
        return warn("disk space", free, "free space on this disk soon")
    return ok("disk space", free)


# --- all together --------------------------------------------------------------------------------------------------

def run_checks(root: Path, *, convert: bool = True, sign: bool = True,
               on_check: Callable[[Check], None] | None = None) -> list[Check]:
    """Every check, in order; `on_check` sees each result as soon as it is known (the conversion takes seconds)."""
    results: list[Check] = []

    def add(*checks: Check) -> None:
        for c in checks:
            results.append(c)
            if on_check:
                on_check(c)

    config, settings = check_config(root)
    add(config)
    libreoffice = check_libreoffice()
    add(libreoffice)
    if convert and libreoffice.status is not Status.FAIL:
        add(check_conversion(settings))
    add(*check_fonts(), check_poppler())
    if settings is not None:
        root_check = check_root(settings)
        add(root_check)
        add(*check_pki(settings))
        from pipeline.adapters.demo_pki import is_demo_pki
        add(*filter(None, [check_demo_organisations(settings, demo=is_demo_pki(settings.pki_dir))]))
        if sign:
            add(*check_signing(settings))
        if root_check.status is Status.OK:
            add(check_links(settings), *check_permissions(settings))
        add(check_disk(settings))
    return results
