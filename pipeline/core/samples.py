"""Complete sample contexts, one per Word template, as `pipeline/core/projection.py` would build them.

All data are fictional (case SO-2026-0042 from `examples/`, the test BSN 111222333): no real people. Each function
returns only the blocks `docs/templates.md` lists for that template, already formatted in Dutch. A document kind
names its sample in the registry (`pipeline.core.kinds`): the tests render every template with it, and
`sopipe templates check` checks a template against it when no variant of the example case makes that document.
"""

from __future__ import annotations

from typing import Any

KENMERK = "SO-2026-0042"

ORGANISATIE = {"naam": "ArboNoord", "adresregels": ["Stationsplein 1", "3511 ED Utrecht"],
               "klachten": "Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord."}
"""Letterhead of documents sent by the own doctor or the arbodienst."""
PRAKTIJK_SO = {"naam": "Arbopraktijk Visser", "adresregels": ["Utrechtseweg 100", "3818 EM Amersfoort"],
               "klachten": "Een klacht kunt u schriftelijk indienen bij Arbopraktijk Visser."}
"""Letterhead of documents sent by the second opinion doctor."""

WERKNEMER = {
    "naam": "M.A. Jansen",
    "geboortedatum": "17 maart 1984",
    "adresregels": ["Lindenlaan 12", "3521 AB Utrecht"],
    "email": "m.jansen@voorbeeld.nl",
    "telefoon": "06-12345678",
    "bsn": "111222333",
    "personeelsnummer": "P-20417",
}
WERKGEVER = {
    "naam": "Bouwbedrijf De Vries B.V.",
    "adresregels": ["Industrieweg 4", "3542 AD Utrecht"],
    "contactpersoon": "H. de Vries",
    "kostenplaats": "KP-310",
}
BEDRIJFSARTS = {
    "naam": "Dr. P. Bakker",
    "big_nummer": "19012345601",
    "organisatie": "ArboNoord",
    "email": "p.bakker@arbonoord.example",
}
SO_BEDRIJFSARTS = {
    "naam": "Dr. E. Visser",
    "big_nummer": "39087654301",
    "organisatie": "Arbopraktijk Visser",
    "email": "e.visser@arbopraktijkvisser.example",
}

BETWIST_ADVIES = ("Werknemer is per 9 november 2026 voor 50% van de contracturen arbeidsgeschikt voor het "
                  "eigen werk.")


def _afzender(arts: dict[str, str], functie: str) -> dict[str, str]:
    return {"naam": arts["naam"], "functie": functie, "organisatie": arts["organisatie"],
            "big_nummer": arts["big_nummer"]}


AFZENDER_BA = _afzender(BEDRIJFSARTS, "bedrijfsarts")
AFZENDER_SO = _afzender(SO_BEDRIJFSARTS, "second opinion-bedrijfsarts")
AFZENDER_SECRETARIAAT = {"naam": "Secretariaat ArboNoord", "functie": "secretariaat bedrijfsgezondheidszorg",
                         "organisatie": "ArboNoord", "big_nummer": "—"}


def _shared(*, datum: str, titel: str, afzender: dict[str, str], aan: dict[str, Any]) -> dict[str, Any]:
    organisatie = PRAKTIJK_SO if afzender is AFZENDER_SO else ORGANISATIE
    return {"kenmerk": KENMERK, "datum": datum, "titel": titel,
            "organisatie": {"naam": organisatie["naam"], "adresregels": list(organisatie["adresregels"]),
                            "klachten": organisatie["klachten"], "logo": ""},
            "afzender": dict(afzender), "aan": aan}


def _aan_werknemer() -> dict[str, Any]:
    return {"naam": WERKNEMER["naam"], "adresregels": list(WERKNEMER["adresregels"]),
            "aanhef": "Geachte heer/mevrouw Jansen"}


def _aan_bedrijfsarts() -> dict[str, Any]:
    return {"naam": BEDRIJFSARTS["naam"], "adresregels": ["ArboNoord", "Stationsplein 1", "3511 ED Utrecht"],
            "aanhef": "Geachte collega"}


def _aan_werkgever() -> dict[str, Any]:
    return {"naam": WERKGEVER["naam"], "adresregels": ["t.a.v. H. de Vries", *WERKGEVER["adresregels"]],
            "aanhef": "Geachte heer/mevrouw De Vries"}


def _naam_geboortedatum() -> dict[str, str]:
    return {"naam": WERKNEMER["naam"], "geboortedatum": WERKNEMER["geboortedatum"]}


# --- the four named documents ------------------------------------------------------------------------------------
def aanvraagformulier(*, medisch_opgenomen: bool = True) -> dict[str, Any]:
    return {
        **_shared(datum="7 november 2026", titel="Aanvraagformulier second opinion", afzender=AFZENDER_BA,
                  aan={"naam": SO_BEDRIJFSARTS["naam"], "adresregels": []}),
        "werknemer": dict(WERKNEMER, adresregels=list(WERKNEMER["adresregels"])),
        "werkgever": dict(WERKGEVER, adresregels=list(WERKGEVER["adresregels"])),
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "betreft": "Verzuimbegeleiding",
        "datum_betwist_advies": "28 oktober 2026",
        "betwist_advies": BETWIST_ADVIES,
        "vraagstelling": ("Is de inschatting juist dat werknemer per 9 november 2026 voor 50% van de contracturen "
                          "belastbaar is in het eigen werk als uitvoerder?"),
        "werkgegevens": ("Uitvoerder bouwplaats, 38 uur per week, wisselende bouwlocaties, leidinggevende taken en "
                         "regelmatig lopen op de bouwplaats."),
        "medisch_opgenomen": medisch_opgenomen,
        "medische_gegevens": ("Lumbosacraal radiculair syndroom rechts sinds augustus 2026; fysiotherapie loopt; "
                              "beperkt in lang staan en tillen.") if medisch_opgenomen else "",
        "medisch_toelichting": (
            "De werknemer heeft op 7 november 2026 toestemming gegeven voor het verstrekken van de relevante "
            "medische gegevens." if medisch_opgenomen else
            "De werknemer heeft geen toestemming gegeven voor het verstrekken van medische gegevens. Dit formulier "
            "bevat daarom alleen de vraagstelling en de werkgegevens."),
        "kosten": ("De second opinion-bedrijfsarts is opgenomen in het arbocontract; de kosten komen voor rekening "
                   "van de werkgever."),
        "keuze_so": ("De werknemer twijfelt aan het hieronder genoemde advies en heeft de second opinion-bedrijfsarts "
                     "in overleg met de eigen bedrijfsarts gekozen."),
        "vraag_door": "De eigen bedrijfsarts heeft de vraagstelling samen met de werknemer opgesteld.",
    }


def machtiging(*, verleend: bool = True) -> dict[str, Any]:
    return {
        **_shared(datum="7 november 2026", titel="Machtiging medische gegevens", afzender=AFZENDER_SECRETARIAAT,
                  aan=_aan_werknemer()),
        "werknemer": _naam_geboortedatum(),
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "machtiging": {
            "onderwerp": "Verstrekken van medische gegevens aan de second opinion-bedrijfsarts",
            "omschrijving": (
                "Ik geef mijn bedrijfsarts, Dr. P. Bakker, toestemming om de medische gegevens die nodig zijn voor "
                "de beantwoording van de vraagstelling te verstrekken aan de second opinion-bedrijfsarts, "
                "Dr. E. Visser (Arbopraktijk Visser). De gegevens worden uitsluitend gebruikt voor deze second "
                "opinion."),
            "verleend": verleend,
            "besluit": "verleend" if verleend else "geweigerd",
            "datum": "7 november 2026",
            "wat": "De medische gegevens die nodig zijn voor de beantwoording van de vraagstelling.",
            "van": "Dr. P. Bakker (ArboNoord), eigen bedrijfsarts",
            "aan": "Dr. E. Visser (Arbopraktijk Visser), second opinion-bedrijfsarts",
            "doel": "Uitsluitend de beantwoording van de vraagstelling in deze second opinion.",
            "geldig_tot": "tot de afronding van de second opinion" if verleend else "—",
            "weigeren": "De second opinion gaat gewoon door, zonder medische gegevens.",
            "wijze": "De werknemer heeft het machtigingsformulier op papier ondertekend.",
            "vastgelegd_door": "J. de Wit, secretariaat ArboNoord",
            "intrekken": ("U kunt deze toestemming op ieder moment intrekken bij het secretariaat van ArboNoord, "
                          "onder vermelding van het kenmerk."),
        },
    }


def brief_intrekking(*, melding: bool = False) -> dict[str, Any]:
    aan = ({"naam": "Dr. E. Visser", "adresregels": ["Arbopraktijk Visser", "e.visser@arbopraktijkvisser.example"]}
           if melding else _aan_werknemer())
    return {
        **_shared(datum="25 november 2026", titel="Bevestiging intrekking toestemming",
                  afzender=AFZENDER_SECRETARIAAT, aan=aan),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "aanhef": "Geachte collega" if melding else "Geachte M.A. Jansen",
        "melding": melding,
        "intrekking": {"onderwerp": "het opvragen van aanvullende informatie bij uw behandelaar",
                       "datum": "25 november 2026",
                       "gevolg": "De second opinion-bedrijfsarts krijgt bericht van de intrekking.",
                       "ontvangen": ("U heeft op grond van die toestemming aanvullende informatie opgevraagd bij de "
                                     "behandelaar."),
                       "so_loopt": True},
    }


def advies(*, concept: bool = False) -> dict[str, Any]:
    return {
        **_shared(datum="19 november 2026" if concept else "24 november 2026",
                  titel="Conceptadvies second opinion" if concept else "Advies second opinion",
                  afzender=AFZENDER_SO, aan=_aan_werknemer()),
        "werknemer": _naam_geboortedatum(),
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "concept": concept,
        "vraagstelling": ("Is de inschatting juist dat werknemer per 9 november 2026 voor 50% van de contracturen "
                          "belastbaar is in het eigen werk als uitvoerder?"),
        "spreekuur": "dinsdag 17 november 2026 om 10.30 uur",
        "bevindingen": ("Beperkingen in langdurig staan en tillen boven 10 kg; verbeterende trend volgens "
                        "behandelaar."),
        "conclusie": "Opbouw naar 50% per 9 november is te snel; 30% met opbouw na vier weken is passend.",
        "onderbouwing": "Gebaseerd op spreekuur, informatie behandelaar en functiebelasting uitvoerder.",
        "werkadvies": "Start met 3 x 4 uur per week in kantoortaken, opbouw na vier weken.",
        "opmerkingen_werknemer": "" if concept else "Datum spreekuur gecorrigeerd.",
        "reactie_uiterlijk": "26 november 2026" if concept else "—",
        "klachten": "Een klacht kunt u schriftelijk indienen bij Arbopraktijk Visser.",
    }


def factuur(*, anoniem: bool = True) -> dict[str, Any]:
    aan = ({"naam": "ArboNoord", "adresregels": ["t.a.v. de crediteurenadministratie", "Stationsplein 1",
                                                 "3511 ED Utrecht"]}
           if anoniem else _aan_werknemer())
    return {
        **_shared(datum="1 december 2026", titel="Factuur", afzender=AFZENDER_SO, aan=aan),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "factuur": {
            "nummer": "AV-2026-118",
            "datum": "1 december 2026",
            "vervaldatum": "31 december 2026",
            "omschrijving": "Second opinion door een second opinion-bedrijfsarts, inclusief spreekuur en rapportage",
            "uren": "3,5",
            "bedrag": "€ 485,00",
            "btw": {"tekst": "Bedrag inclusief 21% btw (€ 84,17).", "belast": True, "tarief": "21%",
                    "bedrag_btw": "€ 84,17", "totaal": "€ 485,00"},
            "datum_dienst": "24 november 2026",
            "kostenplaats": "KP-310" if anoniem else "—",
            "anoniem": anoniem,
            "kenmerk_tonen": True,
            "betaalbaar": True,
            "uitgever": {"naam": "Arbopraktijk Visser", "adresregels": ["Stadsring 88", "3811 HR Amersfoort"],
                         "kvk": "87654321", "iban": "NL20 INGB 0001 2345 67",
                         "iban_nbsp": "NL20\u00a0INGB\u00a00001\u00a02345\u00a067", "btw_nummer": "NL001234567B01"},
            "toelichting": (
                "De second opinion-bedrijfsarts is opgenomen in het arbocontract; de factuur gaat naar de arbodienst, "
                "die de kosten kan doorberekenen aan de werkgever." if anoniem else
                "U heeft gekozen voor een second opinion-bedrijfsarts buiten het arbocontract; de kosten komen "
                "daarom voor uw rekening."),
        },
    }


# --- letters -------------------------------------------------------------------------------------------------------
def brief_weigering() -> dict[str, Any]:
    return {
        **_shared(datum="3 november 2026", titel="Besluit over uw verzoek om een second opinion",
                  afzender=AFZENDER_BA, aan=_aan_werknemer()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "datum_betwist_advies": "28 oktober 2026",
        "betwist_advies": BETWIST_ADVIES,
        "zwaarwegende_reden": ("Over ditzelfde advies is op uw verzoek al een second opinion uitgevoerd; er zijn "
                               "sindsdien geen nieuwe feiten of omstandigheden."),
    }


def brief_uitnodiging() -> dict[str, Any]:
    return {
        **_shared(datum="10 november 2026", titel="Uitnodiging spreekuur second opinion", afzender=AFZENDER_SO,
                  aan=_aan_werknemer()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "spreekuur": "dinsdag 17 november 2026 om 10.30 uur",
        "locatie": "Arbopraktijk Visser, Amersfoort",
        "so_contact": {"postadres": "Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort",
                       "telefoon": "033 765 43 21"},
    }


def brief_informatieverzoek() -> dict[str, Any]:
    return {
        **_shared(datum="17 november 2026", titel="Verzoek om aanvullende informatie", afzender=AFZENDER_SO,
                  aan={"naam": "Fysiotherapie Centrum Oost", "adresregels": ["Oostweg 8", "3531 AA Utrecht"],
                       "aanhef": "Geachte heer, mevrouw"}),
        "werknemer": _naam_geboortedatum(),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "bron_naam": "Fysiotherapie Centrum Oost",
        "bron_naam_zin": "Fysiotherapie Centrum Oost.",
        "vraag": "Wat is het verloop van de belastbaarheid sinds september?",
        "toestemming_datum": "17 november 2026",
        "toestemming_schriftelijk": True,
        "so_contact": {"postadres": "Arbopraktijk Visser, Stadsring 88, 3811 HR Amersfoort",
                       "telefoon": "033 765 43 21"},
    }


def brief_geen_kopie() -> dict[str, Any]:
    return {
        **_shared(datum="24 november 2026", titel="Second opinion afgerond – geen kopie van het advies",
                  afzender=AFZENDER_SO, aan=_aan_bedrijfsarts()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "bedrijfsarts": dict(BEDRIJFSARTS),
    }


def brief_reactie(*, advies_aangepast: bool = True) -> dict[str, Any]:
    return {
        **_shared(datum="27 november 2026", titel="Beoordeling van het second opinion-advies", afzender=AFZENDER_BA,
                  aan=_aan_werknemer()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "overname": "gedeeltelijk",
        "overname_tekst": "Ik neem het advies van de second opinion-bedrijfsarts gedeeltelijk over.",
        "motivering": "Het advies over de opbouw wordt overgenomen; de startdatum blijft 9 november.",
        "advies_aangepast": advies_aangepast,
        "advies_overhandigd": False,
        "klachten": "Een klacht kunt u schriftelijk indienen bij de klachtenfunctionaris van ArboNoord.",
        "andere_arts_binnen_arbodienst": True,
        "eigen_arts_blijft": False,
        "vervolgspreekuur": False,
        "arbodienst": "ArboNoord",
    }


def brief_gewijzigd_advies() -> dict[str, Any]:
    return {
        **_shared(datum="27 november 2026", titel="Aangepast werkadvies", afzender=AFZENDER_BA, aan=_aan_werkgever()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "aangepast_werkadvies": "Vanaf 9 november 3 x 4 uur per week kantoortaken; na vier weken opbouw in overleg.",
    }


def brief_melding_werkgever() -> dict[str, Any]:
    return {
        **_shared(datum="2 november 2026", titel="Advies bedrijfsarts en aanvraag second opinion",
                  afzender=AFZENDER_BA, aan=_aan_werkgever()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "datum_betwist_advies": "28 oktober 2026",
        "betreft": "verzuimbegeleiding",
    }


def brief_nieuwe_beoordeling() -> dict[str, Any]:
    return {
        **_shared(datum="20 november 2026", titel="Uw verzoek om een second opinion", afzender=AFZENDER_SECRETARIAAT,
                  aan=_aan_werknemer()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "datum_betwist_advies": "28 oktober 2026",
    }


def brief_afronding_werkgever(*, werkadvies_gedeeld: bool = True) -> dict[str, Any]:
    return {
        **_shared(datum="24 november 2026", titel="Afronding second opinion", afzender=AFZENDER_SO,
                  aan=_aan_werkgever()),
        "werknemer": {"naam": WERKNEMER["naam"]},
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "werkadvies_gedeeld": werkadvies_gedeeld,
        "werkadvies": ("Start met 3 x 4 uur per week in kantoortaken, opbouw na vier weken."
                       if werkadvies_gedeeld else ""),
    }


def brief_aan_aanvrager() -> dict[str, Any]:
    """Issue 14: the answer to an employer whose request cannot be handled (no employee block at all)."""
    return {
        **_shared(datum="3 november 2026", titel="Uw verzoek om een second opinion", afzender=AFZENDER_SECRETARIAAT,
                  aan=_aan_werkgever()),
        "aanvrager": "werkgever",
        "verzoek_datum": "2 november 2026",
        "datum_betwist_advies": "28 oktober 2026",
        "niet_de_werknemer": True,
        "aanstellingskeuring": False,
    }




def machtigingsformulier() -> dict[str, Any]:
    """The machtiging the employee is to sign (issue 20)."""
    return {
        **_shared(datum="7 november 2026", titel="Machtiging om te ondertekenen", afzender=AFZENDER_SECRETARIAAT,
                  aan=_aan_werknemer()),
        "werknemer": _naam_geboortedatum(),
        "bedrijfsarts": dict(BEDRIJFSARTS),
        "so_bedrijfsarts": dict(SO_BEDRIJFSARTS),
        "formulier": {
            "onderwerp": "Verstrekken van medische gegevens aan de second opinion-bedrijfsarts",
            "verklaring": ("Ik geef toestemming dat mijn bedrijfsarts, Dr. P. Bakker, de medische gegevens die nodig "
                           "zijn voor de beantwoording van de vraagstelling verstrekt aan de second "
                           "opinion-bedrijfsarts, Dr. E. Visser (Arbopraktijk Visser)."),
            "wat": "De medische gegevens die nodig zijn voor de beantwoording van de vraagstelling.",
            "van": "Dr. P. Bakker (ArboNoord), eigen bedrijfsarts",
            "aan": "Dr. E. Visser (Arbopraktijk Visser), second opinion-bedrijfsarts",
            "doel": "Uitsluitend de beantwoording van de vraagstelling in deze second opinion.",
            "geldig_tot": "tot de afronding van de second opinion",
            "weigeren": ("U hoeft dit formulier niet te ondertekenen. Let op: de second opinion-bedrijfsarts heeft "
                         "dan mogelijk niet genoeg informatie om de second opinion uit te voeren."),
            "intrekken": "Waar: schriftelijk of per e-mail bij het secretariaat van ArboNoord.",
            "terugsturen": "Stuur het ondertekende formulier naar het secretariaat van ArboNoord.",
            "elektronisch": "Onderteken dit PDF-bestand zelf, zonder het te wijzigen.",
            "wacht": "Zolang wij dit ondertekende formulier niet hebben, worden uw medische gegevens niet verstrekt.",
        },
    }

