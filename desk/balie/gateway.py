"""The desk's one way to the pipeline: the gateway client, and the session's gateway token."""

from __future__ import annotations

from django.conf import settings

from pipeline.gateway.client import GatewayClient

SESSION_KEY = "sopipe_gateway"
"""Where the session keeps the token the gateway issued at login (server-side: never in the cookie)."""
ROLE_KEY = "sopipe_rol"
"""The logged-in person's role as the gateway said at login: which menu and start page the desk shows (what the
person may do is decided by the gateway on every request, never by this)."""
ROLE_HOME = {"secretariaat": "zaken", "bedrijfsarts": "ondertekenen", "so-bedrijfsarts": "ondertekenen",
             "archivaris": "archief", "fg": "toezicht", "beheer": "beheer"}
"""The page each role starts on (URL names)."""


def client() -> GatewayClient:
    return GatewayClient(settings.GATEWAY_SOCKET)


def call(request, op: str, **arguments):
    """Operation `op` on behalf of the logged-in user of `request` (GatewayError when refused)."""
    return client().call(op, token=request.session.get(SESSION_KEY, ""), **arguments)
