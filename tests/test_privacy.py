"""The privacy core on plain text: every realistic form of an employee identifier is caught on an anonymous
invoice, the other parties' names and ordinary Dutch words are not, and medical content is recognised through
reflowed lines and hyphenation without tripping on shared words. Property tests generate employees and parties.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from stdnum.nl import bsn as stdnum_bsn

from pipeline.core import dutch, privacy
from pipeline.core.folding import word_form
from pipeline.core.identifiers import MAANDEN_KORT
from pipeline.core.names import stands_alone
from pipeline.core.model import parse_event
from pipeline.core.procedure import decide, fold
from pipeline.core.routing import Party
from pipeline.core.state import CaseState
from pipeline.package_data import EXAMPLE_CASE

EXAMPLES = EXAMPLE_CASE


def example_events() -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]


def case(*, werknemer: dict | None = None, werkgever: dict | None = None, bedrijfsarts: dict | None = None,
         so: dict | None = None, tweede: dict | None = None, events: list[dict] | None = None):
    """The example case with parties replaced (fields merged); returns (state before invoicing, invoice decision)."""
    events = events or example_events()
    verzoek, selectie = events[0], events[2]
    for block, new in (("werknemer", werknemer), ("werkgever", werkgever), ("bedrijfsarts", bedrijfsarts)):
        if new:
            verzoek[block] = {**verzoek[block], **new}
    if so:
        selectie["so_bedrijfsarts"] = {**selectie["so_bedrijfsarts"], **so}
    if tweede:
        selectie["tweede_keuze"] = {**selectie["tweede_keuze"], **tweede}
    parsed = [parse_event(e) for e in events]
    before = fold(parsed[:-1])
    return before, decide(before, parsed[-1])


def context_text(context) -> str:
    """All text a template could show from a context, one value per line (what a rendered invoice holds)."""
    lines: list[str] = []

    def walk(x) -> None:
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, str):
            lines.append(x)
    walk(dict(context))
    return "\n".join(lines)


def invoice_text(decision) -> str:
    """A clean anonymous invoice, as the factuur template would render it, plus the usual extra mentions."""
    order = next(o for o in decision.orders if o.row.invoice and o.kind != "factuur-werknemer")
    s = decision.state
    v, so = s.verzoek, s.so_arts
    extra = [
        "FACTUUR", f"Kenmerk: {order.kenmerk}", f"Uitvoerder: {so.naam}, {so.organisatie}",
        f"Aanvrager: {v.bedrijfsarts.naam} ({v.bedrijfsarts.organisatie})",
        f"Debiteur: {v.werkgever.naam}", f"t.a.v. {v.werkgever.contactpersoon or ''}",
        f"{v.werkgever.adres.straat}, {v.werkgever.adres.postcode} {v.werkgever.adres.plaats}",
        f"{v.arbodienst.naam}, {v.arbodienst.adres.straat}, {v.arbodienst.adres.postcode} {v.arbodienst.adres.plaats}",
        "Betaling binnen 30 dagen op rekening NL91 ABNA 0417 1643 00 onder vermelding van het factuurnummer.",
        "De werknemer is niet herleidbaar: op deze factuur staan geen persoonsgegevens.",
        "Spreekuur en rapportage, 3,5 uur. Op de lange termijn blijft de afspraak per post bevestigd.",
        "Pagina 1 van 1",
    ]
    return context_text(order.context) + "\n" + "\n".join(extra)


def keys(hits) -> set[str]:
    return {h.key for h in hits}


@pytest.fixture(scope="module")
def example():
    state, decision = case()
    return decision.state, privacy.case_rules(decision.state), invoice_text(decision)


# --- the example case ---------------------------------------------------------------------------------------

def test_clean_invoice_of_the_example_is_clean(example):
    state, rules, text = example
    assert rules.skipped == ()
    assert privacy.find_identifiers(rules, text, where="tekst") == []
    assert privacy.find_medical(rules, text, where="tekst") == []


@pytest.mark.parametrize("key, planted", [
    ("naam", "M.A. Jansen"), ("naam", "M. A. Jansen"), ("naam", "MA Jansen"), ("naam", "Jansen"),
    ("naam", "JANSEN"), ("naam", "m.a. jansen"), ("naam", "Jansen, M.A."), ("naam", "de heer Jansen"),
    ("naam", "M.A.\nJansen"), ("naam", "Jan-\nsen"), ("naam", "Jan\u00adsen"), ("naam", "Jänsen"),
    ("bsn", "111222333"), ("bsn", "1112.22.333"), ("bsn", "111 222 333"), ("bsn", "111-222-333"),
    ("bsn", "BSN:111222333."),
    ("geboortedatum", "1984-03-17"), ("geboortedatum", "17-03-1984"), ("geboortedatum", "17-3-1984"),
    ("geboortedatum", "17/03/1984"), ("geboortedatum", "17.03.1984"), ("geboortedatum", "17 maart 1984"),
    ("geboortedatum", "17 mrt 1984"), ("geboortedatum", "17 mrt. 1984"), ("geboortedatum", "17 MAART 1984"),
    ("geboortedatum", "19840317"), ("geboortedatum", "17-03-84"),
    ("postcode", "3521 AB"), ("postcode", "3521AB"), ("postcode", "3521 ab"), ("postcode", "3521\u00a0AB"),
    ("adres", "Lindenlaan 12"), ("adres", "LINDENLAAN 12"), ("adres", "Lindenlaan 12a"),
    ("telefoon", "06-12345678"), ("telefoon", "0612345678"), ("telefoon", "06 12 34 56 78"),
    ("telefoon", "+31 6 12345678"), ("telefoon", "+31612345678"), ("telefoon", "+31 (0)6 12345678"),
    ("telefoon", "0031 6 1234 5678"), ("telefoon", "tel.06-1234 5678"),
    ("email", "m.jansen@voorbeeld.nl"), ("email", "M.Jansen@Voorbeeld.NL"), ("email", "m.jansen @ voorbeeld.nl"),
    ("personeelsnummer", "P-20417"), ("personeelsnummer", "P20417"), ("personeelsnummer", "p 20417"),
    ("personeelsnummer", "personeelsnr. 20417"),
])
def test_every_form_of_an_identifier_is_caught(example, key, planted):
    _, rules, text = example
    hits = privacy.find_identifiers(rules, f"{text}\nBetreft: {planted}\n", where="tekst pagina 1")
    assert key in keys(hits), hits
    assert all(h.where == "tekst pagina 1" for h in hits)


@pytest.mark.parametrize("harmless", [
    "Lindenlaan 120", "Lindenlaan 2", "3521 ABC", "13521 AB", "1112223334", "06-123456789", "17-03-2026",
    "17 maart 2026", "Jansens", "Janssen", "M.A. Janssen", "P-204171", "20417,00", "€ 20.417", "Lindenlaan",
])
def test_near_misses_are_not_identifiers(example, harmless):
    _, rules, text = example
    assert privacy.find_identifiers(rules, f"{text}\n{harmless}\n", where="tekst") == []


def test_finding_says_what_and_where(example):
    _, rules, text = example
    (hit,) = privacy.find_identifiers(rules, "BSN 1112.22.333", where="PDF-metadata /Title")
    assert hit.what.startswith("BSN van de werknemer (******333)") and "111222" not in hit.what
    assert hit.where == "PDF-metadata /Title"


# --- other parties and ordinary words ------------------------------------------------------------------------

def rules_for(**parties) -> privacy.CaseRules:
    _, decision = case(**parties)
    return privacy.case_rules(decision.state)


def test_employee_de_vries_at_bouwbedrijf_de_vries():
    _, decision = case(werknemer={"naam": "de Vries", "voorletters": "M."})
    rules = privacy.case_rules(decision.state)
    text = invoice_text(decision)
    assert "Bouwbedrijf De Vries B.V." in text and "H. de Vries" in text
    assert privacy.find_identifiers(rules, text, where="t") == []
    # "de heer De Vries" may be the contact person H. de Vries: ambiguous, not a proven leak
    for clean in ("Bouwbedrijf De Vries", "De Vries B.V.", "dhr. H. de Vries", "De Vries, H.", "Vries, H. de",
                  "h.devries@bouwbedrijf.example is niet relevant", "de heer De Vries"):
        assert privacy.find_identifiers(rules, f"{text}\n{clean}", where="t") == [], clean
    for leak in ("M. de Vries", "M. De Vries", "werknemer De Vries", "Vries, M. de", "De Vries, M.",
                 "Betreft werknemer: de Vries"):
        assert "naam" in keys(privacy.find_identifiers(rules, f"{text}\n{leak}", where="t")), leak


def test_surname_shared_with_the_doctors():
    _, decision = case(werknemer={"naam": "Bakker", "voorletters": "M.A."},
                       tweede={"naam": "Dr. K. Smit", "organisatie": "Smit Bedrijfsgeneeskunde"})
    rules = privacy.case_rules(decision.state)
    text = invoice_text(decision)
    assert privacy.find_identifiers(rules, text, where="t") == []
    # "mevrouw Bakker" could be the doctor as well: ambiguous, so not a proven leak
    for clean in ("Dr. P. Bakker", "P. Bakker", "dr. Bakker", "bedrijfsarts Bakker", "Bakker, P.",
                  "p.bakker@arbonoord.example", "mevrouw Bakker"):
        assert privacy.find_identifiers(rules, f"{text}\n{clean}", where="t") == [], clean
    for leak in ("M.A. Bakker", "MA Bakker", "Bakker, M.A.", "werknemer Bakker", "Betreft: Bakker"):
        assert "naam" in keys(privacy.find_identifiers(rules, f"{text}\n{leak}", where="t")), leak

    _, decision = case(werknemer={"naam": "Smit", "voorletters": "J."},
                       tweede={"naam": "Dr. K. Smit", "organisatie": "Smit Bedrijfsgeneeskunde"})
    rules = privacy.case_rules(decision.state)
    clean = "Tweede keuze: Dr. K. Smit, Smit Bedrijfsgeneeskunde (k.smit@smitbg.example)"
    assert privacy.find_identifiers(rules, invoice_text(decision) + "\n" + clean, where="t") == []
    assert "naam" in keys(privacy.find_identifiers(rules, "J. Smit", where="t"))


def test_same_initial_and_surname_as_another_party_cannot_be_told_apart():
    # Documented limit: the employee "E. Visser" and the SO doctor "Dr. E. Visser" read the same.
    rules = rules_for(werknemer={"naam": "Visser", "voorletters": "E."})
    assert privacy.find_identifiers(rules, "Uitvoerder: Dr. E. Visser", where="t") == []
    assert "naam" in keys(privacy.find_identifiers(rules, "E.J. Visser", where="t"))  # more than the doctor
    # the other identifiers still give the leak away
    assert keys(privacy.find_identifiers(rules, "Betreft: E. Visser, geboren 17-03-1984", where="t")) == {
        "geboortedatum"}


def test_initials_prefix_does_not_hide_a_longer_name():
    rules = rules_for(werknemer={"naam": "Visser", "voorletters": "M.A.E."})
    # "e visser" is the SO doctor, but "M.A.E. Visser" is more than that occurrence
    assert "naam" in keys(privacy.find_identifiers(rules, "Betreft M.A.E. Visser", where="t"))


@pytest.mark.parametrize("naam, voorletters, ordinary, leak", [
    ("Ede", "J.", "bedrijfsgeneeskunde in Ede en omgeving", "J. Ede"),
    ("de Lange", "M.", "op de lange termijn is de lange werkweek", "M. de Lange"),
    ("Post", "A.", "Per post verzonden; postcode en post", "A. Post"),
    ("Groot", "K.", "Een groot deel van de kosten", "Groot, K."),
    ("de Jong", "P.", "de jonge werknemer, De Jong-Bouw", "mevrouw De Jong"),
    ("Kok", "T.", "de kok van de kantine", "T. Kok"),
    ("van Dijk", "R.", "langs de dijk", "R. van Dijk"),
    ("Wit", "S.", "wit papier", "S. Wit"),
])
def test_ordinary_words_need_initials_or_a_salutation(naam, voorletters, ordinary, leak):
    rules = rules_for(werknemer={"naam": naam, "voorletters": voorletters})
    assert privacy.find_identifiers(rules, ordinary, where="t") == []
    assert "naam" in keys(privacy.find_identifiers(rules, leak, where="t"))


@pytest.mark.parametrize("naam, voorletters, written", [
    ("Özdemir", "A.", "A. Ozdemir"), ("Özdemir", "A.", "OZDEMIR"), ("Özdemir", "A.", "A. Oezdemir"),
    ("Özdemir", "A.", "A. Ã–zdemir"),  # UTF-8 read as cp1252
    ("Ñúñez", "C.", "C. Nunez"), ("Ñúñez", "C.", "ÑÚÑEZ"), ("Groß", "H.", "H. Gross"), ("Groß", "H.", "GROSS"),
    ("van Dijk", "R.", "R. van Dyk"), ("van Dijk", "R.", "R. van D\u0133k"),
    ("Çelik", "E.", "Celik, E."), ("Nguyễn", "T.", "T. Nguyen"), ("Søndergård", "L.", "L. Sondergard"),
    ("in 't Veld", "J.", "J. in ’t Veld"), ("in 't Veld", "J.", "J. in t Veld"),
    ("Jansen-de Vries", "M.", "M. Jansen-de Vries"), ("Jansen-de Vries", "M.", "M. Jansen"),
    ("Jansen-de Vries", "M.", "M. de Vries"), ("Jansen-de Vries", "M.", "Jansen de Vries"),
    ("El Amrani", "F.", "F. el Amrani"), ("Vries, de", "M.", "M. de Vries"),
    ("Jansen", "Th.J.", "Th.J. Jansen"), ("Jansen", "Th.J.", "T.J. Jansen"), ("Jansen", "IJ.", "IJ. Jansen"),
    ("Ãlvarez", "A.", "A. Alvarez"),
])
def test_diacritics_particles_and_spellings(naam, voorletters, written):
    rules = rules_for(werknemer={"naam": naam, "voorletters": voorletters})
    assert "naam" in keys(privacy.find_identifiers(rules, f"Betreft: {written}.", where="t")), written


def test_identifier_shared_with_another_party_is_skipped_not_flagged():
    # the employee lives at the employer's postcode: that postcode on the invoice proves nothing
    rules = rules_for(werknemer={"adres": {"straat": "Lindenlaan 12", "postcode": "3542 AD", "plaats": "Utrecht"}})
    assert any("postcode" in s for s in rules.skipped)
    assert privacy.find_identifiers(rules, "Industrieweg 4, 3542 AD Utrecht", where="t") == []


def test_short_personnel_number_is_skipped():
    rules = rules_for(werknemer={"personeelsnummer": "P-12"})
    assert any("personeelsnummer" in s for s in rules.skipped)
    assert privacy.find_identifiers(rules, "zie p. 12", where="t") == []


# --- medical content ----------------------------------------------------------------------------------------

def test_medical_content_is_found_through_reflow_and_hyphenation(example):
    _, rules, text = example
    leaks = [
        "Lumbosacraal radiculair syndroom rechts sinds augustus 2026",
        "LUMBOSACRAAL RADICULAIR\nSYNDROOM rechts sinds\naugustus 2026",
        "lumbosa-\ncraal radiculair syn-\ndroom rechts sinds augustus",
        "lumbosacraalradiculair syndroomrechts sinds augustus",  # spaces lost by extraction
        "Beperkingen in langdurig  staan en tillen boven 10 kg",
        "Opbouw naar 50% per 9 november is te snel",
        "Gebaseerd op spreekuur, informatie behandelaar en functie\u00adbelasting uitvoerder.",
        "Datum spreekuur gecorrigeerd",
    ]
    for leak in leaks:
        hits = privacy.find_medical(rules, f"{text}\n{leak}\n", where="tekst pagina 1")
        assert hits, leak
        for h in hits:
            assert h.what.startswith("medische inhoud: ")
            assert "lumbosacraal" not in h.what.lower() and "beperkingen" not in h.what.lower()


def test_medical_check_ignores_shared_words_and_work_advice(example):
    state, rules, text = example
    allowed = [
        state.definitief.werkadvies, state.beoordeling_advies.aangepast_werkadvies, state.verzoek.betwist_advies,
        "De werknemer kan tillen en staan; fysiotherapie en een spreekuur zijn gepland.",
        "Opbouw na vier weken in overleg; informatie volgt per 9 november.",
        "Beperkingen: geen. Trend: verbeterend.",
        "3 x 4 uur per week",
    ]
    for clean in allowed:
        assert privacy.find_medical(rules, f"{text}\n{clean}", where="t") == [], clean


def test_medical_finding_names_field_not_content(example):
    _, rules, _ = example
    (hit,) = privacy.find_medical(rules, "fysiotherapie loopt; beperkt in lang staan en tillen.", where="t")
    assert "medische gegevens (aanvraag)" in hit.what and "woorden" in hit.what
    assert "tillen" not in hit.what


# --- scope and consent --------------------------------------------------------------------------------------

def test_scope():
    _, decision = case()
    factuur = decision.orders[0]
    assert privacy.scope(factuur, Party.WERKGEVER) == privacy.Scope(identifiers=True, medical=True)
    assert privacy.scope(factuur, Party.ARBODIENST) == privacy.Scope(identifiers=True, medical=False)
    assert not privacy.scope(factuur, Party.ARCHIEF)


def test_withdrawn_consent_is_a_hit_at_delivery():
    events = [parse_event(e) for e in example_events()]
    state = fold(events[:8])  # up to the final advice
    (advies,) = [o for o in decide(fold(events[:8]), events[8]).orders if o.kind == "advies"]
    state = decide(state, events[8]).state
    assert privacy.consent_hits(advies, Party.BEDRIJFSARTS, state) == []
    withdrawn = decide(state, parse_event({"schema": "so-pipeline/v1", "kenmerk": "SO-2026-0042", "stap":
                                           "intrekking", "datum": "2026-11-25",
                                           "machtiging": "advies_delen_bedrijfsarts"})).state
    (hit,) = privacy.consent_hits(advies, Party.BEDRIJFSARTS, withdrawn)
    assert "advies_delen_bedrijfsarts" in hit.what and "ingetrokken" in hit.what
    assert privacy.consent_hits(advies, Party.WERKNEMER, withdrawn) == []


def test_rules_key_changes_with_the_employee():
    a, _ = case()
    b, _ = case(werknemer={"telefoon": "06-87654321"})
    assert privacy.rules_key(a) == privacy.rules_key(case()[0])
    assert privacy.rules_key(a) != privacy.rules_key(b)


# --- properties ---------------------------------------------------------------------------------------------

LETTERS = "abcdefghijklmnoprstuvwyzéëèïöüçñßøåãáí"
PARTICLE_OPTIONS = ["", "van ", "de ", "van der ", "van den ", "ter ", "ten ", "in 't ", "van de ", "De "]
OTHER_SURNAMES = ["Bakker", "Visser", "Smit", "de Vries", "Mulder", "de Boer", "Meijer", "Bos", "van Dijk",
                  "Dekker", "Brouwer", "Hendriks"]


@st.composite
def surnames(draw):
    core = draw(st.text(alphabet=LETTERS, min_size=5, max_size=11))
    assume(not core.startswith(("ß", "ø")))
    return draw(st.sampled_from(PARTICLE_OPTIONS)) + core[0].upper() + core[1:]


@st.composite
def bsns(draw):
    digits = draw(st.lists(st.integers(0, 9), min_size=8, max_size=8))
    assume(any(digits))
    check = sum((9 - i) * d for i, d in enumerate(digits)) % 11
    assume(check < 10)
    number = "".join(map(str, digits)) + str(check)
    assert stdnum_bsn.is_valid(number)
    return number


@st.composite
def werknemers(draw):
    initials = draw(st.lists(st.sampled_from("ABCDEFGHJKLMNPRSTWY"), min_size=1, max_size=3))
    voorletters = "".join(f"{c}." for c in initials)
    born = draw(st.dates(dt.date(1950, 1, 1), dt.date(2005, 12, 31)))
    pc = f"{draw(st.integers(1000, 9999))} {draw(st.sampled_from(['AB', 'KL', 'XZ', 'EG', 'TT', 'MN']))}"
    return {
        "naam": draw(surnames()), "voorletters": voorletters, "geboortedatum": born.isoformat(),
        "bsn": draw(bsns()),
        "adres": {"straat": f"{draw(st.sampled_from(['Kerkstraat', 'Eikenlaan', 'Zonnebloemweg', 'Prinsengracht']))} "
                            f"{draw(st.integers(1, 300))}", "postcode": pc, "plaats": "Amersfoort"},
        "email": f"{draw(st.text(alphabet='abcdefghijklmnop', min_size=3, max_size=8))}@mail.example",
        "telefoon": f"06-{draw(st.integers(10_000_000, 99_999_999))}",
        "personeelsnummer": f"P-{draw(st.integers(10_000, 999_999))}",
    }


@st.composite
def other_parties(draw, *, surnames_from=None):
    pick = surnames_from if surnames_from is not None else st.sampled_from(OTHER_SURNAMES)
    initial = lambda: draw(st.sampled_from("ABCDEHKPRS")) + "."  # noqa: E731
    contact_surname = draw(pick)
    return {
        "werkgever": {"naam": f"Bouwbedrijf {draw(pick)} B.V.",
                      "contactpersoon": f"{initial()} {contact_surname}"},
        "bedrijfsarts": {"naam": f"Dr. {initial()} {draw(pick)}"},
        "so": {"naam": f"Dr. {initial()} {(so := draw(pick))}", "organisatie": f"Arbopraktijk {so}"},
    }


def expected_name_forms(w: dict) -> list[str]:
    naam, vl = w["naam"], w["voorletters"]
    letters = vl.replace(".", "")
    parts = naam.split(" ")
    core, particles = parts[-1], " ".join(parts[:-1])
    forms = [f"{vl} {naam}", f"{' '.join(c + '.' for c in letters)} {naam}", f"{letters} {naam}",
             f"{vl} {naam}".upper(), f"{vl[0]}. {naam}",
             "".join(c for c in unicodedata.normalize("NFKD", f"{vl} {naam}") if not unicodedata.combining(c)),
             f"{core}, {vl} {particles}".strip(), f"de heer {naam}"]
    if stands_alone(tuple(word_form(naam).split())):
        forms.append(naam)
    return forms


def expected_other_forms(w: dict) -> list[tuple[str, str]]:
    born = dt.date.fromisoformat(w["geboortedatum"])
    b, phone = w["bsn"], w["telefoon"].replace("-", "")
    pc = w["adres"]["postcode"]
    return [
        ("bsn", b), ("bsn", f"{b[:4]}.{b[4:6]}.{b[6:]}"), ("bsn", f"{b[:3]} {b[3:6]} {b[6:]}"),
        ("geboortedatum", born.isoformat()), ("geboortedatum", f"{born:%d-%m-%Y}"),
        ("geboortedatum", f"{born.day}-{born.month}-{born.year}"), ("geboortedatum", f"{born:%d/%m/%Y}"),
        ("geboortedatum", f"{born:%d.%m.%Y}"), ("geboortedatum", dutch.datum(born)),
        ("geboortedatum", f"{born.day} {MAANDEN_KORT[born.month - 1]} {born.year}"),
        ("postcode", pc), ("postcode", pc.replace(" ", "")), ("postcode", pc.lower()),
        ("adres", w["adres"]["straat"]),
        ("telefoon", w["telefoon"]), ("telefoon", phone), ("telefoon", " ".join([phone[:2], phone[2:4], phone[4:6],
                                                                               phone[6:8], phone[8:]])),
        ("telefoon", f"+31 6 {phone[2:]}"), ("telefoon", f"+316{phone[2:]}"),
        ("email", w["email"]), ("email", w["email"].upper()),
        ("personeelsnummer", w["personeelsnummer"]), ("personeelsnummer", w["personeelsnummer"].replace("-", "")),
    ]


PROPERTY_SETTINGS = settings(max_examples=100, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@PROPERTY_SETTINGS
@given(w=werknemers(), others=other_parties())
def test_property_every_planted_identifier_is_found(w, others):
    assume(w["adres"]["postcode"] not in ("3542 AD", "3511 ED"))
    _, decision = case(werknemer=w, werkgever=others["werkgever"], bedrijfsarts=others["bedrijfsarts"],
                       so=others["so"])
    rules = privacy.case_rules(decision.state)
    clean = invoice_text(decision)
    assert privacy.find_identifiers(rules, clean, where="t") == []
    for form in expected_name_forms(w):
        hits = privacy.find_identifiers(rules, f"{clean}\nBetreft: {form}\n", where="t")
        assert "naam" in keys(hits), (form, rules.skipped)
    for key, form in expected_other_forms(w):
        hits = privacy.find_identifiers(rules, f"{clean}\nBetreft: {form}\n", where="t")
        assert key in keys(hits), (key, form, rules.skipped)


@PROPERTY_SETTINGS
@given(data=st.data(), w=werknemers())
def test_property_clean_invoice_is_never_flagged(data, w):
    # The other parties may share the employee's surname, and even the employee's particles.
    pool = st.sampled_from(OTHER_SURNAMES + [w["naam"], w["naam"].split(" ")[-1]])
    others = data.draw(other_parties(surnames_from=pool))
    _, decision = case(werknemer=w, werkgever=others["werkgever"], bedrijfsarts=others["bedrijfsarts"],
                       so=others["so"])
    rules = privacy.case_rules(decision.state)
    text = invoice_text(decision) + "\n" + "\n".join(other_mentions(decision.state))
    assert privacy.find_identifiers(rules, text, where="t") == []
    assert privacy.find_medical(rules, text, where="t") == []


def other_mentions(state: CaseState) -> list[str]:
    """Other ways a letter names the doctors and the contact person: `P. Bakker`, `dr. Bakker`, `Bakker, P.`."""
    out = []
    for full in (state.verzoek.bedrijfsarts.naam, state.so_arts.naam, state.verzoek.werkgever.contactpersoon):
        bare = full.removeprefix("Dr. ")
        initial, surname = bare.split(" ", 1)
        out += [bare, f"dr. {surname}", f"{surname}, {initial}", f"bedrijfsarts {surname}"]
    return out
