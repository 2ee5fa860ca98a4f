"""The gateway's wire format: one JSON object per line (UTF-8, `\n`-terminated) each way, over a Unix socket.

A request is `{"op": NAME, ...arguments}` with the desk's session token as `token` (all but `login`); the answer is
`{"ok": true, ...}` or `{"ok": false, "fout": CODE, "bericht": Dutch text}`. Shared by the client (the desk) and
the server (the pipeline's user): stdlib only, so the desk needs nothing else of the pipeline to talk to it.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from pipeline.errors import GatewayError  # noqa: F401  (the desk imports it from here)

SOCKET_DIR = "gateway"
"""Below the root: `<root>/gateway/` (0750, group of the desk), beside `state/` (0700, which stays closed)."""
SOCKET_NAME = "desk.sock"
MAX_LINE = 8 * 1024 * 1024
"""A request or answer longer than this is refused (a form is a few KiB; a letter a few hundred)."""

OPERATIONS = ("login", "wachtwoord", "code", "logout", "wie", "zaken", "zaak", "stappen", "controleer", "indienen",
              "volg", "mislukt", "mislukt_bestand", "brief")
"""Every operation of the secretariat's pages (`service.Gateway`); with `ROLE_OPERATIONS` every operation the
gateway answers; anything else is refused."""
ROLE_OPERATIONS = ("te_ondertekenen", "download_te_ondertekenen", "inleveren", "inlevering", "postbus",
                   "download_postbus", "te_vernietigen", "exporteer", "controleer_bundel", "vernietig", "blokkeer",
                   "toegang_per_zaak", "toegang_per_werknemer", "avg_inzage", "keten_status", "systeemcontrole",
                   "gebruikers", "totp_opnieuw", "sessies_beeindigen")
"""The doctors', records officer's, FG's and IT's operations (`role_ops.RoleOperations`)."""
MAX_FILE = (MAX_LINE - 64 * 1024) * 3 // 4
"""The largest file one message carries (as base64): a signed PDF or a sealed bundle in or out (about 6 MB)."""


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message on `stream`, None at the end; GatewayError for an oversized or malformed line."""
    line = stream.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise GatewayError("protocol", "Het bericht is te groot of onvolledig.")
    try:
        message = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested beyond reason
        raise GatewayError("protocol", "Het bericht is geen geldige JSON.") from None
    if not isinstance(message, dict):
        raise GatewayError("protocol", "Het bericht moet een JSON-object zijn.")
    return message
