"""Order within a case, also after a crash and for returned PDFs (found in review of issue 12's skeleton).

- Files a crash left in the stage are resumed by the same rule as a batch: once a file of a case is left for a
  retry, the later files of that case go back to the inbox to wait for it (they are not applied out of order).
- A returned PDF belongs to its case's chain (by its file name), so it is never processed at the same time as,
  or before, that case's case files of the same batch (e.g. a withdrawal of the consent to share the advice).
"""

from __future__ import annotations

from pipeline.shell.intake import Intake
from tests.casefactory import event

K = "ORD-1"


def test_after_a_crash_a_later_file_waits_for_an_earlier_one_left_for_retry(make_root, monkeypatch):
    root = make_root()
    root.drop("01.json", event("verzoek", kenmerk=K))
    root.drop("02.json", event("beoordeling", kenmerk=K))
    root.pipeline.stage.take("01.json")  # kill -9 right after each rename into the stage
    root.pipeline.stage.take("02.json")
    real = root.pipeline.process_intake

    def outage_for_the_first(intake):
        if intake.name == "01.json":  # e.g. LibreOffice cannot start: left for a retry, back into the inbox
            return root.pipeline.put_back(intake, "LibreOffice start niet")
        return real(intake)

    monkeypatch.setattr(root.pipeline, "process_intake", outage_for_the_first)
    outcomes = root.pipeline.resume()
    assert [(o.file_name, o.status) for o in outcomes] == [("01.json", "retry"), ("02.json", "retry")]
    assert "wacht op 01.json" in outcomes[1].detail
    assert list(root.store.events(K)) == []  # nothing applied out of order
    assert sorted(p.name for p in root.settings.inbox.glob("*.json")) == ["01.json", "02.json"]
    monkeypatch.setattr(root.pipeline, "process_intake", real)
    assert sorted(o.status for o in root.run()) == ["processed", "processed"]
    assert [e.stap for e in root.store.events(K)] == ["verzoek", "beoordeling"]


def _intake(name: str, data: dict | None = None) -> Intake:
    return Intake(name=name, stage_id="x", raw=b"", sha256="0" * 64, data=data)


def test_a_returned_pdf_joins_its_cases_chain_after_its_case_files():
    case_file = _intake("05.json", {"kenmerk": K, "stap": "intrekking", "datum": "2026-12-01"})
    for name in (f"{K}_advies-ondertekend.pdf", f"{K}_aanvraagformulier.pdf",
                 f"{K}_machtiging-advies-delen-werkgever.pdf"):
        pdf = _intake(name)
        assert pdf.chain == case_file.chain == f"k:{K}", name
        assert sorted([pdf, case_file], key=lambda i: i.order) == [case_file, pdf]
    assert _intake("brief.pdf").chain == "f:brief.pdf"  # no case in the name: a chain of its own

