"""Which revisions of a returned PDF come after the document we prepared (`pipeline.core.revisions.after_prepared`).

Pure: the facts are where each revision's cross-reference section starts, as one reading of the file found them,
and the prepared document's own final `startxref`. The real files are in `test_returned_document_additions.py`.
"""

from __future__ import annotations

import pytest

from pipeline.core.revisions import PdfRevisions, RevisionChanges, after_prepared

PREPARED = b"%PDF-1.7\n" + b"x" * 90 + b"\nstartxref\n100\n%%EOF\n"
"""A prepared document whose only revision's xref starts at byte 100."""
SIZE = len(PREPARED)


def _file(*later: int) -> tuple[bytes, tuple[int, ...]]:
    """The prepared bytes plus one appended revision per start in `later`; (bytes, all starts)."""
    tail = b"".join(b"y" * 20 + b"\nstartxref\n%d\n%%%%EOF\n" % start for start in later)
    return PREPARED + tail, (100, *later)


def _changes(n: int) -> tuple[RevisionChanges, ...]:
    return tuple(RevisionChanges(index=i, signed_by=f"veld{i}") for i in range(1, n + 1))


def test_the_revisions_after_the_prepared_one_are_numbered_from_one():
    pdf, starts = _file(SIZE + 5, SIZE + 60)
    found = after_prepared(pdf, PdfRevisions(starts, _changes(2)), prepared_size=SIZE)
    assert [(r.index, r.signed_by) for r in found] == [(1, "veld1"), (2, "veld2")]


def test_a_revision_pointing_back_into_the_prepared_document_is_refused():
    pdf, starts = _file(SIZE + 5, 40)  # a later xref inside the bytes we sent
    with pytest.raises(ValueError, match="verwijst terug"):
        after_prepared(pdf, PdfRevisions(starts, _changes(2)), prepared_size=SIZE)


def test_a_chain_that_skips_the_prepared_documents_last_revision_does_not_build_on_it():
    pdf, _ = _file(SIZE + 5)
    with pytest.raises(ValueError, match="bouwen niet voort"):  # the new revision's /Prev goes elsewhere
        after_prepared(pdf, PdfRevisions((60, SIZE + 5), _changes(1)), prepared_size=SIZE)
    with pytest.raises(ValueError, match="bouwen niet voort"):  # not the prepared bytes' own end
        after_prepared(pdf, PdfRevisions((100, SIZE + 5), _changes(1)), prepared_size=SIZE - 10)


def test_bytes_after_the_last_revision_are_refused():
    pdf, starts = _file(SIZE + 5)
    with pytest.raises(ValueError, match="na het einde"):
        after_prepared(pdf + b"9 0 obj (Eerder advies vervalt) endobj\n", PdfRevisions(starts, _changes(1)),
                       prepared_size=SIZE)


def test_a_revision_that_cannot_be_followed_counts_only_after_the_prepared_document():
    pdf, starts = _file(SIZE + 5)
    inside = PdfRevisions((40, 100, SIZE + 5), (None, RevisionChanges(index=2)), ((1, "onleesbaar"),))
    [rev] = after_prepared(pdf, inside, prepared_size=SIZE)  # a revision of our own document: not judged here
    assert rev.index == 1
    after = PdfRevisions(starts, (None,), ((1, "de opbouw is onleesbaar"),))
    with pytest.raises(ValueError, match="de opbouw is onleesbaar"):
        after_prepared(pdf, after, prepared_size=SIZE)
    with pytest.raises(ValueError, match="kruisverwijzingstabel"):  # not even where the revisions start
        after_prepared(pdf, PdfRevisions((), problems=((0, "de kruisverwijzingstabel is onleesbaar"),)),
                       prepared_size=SIZE)
