"""Login through the gateway: it checks the password and the code; the desk only mirrors the user name."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend

from desk.balie.gateway import client
from pipeline.gateway.protocol import GatewayError

log = logging.getLogger("desk")


class GatewayBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, code=None, **kwargs):
        if not username or password is None or code is None:
            return None
        try:
            answer = client().call("login", gebruikersnaam=username, wachtwoord=password, code=code)
        except GatewayError as e:
            if request is not None:
                request.gateway_error = e  # shown on the login page (e.g. blocked by the gateway)
            return None
        user, created = get_user_model().objects.get_or_create(username=answer["gebruiker"]["gebruikersnaam"])
        if created:
            user.set_unusable_password()
        user.first_name = answer["gebruiker"]["naam"][:150]
        user.save()
        user.gateway_login = answer  # the token and whether the one-time password must be changed
        return user

    def get_user(self, user_id):
        return get_user_model().objects.filter(pk=user_id).first()
