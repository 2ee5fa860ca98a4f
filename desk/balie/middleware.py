"""Headers on every answer: the Content-Security-Policy (no script at all, styles from the desk only)."""

from __future__ import annotations

from django.conf import settings


def security_headers(get_response):
    def middleware(request):
        response = get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Cache-Control", "no-store")  # case pages are not kept by the browser
        return response
    return middleware
