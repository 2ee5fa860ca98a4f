"""The registry of document kinds (`pipeline.core.kinds`): one entry per kind, and every other list read from it.

The first half adds a letter kind at test time, as a newcomer would add a real one: its registry entry (with its
projection, label, sample and condition), its template made with the project's template builder, and nothing else.
`decide` then orders it for its step, the runner renders it through the real renderer and the FakeConverter, signs
nothing, lets the privacy guard read it, delivers it to the mailboxes of its routes and audits it under its
label; `sopipe templates check` checks it. The second half checks that the lists derived from the registry agree
with it: every template exists and has a builder, every kind has a label, the personal signatures follow the
entries. That every template renders its sample with no placeholder left undefined is `tests/test_renderer.py`'s
(its sample contexts are the registry's).
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from pipeline.adapters.audit import Audit
from pipeline.adapters.renderer import DocxRenderer
from pipeline.core import dutch, kinds, trail
from pipeline.core import model as m
from pipeline.core import projection as p
from pipeline.core.kinds import ROWS, Row, Signer, register, sample_contexts, templates, unregister
from pipeline.core.procedure import decide
from pipeline.core.routing import ALWAYS, Audience, Party
from pipeline.core.signatures import SIGNED_BY
from pipeline.core.state import CaseState
from pipeline.package_data import TEMPLATES
from pipeline.shell.template_check import Severity, check_templates
from tests.casefactory import full_case
from tests.mailbox_paths import mailbox_file

REPO = Path(__file__).resolve().parents[1]
K = "SO-2026-0042"
KIND = "evaluatie"
TEMPLATE = "brief_evaluatie.docx"
LABEL = "de vragenlijst over uw ervaring met de second opinion"


@functools.cache
def _make_templates_module():
    """`tools/make_templates.py`, the project's template builder (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("make_templates", REPO / "tools" / "make_templates.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# --- the new letter: projection, sample, condition, template -----------------------------------------------------

def brief_evaluatie(s: CaseState, ev: m.BeoordelingAdvies, *, titel: str) -> dict:
    """What the letter may show: the letterhead, the employee's name and address, the own doctor as sender."""
    b = s.verzoek.bedrijfsarts
    return {"kenmerk": s.kenmerk, "datum": dutch.datum(ev.datum), "titel": titel,
            "organisatie": p.organisatie_blok(s, "bedrijfsarts"), "aan": p.aan_werknemer(s),
            "afzender": {"naam": b.naam, "functie": "bedrijfsarts", "organisatie": b.organisatie,
                         "big_nummer": b.big_nummer},
            "werknemer": {"naam": p.werknemer_naam(s.verzoek.werknemer)}}


def sample_evaluatie() -> dict:
    from pipeline.core import samples
    return {"kenmerk": samples.KENMERK, "datum": "27 november 2026", "titel": "Uw ervaring met de second opinion",
            "organisatie": {"naam": "ArboNoord", "adresregels": ["Stationsplein 1", "3511 ED Utrecht"],
                            "klachten": "—", "logo": ""},
            "aan": {"naam": "M.A. Jansen", "adresregels": ["Lindenlaan 12", "3521 AB Utrecht"],
                    "aanhef": "Geachte heer/mevrouw Jansen"},
            "afzender": dict(samples.AFZENDER_BA), "werknemer": {"naam": samples.WERKNEMER["naam"]}}


def niet_geheel_overgenomen(s: CaseState, ev: m.BeoordelingAdvies) -> bool:
    """Asked only when the own doctor does not take the advice over whole."""
    return ev.overname != "geheel"


EVALUATIE = Row(KIND, TEMPLATE, "Uw ervaring met de second opinion", Audience.MEDISCH,
                ((Party.WERKNEMER, ALWAYS), (Party.ARCHIEF, ALWAYS)), LABEL, brief_evaluatie, sample_evaluatie,
                step="beoordeling_advies", when=niet_geheel_overgenomen)


def build_template(folder: Path, *, placeholder: str = "werknemer.naam") -> Path:
    """The letter's Word template, made with the project's builder (`letter`, `p`, `closing`)."""
    mt = _make_templates_module()
    d = mt.letter(title="Vragenlijst second opinion", subject="Sjabloon: evaluatie van de second opinion (stap 9)")
    d.p("{{ aan.aanhef }}", ",")
    d.p("Uw second opinion is afgerond. Wij horen graag hoe u die hebt ervaren, ",
        "{{ " + placeholder + " }}", ". Wilt u de bijgevoegde vragenlijst invullen?")
    d.closing()
    target = folder / TEMPLATE
    d.save(target)
    return target


@pytest.fixture
def letter_kind() -> Iterator[Row]:
    """The registry with the new kind, restored afterwards."""
    register(EVALUATIE)
    try:
        yield EVALUATIE
    finally:
        unregister(KIND)


@pytest.fixture
def templates_with_letter(tmp_path) -> Path:
    """The shipped templates and the new one, in one folder."""
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    build_template(folder)
    return folder


def _state_before(step: str) -> tuple[CaseState, list]:
    events = [m.parse_event(e) for e in full_case()]
    i = next(i for i, e in enumerate(events) if e.stap == step)
    state = None
    for ev in events[:i]:
        state = decide(state, ev).state
    return state, events[i]


def test_decide_orders_the_new_letter_for_its_step_when_its_condition_holds(letter_kind):
    state, ev = _state_before("beoordeling_advies")
    orders = decide(state, ev).orders
    assert [o.kind for o in orders] == ["reactie-bedrijfsarts", "gewijzigd-advies", KIND]
    [order] = [o for o in orders if o.kind == KIND]
    assert order.row is letter_kind and order.sign is None
    assert [(d.party, d.consent) for d in order.deliveries] == [(Party.WERKNEMER, None), (Party.ARCHIEF, None)]
    assert order.context["titel"] == "Uw ervaring met de second opinion"
    assert order.context["werknemer"] == {"naam": "M.A. Jansen"}

    geheel = ev.model_copy(update={"overname": "geheel"})
    assert KIND not in [o.kind for o in decide(state, geheel).orders]
    # no other step makes it
    conceptadvies_state, concept = _state_before("conceptadvies")
    assert KIND not in [o.kind for o in decide(conceptadvies_state, concept).orders]


def test_without_the_entry_the_procedure_does_not_know_the_letter():
    state, ev = _state_before("beoordeling_advies")
    assert KIND not in ROWS
    assert [o.kind for o in decide(state, ev).orders] == ["reactie-bedrijfsarts", "gewijzigd-advies"]


def test_the_new_letter_is_rendered_guarded_delivered_and_audited(letter_kind, templates_with_letter, make_root):
    root = make_root()
    root.pipeline.renderer = DocxRenderer(templates_with_letter)  # the shipped templates plus the new one
    for i, ev in enumerate(full_case(), start=1):
        root.drop(f"{i:02d}-{ev['stap']}.json", ev)
    outcomes = root.run()
    assert [o.status for o in outcomes] == ["processed"] * 11, [(o.file_name, o.detail) for o in outcomes]

    name = f"{K}_{KIND}.pdf"
    holders = {party for party, files in root.mailboxes().items() if name in files}
    assert holders == {"werknemer", "archief"}
    pdf = PdfReader(mailbox_file(root, Party.WERKNEMER, K, KIND))
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Wij horen graag hoe u die hebt ervaren" in text and "Jansen" in text  # rendered from the new template
    deliveries = {(d.party, d.status) for d in root.store.deliveries(K) if d.kind == KIND}
    assert deliveries == {("werknemer", "delivered"), ("archief", "delivered")}

    employee = [r.tekst for r in trail.werknemer_view(Audit(root.store).trail(K))]
    assert f"{LABEL} is aan u gestuurd." in employee


def test_the_guard_stops_a_new_employer_letter_that_leaks_medical_content(make_root, tmp_path):
    """A careless projection for an employer letter (the advice's conclusion in it) is caught on the finished PDF
    by the privacy guard, as for every other kind: quarantined, not delivered."""
    def careless(s: CaseState, ev: m.BeoordelingAdvies, *, titel: str) -> dict:
        return brief_evaluatie(s, ev, titel=titel) | {"aan": p.aan_werkgever(s),
                                                      "werknemer": {"naam": s.definitief.conclusie}}

    row = Row("evaluatie-werkgever", TEMPLATE, "Evaluatie", Audience.WERKGEVER, ((Party.WERKGEVER, ALWAYS),),
              "de vragenlijst voor uw werkgever", careless, sample_evaluatie, step="beoordeling_advies")
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    build_template(folder)
    register(row)
    try:
        root = make_root()
        root.pipeline.renderer = DocxRenderer(folder)
        for i, ev in enumerate(full_case(), start=1):
            root.drop(f"{i:02d}-{ev['stap']}.json", ev)
        root.run()
        statuses = {d.status for d in root.store.deliveries(K) if d.kind == row.kind}
    finally:
        unregister(row.kind)
    assert statuses == {"quarantined"}
    assert not any(f"{K}_{row.kind}.pdf" in files for files in root.mailboxes().values())
    assert list((root.settings.quarantine / K).glob(f"werkgever_*{row.kind}.pdf"))


def test_the_template_check_checks_the_new_letter(letter_kind, templates_with_letter):
    report = check_templates(templates_with_letter)
    assert TEMPLATE in report.templates
    assert report.of(TEMPLATE) == []

    build_template(templates_with_letter, placeholder="werknemer.nam")  # a typo, as Word users make them
    [problem] = [x for x in check_templates(templates_with_letter).of(TEMPLATE) if x.severity is Severity.ERROR]
    assert problem.placeholder == "werknemer.nam"


def test_the_template_check_misses_the_template_of_a_registered_kind(letter_kind):
    report = check_templates(TEMPLATES)
    assert [(x.template, x.severity) for x in report.problems if x.template == TEMPLATE] == [
        (TEMPLATE, Severity.ERROR)]


def test_register_refuses_a_kind_twice_and_a_condition_without_a_step(letter_kind):
    with pytest.raises(ValueError, match="registered already"):
        register(EVALUATIE)
    with pytest.raises(ValueError, match="no step"):
        register(Row("x", TEMPLATE, "X", Audience.MEDISCH, (), "x", brief_evaluatie, sample_evaluatie,
                     when=niet_geheel_overgenomen))
    with pytest.raises(ValueError, match="not a step"):
        register(Row("y", TEMPLATE, "Y", Audience.MEDISCH, (), "y", brief_evaluatie, sample_evaluatie,
                     step="spreekuur"))
    assert "x" not in ROWS and "y" not in ROWS


def test_the_registry_is_read_only_outside_register():
    with pytest.raises(TypeError):
        ROWS["nieuw"] = EVALUATIE  # type: ignore[index]


# --- the derived lists agree with the registry -------------------------------------------------------------------

def test_every_template_a_kind_names_is_shipped_and_built_by_the_template_builder():
    shipped = {path.name for path in TEMPLATES.glob("*.docx")}
    assert set(templates()) == shipped
    assert set(_make_templates_module().builders()) == shipped


def test_the_template_builder_refuses_a_kind_without_a_builder(letter_kind):
    with pytest.raises(SystemExit, match=TEMPLATE):
        _make_templates_module().builders()


def test_kinds_sharing_a_template_share_its_sample():
    for row in ROWS.values():
        assert row.sample is sample_contexts()[row.template], row.kind


def test_every_kind_has_a_dutch_label_the_employee_view_uses():
    for row in ROWS.values():
        assert row.label and row.label[0].islower() and row.label.startswith(("de ", "het ")), row.kind
        assert trail._document(row.kind) == row.label
    assert trail._document("een-soort-die-niet-meer-bestaat") == "een document"


def test_the_personal_signatures_are_read_from_the_registry(letter_kind):
    assert dict(SIGNED_BY) == {row.kind: row.sign for row in ROWS.values()
                               if row.sign in (Signer.SO_BEDRIJFSARTS, Signer.BEDRIJFSARTS)}
    assert SIGNED_BY["advies"] is Signer.SO_BEDRIJFSARTS and SIGNED_BY["aanvraagformulier"] is Signer.BEDRIJFSARTS
    assert KIND not in SIGNED_BY
    assert all(isinstance(row.sign, Signer) for row in ROWS.values() if row.sign is not None)


def test_plain_letters_name_a_step_of_the_procedure():
    for row in ROWS.values():
        assert row.step is None or row.step in m.STAPPEN, row.kind
        assert row.when is None or row.step is not None, row.kind
    assert [row.kind for row in kinds.letters_for("beoordeling_advies")] == ["reactie-bedrijfsarts",
                                                                             "gewijzigd-advies"]


def test_the_table_of_document_kinds_in_the_docs_is_current():
    done = subprocess.run([sys.executable, str(REPO / "tools" / "make_kinds_table.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    documents = (REPO / "docs" / "documents.md").read_text(encoding="utf-8")
    for row in ROWS.values():
        assert f"| `{row.kind}` | `{row.template}` | {row.titel} |" in documents


def test_every_registered_kind_has_a_projection_and_a_sample():
    assert all(row.projection is not None and row.sample is not None for row in ROWS.values())
    with pytest.raises(ValueError, match="projection"):
        register(Row("z", TEMPLATE, "Z", Audience.MEDISCH, (), "z"))
    assert "z" not in ROWS
