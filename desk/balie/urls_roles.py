"""The addresses of the doctors', records officer's, FG's and IT's pages (`views_roles`)."""

from django.urls import path, re_path

from desk.balie import views_roles

KENMERK = r"(?P<kenmerk>[A-Za-z0-9_-]{3,40})"
DOCUMENT = r"(?P<document>[a-z][a-z0-9-]{1,60})"
ROLE_PAGES = [
    path("ondertekenen/", views_roles.ondertekenen, name="ondertekenen"),
    re_path(rf"^ondertekenen/{KENMERK}/{DOCUMENT}\.pdf$", views_roles.te_ondertekenen_pdf, name="te_ondertekenen_pdf"),
    re_path(rf"^ondertekenen/{KENMERK}/{DOCUMENT}/inleveren/$", views_roles.inleveren, name="inleveren"),
    re_path(rf"^ondertekenen/{KENMERK}/volg/(?P<sha256>[0-9a-f]{{64}})/$", views_roles.inlevering,
            name="inlevering"),
    path("postbus/", views_roles.postbus, name="postbus"),
    re_path(rf"^postbus/{KENMERK}/(?P<bestand>[A-Za-z0-9._-]{{1,120}})$", views_roles.postbus_document,
            name="postbus_document"),
    path("archief/", views_roles.archief, name="archief"),
    path("archief/bundel/", views_roles.bundel, name="bundel"),
    path("archief/controleren/", views_roles.controleer_bundel, name="controleer_bundel"),
    path("archief/vernietigen/", views_roles.vernietigen, name="vernietigen"),
    path("toezicht/", views_roles.toezicht, name="toezicht"),
    path("toezicht/keten/", views_roles.keten, name="keten"),
    path("beheer/", views_roles.beheer, name="beheer"),
    path("beheer/systeemcontrole/", views_roles.systeemcontrole, name="systeemcontrole"),
]
