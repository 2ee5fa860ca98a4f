"""The procedure as a pure function: given a case's state and one event, what to make and where it goes.

`decide(state, event)` either returns the new state and the document orders (what to render, sign and deliver
to which mailbox on which consent), or raises `ProcedureError` with the rule that was broken. It does no I/O:
the shell (`pipeline.shell.runner`) carries the orders out. `fold(events)` rebuilds a state from stored events.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from pipeline.core import model as m
from pipeline.core.kinds import ROWS, Row, Signer, letters_for
from pipeline.core.organisaties import Facts, issuer, missing_for_invoice
from pipeline.core.profiles import PROFILES, Profile
from pipeline.core.routing import (INVOICE_FOLDER, Party, consent_slug, file_name, form_kind, invoice_reference,
                                   organisation_code, unlinkable)
from pipeline.core.state import CaseState, Consent, SignedForm, consent_name, needs_signature
from pipeline.errors import ProcedureError


@dataclass(frozen=True)
class SignOrder:
    """Who signs a document and what the visible signature block says."""
    wie: Signer
    naam: str
    rol: str
    big_nummer: str | None
    organisatie: str
    reden: str
    certify: bool
    plaats: str = ""
    """Place of signing shown in the block: the place of the organisation the signer acts for, from the master
    data (`[organisaties]`), else the arbodienst's address in the case file; empty when neither says it."""


@dataclass(frozen=True)
class Delivery:
    party: Party
    consent: str | None
    """Consent that must be granted at the moment of delivery, or None."""


@dataclass(frozen=True)
class DocumentOrder:
    kenmerk: str
    row: Row
    context: Mapping[str, Any]
    deliveries: tuple[Delivery, ...]
    sign: SignOrder | None
    referentie: str | None = None
    """The document's own reference when it must not carry the kenmerk (the employer's anonymous invoice, see
    `routing.unlinkable`): its file name, folder and PDF metadata use this instead."""

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def reference(self) -> str:
        """What identifies the document in its title, keywords and file name: its own reference or the kenmerk."""
        return self.referentie or self.kenmerk

    @property
    def title(self) -> str:
        """PDF title: document kind + reference, never a template's own property."""
        return f"{self.row.titel} {self.reference}"

    def folder_key(self, party: Party) -> str:
        """The folder below the recipient's mailbox: the case's kenmerk, or the employer's invoice folder."""
        return INVOICE_FOLDER if self.referentie and unlinkable(self.row, party) else self.kenmerk

    def file_name(self, party: Party | None = None) -> str:
        """`<kenmerk>_<kind>.pdf`; the employer's unlinkable copy `<referentie>_<kind>.pdf` (the archive keeps
        the case's name: its folder is the case's)."""
        if self.referentie and party is not None and unlinkable(self.row, party):
            return file_name(self.referentie, self.kind)
        return file_name(self.kenmerk, self.kind)

    @property
    def author(self) -> str:
        return self.context["organisatie"]["naam"]


@dataclass(frozen=True)
class Decision:
    state: CaseState
    orders: tuple[DocumentOrder, ...]


def _refuse(ev, rule: str, message: str, field: str | None = None):
    raise ProcedureError(message, kenmerk=ev.kenmerk, field=field, rule=rule)


def _order(s: CaseState, kind: str, *args: Any, sign: SignOrder | None = None, extra_consent: str | None = None,
           **projection: Any) -> DocumentOrder:
    """The order for a document of `kind`: its context from the kind's projection (`args`, `projection` and the
    kind's title), its deliveries from the kind's routes (`extra_consent` needed by all but the archive)."""
    row = ROWS[kind]
    deliveries = tuple(Delivery(party, consent or (None if party is Party.ARCHIEF else extra_consent))
                       for party, consent in row.routes)
    return DocumentOrder(s.kenmerk, row, row.projection(s, *args, titel=row.titel, **projection), deliveries, sign)


def _letters(s: CaseState, ev) -> list[DocumentOrder]:
    """The plain letters of the event's step whose condition holds (`kinds.Row.step`, `Row.when`), in the
    registry's order: after the step's own documents."""
    return [_order(s, row.kind, ev) for row in letters_for(ev.stap) if row.when is None or row.when(s, ev)]


def signing_place(s: CaseState, signer: Signer) -> str:
    """Where `signer` signs: the SO doctor at the configured practice (`so_bedrijfsarts.praktijk`), the seal and the
    own doctor at the arbodienst (configured by `arbodienst.code`, else its address in the case file)."""
    if signer is Signer.SO_BEDRIJFSARTS:
        return s.praktijk.plaats if s.praktijk is not None else ""
    org = s.arbodienst_org
    return org.plaats if org is not None else s.verzoek.arbodienst.adres.plaats


def _seal(s: CaseState, reden: str) -> SignOrder:
    a = s.verzoek.arbodienst
    return SignOrder(Signer.ZEGEL, a.naam, Signer.ZEGEL.rol, None, a.naam, reden, certify=True,
                     plaats=signing_place(s, Signer.ZEGEL))


def _so_signature(s: CaseState) -> SignOrder:
    so, wie = s.so_arts, Signer.SO_BEDRIJFSARTS
    return SignOrder(wie, so.naam, wie.rol, so.big_nummer, so.organisatie, wie.reden, certify=False,
                     plaats=signing_place(s, wie))


def _own_doctor_signature(s: CaseState) -> SignOrder:
    """The own doctor signs the request form personally (LPBSO: only a registered bedrijfsarts may request a
    second opinion; the task cannot be delegated)."""
    b, wie = s.verzoek.bedrijfsarts, Signer.BEDRIJFSARTS
    return SignOrder(wie, b.naam, wie.rol, b.big_nummer, b.organisatie, wie.reden, certify=False,
                     plaats=signing_place(s, wie))


def personal_sign_order(s: CaseState, signer: Signer) -> SignOrder:
    """The order for a doctor's personal signature in case `s`, as `decide` gives it (`sopipe sign` reuses it)."""
    if signer is Signer.SO_BEDRIJFSARTS:
        return _so_signature(s)
    if signer is Signer.BEDRIJFSARTS:
        return _own_doctor_signature(s)
    raise ValueError(f"{signer} is not a personal signature")


def _norm_org(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\b(b\.?v\.?|n\.?v\.?|v\.?o\.?f\.?)\b", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text)


# --- allowed order of steps ------------------------------------------------------------------------------------

def allowed_steps(s: CaseState | None) -> set[str]:
    """The steps that may come next (intrekking aside)."""
    if s is None:
        return {"verzoek"}
    if s.gesloten is not None:
        return set()
    if s.beoordeling is None:
        return {"beoordeling"}
    if s.selectie is None:
        return {"selectie"}
    if s.beschikbaar is not True and s.aanvraag is None:
        if s.beschikbaar is False and s.so_arts is None:
            return {"selectie"}
        return {"beschikbaarheid"}
    if s.aanvraag is None:
        return {"aanvraag"}
    if s.uitvoering is None:
        return {"uitvoering"}
    if s.concept is None:
        return {"extra_informatie", "conceptadvies"} | (set() if s.spreekuur_gehouden else {"spreekuur_gehouden"})
    if s.definitief is None:
        return {"definitief_advies"}
    nxt = set()
    if s.beoordeling_advies is None:
        nxt.add("beoordeling_advies")
    if s.facturatie is None:
        nxt.add("facturatie")
    return nxt


STAP_LABEL = {
    "verzoek": "het verzoek (stap 1)", "beoordeling": "de beoordeling van het verzoek (stap 2)",
    "selectie": "de keuze van de second opinion-bedrijfsarts (stap 3)",
    "beschikbaarheid": "het antwoord van de second opinion-bedrijfsarts over de beschikbaarheid (stap 3)",
    "aanvraag": "de aanvraag bij de second opinion-bedrijfsarts (stap 4)", "uitvoering": "het spreekuur (stap 5)",
    "spreekuur_gehouden": "het bericht dat het spreekuur heeft plaatsgevonden (stap 5)",
    "extra_informatie": "extra informatie (stap 6)", "conceptadvies": "het conceptadvies (stap 7)",
    "definitief_advies": "het definitieve advies (stap 8)", "beoordeling_advies": "de beoordeling van het advies (stap 9)",
    "facturatie": "de facturatie (stap 10)", "intrekking": "een intrekking van toestemming",
    "machtiging_ontvangen": "de ontvangst van een ondertekende machtiging",
    "machtiging_ondertekend": "de vastlegging van een ondertekende machtiging",
}


def _check_order(s: CaseState | None, ev) -> None:
    if s is None and ev.stap != "verzoek":
        _refuse(ev, "onbekende-zaak",
                f"Er is geen zaak met kenmerk {ev.kenmerk}. Een zaak begint altijd met een verzoek (stap 1).",
                "kenmerk")
    if s is not None and ev.stap == "verzoek":
        _refuse(ev, "zaak-bestaat-al", f"Er bestaat al een zaak met kenmerk {ev.kenmerk}; een nieuw verzoek "
                "heeft een eigen kenmerk nodig.", "kenmerk")
    if s is not None and ev.datum < s.laatste_datum:
        _refuse(ev, "datum-volgorde", f"De datum {ev.datum.isoformat()} ligt vóór de vorige stap van deze zaak "
                f"({s.laatste_datum.isoformat()}).", "datum")
    if ev.stap in ("intrekking", "machtiging_ontvangen", "machtiging_ondertekend"):
        return
    allowed = allowed_steps(s)
    if ev.stap not in allowed:
        if s is not None and s.gesloten:
            _refuse(ev, "zaak-gesloten", f"De zaak {ev.kenmerk} is afgesloten ({s.gesloten}); er kan geen "
                    f"{STAP_LABEL[ev.stap]} meer volgen.", "stap")
        if not allowed:
            _refuse(ev, "zaak-afgerond", f"De zaak {ev.kenmerk} is al afgerond; {STAP_LABEL[ev.stap]} is niet "
                    "meer mogelijk.", "stap")
        verwacht = " of ".join(STAP_LABEL[x] for x in sorted(allowed, key=m.STAPPEN.index))
        _refuse(ev, "stap-volgorde", f"Stap '{ev.stap}' komt hier niet aan de beurt: de zaak wacht op {verwacht}.",
                "stap")


# --- per step ---------------------------------------------------------------------------------------------------

def _verzoek(ev: m.Verzoek, profile: Profile, facts: Facts | None = None) -> Decision:
    if ev.verzocht_door != "werknemer":
        _refuse(ev, "alleen-werknemer", "Alleen de werknemer kan om een second opinion vragen; dit verzoek komt "
                f"van '{ev.verzocht_door}' (Arbobesluit art. 2.14d).", "verzocht_door")
    if ev.betreft == "aanstellingskeuring":
        _refuse(ev, "aanstellingskeuring", "Een second opinion is niet mogelijk bij een advies over een "
                "aanstellingskeuring.", "betreft")
    if ev.via not in profile.via_toegestaan:
        toegestaan = ", ".join(x or "rechtstreeks" for x in profile.via_toegestaan)
        _refuse(ev, "ontvanger-verzoek", f"In het profiel {profile.naam} kan het verzoek niet via "
                f"'{ev.via}' binnenkomen (toegestaan: {toegestaan}).", "via")
    if ev.datum_betwist_advies > ev.datum:
        _refuse(ev, "datum-betwist-advies", "Het betwiste advies is gedateerd na het verzoek.",
                "datum_betwist_advies")
    s = CaseState(kenmerk=ev.kenmerk, profiel=ev.profiel, verzoek=ev, stappen=("verzoek",), laatste_datum=ev.datum)
    if facts is not None:
        s = replace(s, organisaties=facts.organisaties)
    if profile.verzoektermijn_dagen is not None and \
            (ev.datum - ev.datum_betwist_advies).days > profile.verzoektermijn_dagen:
        s = replace(s, gesloten="verzoek later dan twee weken na het besluit: nieuwe beoordeling gepland")
    return Decision(s, ())


def _beoordeling(s: CaseState, ev: m.Beoordeling) -> Decision:
    s = replace(s, beoordeling=ev)
    if ev.uitkomst == "geweigerd":
        if not ev.zwaarwegende_reden or len(ev.zwaarwegende_reden.split()) < 3:
            _refuse(ev, "weigering-zonder-reden", "Een second opinion mag alleen worden geweigerd om een "
                    "zwaarwegende reden, en die moet gemotiveerd worden vastgelegd: vul 'zwaarwegende_reden' in "
                    "met de motivering.", "zwaarwegende_reden")
        return Decision(replace(s, gesloten="verzoek geweigerd om een zwaarwegende reden"), ())
    if ev.zwaarwegende_reden:
        _refuse(ev, "reden-zonder-weigering", "Er is een zwaarwegende reden ingevuld, maar de uitkomst is niet "
                "'geweigerd'.", "zwaarwegende_reden")
    if ev.uitkomst == "alternatief_geadviseerd":
        if not ev.alternatief:
            _refuse(ev, "alternatief-ontbreekt", "Bij 'alternatief_geadviseerd' hoort het geadviseerde "
                    "alternatief (bijvoorbeeld een deskundigenoordeel bij UWV).", "alternatief")
        if ev.werknemer_wil_toch is None:
            _refuse(ev, "keuze-werknemer-ontbreekt", "Geef met 'werknemer_wil_toch' aan of de werknemer de "
                    "second opinion toch wil.", "werknemer_wil_toch")
        if ev.werknemer_wil_toch is False:
            s = replace(s, gesloten="werknemer kiest voor het geadviseerde alternatief")
    return Decision(s, ())


def _selectie(s: CaseState, ev: m.Selectie) -> Decision:
    eigen = {_norm_org(s.verzoek.bedrijfsarts.organisatie), _norm_org(s.verzoek.arbodienst.naam)}
    for veld, arts in (("so_bedrijfsarts", ev.so_bedrijfsarts), ("tweede_keuze", ev.tweede_keuze)):
        if arts is None:
            continue
        if _norm_org(arts.organisatie) in eigen or arts.big_nummer == s.verzoek.bedrijfsarts.big_nummer:
            _refuse(ev, "onafhankelijkheid", f"{arts.naam} werkt bij {arts.organisatie}, dezelfde organisatie "
                    "als de eigen bedrijfsarts. De second opinion-bedrijfsarts moet van een andere arbodienst of "
                    "organisatie zijn (Arbobesluit art. 2.14d).", f"{veld}.organisatie")
    return Decision(replace(s, selectie=ev, keuze=0, beschikbaar=None), ())


def _beschikbaarheid(s: CaseState, ev: m.Beschikbaarheid) -> Decision:
    if ev.beschikbaar:
        return Decision(replace(s, beschikbaar=True), ())
    if s.keuze == 0 and s.selectie.tweede_keuze is not None:
        return Decision(replace(s, keuze=1, beschikbaar=None), ())
    return Decision(replace(s, keuze=2, beschikbaar=False), ())


def _aanvraag(s: CaseState, ev: m.Aanvraag, profile: Profile) -> Decision:
    verleend = ev.machtiging_medische_gegevens is m.Besluit.VERLEEND
    if verleend and not ev.medische_gegevens:
        _refuse(ev, "medische-gegevens-ontbreken", "De machtiging voor medische gegevens is verleend, maar "
                "'medische_gegevens' is leeg.", "medische_gegevens")
    consent = _given(ev, "medische_gegevens", ev.machtiging_medische_gegevens, ev.bewijs)
    s = replace(s, aanvraag=ev).with_consent("medische_gegevens", consent)
    orders = []
    sign = _own_doctor_signature(s)
    if verleend and (profile.medisch_pas_na_spreekuur or consent is Consent.GEVRAAGD):
        # the SO doctor gets the form without medical data now, the medical data later as their own form: after
        # the consultation (Preventix), once the signed machtiging is in the dossier (NVAB step 4)
        s = replace(s, medisch_apart=True)
        orders.append(_order(s, "aanvraagformulier-zonder-medische-gegevens", datum=ev.datum, medisch=False,
                             sign=sign))
        form = _order(s, "aanvraagformulier", datum=ev.datum, medisch=True, sign=sign)
        # everyone but the SO doctor gets the full form now
        form = replace(form, deliveries=tuple(d for d in form.deliveries if d.party is not Party.SO_BEDRIJFSARTS))
        orders.append(form)
    else:
        s = replace(s, medisch_naar_so=verleend)
        orders.append(_order(s, "aanvraagformulier", datum=ev.datum, medisch=verleend, sign=sign))
    if consent is Consent.GEVRAAGD:
        orders.append(_form_to_sign(s, "medische_gegevens", datum=ev.datum))
    else:
        orders.append(_record_medisch(s))
    return Decision(s, tuple(orders))


def _record_medisch(s: CaseState) -> DocumentOrder:
    """The sealed record of the employee's decision on medical data, as the dossier holds it now."""
    a = s.aanvraag
    return _order(s, "machtiging-medische-gegevens", datum=a.datum, soort="medische_gegevens",
                  besluit=a.machtiging_medische_gegevens, bewijs=a.bewijs, ingediend_door=a.ingediend_door,
                  formulier=s.formulieren.get("medische_gegevens"),
                  sign=_seal(s, "Vastlegging machtiging medische gegevens"))


def _uitvoering(s: CaseState, ev: m.Uitvoering) -> Decision:
    if ev.spreekuur.date() < ev.datum:
        _refuse(ev, "spreekuur-verleden", "Het spreekuur ligt vóór de datum van dit bericht.", "spreekuur")
    return Decision(replace(s, uitvoering=ev), ())


def _spreekuur_gehouden(s: CaseState, ev: m.SpreekuurGehouden, profile: Profile) -> Decision:
    if ev.datum < s.uitvoering.spreekuur.date():
        _refuse(ev, "spreekuur-nog-niet-gehouden", "Het spreekuur is gepland op "
                f"{s.uitvoering.spreekuur.date().isoformat()}; het kan niet op {ev.datum.isoformat()} al hebben "
                "plaatsgevonden.", "datum")
    if ev.medische_gegevens_opvragen is not None and not profile.medisch_pas_na_spreekuur:
        _refuse(ev, "opvragen-niet-in-profiel", "'medische_gegevens_opvragen' hoort alleen bij het profiel "
                "Preventix (daar gaan medische gegevens pas na het spreekuur naar de second opinion-bedrijfsarts); "
                "laat het veld weg.", "medische_gegevens_opvragen")
    return Decision(replace(s, spreekuur_gehouden=ev), ())


BRON_LABEL = {"bedrijfsarts": "de eigen bedrijfsarts", "werkgever": "de werkgever", "behandelaar": "de behandelaar"}


def _extra_informatie(s: CaseState, ev: m.ExtraInformatie) -> Decision:
    name = f"extra_informatie:{ev.bron}"
    consent = _given(ev, name, ev.toestemming, ev.bewijs)
    s = replace(s, extra=s.extra + (ev,)).with_consent(name, consent)
    if consent is Consent.GEVRAAGD:  # the request waits for the signed form (a treating physician needs it)
        return Decision(s, (_form_to_sign(s, name, datum=ev.datum, extra=ev),))
    return Decision(s, tuple(_extra_orders(s, ev)))


def _extra_orders(s: CaseState, ev: m.ExtraInformatie) -> list[DocumentOrder]:
    """The sealed record of the consent for this source and, when it may go, the information request."""
    name = f"extra_informatie:{ev.bron}"
    orders = [_order(s, "machtiging-extra-informatie", datum=ev.datum, soort="extra_informatie",
                     besluit=ev.toestemming, bron=_bron(ev), vraag=ev.vraag, bewijs=ev.bewijs,
                     ingediend_door=ev.ingediend_door, formulier=s.formulieren.get(name),
                     sign=_seal(s, "Vastlegging machtiging aanvullende informatie"))]
    if s.heeft_toestemming(name):
        kind = {"bedrijfsarts": "informatieverzoek-bedrijfsarts", "werkgever": "informatieverzoek-werkgever",
                "behandelaar": "informatieverzoek"}[ev.bron]
        # every copy of the request needs the consent for this source at the moment of delivery
        orders.append(_order(s, kind, ev, extra_consent=name))
    return orders


def _bron(ev: m.ExtraInformatie) -> str:
    return f"{BRON_LABEL[ev.bron]} ({ev.bron_naam})"


def _conceptadvies(s: CaseState, ev: m.Conceptadvies) -> Decision:
    return Decision(replace(s, concept=ev), ())


def _definitief(s: CaseState, ev: m.DefinitiefAdvies, profile: Profile) -> Decision:
    if ev.machtiging_advies_delen_werkgever is not None and not profile.advies_delen_werkgever:
        _refuse(ev, "delen-werkgever-niet-in-profiel", "Het advies delen met de werkgever kan alleen in het "
                "profiel VSD; laat 'machtiging_advies_delen_werkgever' weg.", "machtiging_advies_delen_werkgever")
    s = replace(s, definitief=ev).with_consent("advies_delen_bedrijfsarts", _given(
        ev, "advies_delen_bedrijfsarts", ev.machtiging_advies_delen_bedrijfsarts, ev.bewijs))
    if ev.machtiging_advies_delen_werkgever is not None:
        s = s.with_consent("advies_delen_werkgever", _given(
            ev, "advies_delen_werkgever", ev.machtiging_advies_delen_werkgever, ev.bewijs))
    return Decision(s, (
        _order(s, "advies", ev, sign=_so_signature(s)),
        _order(s, "machtiging-advies-delen", datum=ev.datum, soort="advies_delen_bedrijfsarts",
               besluit=ev.machtiging_advies_delen_bedrijfsarts, bewijs=ev.bewijs, ingediend_door=ev.ingediend_door,
               sign=_seal(s, "Vastlegging machtiging delen advies"))))


def _beoordeling_advies(s: CaseState, ev: m.BeoordelingAdvies) -> Decision:
    if ev.advies_aangepast and not ev.aangepast_werkadvies:
        _refuse(ev, "aangepast-werkadvies-ontbreekt", "Het advies is aangepast: vul 'aangepast_werkadvies' in "
                "(alleen het werkadvies voor de werkgever, zonder medische gegevens).", "aangepast_werkadvies")
    if not ev.advies_aangepast and ev.aangepast_werkadvies:
        _refuse(ev, "werkadvies-zonder-aanpassing", "Er is een aangepast werkadvies ingevuld, maar "
                "'advies_aangepast' is false.", "advies_aangepast")
    d = s.definitief
    gedeeld = d.machtiging_advies_delen_bedrijfsarts is m.Besluit.VERLEEND
    if not gedeeld and not ev.advies_overhandigd:
        _refuse(ev, "advies-niet-ontvangen", "De eigen bedrijfsarts kan het advies niet beoordelen: de werknemer "
                "heeft geen toestemming gegeven het advies met de eigen bedrijfsarts te delen, en volgens dit bestand "
                "heeft de werknemer het advies ook niet zelf overhandigd. Heeft de werknemer het advies wel zelf "
                "gegeven, zet dan \"advies_overhandigd\": true in het bestand; anders volgt er geen beoordeling.",
                "advies_overhandigd")
    return Decision(replace(s, beoordeling_advies=ev), ())


def _facturatie(s: CaseState, ev: m.Facturatie) -> Decision:
    s = replace(s, facturatie=ev)
    so = s.so_arts
    praktijk = so.praktijk or ev.praktijk or organisation_code(code=None, kvk_nummer=None, naam=so.organisatie)
    referentie = invoice_reference(praktijk, ev.factuurnummer)

    def order(kind: str, debiteur: str) -> DocumentOrder:
        row = ROWS[kind]
        own = unlinkable(row, Party.WERKGEVER)
        made = _order(s, kind, ev, debiteur=debiteur, zonder_kenmerk=own)
        return replace(made, referentie=referentie) if own else made

    if s.so_arts.in_arbocontract:
        orders = [order("factuur", "arbodienst"), order("doorbelasting-werkgever", "werkgever-doorbelasting")]
    elif s.selectie.werkgever_vergoedt:
        orders = [order("factuur-werkgever", "werkgever"), order("kostenoverzicht-werknemer", "werknemer-info")]
    else:
        orders = [order("factuur-werknemer", "werknemer")]
    return Decision(s, tuple(orders))


def _intrekking(s: CaseState, ev: m.Intrekking) -> Decision:
    if ev.machtiging == "extra_informatie" and ev.bron is None:
        _refuse(ev, "bron-ontbreekt", "Bij het intrekken van toestemming voor extra informatie hoort de bron "
                "('bron': bedrijfsarts, behandelaar of werkgever).", "bron")
    if ev.machtiging != "extra_informatie" and ev.bron is not None:
        _refuse(ev, "bron-onnodig", "'bron' hoort alleen bij het intrekken van toestemming voor extra informatie.",
                "bron")
    name = consent_name(ev)
    if s.consent(name) not in (Consent.VERLEEND, Consent.ONDERTEKEND, Consent.GEVRAAGD):
        _refuse(ev, "geen-toestemming", f"Er is geen verleende toestemming '{name}' om in te trekken.",
                "machtiging")
    holder = _holder(s, name)
    s = s.with_consent(name, Consent.INGETROKKEN)
    slug = consent_slug(name)
    kind = f"intrekking-{slug}"
    orders = [_order(s, kind, ev, consent=name, holder=holder, melding=False)]
    if holder is not None:
        melding = _order(s, f"intrekking-melding-{slug}", ev, consent=name, holder=holder, melding=True)
        orders.append(replace(melding, deliveries=tuple(d for d in melding.deliveries
                                                        if d.party in (holder, Party.ARCHIEF))))
    return Decision(s, tuple(orders))


def _holder(s: CaseState, consent: str) -> Party | None:
    """The party that holds data obtained under `consent` (PROCEDURE.md: it is told of the withdrawal)."""
    if consent == "medische_gegevens":
        return Party.SO_BEDRIJFSARTS if s.medisch_naar_so else None
    if consent.startswith("extra_informatie:"):
        return Party.SO_BEDRIJFSARTS  # the information request went out under this consent
    if consent == "advies_delen_bedrijfsarts":
        return Party.BEDRIJFSARTS if s.definitief is not None else None
    return None  # advies_delen_werkgever: the employer is never sent a notice about medical consents


# --- the consent cycle: asked, signed, refused, withdrawn -------------------------------------------------------

def _given(ev, name: str, besluit: m.Besluit, bewijs: m.MachtigingBewijs | None) -> Consent:
    """Where a consent a case file reports stands: refused; given, and the signed form in the dossier or not
    needed; or given but still to be signed (`gevraagd`: nothing that needs it goes until the form is back)."""
    if bewijs is not None and bewijs.vindplaats and bewijs.wijze == "mondeling_bevestigd":
        _refuse(ev, "vindplaats-zonder-formulier", "Bij een mondeling gegeven toestemming is er geen ondertekend "
                "formulier om te bewaren: laat 'vindplaats' weg, of kies bij 'wijze' hoe het formulier is "
                "ondertekend (papier_gescand of elektronisch_ondertekend).", "bewijs.vindplaats")
    if besluit is m.Besluit.GEWEIGERD:
        return Consent.GEWEIGERD
    if not needs_signature(name):
        return Consent.VERLEEND
    kept = bewijs is not None and bewijs.vindplaats is not None  # where the signed form is, stated by a named person
    return Consent.ONDERTEKEND if kept else Consent.GEVRAAGD


def _form_to_sign(s: CaseState, name: str, *, datum, extra: m.ExtraInformatie | None = None) -> DocumentOrder:
    """The machtiging the employee is to sign for `name`, to the employee's mailbox (and the dossier)."""
    kind = form_kind(name)
    soort = name.split(":")[0]
    return _order(s, kind, datum=datum, soort=soort, bron=_bron(extra) if extra else "",
                  vraag=extra.vraag if extra else "", bestand=file_name(s.kenmerk, kind))


def signed_consent(s: CaseState, announced: str) -> str | None:
    """The consent a returned signed form signs, from the name it came with: that consent when the case has it;
    for a family name (`extra_informatie`, `advies_delen`) the one of that family still waiting for its form,
    else the only one of that family; None when that cannot be told (two sources wait)."""
    if announced in s.consents:
        return announced
    family = [n for n in s.consents if n.startswith((announced + ":", announced + "_"))]
    waiting = [n for n in family if s.consents[n] is Consent.GEVRAAGD]
    if len(waiting) == 1:
        return waiting[0]
    if not waiting and len(family) == 1:
        return family[0]
    return None if waiting else announced


def _machtiging_ontvangen(s: CaseState, ev: m.MachtigingOntvangen, profile: Profile) -> Decision:
    """The employee's signed form is in the dossier now. When its consent waited for it (`gevraagd`), what waited
    goes: the sealed record stating the form, and the medical data (unless Preventix' consultation is still to
    come, or the advice is final) or the information request (while no draft advice is written)."""
    name = ev.machtiging
    s = replace(s, formulieren=MappingProxyType({**s.formulieren, name: SignedForm(
        name, ev.bestand, ev.ontvangen, ev.gescand)}))
    if s.consent(name) is not Consent.GEVRAAGD:
        return Decision(s, ())  # archived beside a record made already (or a withdrawn consent): nothing waits on it
    return _release(s, name, profile)


def _machtiging_ondertekend(s: CaseState, ev: m.MachtigingOndertekend, profile: Profile) -> Decision:
    """The secretariat records that the employee signed a machtiging still to be signed, and where the form is
    kept: the same release as when the form itself comes back, the record stating that place."""
    if (ev.machtiging == "extra_informatie") != (ev.bron is not None):
        _refuse(ev, "bron-ontbreekt" if ev.bron is None else "bron-onnodig", "'bron' hoort bij een machtiging voor "
                "extra informatie (bedrijfsarts, behandelaar of werkgever), en alleen daar.", "bron")
    if not ev.bewijs.vindplaats or ev.bewijs.wijze == "mondeling_bevestigd":
        _refuse(ev, "vindplaats-ontbreekt", "Vermeld in 'bewijs' hoe de werknemer heeft ondertekend "
                "(papier_gescand of elektronisch_ondertekend) en in 'vindplaats' waar het ondertekende formulier "
                "wordt bewaard; anders is de schriftelijke toestemming niet aantoonbaar.", "bewijs.vindplaats")
    name = ev.machtiging if ev.bron is None else f"extra_informatie:{ev.bron}"
    if s.consent(name) is not Consent.GEVRAAGD:
        staat = s.consent(name).value if s.consent(name) else "niet gevraagd"
        _refuse(ev, "niets-te-ondertekenen", f"Voor '{name}' wacht geen machtiging op ondertekening (de toestemming "
                f"is {staat}).", "machtiging")
    if name == "medische_gegevens":
        s = replace(s, aanvraag=s.aanvraag.model_copy(update={"bewijs": ev.bewijs}))
    else:
        i = max(i for i, e in enumerate(s.extra) if e.bron == ev.bron)
        s = replace(s, extra=s.extra[:i] + (s.extra[i].model_copy(update={"bewijs": ev.bewijs}),) + s.extra[i + 1:])
    return _release(s, name, profile)


def _release(s: CaseState, name: str, profile: Profile) -> Decision:
    """The written consent for `name` is in the dossier now: what waited for it goes."""
    s = s.with_consent(name, Consent.ONDERTEKEND)
    if name == "medische_gegevens":
        orders = [_record_medisch(s)]
        gesprek = s.spreekuur_gehouden
        after_consultation = gesprek is not None and gesprek.medische_gegevens_opvragen is not False
        if s.definitief is None and (not profile.medisch_pas_na_spreekuur or after_consultation):
            s = replace(s, medisch_naar_so=True)
            orders.append(_medical_form(s))
        return Decision(s, tuple(orders))
    bron = name.split(":", 1)[1]
    extra = next(e for e in reversed(s.extra) if e.bron == bron)
    orders = _extra_orders(s, extra)
    if s.concept is not None:  # the draft advice is written: too late to ask
        orders = orders[:1]
    return Decision(s, tuple(orders))


def _medical_form(s: CaseState) -> DocumentOrder:
    """The request form with medical data for the SO doctor, dated as the request, sent on now."""
    return _order(s, "medische-gegevens", datum=s.aanvraag.datum, medisch=True, sign=_own_doctor_signature(s))


def _preventix_release(s: CaseState, ev) -> tuple[CaseState, list[DocumentOrder]]:
    """Preventix: medical data reach the SO doctor only once the employee has met the SO doctor (PROCEDURE.md,
    profile table). The trigger is the `spreekuur_gehouden` event, when employee and SO doctor decided to ask for
    them; a case without that event gets them with its first event dated on or after the consultation day."""
    if (s.aanvraag is None or s.medisch_naar_so or s.uitvoering is None
            or ev.datum < s.uitvoering.spreekuur.date() or not s.heeft_toestemming("medische_gegevens")):
        return s, []
    gesprek = s.spreekuur_gehouden
    if gesprek is not None and (ev is not gesprek or gesprek.medische_gegevens_opvragen is False):
        return s, []  # released with that event, or not asked for: never with a later one
    s = replace(s, medisch_naar_so=True)
    # the form is the request of the aanvraag date, sent on now that the employee has met the SO doctor
    return s, [_medical_form(s)]


def _check_references(state: CaseState | None, ev, facts: Facts) -> None:
    """Every master-data code the event refers to is configured; an invoice number is new for its issuer."""
    refs = []
    if ev.stap == "verzoek" and ev.arbodienst.code:
        refs.append(("arbodienst.code", ev.arbodienst.code, "de arbodienst"))
    if ev.stap == "selectie":
        for veld, arts in (("so_bedrijfsarts", ev.so_bedrijfsarts), ("tweede_keuze", ev.tweede_keuze)):
            if arts is not None and arts.praktijk:
                refs.append((f"{veld}.praktijk", arts.praktijk, f"de praktijk van {arts.naam}"))
    if ev.stap == "facturatie" and ev.praktijk:
        refs.append(("praktijk", ev.praktijk, "de praktijk die factureert"))
    for veld, code, wie in refs:
        if code not in facts.organisaties:
            bekend = ", ".join(sorted(facts.organisaties)) or "geen"
            _refuse(ev, "onbekende-organisatie", f"De code '{code}' voor {wie} staat niet in de stamgegevens van "
                    f"sopipe.toml (bekende codes: {bekend}). Gebruik een bekende code of laat de beheerder de "
                    "organisatie toevoegen onder [organisaties].", veld)
    if ev.stap == "facturatie" and state is not None and state.so_arts is not None:
        so = state.so_arts
        _check_invoice_issuer(state, ev, facts)
        eerder = facts.factuurnummers.get((issuer(so.praktijk or ev.praktijk, so.organisatie), ev.factuurnummer))
        if eerder is not None and eerder != ev.kenmerk:
            _refuse(ev, "factuurnummer-dubbel", f"Factuurnummer {ev.factuurnummer} is al gebruikt voor een andere "
                    f"zaak ({eerder}) van {so.organisatie}. Een factuurnummer mag per uitgever maar één keer "
                    "voorkomen: geef deze factuur een nieuw, nog niet gebruikt nummer.", "factuurnummer")


def _check_invoice_issuer(s: CaseState, ev: m.Facturatie, facts: Facts) -> None:
    """Every variant of step 10 holds a payable invoice from the SO practice (to the arbodienst, the employer or
    the employee): it is issued only when the practice's master data let it be paid and booked."""
    so = s.so_arts
    code = so.praktijk or ev.praktijk
    if so.praktijk and ev.praktijk and ev.praktijk != so.praktijk:
        _refuse(ev, "praktijk-tegenstrijdig", f"Dit bestand noemt de praktijk '{ev.praktijk}', maar bij de keuze "
                f"van de second opinion-bedrijfsarts is '{so.praktijk}' opgegeven. Laat 'praktijk' weg of gebruik "
                f"'{so.praktijk}'.", "praktijk")
    if not code:
        voorbeeld = organisation_code(code=None, kvk_nummer=None, naam=so.organisatie).removeprefix("naam-")
        _refuse(ev, "factuur-onvolledig", f"Er wordt geen factuur gemaakt: van de praktijk die factureert, "
                f"{so.organisatie}, zijn geen stamgegevens bekend. Een factuur die niemand kan betalen of boeken, "
                "gaat niet de deur uit: daarvoor zijn naam, adres, KvK-nummer, IBAN en btw-nummer of btw-"
                "vrijstelling van de uitgever nodig. Laat de beheerder de praktijk toevoegen in sopipe.toml onder "
                f"[organisaties.{voorbeeld}] (naam, straat, postcode, plaats, kvk_nummer, iban en btw_nummer of "
                f"btw_vrijstelling) en noem die code in dit bestand: \"praktijk\": \"{voorbeeld}\".", "praktijk")
    employer_copy = so.in_arbocontract or s.selectie.werkgever_vergoedt
    if employer_copy and _compact(s.kenmerk) in _compact(ev.factuurnummer):
        _refuse(ev, "factuurnummer-kenmerk", f"Het factuurnummer {ev.factuurnummer} bevat het kenmerk van de zaak. "
                "De werkgever ontvangt de factuur anoniem; met het kenmerk erin is die te koppelen aan de brieven "
                "die de werknemer noemen. Geef de factuur een nummer dat niet van het kenmerk is afgeleid.",
                "factuurnummer")
    org = facts.organisaties[code]
    missing = missing_for_invoice(org)
    if missing:
        veld = "so_bedrijfsarts.praktijk" if so.praktijk else "praktijk"
        _refuse(ev, "factuur-onvolledig", f"Er wordt geen factuur gemaakt: in de stamgegevens van {org.naam} "
                f"([organisaties.{code}] in sopipe.toml) ontbreekt {_opsomming(missing)}. Zonder die gegevens kan "
                "de factuur niet worden betaald of geboekt. Laat de beheerder dit aanvullen onder "
                f"[organisaties.{code}] in sopipe.toml; de zaak verwijst al naar de code '{code}'.", veld)


def _compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.casefold())


def _opsomming(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " en " + items[-1]


def decide(state: CaseState | None, event, *, facts: Facts | None = None) -> Decision:
    """Apply one validated event to a case; raise ProcedureError (case unchanged) if a rule forbids it.

    `facts` (master data, invoice numbers in use) come from the shell; with None (rebuilding a stored case)
    references are not checked again and documents show the case file's own organisation data.
    """
    _check_order(state, event)
    if facts is not None:
        _check_references(state, event, facts)
        if state is not None:
            state = replace(state, organisaties=facts.organisaties)
    if event.stap == "verzoek":
        decision = _verzoek(event, PROFILES[event.profiel], facts)
        return Decision(decision.state, decision.orders + tuple(_letters(decision.state, event)))
    profile = PROFILES[state.profiel]
    handler = {
        "beoordeling": lambda: _beoordeling(state, event),
        "selectie": lambda: _selectie(state, event),
        "beschikbaarheid": lambda: _beschikbaarheid(state, event),
        "aanvraag": lambda: _aanvraag(state, event, profile),
        "uitvoering": lambda: _uitvoering(state, event),
        "spreekuur_gehouden": lambda: _spreekuur_gehouden(state, event, profile),
        "extra_informatie": lambda: _extra_informatie(state, event),
        "conceptadvies": lambda: _conceptadvies(state, event),
        "definitief_advies": lambda: _definitief(state, event, profile),
        "beoordeling_advies": lambda: _beoordeling_advies(state, event),
        "facturatie": lambda: _facturatie(state, event),
        "intrekking": lambda: _intrekking(state, event),
        "machtiging_ontvangen": lambda: _machtiging_ontvangen(state, event, profile),
        "machtiging_ondertekend": lambda: _machtiging_ondertekend(state, event, profile),
    }[event.stap]
    decision = handler()
    orders = [*decision.orders, *_letters(decision.state, event)]
    s = replace(decision.state, stappen=decision.state.stappen + (event.stap,), laatste_datum=event.datum)
    if profile.medisch_pas_na_spreekuur and event.stap != "intrekking":
        s, extra = _preventix_release(s, event)
        orders = extra + orders
    return Decision(s, tuple(orders))


def fold(events: Iterable) -> CaseState | None:
    """Rebuild a case's state from its accepted events, in order."""
    state = None
    for ev in events:
        state = decide(state, ev).state
    return state
