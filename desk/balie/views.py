"""The secretariat's pages. Each one asks the gateway; none reads a file, the database or a key itself.

Every page but the login needs a session verified with the second factor (django-otp). A case the gateway does
not show (another arbodienst's, or none) is a 404, whatever the URL says. The forms are generated from the
case-file models (`pipeline.core.form`); what is wrong comes back from the gateway, in the intake's own Dutch.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import logging
import re
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from desk.balie.gateway import ROLE_HOME, ROLE_KEY, SESSION_KEY, call
from desk.balie.models import GatewayDevice
from pipeline.core import form as casefile_form
from pipeline.gateway.protocol import GatewayError

log = logging.getLogger("desk")
TZ = casefile_form.TZ
_SHA = re.compile(r"^[0-9a-f]{64}$")


class LoginForm(forms.Form):
    gebruikersnaam = forms.CharField(label="Gebruikersnaam", max_length=150)
    wachtwoord = forms.CharField(label="Wachtwoord", widget=forms.PasswordInput, max_length=200)
    code = forms.CharField(label="Code", max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
                           error_messages={"min_length": "De code heeft 6 cijfers."})


class PasswordForm(forms.Form):
    oud = forms.CharField(label="Huidig wachtwoord", widget=forms.PasswordInput)
    nieuw = forms.CharField(label="Nieuw wachtwoord (minstens 12 tekens)", widget=forms.PasswordInput)
    herhaal = forms.CharField(label="Nieuw wachtwoord nogmaals", widget=forms.PasswordInput)


for _form in (LoginForm, PasswordForm):
    for _field in _form.base_fields.values():
        _field.error_messages["required"] = "Dit veld is verplicht."
        _field.error_messages["max_length"] = "Dit is te lang."


# --- the guard of every page ----------------------------------------------------------------------------------------

def desk_page(view):
    """Only for a session verified with the code; gateway refusals become pages (404, login, new password)."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_verified() and request.session.get(SESSION_KEY)):
            return redirect(f"{reverse('inloggen')}?volgende={request.path}")
        try:
            return view(request, *args, **kwargs)
        except GatewayError as e:
            if e.code == "niet-gevonden":
                raise Http404(e.bericht) from None
            if e.code == "sessie":
                logout(request)
                messages.info(request, e.bericht)
                return redirect("inloggen")
            if e.code == "wachtwoord-wijzigen":
                return redirect("wachtwoord")
            return render(request, "balie/fout.html", {"bericht": e.bericht}, status=503 if e.code ==
                          "onbereikbaar" else 400)
    return wrapped


# --- login, logout, password ----------------------------------------------------------------------------------------

def inloggen(request):
    form = LoginForm(request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=form.cleaned_data["gebruikersnaam"],
                            password=form.cleaned_data["wachtwoord"], code=form.cleaned_data["code"])
        if getattr(request, "axes_locked_out", False):
            return render(request, settings.AXES_LOCKOUT_TEMPLATE, status=429)
        if user is not None:
            answer = user.gateway_login
            login(request, user, backend="desk.balie.auth.GatewayBackend")
            request.session[SESSION_KEY] = answer["token"]
            request.session[ROLE_KEY] = answer["gebruiker"]["rol"]
            device, _ = GatewayDevice.objects.get_or_create(user=user, name="authenticator",
                                                            defaults={"confirmed": True})
            otp_login(request, device)
            if answer["moet_wijzigen"]:
                return redirect("wachtwoord")
            target = request.GET.get("volgende", "")
            return redirect(target if target.startswith("/") and not target.startswith("//") else "start")
        error = getattr(request, "gateway_error", None)
        problem = error.bericht if error else "Gebruikersnaam, wachtwoord of code klopt niet."
    elif request.method == "POST":
        problem = "Vul gebruikersnaam, wachtwoord en de 6 cijfers van de code in."
    return render(request, "balie/inloggen.html", {"form": form, "probleem": problem},
                  status=400 if problem else 200)


@require_POST
def uitloggen(request):
    token = request.session.get(SESSION_KEY)
    if token:
        try:
            call(request, "logout")
        except GatewayError:
            pass
    logout(request)
    messages.info(request, "U bent uitgelogd.")
    return redirect("inloggen")


def wachtwoord(request):
    if not (request.user.is_authenticated and request.user.is_verified() and request.session.get(SESSION_KEY)):
        return redirect("inloggen")
    form = PasswordForm(request.POST or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["nieuw"] != form.cleaned_data["herhaal"]:
            problem = "De twee nieuwe wachtwoorden zijn niet gelijk."
        else:
            try:
                call(request, "wachtwoord", oud=form.cleaned_data["oud"], nieuw=form.cleaned_data["nieuw"])
            except GatewayError as e:
                if e.code == "sessie":
                    logout(request)
                    return redirect("inloggen")
                problem = e.bericht
            else:
                messages.success(request, "Uw nieuwe wachtwoord is ingesteld.")
                return redirect("start")
    return render(request, "balie/wachtwoord.html", {"form": form, "probleem": problem})


def stylesheet(request):
    css = (Path(__file__).parent / "static" / "desk.css").read_bytes()
    return HttpResponse(css, content_type="text/css; charset=utf-8")


# --- pages ------------------------------------------------------------------------------------------------------------

def start(request):
    """Each role starts on its own page (the secretariat on the case list)."""
    return redirect(ROLE_HOME.get(request.session.get(ROLE_KEY), "zaken"))


@desk_page
def zaken(request):
    filters = {"te_laat": request.GET.get("te_laat") == "1", "stap": request.GET.get("stap") or None,
               "profiel": request.GET.get("profiel") or None, "zoek": request.GET.get("zoek") or None}
    na = request.GET.get("na")
    answer = call(request, "zaken", na=int(na) if na and na.isdigit() else None, **filters)
    query = request.GET.copy()
    if answer["volgende"] is not None:
        query["na"] = str(answer["volgende"])
    return render(request, "balie/zaken.html", {
        "zaken": answer["zaken"], "filters": filters, "volgende": query.urlencode() if answer["volgende"] else None,
        "stappen": [(s, casefile_form.STAP_TITEL[s]) for s in casefile_form.MODELS if s != "intrekking"],
        "profielen": [(p.value, casefile_form.KEUZE_LABELS.get(p.value, p.value)) for p in
                      casefile_form.m.Profiel]})


@desk_page
def zaak(request, kenmerk: str):
    page = call(request, "zaak", kenmerk=kenmerk)["zaak"]
    page["volgende_stappen"] = [(s, casefile_form.STAP_TITEL[s]) for s in page["volgende"]]
    return render(request, "balie/zaak.html", {"zaak": page})


def _today() -> str:
    return dt.datetime.now(TZ).date().isoformat()


def _tree(groep: casefile_form.Groep, values: dict[str, str], problems: dict[str, list[str]]) -> dict:
    """The form as the template draws it: each field with its value and its problems beside it."""
    items = []
    for v in groep.velden:
        if isinstance(v, casefile_form.Groep):
            items.append(_tree(v, values, problems))
            continue
        value = values.get(v.pad, "")
        items.append({"veld": True, "pad": v.pad, "id": "veld-" + v.pad.replace(".", "-"), "label": v.label,
                      "soort": v.soort, "verplicht": v.verplicht, "waarde": value, "fouten": problems.get(v.pad, []),
                      "keuzes": [{"waarde": k, "label": label, "gekozen": k == value} for k, label in v.keuzes],
                      "max": v.max_lengte})
    return {"veld": False, "pad": groep.pad, "label": groep.label if groep.pad else "Gegevens",
            "verplicht": groep.verplicht, "items": items,
            "fouten": problems.get(groep.pad, [])}


def _form_page(request, *, kenmerk: str | None, stap: str, posted: dict[str, str], problems: list,
               vervangt: str | None = None, rapport: str | None = None, brief: bool = False, status: int = 200):
    groep = casefile_form.form_for(stap)
    by_field, rest = casefile_form.problems_by_field(groep, [tuple(p) for p in problems])
    kenmerk_problems = by_field.pop("kenmerk", []) + [r.split(": ", 1)[1] for r in rest if r.startswith("kenmerk: ")]
    rest = [r for r in rest if not r.startswith("kenmerk: ")]
    return render(request, "balie/stap.html", {
        "kenmerk": kenmerk, "nieuw": stap == "verzoek", "kenmerk_waarde": posted.get("kenmerk", kenmerk or ""),
        "kenmerk_fouten": kenmerk_problems, "stap": stap, "titel": casefile_form.STAP_TITEL[stap],
        "formulier": _tree(groep, posted, by_field), "overige": rest, "vervangt": vervangt, "rapport": rapport,
        "aantal_fouten": len(problems), "gecontroleerd": request.method == "POST" and not problems,
        "brief": brief},
        status=status)


def _submit(request, *, kenmerk: str, stap: str, vervangt: str | None = None, rapport: str | None = None):
    """The posted form: checked (button `controleren`) or checked and submitted (`indienen`)."""
    groep = casefile_form.form_for(stap)
    posted = {k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    gegevens = casefile_form.from_form(groep, posted)
    if request.POST.get("actie") == "indienen":
        answer = call(request, "indienen", kenmerk=kenmerk, stap=stap, gegevens=gegevens, vervangt=vervangt)
        if not answer["problemen"]:
            messages.success(request, f"Ingediend: {answer['bestand']}. De pipeline verwerkt het nu.")
            return redirect("volg", sha256=answer["sha256"])
        problems = answer["problemen"]
    else:
        problems = call(request, "controleer", kenmerk=kenmerk, stap=stap, gegevens=gegevens)["problemen"]
    return _form_page(request, kenmerk=kenmerk, stap=stap, posted=posted, problems=problems, vervangt=vervangt,
                      rapport=rapport, status=400 if problems else 200)


@desk_page
def stap(request, kenmerk: str, stap: str):
    allowed = call(request, "stappen", kenmerk=kenmerk)["stappen"]  # 404 for a case the user may not see
    if stap not in allowed:
        raise Http404("Deze stap is nu niet mogelijk.")
    if request.method == "POST":
        return _submit(request, kenmerk=kenmerk, stap=stap)
    return _form_page(request, kenmerk=kenmerk, stap=stap, posted={"datum": _today()}, problems=[])


@desk_page
def nieuwe_zaak(request):
    if request.method == "POST":
        kenmerk = request.POST.get("kenmerk", "").strip()
        return _submit(request, kenmerk=kenmerk, stap="verzoek")
    defaults = {v.pad: v.standaard for v in casefile_form.form_for("verzoek").alle_velden() if v.standaard}
    return _form_page(request, kenmerk=None, stap="verzoek", posted={**defaults, "datum": _today()}, problems=[])


@desk_page
def volg(request, sha256: str):
    if not _SHA.match(sha256):
        raise Http404("Onbekend bestand.")
    answer = call(request, "volg", sha256=sha256)
    return render(request, "balie/volg.html", {"volg": answer, "sha256": sha256,
                                               "ververs": answer["status"] in ("wacht", "bezig")})


@desk_page
def mislukt(request):
    return render(request, "balie/mislukt.html", {"bestanden": call(request, "mislukt")["bestanden"]})


@desk_page
def mislukt_bestand(request, sha256: str):
    if not _SHA.match(sha256):
        raise Http404("Onbekend bestand.")
    failed = call(request, "mislukt_bestand", sha256=sha256)
    stap = failed["stap"]
    if stap not in casefile_form.MODELS:
        return render(request, "balie/fout.html", {"bericht": "Dit bestand noemt geen bekende stap; het kan niet in "
                                                              "een formulier worden geopend.",
                                                   "rapport": failed["rapport"]})
    kenmerk = (request.POST.get("kenmerk", "").strip() if stap == "verzoek" and request.method == "POST"
               else failed["kenmerk"] or "")
    if request.method == "POST":
        return _submit(request, kenmerk=kenmerk, stap=stap, vervangt=sha256, rapport=failed["rapport"])
    posted = casefile_form.to_form(casefile_form.form_for(stap), failed["gegevens"] or {})
    return _form_page(request, kenmerk=kenmerk if stap != "verzoek" else None, stap=stap,
                      posted={**posted, "kenmerk": kenmerk}, problems=failed["problemen"], vervangt=sha256,
                      rapport=failed["rapport"], brief=bool(failed["brief"]))


@desk_page
def brief(request, sha256: str):
    if not _SHA.match(sha256):
        raise Http404("Onbekend bestand.")
    answer = call(request, "brief", sha256=sha256)
    response = HttpResponse(base64.b64decode(answer["pdf"]), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{answer["naam"]}"'
    return response


# --- errors in Dutch --------------------------------------------------------------------------------------------------

def niet_gevonden(request, exception=None):
    return render(request, "balie/niet_gevonden.html", status=404)


def fout(request):
    return render(request, "balie/fout.html", {"bericht": "Er ging iets mis. Probeer het opnieuw of waarschuw de "
                                                          "beheerder."}, status=500)


def geweigerd(request, exception=None):
    return render(request, "balie/fout.html", {"bericht": "U hebt geen toegang tot deze pagina."}, status=403)


def fout_verzoek(request, exception=None):
    return render(request, "balie/fout.html", {"bericht": "Dit verzoek klopt niet."}, status=400)


def csrf_failure(request, reason=""):
    return render(request, "balie/fout.html", {"bericht": "Het formulier was verlopen of kwam niet van de desk. "
                                                          "Laad de pagina opnieuw en probeer het nog eens."},
                  status=403)
