"""The privacy guard: the runner's last check on every finished file before it reaches a mailbox.

Independent of the projection (which already leaves the employee out of anonymous invoices and medical data out
of employer letters): it reads what the *finished* PDF holds — text, metadata, XMP, attachments, names — and
checks it against the case with `pipeline.core.privacy`. A hit blocks that one delivery; the runner quarantines
the file and writes a report. A file that cannot be read is not proven clean and is blocked too.

Cheap enough to run on every delivery: the case's identifier patterns are built once per case version, and a
PDF delivered to several mailboxes is read once (both kept in small LRU caches).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import PurePosixPath
from typing import Callable, Generic, Hashable, TypeVar

from cachetools import LRUCache

from pipeline.adapters.pdfinspect import PdfContent, PdfInspectionError, inspect_pdf
from pipeline.core import privacy
from pipeline.core.procedure import DocumentOrder
from pipeline.core.routing import Party
from pipeline.core.state import CaseState
from pipeline.shell.runner import Finding

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Lru(Generic[K, V]):
    """cachetools' LRUCache behind a lock, filled by `make` on a miss (functools.lru_cache cannot key on a digest
    we compute ourselves, and cachetools' decorators would hold the lock while a PDF is read)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: LRUCache[K, V] = LRUCache(maxsize=size)
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            try:
                return self._items[key]  # a hit makes it the most recently used
            except KeyError:
                pass
        value = make()  # outside the lock: reading a PDF must not hold up other threads
        with self._lock:
            self._items[key] = value
        return value


class PrivacyGuard:
    """Implements the runner's `Guard` protocol."""

    def __init__(self, *, pdf_cache_size: int = 16, case_cache_size: int = 64) -> None:
        self._pdfs: _Lru[str, PdfContent | PdfInspectionError] = _Lru(pdf_cache_size)
        self._rules: _Lru[str, privacy.CaseRules] = _Lru(case_cache_size)

    def check(self, pdf: bytes, *, order: DocumentOrder, party: Party, state: CaseState, path: str,
              sha256: str | None = None, consent_checked: bool = False) -> list[Finding]:
        """`sha256`: the PDF's digest when the caller has it (the runner hashes each PDF once);
        `consent_checked`: the caller has just checked the delivery's consent itself (the runner does, once)."""
        hits = [] if consent_checked else privacy.consent_hits(order, party, state)
        what = privacy.scope(order, party)
        if what:
            rules = self._rules.get(privacy.rules_key(state), lambda: privacy.case_rules(state))
            hits += privacy.check_texts(rules, _path_texts(path), what=what)
            content = self._content(pdf, sha256)
            if isinstance(content, PdfInspectionError):
                hits.append(privacy.Hit(f"bestand niet te controleren: {content.message}", "bestand"))
            else:
                hits += [privacy.Hit(f"niet leesbaar: {problem}", where) for where, problem in content.problems]
                hits += privacy.check_texts(rules, content.texts(), what=what)
                if what.medical and len(content.pages) > 1:
                    # a medical sentence broken over a page boundary
                    found = {h.key for h in hits}
                    joined = privacy.find_medical(rules, "\n".join(content.pages),
                                                  where=f"tekst pagina 1–{len(content.pages)}")
                    hits += [h for h in joined if h.key not in found]
        links = privacy.link_rules(order, party, state)
        if links is not None:  # the employer's mailbox: anonymous and named documents cannot be linked
            texts = _path_texts(path)
            content = self._content(pdf, sha256)
            if isinstance(content, PdfInspectionError):
                if not what:
                    hits.append(privacy.Hit(f"bestand niet te controleren: {content.message}", "bestand"))
            else:
                texts += list(content.texts())
            hits += privacy.find_links(links, texts, folder=_below_recipient(path, party))
        return [Finding(h.what, h.where) for h in hits]

    def _content(self, pdf: bytes, sha256: str | None = None) -> PdfContent | PdfInspectionError:
        def read() -> PdfContent | PdfInspectionError:
            try:
                return inspect_pdf(pdf)
            except PdfInspectionError as e:
                return e
        return self._pdfs.get(sha256 or hashlib.sha256(pdf).hexdigest(), read)


def _path_texts(path: str) -> list[tuple[str, str]]:
    """The delivery path relative to the outbox's parent, as the file name and the folder names."""
    p = PurePosixPath(path.replace("\\", "/"))
    return [("bestandsnaam", p.name), ("mapnaam", str(p.parent))]


def _below_recipient(path: str, party: Party) -> tuple[str, ...]:
    """The folder names between `outbox/<party>/<code>/` and the file (`("SO-2026-0042",)`, `("facturen",)`)."""
    parts = PurePosixPath(path.replace("\\", "/")).parent.parts
    if party.value not in parts:
        return parts
    return parts[parts.index(party.value) + 2:]
