"""The desk keeps no case data. Its one model is the second factor as django-otp sees it: a device whose codes
the gateway checks (the TOTP secret lives only in the gateway's users table, never in the desk)."""

from __future__ import annotations

from django_otp.models import Device

from desk.balie.gateway import client
from pipeline.gateway.protocol import GatewayError


class GatewayDevice(Device):
    """The user's authenticator app, verified through the gateway. django-otp's middleware marks a session as
    verified only after a login through this device (`views.inloggen`); a fresh code for a confirmation is checked
    with `verify_token` once `gateway_session` is set to the session's gateway token."""

    gateway_session: str | None = None

    def verify_token(self, token) -> bool:
        if not self.gateway_session:
            return False
        try:
            client().call("code", token=self.gateway_session, code=str(token))
        except GatewayError:
            return False
        return True
