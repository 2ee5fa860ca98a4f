"""One warm LibreOffice behind a JSON-lines protocol: the child half of `pipeline.adapters.converter`.

This file runs as a plain script under the *system* Python (the one with `python3-uno`), never inside the
pipeline's venv, so it imports nothing from `pipeline`. The parent (`UnoConverterPool`) starts it as
`<uno-python> uno_worker.py --soffice PATH --profile DIR` in its own process group and owns its lifecycle
(timeouts, restarts, recycling); this script only does the LibreOffice work:

- start a headless soffice with its own profile directory and a private UNO pipe, retry connecting until ready;
- print one line `{"ready": true, "pid": .., "soffice_pid": ..}` on stdout;
- then, per request line `{"id": .., "docx": path, "pdf": path, "metadata": {title, author, subject, keywords}}`,
  load the docx hidden, set the document properties deliberately (the given four; everything else inherited from
  the template cleared), export PDF/A-2b and answer `{"id": .., "ok": true, "pdf": path}` or
  `{"id": .., "ok": false, "error": "..", "fatal": bool}`. `fatal` means LibreOffice itself is gone or broken:
  the worker exits right after answering and the parent starts a new one;
- on EOF on stdin, terminate soffice and exit.

stdout carries the protocol only: file descriptor 1 is pointed at stderr at start-up, so chatter from soffice or
native code cannot corrupt it. If soffice dies (crash, OOM killer, SIGKILL), a watchdog thread ends this worker
at once, so the parent sees a dead worker instead of sending it work.

Test hooks, honoured only when `SOPIPE_UNO_TEST_HOOKS=1` is in the environment:
- `SOPIPE_UNO_TEST_HANG_FILE=path`: while that file holds a number > 0, a request decrements it and then hangs
  forever instead of converting (how the tests make a hung LibreOffice without a pathological document).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.uno import RuntimeException as UnoRuntimeException
from com.sun.star.util import DateTime

CONNECT_TIMEOUT_S = 90.0
SHUTDOWN_TIMEOUT_S = 15.0
EXIT_SOFFICE_DIED = 3
EXIT_STARTUP_FAILED = 4
EXIT_PARENT_GONE = 5

# Always read the input as Word 2007+: without a filter LibreOffice's type detection happily imports any
# garbage as plain text and "converts" it.
DOCX_IMPORT_FILTER = "MS Word 2007 XML"

# PDF export options. SelectPdfVersion 2 = PDF/A-2b; LibreOffice then embeds all fonts and writes the XMP
# (pdfaid:part 2, conformance B) itself. Tagged PDF for accessibility.
PDF_FILTER_DATA = {
    "SelectPdfVersion": 2,
    "UseTaggedPDF": True,
    "EmbedStandardFonts": True,
    # Word bookmarks become named destinations: the signer finds the "Ondertekening" bookmark without text parsing.
    "ExportBookmarksToPDFDestination": True,
}


def _props(**values) -> tuple:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def _log(message: str) -> None:
    try:
        print(f"uno_worker[{os.getpid()}]: {message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # the parent (our stderr reader) is gone
        pass


def _end_process_group() -> None:
    """Take soffice (oosplash and soffice.bin, which stay in our process group) down with us.

    The pool starts each worker as a process-group leader; whatever way this worker ends, no soffice may be
    left behind as an orphan holding ~100 MB.
    """
    me = os.getpid()
    if os.getpgrp() != me:  # not started by the pool: never signal someone else's group
        return
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == me:  # field 5 of stat: the process group
                members.append(int(entry))
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _watch_parent(parent: int) -> None:
    """If the pipeline dies (even by kill -9), stdin EOF may never be read while a conversion runs: poll."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            _log("parent is gone; stopping soffice")
            _end_process_group()
            os._exit(EXIT_PARENT_GONE)


class Office:
    """A headless soffice owned by this worker, and the UNO desktop reached through its pipe."""

    def __init__(self, soffice: str, profile_dir: str) -> None:
        self._stopping = False
        pipe_name = f"sopipe_uno_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        os.makedirs(profile_dir, exist_ok=True)
        self.process = subprocess.Popen(
            [soffice,
             "-env:UserInstallation=" + uno.systemPathToFileUrl(os.path.abspath(profile_dir)),
             "--headless", "--invisible", "--nologo", "--norestore", "--nodefault", "--nolockcheck",
             f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=sys.stderr, stderr=sys.stderr)
        try:
            self.desktop = self._connect(pipe_name)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise
        threading.Thread(target=self._watch, name="soffice-watchdog", daemon=True).start()

    def _connect(self, pipe_name: str):
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={pipe_name};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"soffice exited during start-up with code {self.process.returncode}")
            try:
                ctx = resolver.resolve(url)
                return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
            except NoConnectException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"soffice did not accept a UNO connection within {CONNECT_TIMEOUT_S:.0f}s")
                time.sleep(0.1)

    def _watch(self) -> None:
        self.process.wait()
        if not self._stopping:
            _log(f"soffice (pid {self.process.pid}) died with code {self.process.returncode}; exiting")
            os._exit(EXIT_SOFFICE_DIED)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self._stopping = True
        try:
            self.desktop.terminate()
        except Exception:  # the bridge is torn down while terminate() returns: DisposedException & co.
            pass
        try:
            self.process.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def set_document_properties(doc, metadata: dict) -> None:
    """Set exactly what the PDF should carry; clear everything else the template brought along.

    The PDF export copies Title, Author, Subject and Keywords into /Info and the XMP; whatever else sits in the
    docx (description, last editor, custom properties, template names) must not leak into a document that
    leaves the house, so it is cleared rather than trusted.
    """
    props = doc.getDocumentProperties()
    author = metadata.get("author", "")
    # resetUserData: Author, CreationDate=now; ModifiedBy, PrintedBy, their dates, editing time/cycles reset.
    props.resetUserData(author)
    props.Title = metadata.get("title", "")
    props.Subject = metadata.get("subject", "")
    keywords = [k.strip() for k in metadata.get("keywords", "").split(",") if k.strip()]
    props.Keywords = uno.Any("[]string", tuple(keywords))
    props.Description = ""
    props.ModifiedBy = ""
    props.ModificationDate = DateTime()
    props.PrintedBy = ""
    props.PrintDate = DateTime()
    props.TemplateName = ""
    props.TemplateURL = ""
    props.TemplateDate = DateTime()
    props.AutoloadURL = ""
    props.AutoloadSecs = 0
    props.DefaultTarget = ""
    try:
        props.Generator = ""
    except Exception:  # not writable in every version; the PDF's own Producer is set by the export anyway
        pass
    user_defined = props.getUserDefinedProperties()
    for prop in user_defined.getPropertySetInfo().getProperties():
        try:
            user_defined.removeProperty(prop.Name)
        except Exception:  # non-removable properties: blank them instead
            try:
                user_defined.setPropertyValue(prop.Name, "")
            except Exception:
                pass


def convert(office: Office, request: dict) -> None:
    # Hidden; never run macros (MacroExecutionMode 0) or update links to other files (UpdateDocMode 0).
    doc = office.desktop.loadComponentFromURL(
        uno.systemPathToFileUrl(os.path.abspath(request["docx"])), "_blank", 0,
        _props(Hidden=True, FilterName=DOCX_IMPORT_FILTER, MacroExecutionMode=0, UpdateDocMode=0))
    if doc is None:
        raise ValueError(f"LibreOffice could not load {request['docx']}")
    try:
        set_document_properties(doc, request.get("metadata") or {})
        filter_data = uno.Any("[]com.sun.star.beans.PropertyValue", _props(**PDF_FILTER_DATA))
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(request["pdf"])),
                       _props(FilterName="writer_pdf_Export", FilterData=filter_data))
    finally:
        try:
            doc.close(True)
        except Exception:
            doc.dispose()


def _test_hang_requested() -> bool:
    if os.environ.get("SOPIPE_UNO_TEST_HOOKS") != "1":
        return False
    path = os.environ.get("SOPIPE_UNO_TEST_HANG_FILE")
    if not path or not os.path.exists(path):
        return False
    with open(path, "r+") as f:
        remaining = int(f.read().strip() or 0)
        if remaining <= 0:
            return False
        f.seek(0)
        f.truncate()
        f.write(str(remaining - 1))
    return True


def _is_fatal(exc: BaseException, office: Office) -> bool:
    """Is LibreOffice itself broken (so this worker should be replaced), not just this one document?"""
    # A lost bridge shows up as DisposedException or a plain RuntimeException; a document LibreOffice cannot
    # read shows up as a load failure or IllegalArgumentException/IOException, and the office is fine.
    return not office.alive() or isinstance(exc, UnoRuntimeException)


def serve(office: Office, requests, replies) -> None:
    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    for line in requests:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
        except ValueError as exc:
            reply({"id": None, "ok": False, "fatal": False, "error": f"bad request line: {exc}"})
            continue
        request_id = request.get("id")
        if _test_hang_requested():
            _log("test hook: hanging")
            while True:
                time.sleep(3600)
        try:
            convert(office, request)
        except Exception as exc:
            fatal = _is_fatal(exc, office)
            reply({"id": request_id, "ok": False, "fatal": fatal, "error": f"{type(exc).__name__}: {exc}"})
            if fatal:
                return
            continue
        reply({"id": request_id, "ok": True, "pdf": request["pdf"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soffice", required=True, help="soffice executable")
    parser.add_argument("--profile", required=True, help="LibreOffice user profile directory for this worker")
    args = parser.parse_args(argv)

    # Keep the protocol channel private: our fd 1 (and soffice's) now goes to stderr.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin

    # Whatever way this worker ends (EOF, a dead parent, an exception, even during start-up), soffice goes too.
    threading.Thread(target=_watch_parent, args=(os.getppid(),), name="parent-watchdog", daemon=True).start()
    office = None
    try:
        try:
            office = Office(args.soffice, args.profile)
        except Exception as exc:
            _log(f"start-up failed: {type(exc).__name__}: {exc}")
            replies.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
            replies.flush()
            return EXIT_STARTUP_FAILED
        replies.write(json.dumps({"ready": True, "pid": os.getpid(), "soffice_pid": office.process.pid}) + "\n")
        replies.flush()
        serve(office, requests, replies)
    except BrokenPipeError:  # the parent is gone
        pass
    finally:
        try:
            if office is not None:
                office.stop()
        finally:
            _end_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
