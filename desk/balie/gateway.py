"""The desk's one way to the pipeline: the gateway client, and the session's gateway token."""

from __future__ import annotations

from django.conf import settings

from pipeline.gateway.client import GatewayClient

SESSION_KEY = "sopipe_gateway"
"""Where the session keeps the token the gateway issued at login (server-side: never in the cookie)."""


def client() -> GatewayClient:
    return GatewayClient(settings.GATEWAY_SOCKET)


def call(request, op: str, **arguments):
    """Operation `op` on behalf of the logged-in user of `request` (GatewayError when refused)."""
    return client().call(op, token=request.session.get(SESSION_KEY, ""), **arguments)
