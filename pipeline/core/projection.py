"""Projection by audience: the template context of each document, built from a whitelist (pure).

A template only ever receives the blocks listed for it in `docs/templates.md`. Employer-facing documents are
built without medical data; anonymous invoices are built without any employee block at all, so the employee
cannot leak into them through a template edit. The privacy guard then checks the finished PDF independently.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pipeline.core.profiles import PROFILES
from pipeline.core import dutch
from pipeline.core import model as m
from pipeline.core.state import CaseState, Consent, SignedForm

LEEG = "—"

BETREFT = {
    "verzuimbegeleiding": "Verzuimbegeleiding",
    "pago_pmo": "PAGO/PMO (arbeidsgezondheidskundig onderzoek)",
    "consultatie": "Consultatie over gezondheid en werk",
    "aanstellingskeuring": "Aanstellingskeuring",
}

OVERNAME = {
    "geheel": "Ik neem het advies van de second opinion-bedrijfsarts geheel over.",
    "gedeeltelijk": "Ik neem het advies van de second opinion-bedrijfsarts gedeeltelijk over.",
    "niet": "Ik neem het advies van de second opinion-bedrijfsarts niet over.",
}


def adresregels(adres: m.Adres) -> list[str]:
    return [adres.straat, f"{dutch.postcode(adres.postcode)} {adres.plaats}"]


def werknemer_naam(w: m.Werknemer) -> str:
    return f"{w.voorletters} {w.naam}"


def _werknemer(s: CaseState, *, volledig: bool) -> dict[str, Any]:
    w = s.verzoek.werknemer
    block: dict[str, Any] = {"naam": werknemer_naam(w)}
    if volledig:
        block |= {
            "geboortedatum": dutch.datum(w.geboortedatum),
            "adresregels": adresregels(w.adres),
            "email": w.email,
            "telefoon": w.telefoon,
            # data minimisation: the SO doctor needs to reach and identify the employee at the consultation (with
            # ID), not the BSN or the employer's personnel number (README: "What the SO doctor receives")
        }
    return block


def _werkgever(s: CaseState) -> dict[str, Any]:
    g = s.verzoek.werkgever
    return {"naam": g.naam, "adresregels": adresregels(g.adres), "contactpersoon": g.contactpersoon or LEEG,
            "kostenplaats": g.kostenplaats or LEEG}


def _arts(a: m.Arts | None) -> dict[str, Any]:
    if a is None:
        return {"naam": LEEG, "big_nummer": LEEG, "organisatie": LEEG, "email": LEEG}
    return {"naam": a.naam, "big_nummer": a.big_nummer, "organisatie": a.organisatie, "email": a.email}


def _contact(org) -> list[str]:
    """`T 033 765 43 21 · e.visser@…` as one letterhead line (empty when neither is configured)."""
    parts = [f"T\u00a0{org.telefoon}" if org.telefoon else "", org.email or ""]
    line = " · ".join(x for x in parts if x)
    return [line] if line else []


def organisatie_blok(s: CaseState, afzender: str) -> dict[str, Any]:
    """The letterhead organisation: the configured master data when the case refers to it, else the case file's."""
    if afzender == "so_bedrijfsarts":
        so, org = s.so_arts, s.praktijk
        if org is None:
            return {"naam": so.organisatie, "adresregels": [so.email], "klachten": LEEG, "logo": ""}
    else:
        org = s.arbodienst_org
        if org is None:
            a = s.verzoek.arbodienst
            return {"naam": a.naam, "adresregels": adresregels(a.adres), "klachten": LEEG, "logo": ""}
    return {"naam": org.naam, "adresregels": org.adresregels + _contact(org), "klachten": org.klachten or LEEG,
            "logo": org.logo or ""}  # the path checked at start-up; the renderer places the image


def so_contact(s: CaseState) -> dict[str, str]:
    """The SO practice's postal address and phone from the master data (empty when not configured: a letter
    leaves out what it does not know, it never prints a dash for it)."""
    org = s.praktijk
    if org is None:
        return {"postadres": "", "telefoon": ""}
    return {"postadres": f"{org.naam}, {org.straat}, {dutch.postcode(org.postcode)}\u00a0{org.plaats}",
            "telefoon": org.telefoon or ""}


def _base(s: CaseState, *, titel: str, datum, afzender: str, aan: dict[str, Any]) -> dict[str, Any]:
    """Shared blocks. `afzender` is `arbodienst`, `bedrijfsarts` or `so_bedrijfsarts`."""
    v = s.verzoek
    organisatie = organisatie_blok(s, afzender)
    if afzender == "so_bedrijfsarts":
        so = s.so_arts
        wie = {"naam": so.naam, "functie": "second opinion-bedrijfsarts", "organisatie": so.organisatie,
               "big_nummer": so.big_nummer}
    elif afzender == "bedrijfsarts":
        wie = {"naam": v.bedrijfsarts.naam, "functie": "bedrijfsarts", "organisatie": v.bedrijfsarts.organisatie,
               "big_nummer": v.bedrijfsarts.big_nummer}
    else:
        wie = {"naam": v.arbodienst.naam, "functie": "arbodienst", "organisatie": v.arbodienst.naam,
               "big_nummer": LEEG}
    return {"kenmerk": s.kenmerk, "datum": dutch.datum(datum), "titel": titel, "organisatie": organisatie,
            "afzender": wie, "aan": aan}


def aan_werknemer(s: CaseState) -> dict[str, Any]:
    w = s.verzoek.werknemer
    # "Geachte heer/mevrouw Jansen", not "Geachte M.A. Jansen": a salutation carries no initials
    return {"naam": werknemer_naam(w), "adresregels": adresregels(w.adres), "aanhef": dutch.aanhef(w.naam)}


def aan_werkgever(s: CaseState) -> dict[str, Any]:
    g = s.verzoek.werkgever
    regels = ([f"t.a.v. {g.contactpersoon}"] if g.contactpersoon else []) + adresregels(g.adres)
    return {"naam": g.naam, "adresregels": regels, "aanhef": dutch.aanhef(g.contactpersoon)}


def aan_bedrijfsarts(s: CaseState) -> dict[str, Any]:
    """The own doctor at the postal address of the arbodienst the doctor works for (the e-mail address when the
    doctor's organisation is not that arbodienst)."""
    b, a = s.verzoek.bedrijfsarts, s.verzoek.arbodienst
    org = s.arbodienst_org
    if _fold_name(b.organisatie) in (_fold_name(a.naam), _fold_name(org.naam) if org else None):
        adres = org.adresregels if org is not None else adresregels(a.adres)
        return {"naam": b.naam, "adresregels": [b.organisatie, *adres], "aanhef": "Geachte collega"}
    return {"naam": b.naam, "adresregels": [b.organisatie, b.email], "aanhef": "Geachte collega"}


def aan_so(s: CaseState) -> dict[str, Any]:
    """The SO doctor at the configured practice's postal address (the e-mail address when none is configured)."""
    so, org = s.so_arts, s.praktijk
    if org is not None:
        return {"naam": so.naam, "adresregels": [org.naam, *org.adresregels], "aanhef": "Geachte collega"}
    return {"naam": so.naam, "adresregels": [so.organisatie, so.email], "aanhef": "Geachte collega"}


def _fold_name(naam: str) -> str:
    return " ".join(naam.casefold().split())


def aan_arbodienst(s: CaseState) -> dict[str, Any]:
    a = s.verzoek.arbodienst
    return {"naam": a.naam, "adresregels": adresregels(a.adres)}


# --- one builder per template -------------------------------------------------------------------------------

def aanvraagformulier(s: CaseState, *, titel: str, datum, medisch: bool) -> dict[str, Any]:
    a, v = s.aanvraag, s.verzoek
    so = s.so_arts
    if medisch and s.consent("medische_gegevens") is Consent.GEVRAAGD:
        toelichting = ("De werknemer is gevraagd de machtiging voor het verstrekken van medische gegevens te "
                       "ondertekenen. De onderstaande medische gegevens gaan pas naar de second opinion-bedrijfsarts "
                       "als de ondertekende machtiging in het dossier is.")
    elif medisch:
        bewijs = bewijs_tekst(s, a.bewijs, datum=a.datum, ingediend_door=a.ingediend_door)
        toelichting = (f"De werknemer heeft op {bewijs['datum']} toestemming gegeven om de onderstaande medische "
                       "gegevens aan de second opinion-bedrijfsarts te verstrekken; zie de bijgevoegde machtiging "
                       "(medische gegevens) met kenmerk " + s.kenmerk + ".")
    elif a.machtiging_medische_gegevens is m.Besluit.VERLEEND and s.consent("medische_gegevens") is Consent.GEVRAAGD:
        na_spreekuur = " en de werknemer u op het eerste spreekuur heeft gesproken" \
            if PROFILES[s.profiel].medisch_pas_na_spreekuur else ""
        toelichting = ("De werknemer is gevraagd de machtiging voor het verstrekken van medische gegevens te "
                       f"ondertekenen. Zodra de ondertekende machtiging in het dossier is{na_spreekuur}, ontvangt u "
                       "de medische gegevens met die machtiging afzonderlijk.")
    elif a.machtiging_medische_gegevens is m.Besluit.VERLEEND:
        toelichting = ("De medische gegevens worden pas na het eerste spreekuur met de werknemer aan de "
                       "second opinion-bedrijfsarts verstrekt.")
    else:
        toelichting = ("De werknemer heeft geen toestemming gegeven om medische gegevens te verstrekken. Dit "
                       "formulier bevat daarom alleen de vraagstelling en de werkgegevens.")
    if so.in_arbocontract:
        kosten = ("De second opinion-bedrijfsarts valt onder het arbocontract; de kosten komen voor rekening "
                  "van de werkgever.")
    elif s.selectie.werkgever_vergoedt:
        kosten = ("De second opinion-bedrijfsarts valt buiten het arbocontract; de werkgever heeft toegezegd de "
                  "kosten te vergoeden.")
    else:
        kosten = ("De second opinion-bedrijfsarts valt buiten het arbocontract; de kosten komen voor rekening "
                  "van de werknemer.")
    return _base(s, titel=titel, datum=datum, afzender="bedrijfsarts", aan=aan_so(s)) | {
        "werknemer": _werknemer(s, volledig=True),
        "werkgever": _werkgever(s),
        "bedrijfsarts": _arts(v.bedrijfsarts),
        "so_bedrijfsarts": _arts(so),
        "betreft": BETREFT[v.betreft],
        "datum_betwist_advies": dutch.datum(v.datum_betwist_advies),
        "betwist_advies": v.betwist_advies,
        "vraagstelling": a.vraagstelling,
        "werkgegevens": a.werkgegevens,
        "medisch_opgenomen": medisch,
        "medische_gegevens": (a.medische_gegevens or "") if medisch else "",
        "medisch_toelichting": toelichting,
        "kosten": kosten,
        "keuze_so": PROFILES[s.profiel].keuze_so,
        "vraag_door": PROFILES[s.profiel].vraag_door,
    }


MACHTIGING_TEKST = {
    "medische_gegevens": (
        "Verstrekken van medische gegevens aan de second opinion-bedrijfsarts",
        "mijn bedrijfsarts, {b}, de medische gegevens die nodig zijn voor de beantwoording van de vraagstelling "
        "verstrekt aan de second opinion-bedrijfsarts, {so} ({so_org})"),
    "extra_informatie": (
        "Opvragen van aanvullende informatie bij {bron}",
        "de second opinion-bedrijfsarts, {so} ({so_org}), bij {bron} aanvullende informatie opvraagt die nodig is "
        "voor de second opinion, met de volgende vraag: {vraag}"),
    "advies_delen_bedrijfsarts": (
        "Delen van het second opinion-advies met de eigen bedrijfsarts",
        "de second opinion-bedrijfsarts, {so} ({so_org}), een kopie van het definitieve advies stuurt aan mijn "
        "bedrijfsarts, {b}, zodat deze het advies kan beoordelen"),
}

MACHTIGING_SPECIFIEK = {
    # (which data, from whom, to whom, purpose, what refusing means)
    "medische_gegevens": (
        "De medische gegevens die nodig zijn voor de beantwoording van de vraagstelling (onderdeel 7 van het "
        "aanvraagformulier); geen andere gegevens uit het medisch dossier.",
        "{b} ({b_org}), eigen bedrijfsarts", "{so} ({so_org}), second opinion-bedrijfsarts",
        "Uitsluitend de beantwoording van de vraagstelling in deze second opinion (artikel 2.14d "
        "Arbeidsomstandighedenbesluit).",
        "De second opinion gaat gewoon door. De second opinion-bedrijfsarts ontvangt dan alleen de vraagstelling en "
        "de werkgegevens, met de mededeling dat er geen toestemming is voor medische gegevens, en baseert het advies "
        "op het eigen gesprek en onderzoek. Houd er rekening mee dat de second opinion-bedrijfsarts dan mogelijk "
        "over onvoldoende informatie beschikt om de vraag goed te beantwoorden."),
    "extra_informatie": (
        "Informatie die nodig is voor het antwoord op deze vraag: {vraag}",
        "{bron}", "{so} ({so_org}), second opinion-bedrijfsarts",
        "Uitsluitend de beantwoording van de vraagstelling in deze second opinion.",
        "De second opinion-bedrijfsarts vraagt deze informatie niet op en baseert het advies op de overige "
        "gegevens. De second opinion gaat gewoon door; houd er rekening mee dat de second opinion-bedrijfsarts dan "
        "mogelijk over onvoldoende informatie beschikt om de vraag goed te beantwoorden."),
    "advies_delen_bedrijfsarts": (
        "Een kopie van het definitieve second opinion-advies (vraagstelling, bevindingen, conclusie, onderbouwing en "
        "werkadvies).",
        "{so} ({so_org}), second opinion-bedrijfsarts", "{b} ({b_org}), eigen bedrijfsarts",
        "De eigen bedrijfsarts beoordeelt het advies en besluit of het eigen advies wordt aangepast (stap 9).",
        "De eigen bedrijfsarts ontvangt geen kopie, alleen het bericht dat er geen kopie komt, en kan het advies dan "
        "niet beoordelen. U kunt het advies ook zelf aan uw bedrijfsarts geven; dan beoordeelt die het alsnog."),
}

INTREKKEN = ("Waar: schriftelijk of per e-mail bij het secretariaat van {org}{adres}, onder vermelding van "
             "kenmerk {kenmerk}.")


def _intrekken_bij(s: CaseState) -> str:
    org = s.arbodienst_org
    if org is not None:
        adres = f", {org.straat}, {dutch.postcode(org.postcode)}\u00a0{org.plaats}" + (
            f" ({org.email})" if org.email else "")
        return INTREKKEN.format(org=org.naam, adres=adres, kenmerk=s.kenmerk)
    a = s.verzoek.arbodienst
    return INTREKKEN.format(org=a.naam, adres=f", {a.adres.straat}, {dutch.postcode(a.adres.postcode)}\u00a0"
                            f"{a.adres.plaats}",
                            kenmerk=s.kenmerk)


WIJZE = {
    "papier_gescand": "op papier ondertekend en gescand",
    "elektronisch_ondertekend": "elektronisch ondertekend",
}


def bewijs_tekst(s: CaseState, bewijs: m.MachtigingBewijs | None, *, datum, ingediend_door: str | None,
                 formulier: SignedForm | None = None) -> dict:
    """How, when and by whom the decision was recorded, saying only what the dossier holds: a signed form is
    "in het dossier" only when it came back (`formulier`) or the case file states where it is kept."""
    tot = (f"tot en met {dutch.datum(bewijs.geldig_tot)}" if bewijs is not None and bewijs.geldig_tot
           else "tot de afronding van de second opinion")
    wie = bewijs.vastgelegd_door if bewijs is not None else \
        ingediend_door or f"het secretariaat van {organisatie_blok(s, 'arbodienst')['naam']}"
    if formulier is not None:
        hoe = "op papier ondertekend; het gescande formulier" if formulier.gescand else \
            "elektronisch ondertekend; het ondertekende bestand"
        wijze = (f"De werknemer heeft het machtigingsformulier {hoe} is op {dutch.datum(formulier.ontvangen)} "
                 f"ontvangen en maakt deel uit van het dossier ({formulier.bestand}).")
    elif bewijs is None:
        wijze = ("Niet in het zaakbestand vermeld. De beslissing van de werknemer is doorgegeven door "
                 f"{wie}; een door de werknemer ondertekend formulier is niet in het dossier.")
    elif bewijs.wijze == "mondeling_bevestigd":
        wijze = "De werknemer heeft de beslissing mondeling gegeven in het gesprek" + (
            f" en dit is bevestigd door {bewijs.bevestigd_door}." if bewijs.bevestigd_door else ".") + \
            " Een door de werknemer ondertekend formulier is niet in het dossier."
    elif bewijs.vindplaats:
        wijze = (f"De werknemer heeft het machtigingsformulier {WIJZE[bewijs.wijze]}. Het ondertekende formulier "
                 f"wordt bewaard: {dutch.zinseinde(bewijs.vindplaats)}")
    else:
        wijze = (f"Volgens het zaakbestand heeft de werknemer het machtigingsformulier {WIJZE[bewijs.wijze]}; het "
                 "ondertekende formulier zelf is niet in het dossier en het zaakbestand vermeldt niet waar het "
                 "wordt bewaard.")
    schriftelijk = formulier is not None or (bewijs is not None and bewijs.wijze != "mondeling_bevestigd"
                                             and bool(bewijs.vindplaats))
    return {"wijze": wijze, "datum": dutch.datum(bewijs.datum if bewijs is not None else datum),
            "vastgelegd_door": wie, "geldig_tot": tot, "ondertekend_formulier": schriftelijk}


def _machtiging_fill(s: CaseState, *, bron: str, vraag: str) -> dict[str, str]:
    """The names the consent texts (`MACHTIGING_TEKST`, `MACHTIGING_SPECIFIEK`) are filled with."""
    so, b = s.so_arts, s.verzoek.bedrijfsarts
    return {"b": b.naam, "b_org": b.organisatie, "so": so.naam, "so_org": so.organisatie, "bron": bron,
            "vraag": vraag}


def _machtiging_partijen(s: CaseState, *, titel: str, datum) -> dict[str, Any]:
    """The blocks a machtiging and the form to sign share: the arbodienst to the employee, the two doctors."""
    return _base(s, titel=titel, datum=datum, afzender="arbodienst", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer),
                      "geboortedatum": dutch.datum(s.verzoek.werknemer.geboortedatum)},
        "so_bedrijfsarts": _arts(s.so_arts),
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
    }


def machtiging(s: CaseState, *, titel: str, datum, soort: str, besluit: m.Besluit,
               bron: str = "", vraag: str = "", bewijs: m.MachtigingBewijs | None = None,
               ingediend_door: str | None = None, formulier: SignedForm | None = None) -> dict[str, Any]:
    onderwerp, handeling = MACHTIGING_TEKST[soort]
    fill = _machtiging_fill(s, bron=bron, vraag=vraag)
    verleend = besluit is m.Besluit.VERLEEND
    handeling = handeling.format(**fill)
    # a refusal reads as a refusal: no "Ik geef ... toestemming" above a ticked "geweigerd"
    verklaring = (dutch.zinseinde(f"Ik geef toestemming dat {handeling}") if verleend else  # no "?." after a vraag
                  dutch.zinseinde(f"Ik geef géén toestemming dat {handeling}")
                  + " Deze gegevens worden dus niet verstrekt.")
    wat, van, aan, doel, weigeren = (x.format(**fill) for x in MACHTIGING_SPECIFIEK[soort])
    if soort == "medische_gegevens" and PROFILES[s.profiel].medisch_pas_na_spreekuur:
        doel += (" De gegevens gaan pas naar de second opinion-bedrijfsarts na uw eerste spreekuur bij die arts, en "
                 "alleen als u en de second opinion-bedrijfsarts dan besluiten ze op te vragen.")
    evidence = bewijs_tekst(s, bewijs, datum=datum, ingediend_door=ingediend_door, formulier=formulier)
    return _machtiging_partijen(s, titel=titel, datum=datum) | {
        "machtiging": {
            "onderwerp": onderwerp.format(**fill),
            "omschrijving": verklaring,
            "verleend": verleend,
            "besluit": besluit.value,
            "datum": evidence["datum"],
            "wat": wat, "van": van, "aan": aan, "doel": doel,
            "geldig_tot": evidence["geldig_tot"] if verleend else LEEG,
            "weigeren": weigeren,
            "wijze": evidence["wijze"],
            "vastgelegd_door": evidence["vastgelegd_door"],
            "intrekken": _intrekken_bij(s),
        },
    }


def advies(s: CaseState, ev: m.Conceptadvies | m.DefinitiefAdvies, *, titel: str) -> dict[str, Any]:
    concept = isinstance(ev, m.Conceptadvies)
    return _base(s, titel=titel, datum=ev.datum, afzender="so_bedrijfsarts", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer),
                      "geboortedatum": dutch.datum(s.verzoek.werknemer.geboortedatum)},
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
        "so_bedrijfsarts": _arts(s.so_arts),
        "concept": concept,
        "vraagstelling": s.aanvraag.vraagstelling,
        "spreekuur": dutch.moment(s.uitvoering.spreekuur) if s.uitvoering else LEEG,
        "bevindingen": ev.bevindingen,
        "conclusie": ev.conclusie,
        "onderbouwing": ev.onderbouwing,
        "werkadvies": ev.werkadvies,
        "opmerkingen_werknemer": "" if concept else (ev.opmerkingen_werknemer or ""),
        "reactie_uiterlijk": dutch.datum(dutch.plus_werkdagen(ev.datum, 5)) if concept else LEEG,
        "klachten": klachten(s, "so_bedrijfsarts"),
    }


def klachten(s: CaseState, afzender: str) -> str:
    """The complaints route: the configured procedure of the organisation, else a pointer to its complaints
    procedure by name (every arbodienst and practice must have one; the letter never leaves it out)."""
    configured = organisatie_blok(s, afzender)["klachten"]
    if configured != LEEG:
        return configured
    naam = s.so_arts.organisatie if afzender == "so_bedrijfsarts" else s.verzoek.bedrijfsarts.organisatie
    return f"Heeft u een klacht, dan kunt u die indienen volgens de klachtenregeling van {dutch.zinseinde(naam)}"


def _uitgever(s: CaseState, *, debiteur: str) -> dict[str, Any]:
    """The issuer's sender block: the SO practice (its invoice) or the arbodienst (its pass-on specification)."""
    if debiteur == "werkgever-doorbelasting":
        org, naam, fallback = s.arbodienst_org, s.verzoek.arbodienst.naam, adresregels(s.verzoek.arbodienst.adres)
    else:
        org, naam, fallback = s.praktijk, s.so_arts.organisatie, [s.so_arts.email]
    if org is None:
        return {"naam": naam, "adresregels": fallback, "kvk": LEEG, "iban": LEEG, "iban_nbsp": LEEG,
                "btw_nummer": LEEG}
    return {"naam": org.naam, "adresregels": org.adresregels + _contact(org), "kvk": org.kvk_nummer or LEEG,
            "iban": org.iban or LEEG, "iban_nbsp": (org.iban or LEEG).replace(" ", "\u00a0"),
            "btw_nummer": org.btw_nummer or LEEG}


def _registratie(uitgever: dict[str, Any], *, betaalbaar: bool) -> list[str]:
    """The letterhead's registration line of an invoice: KvK, IBAN (payable documents only), VAT number."""
    parts = [f"KvK\u00a0{uitgever['kvk']}" if uitgever["kvk"] != LEEG else "",
             f"IBAN\u00a0{uitgever['iban_nbsp']}" if betaalbaar and uitgever["iban"] != LEEG else "",
             f"Btw-nr.\u00a0{uitgever['btw_nummer']}" if uitgever["btw_nummer"] != LEEG else ""]
    line = " · ".join(x for x in parts if x)
    return [line] if line else []


def _btw(s: CaseState, bedrag: Decimal) -> dict[str, Any]:
    """The VAT lines exactly as the practice configured them: an exemption text, a rate, or nothing."""
    org = s.praktijk
    if org is not None and org.btw_tarief:
        btw = (bedrag * Decimal(org.btw_tarief) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return {"tekst": "", "belast": True, "tarief": f"{org.btw_tarief}%", "bedrag_btw": dutch.bedrag(btw),
                "totaal": dutch.bedrag(bedrag + btw)}
    tekst = org.btw_vrijstelling if org is not None and org.btw_vrijstelling else ""
    return {"tekst": tekst, "belast": False, "tarief": LEEG, "bedrag_btw": LEEG, "totaal": dutch.bedrag(bedrag)}


def factuur(s: CaseState, ev: m.Facturatie, *, titel: str, debiteur: str,
            zonder_kenmerk: bool = False) -> dict[str, Any]:
    """One invoice document. `debiteur`:

    - `arbodienst`: the SO practice's invoice to the arbodienst (SO doctor in the arbocontract), anonymous;
    - `werkgever-doorbelasting`: the arbodienst's pass-on specification to the employer: NOT an invoice, anonymous;
    - `werkgever`: the SO practice's invoice to the employer who agreed to pay (outside the contract), anonymous;
    - `werknemer`: the invoice to the employee (outside the contract, the employer does not pay), named;
    - `werknemer-info`: the employee's named cost statement when the employer pays: NOT an invoice.

    `zonder_kenmerk`: the employer's copy, which the employer cannot link to letters naming the employee: no
    kenmerk in the context at all; it is known by the invoice number and the cost centre.
    """
    anoniem = debiteur not in ("werknemer", "werknemer-info")
    betaalbaar = debiteur in ("arbodienst", "werkgever", "werknemer")
    aan = {"arbodienst": aan_arbodienst, "werkgever": aan_werkgever, "werkgever-doorbelasting": aan_werkgever,
           "werknemer": aan_werknemer, "werknemer-info": aan_werknemer}[debiteur](s)
    praktijk = s.praktijk.naam if s.praktijk is not None else s.so_arts.organisatie
    toelichting = {
        "arbodienst": "De second opinion-bedrijfsarts valt onder het arbocontract. Deze factuur is gericht aan de "
                      "arbodienst; de arbodienst kan de kosten volgens het arbocontract doorbelasten aan de werkgever.",
        "werkgever-doorbelasting": (
            f"Dit is geen factuur: u hoeft op grond van dit document niets te betalen. {praktijk} heeft de second "
            "opinion "
            f"aan {s.verzoek.arbodienst.naam} gefactureerd (factuurnummer {ev.factuurnummer}). "
            f"{s.verzoek.arbodienst.naam} brengt deze kosten bij u in rekening volgens het arbocontract, op de "
            "gebruikelijke verzamelfactuur; deze specificatie licht die post toe."),
        "werkgever": "U heeft toegezegd de kosten van deze second opinion te vergoeden. Deze factuur is daarom aan "
                     "u gericht.",
        "werknemer": "De second opinion-bedrijfsarts valt buiten het arbocontract en uw werkgever vergoedt de kosten "
                     "niet. De kosten zijn daarom voor uw rekening, ongeacht de uitkomst van de second opinion.",
        "werknemer-info": (
            "Dit is geen factuur: u hoeft niets te betalen. Uw werkgever heeft toegezegd de kosten van deze second "
            f"opinion te vergoeden; {praktijk} stuurt de factuur (nummer {ev.factuurnummer}) aan uw werkgever. "
            "Dit overzicht ontvangt u ter informatie."),
    }[debiteur]
    afzender = "arbodienst" if debiteur == "werkgever-doorbelasting" else "so_bedrijfsarts"
    d = s.definitief
    dienst = ev.datum_dienst or (d.datum if d is not None else ev.datum)
    base = _base(s, titel=titel, datum=ev.datum, afzender=afzender, aan=aan)
    if zonder_kenmerk:
        base["kenmerk"] = ""
    uitgever = _uitgever(s, debiteur=debiteur)
    base["organisatie"] = base["organisatie"] | {
        "adresregels": base["organisatie"]["adresregels"] + _registratie(uitgever, betaalbaar=betaalbaar)}
    return base | {
        "so_bedrijfsarts": _arts(s.so_arts),
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
        "factuur": {
            "nummer": ev.factuurnummer,
            "datum": dutch.datum(ev.datum),
            "datum_dienst": dutch.datum(dienst),
            "vervaldatum": dutch.datum(ev.datum + dt.timedelta(days=30)),
            "omschrijving": ev.omschrijving,
            "uren": dutch.getal(ev.uren) if ev.uren is not None else LEEG,
            "bedrag": dutch.bedrag(ev.bedrag),
            "btw": _btw(s, ev.bedrag),
            "kostenplaats": (s.verzoek.werkgever.kostenplaats or LEEG) if anoniem else LEEG,
            "anoniem": anoniem,
            "kenmerk_tonen": not zonder_kenmerk,
            "betaalbaar": betaalbaar,
            "uitgever": uitgever,
            "toelichting": toelichting,
        },
    }


# --- letters --------------------------------------------------------------------------------------------------

def brief_weigering(s: CaseState, ev: m.Beoordeling, *, titel: str) -> dict[str, Any]:
    v = s.verzoek
    return _base(s, titel=titel, datum=ev.datum, afzender="bedrijfsarts", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(v.werknemer)},
        "bedrijfsarts": _arts(v.bedrijfsarts),
        "datum_betwist_advies": dutch.datum(v.datum_betwist_advies),
        "betwist_advies": v.betwist_advies,
        "zwaarwegende_reden": ev.zwaarwegende_reden,
    }


def brief_melding_werkgever(s: CaseState, ev: m.Selectie, *, titel: str) -> dict[str, Any]:
    """Vitaal! step 4, dated the choice of the SO doctor. Structured facts only: `betwist_advies` is the
    secretariat's free text and may hold a diagnosis."""
    v = s.verzoek
    return _base(s, titel=titel, datum=ev.datum, afzender="bedrijfsarts", aan=aan_werkgever(s)) | {
        "werknemer": {"naam": werknemer_naam(v.werknemer)},
        "bedrijfsarts": _arts(v.bedrijfsarts),
        "datum_betwist_advies": dutch.datum(v.datum_betwist_advies),
        "betreft": BETREFT[v.betreft].lower() if v.betreft != "pago_pmo" else BETREFT[v.betreft],
    }


def brief_nieuwe_beoordeling(s: CaseState, ev: m.Verzoek, *, titel: str) -> dict[str, Any]:
    v = s.verzoek
    return _base(s, titel=titel, datum=v.datum, afzender="bedrijfsarts", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(v.werknemer)},
        "bedrijfsarts": _arts(v.bedrijfsarts),
        "datum_betwist_advies": dutch.datum(v.datum_betwist_advies),
    }


def brief_uitnodiging(s: CaseState, ev: m.Uitvoering, *, titel: str) -> dict[str, Any]:
    return _base(s, titel=titel, datum=ev.datum, afzender="so_bedrijfsarts", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "so_bedrijfsarts": _arts(s.so_arts),
        "spreekuur": dutch.moment(ev.spreekuur),
        "locatie": ev.locatie,
        "so_contact": so_contact(s),
    }


def brief_informatieverzoek(s: CaseState, ev: m.ExtraInformatie, *, titel: str) -> dict[str, Any]:
    if ev.bron == "bedrijfsarts":
        aan = aan_bedrijfsarts(s)
    elif ev.bron == "werkgever":
        aan = aan_werkgever(s)
    else:
        aan = {"naam": ev.bron_naam, "adresregels": adresregels(ev.bron_adres) if ev.bron_adres else [],
               "aanhef": dutch.aanhef(None)}
    w = s.verzoek.werknemer
    bewijs = bewijs_tekst(s, ev.bewijs, datum=ev.datum, ingediend_door=ev.ingediend_door)
    return _base(s, titel=titel, datum=ev.datum, afzender="so_bedrijfsarts", aan=aan) | {
        "werknemer": {"naam": werknemer_naam(w), "geboortedatum": dutch.datum(w.geboortedatum)},
        "so_bedrijfsarts": _arts(s.so_arts),
        "bron_naam": ev.bron_naam,
        "bron_naam_zin": dutch.zinseinde(ev.bron_naam),  # "… B.V." ends the sentence without a second dot
        "vraag": ev.vraag,
        "toestemming_datum": bewijs["datum"],
        "toestemming_schriftelijk": bewijs["ondertekend_formulier"],
        "so_contact": so_contact(s),
    }


def brief_geen_kopie(s: CaseState, ev: m.DefinitiefAdvies, *, titel: str) -> dict[str, Any]:
    return _base(s, titel=titel, datum=ev.datum, afzender="so_bedrijfsarts", aan=aan_bedrijfsarts(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "so_bedrijfsarts": _arts(s.so_arts),
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
    }


def brief_afronding_werkgever(s: CaseState, ev: m.DefinitiefAdvies, *, titel: str,
                              met_werkadvies: bool) -> dict[str, Any]:
    return _base(s, titel=titel, datum=ev.datum, afzender="so_bedrijfsarts", aan=aan_werkgever(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
        "so_bedrijfsarts": _arts(s.so_arts),
        "werkadvies_gedeeld": met_werkadvies,
        "werkadvies": ev.werkadvies if met_werkadvies else "",
    }


def brief_reactie(s: CaseState, ev: m.BeoordelingAdvies, *, titel: str) -> dict[str, Any]:
    return _base(s, titel=titel, datum=ev.datum, afzender="bedrijfsarts", aan=aan_werknemer(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
        "so_bedrijfsarts": _arts(s.so_arts),
        "overname": ev.overname,
        "overname_tekst": OVERNAME[ev.overname],
        "motivering": ev.motivering,
        "advies_aangepast": ev.advies_aangepast,
        "advies_overhandigd": s.definitief.machtiging_advies_delen_bedrijfsarts is not m.Besluit.VERLEEND,
        "klachten": klachten(s, "bedrijfsarts"),
        "andere_arts_binnen_arbodienst": PROFILES[s.profiel].andere_arts_binnen_arbodienst,
        "eigen_arts_blijft": PROFILES[s.profiel].eigen_arts_blijft,
        "vervolgspreekuur": PROFILES[s.profiel].vervolgspreekuur,
        "arbodienst": organisatie_blok(s, "arbodienst")["naam"],
    }


def brief_gewijzigd_advies(s: CaseState, ev: m.BeoordelingAdvies, *, titel: str) -> dict[str, Any]:
    return _base(s, titel=titel, datum=ev.datum, afzender="bedrijfsarts", aan=aan_werkgever(s)) | {
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "bedrijfsarts": _arts(s.verzoek.bedrijfsarts),
        "aangepast_werkadvies": ev.aangepast_werkadvies,
    }


def brief_aan_aanvrager(s: CaseState, *, titel: str, datum: dt.date, aan: dict[str, Any], aanvrager: str
                        ) -> dict[str, Any]:
    """The answer to a requester whose request cannot be handled (`pipeline.core.requester`): only the requester's
    own data; `aanvrager` (werkgever, bedrijfsarts, werknemer) says which alternatives the letter gives."""
    v = s.verzoek
    a = v.arbodienst
    return {
        "kenmerk": s.kenmerk, "datum": dutch.datum(datum), "titel": titel,
        "organisatie": organisatie_blok(s, "arbodienst"),
        "afzender": {"naam": a.naam, "functie": "secretariaat second opinion", "organisatie": a.naam,
                     "big_nummer": LEEG},
        "aan": aan,
        "aanvrager": aanvrager,
        "verzoek_datum": dutch.datum(v.datum),
        "datum_betwist_advies": dutch.datum(v.datum_betwist_advies),
        "niet_de_werknemer": v.verzocht_door.strip().lower() != "werknemer",
        "aanstellingskeuring": v.betreft == "aanstellingskeuring",
    }


CONSENT_LABEL = {
    "medische_gegevens": "het verstrekken van uw medische gegevens aan de second opinion-bedrijfsarts",
    "extra_informatie:bedrijfsarts": "het opvragen van aanvullende informatie bij uw eigen bedrijfsarts",
    "extra_informatie:behandelaar": "het opvragen van aanvullende informatie bij uw behandelaar",
    "extra_informatie:werkgever": "het opvragen van aanvullende informatie bij uw werkgever",
    "advies_delen_bedrijfsarts": "het delen van het second opinion-advies met uw eigen bedrijfsarts",
    "advies_delen_werkgever": "het delen van het werkadvies uit de second opinion met uw werkgever",
}

ONTVANGEN = {
    # what the holder obtained under each consent: (to the employee, to the holder)
    "medische_gegevens": ("De second opinion-bedrijfsarts heeft op grond van deze toestemming de medische gegevens "
                          "uit het aanvraagformulier ontvangen",
                          "U heeft op grond van die toestemming de medische gegevens uit het aanvraagformulier "
                          "ontvangen."),
    "extra_informatie:bedrijfsarts": ("De second opinion-bedrijfsarts heeft op grond van deze toestemming aanvullende "
                                      "informatie opgevraagd bij uw eigen bedrijfsarts",
                                      "U heeft op grond van die toestemming aanvullende informatie opgevraagd bij de "
                                      "eigen bedrijfsarts."),
    "extra_informatie:behandelaar": ("De second opinion-bedrijfsarts heeft op grond van deze toestemming aanvullende "
                                     "informatie opgevraagd bij uw behandelaar",
                                     "U heeft op grond van die toestemming aanvullende informatie opgevraagd bij de "
                                     "behandelaar."),
    "extra_informatie:werkgever": ("De second opinion-bedrijfsarts heeft op grond van deze toestemming aanvullende "
                                   "informatie opgevraagd bij uw werkgever",
                                   "U heeft op grond van die toestemming aanvullende informatie opgevraagd bij de "
                                   "werkgever."),
    "advies_delen_bedrijfsarts": ("Uw eigen bedrijfsarts heeft op grond van deze toestemming een kopie van het "
                                  "second opinion-advies ontvangen",
                                  "U heeft op grond van die toestemming een kopie van het second opinion-advies "
                                  "ontvangen."),
}


def brief_intrekking(s: CaseState, ev: m.Intrekking, *, titel: str, consent: str, holder, melding: bool
                     ) -> dict[str, Any]:
    """The confirmation of a withdrawn consent to the employee, or the notice to the party holding data under it."""
    label = CONSENT_LABEL[consent]
    if melding:
        aan = aan_so(s) if holder.value == "so-bedrijfsarts" else aan_bedrijfsarts(s)
        aanhef = "Geachte collega"
    else:
        aan = aan_werknemer(s)
        aanhef = aan["aanhef"]
    if holder is None:
        gevolg = ("Niemand heeft op grond van deze toestemming gegevens ontvangen; er hoeft dus niemand anders "
                  "bericht te krijgen.")
    else:
        gevolg = (f"{ONTVANGEN[consent][0]} en krijgt bericht van de intrekking: vanaf nu wordt op grond van deze "
                  "toestemming niets meer verstrekt, opgevraagd of gedeeld.")
    org = organisatie_blok(s, "arbodienst")["naam"]
    # signed once by the secretariat of the organisation, not "Secretariaat X / secretariaat … / X"
    secretariaat = {"naam": "Secretariaat bedrijfsgezondheidszorg", "functie": "", "organisatie": org,
                    "big_nummer": LEEG}
    return _base(s, titel=titel, datum=ev.datum, afzender="arbodienst", aan=aan) | {
        "afzender": secretariaat,
        "werknemer": {"naam": werknemer_naam(s.verzoek.werknemer)},
        "aanhef": aanhef,
        "melding": melding,
        "intrekking": {
            "onderwerp": label.replace("uw ", "de ") if melding else label,
            "datum": dutch.datum(ev.datum),
            "gevolg": gevolg,
            "ontvangen": ONTVANGEN.get(consent, ("", ""))[1],
            # after the final advice there is no second opinion left to go on
            "so_loopt": s.definitief is None,
        },
    }


# --- the consent form the employee is to sign (NVAB step 4, step 6) ----------------------------------------------

FORMULIER_WEIGEREN = {
    "medische_gegevens": (
        "U hoeft dit formulier niet te ondertekenen. Zonder uw ondertekende machtiging ontvangt de second "
        "opinion-bedrijfsarts alleen het aanvraagformulier met de vraagstelling en de werkgegevens, met de mededeling "
        "dat u geen machtiging hebt gegeven voor het verstrekken van medische gegevens. Let op: de second "
        "opinion-bedrijfsarts heeft dan mogelijk niet genoeg informatie om de second opinion uit te voeren."),
    "extra_informatie": (
        "U hoeft dit formulier niet te ondertekenen. Zonder uw ondertekende machtiging vraagt de second "
        "opinion-bedrijfsarts deze informatie niet op en baseert het advies op de overige gegevens; de second "
        "opinion-bedrijfsarts heeft dan mogelijk minder informatie voor het advies."),
}

FORMULIER_WACHT = {
    "medische_gegevens": "Zolang wij dit ondertekende formulier niet hebben, worden uw medische gegevens niet aan de "
                         "second opinion-bedrijfsarts verstrekt.",
    "extra_informatie": "Zolang wij dit ondertekende formulier niet hebben, wordt de informatie niet opgevraagd.",
}


def machtigingsformulier(s: CaseState, *, titel: str, datum, soort: str, bron: str = "", vraag: str = "",
                         bestand: str) -> dict[str, Any]:
    """The form the employee signs (on paper or electronically) before medical data or an information request go:
    what, from whom, to whom, purpose, until when, what refusing means, how to withdraw, where to send it.
    `bestand`: the name under which a signed copy is recognised when it comes back into the inbox."""
    onderwerp, handeling = MACHTIGING_TEKST[soort]
    fill = _machtiging_fill(s, bron=bron, vraag=vraag)
    wat, van, aan, doel, _ = (x.format(**fill) for x in MACHTIGING_SPECIFIEK[soort])
    org = organisatie_blok(s, "arbodienst")
    configured = s.arbodienst_org
    email = configured.email if configured is not None and configured.email else None
    adres = ", ".join(org["adresregels"][:2])
    terug = (f"Stuur het ondertekende formulier (of een scan of foto ervan) naar het secretariaat van {org['naam']}, "
             f"{adres}" + (f", of per e-mail aan {email}" if email else "") + f", onder vermelding van kenmerk "
             f"{s.kenmerk}.")
    return _machtiging_partijen(s, titel=titel, datum=datum) | {
        "formulier": {
            "onderwerp": onderwerp.format(**fill),
            "verklaring": dutch.zinseinde(f"Ik geef toestemming dat {handeling.format(**fill)}"),
            "wat": wat, "van": van, "aan": aan, "doel": doel,
            "geldig_tot": "tot de afronding van de second opinion",
            "weigeren": FORMULIER_WEIGEREN[soort],
            "intrekken": _intrekken_bij(s),
            "terugsturen": terug,
            "elektronisch": (f"Ondertekent u liever elektronisch, onderteken dan dit PDF-bestand zelf, zonder er "
                             f"iets aan te veranderen, en stuur het terug onder de naam {bestand}."),
            "wacht": FORMULIER_WACHT[soort],
        },
    }
