"""The desk's pages."""

from django.urls import path, re_path

from desk.balie import views
from desk.balie.urls_roles import ROLE_PAGES

KENMERK = r"(?P<kenmerk>[A-Za-z0-9_-]{3,40})"
urlpatterns = [
    path("", views.start, name="start"),
    path("inloggen/", views.inloggen, name="inloggen"),
    path("uitloggen/", views.uitloggen, name="uitloggen"),
    path("wachtwoord/", views.wachtwoord, name="wachtwoord"),
    path("desk.css", views.stylesheet, name="css"),
    path("zaken/", views.zaken, name="zaken"),
    path("zaken/nieuw/", views.nieuwe_zaak, name="nieuw"),
    re_path(rf"^zaken/{KENMERK}/$", views.zaak, name="zaak"),
    re_path(rf"^zaken/{KENMERK}/stap/(?P<stap>[a-z_]+)/$", views.stap, name="stap"),
    path("volg/<str:sha256>/", views.volg, name="volg"),
    path("mislukt/", views.mislukt, name="mislukt"),
    path("mislukt/<str:sha256>/", views.mislukt_bestand, name="mislukt_bestand"),
    path("mislukt/<str:sha256>/brief.pdf", views.brief, name="brief"),
    *ROLE_PAGES,
]

handler404 = "desk.balie.views.niet_gevonden"
handler500 = "desk.balie.views.fout"
handler403 = "desk.balie.views.geweigerd"
handler400 = "desk.balie.views.fout_verzoek"
