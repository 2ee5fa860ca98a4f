"""The pages of the doctors, the records officer, the FG and IT. Like the secretariat's pages each one only asks
the gateway, which checks the person's role and scope and records the access before it answers; what the gateway
does not show is a 404 here, whatever the URL says.

Files travel as base64 in the gateway's messages. A BSN (the FG's search) is only ever posted, never part of a URL:
addresses end up in access logs.
"""

from __future__ import annotations

import base64
import re

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from desk.balie.gateway import ROLE_KEY, call
from desk.balie.views import desk_page
from pipeline.gateway.protocol import MAX_FILE, GatewayError

_SHA = re.compile(r"^[0-9a-f]{64}$")
SHOWN = frozenset({"ongeldig", "code", "te-groot", "protocol"})
"""Refusals shown on the page itself, beside the form (the others are the desk's error pages)."""
TOO_LARGE = f"Het bestand is te groot (hooguit {MAX_FILE // 1_000_000} MB via de desk)."


def _download(answer: dict) -> HttpResponse:
    response = HttpResponse(base64.b64decode(answer["data"]), content_type=answer["media_type"])
    response["Content-Disposition"] = f'attachment; filename="{answer["naam"]}"'
    return response


def _upload(request) -> tuple[str | None, str | None, str | None]:
    """(base64 of the posted file, its name, problem)."""
    upload = request.FILES.get("bestand")
    if upload is None or upload.size == 0:
        return None, None, "Kies eerst een bestand."
    if upload.size > MAX_FILE:
        return None, None, TOO_LARGE
    return base64.b64encode(upload.read()).decode("ascii"), upload.name, None


def _shown(e: GatewayError) -> str:
    if e.code not in SHOWN:
        raise e
    return e.bericht


# --- doctors -----------------------------------------------------------------------------------------------------

def _queue(request, *, problem: str | None = None, bij: tuple[str, str] | None = None, status: int = 200):
    documenten = call(request, "te_ondertekenen")["documenten"]
    return render(request, "balie/ondertekenen.html", {"documenten": documenten, "probleem": problem,
                                                       "bij": "/".join(bij) if bij else None}, status=status)


@desk_page
def ondertekenen(request):
    return _queue(request)


@desk_page
def te_ondertekenen_pdf(request, kenmerk: str, document: str):
    return _download(call(request, "download_te_ondertekenen", kenmerk=kenmerk, document=document))


@require_POST
@desk_page
def inleveren(request, kenmerk: str, document: str):
    data, _, problem = _upload(request)
    if problem is None:
        try:
            answer = call(request, "inleveren", kenmerk=kenmerk, document=document, data=data)
        except GatewayError as e:
            problem = _shown(e)
        else:
            messages.success(request, f"Ingeleverd als {answer['bestand']}. De pipeline controleert het nu.")
            return redirect("inlevering", kenmerk=kenmerk, sha256=answer["sha256"])
    return _queue(request, problem=problem, bij=(kenmerk, document), status=400)


@desk_page
def inlevering(request, kenmerk: str, sha256: str):
    if not _SHA.match(sha256):
        raise Http404("Onbekend bestand.")
    uitslag = call(request, "inlevering", kenmerk=kenmerk, sha256=sha256)
    return render(request, "balie/inlevering.html", {
        "uitslag": uitslag, "kenmerk": kenmerk, "sha256": sha256,
        "ververs": uitslag["status"] in ("wacht", "in-behandeling", "opnieuw")})


@desk_page
def postbus(request):
    return render(request, "balie/postbus.html", {"zaken": call(request, "postbus")["zaken"]})


@desk_page
def postbus_document(request, kenmerk: str, bestand: str):
    return _download(call(request, "download_postbus", kenmerk=kenmerk, bestand=bestand))


# --- records officer ---------------------------------------------------------------------------------------------

def _archive(request, *, problem: str | None = None, rapport: dict | None = None, status: int = 200, **extra):
    dossiers = call(request, "te_vernietigen")["dossiers"]
    return render(request, "balie/archief.html", {"dossiers": dossiers, "probleem": problem, "rapport": rapport,
                                                  **extra}, status=status)


@desk_page
def archief(request):
    return _archive(request)


@desk_page
def bundel(request):
    kenmerk = request.GET.get("kenmerk", "").strip()
    try:
        return _download(call(request, "exporteer", kenmerk=kenmerk))
    except GatewayError as e:
        return _archive(request, problem=_shown(e), status=400)


@require_POST
@desk_page
def controleer_bundel(request):
    data, naam, problem = _upload(request)
    if problem is None:
        try:
            rapport = call(request, "controleer_bundel", data=data, naam=naam)["rapport"]
        except GatewayError as e:
            problem = _shown(e)
        else:
            return _archive(request, rapport=rapport | {"naam": naam})
    return _archive(request, problem=problem, status=400)


@require_POST
@desk_page
def vernietigen(request):
    """Step 1 (no code posted): every check, then the confirmation page asking for a fresh code. Step 2: the code
    goes to the gateway, which checks it and runs every check again before it destroys anything."""
    form = {"kenmerk": request.POST.get("kenmerk", "").strip(), "reden": request.POST.get("reden", "").strip(),
            "vervroegd": request.POST.get("vervroegd") == "1"}
    code = request.POST.get("code")
    try:
        answer = call(request, "vernietig", **form, code=code.strip() if code is not None else None)
    except GatewayError as e:
        problem = _shown(e)
        if e.code == "code":
            return render(request, "balie/vernietigen.html", {"form": form, "plan": None, "probleem": problem},
                          status=400)
        return _archive(request, problem=problem, status=400, vernietig_form=form)
    if answer["status"] == "vernietigd":
        messages.success(request, f"Het dossier {answer['kenmerk']} is vernietigd ({answer['bestanden']} "
                                  "bestanden); de vernietiging staat in het logboek.")
        return redirect("archief")
    return render(request, "balie/vernietigen.html", {"form": form, "plan": answer, "probleem": None})


# --- FG ----------------------------------------------------------------------------------------------------------

@desk_page
def toezicht(request):
    if request.session.get(ROLE_KEY) != "fg":  # the forms alone are the FG's too (the gateway decides the data)
        raise Http404("Niet gevonden.")
    kenmerk = request.GET.get("kenmerk", "").strip()
    context: dict = {"kenmerk": kenmerk, "probleem": None, "zaken": None}
    if request.method == "POST":
        bsn = request.POST.get("bsn", "")
        try:
            if request.POST.get("actie") == "export":
                return _download(call(request, "avg_inzage", bsn=bsn))
            context["zaken"] = call(request, "toegang_per_werknemer", bsn=bsn)["zaken"]
            context["per_werknemer"] = True
        except GatewayError as e:
            if e.code == "niet-gevonden":  # an export for someone without a case: say so, no 404 page
                context["probleem"] = "Er zijn geen zaken van deze werknemer."
            else:
                context["probleem"] = _shown(e)
    elif kenmerk:
        try:
            context["zaken"] = [call(request, "toegang_per_zaak", kenmerk=kenmerk)]
        except GatewayError as e:
            if e.code != "niet-gevonden":
                context["probleem"] = _shown(e)
            else:
                context["probleem"] = f"Over {kenmerk} staat niets in het logboek."
    return render(request, "balie/toezicht.html", context, status=400 if context["probleem"] else 200)


@desk_page
def keten(request):
    return render(request, "balie/keten.html", {"keten": call(request, "keten_status")["keten"]})


# --- IT ----------------------------------------------------------------------------------------------------------

@desk_page
def beheer(request):
    nieuw = None
    if request.method == "POST":
        naam = request.POST.get("gebruikersnaam", "")
        if request.POST.get("actie") == "totp":
            nieuw = call(request, "totp_opnieuw", gebruikersnaam=naam)
        else:
            ended = call(request, "sessies_beeindigen", gebruikersnaam=naam)["beeindigd"]
            messages.success(request, f"{ended} sessie(s) van {naam} beëindigd.")
            return redirect("beheer")
    return render(request, "balie/beheer.html", {"gebruikers": call(request, "gebruikers")["gebruikers"],
                                                 "nieuw": nieuw})


@desk_page
def systeemcontrole(request):
    return render(request, "balie/systeemcontrole.html", {"controle": call(request, "systeemcontrole")})
