"""The desk's side of the gateway: one request, one answer, over the Unix socket (stdlib only)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from pipeline.gateway.protocol import GatewayError, encode, read_message


class GatewayClient:
    def __init__(self, socket_path: str | Path, *, timeout: float = 60.0) -> None:
        self.socket_path = str(socket_path)
        self.timeout = timeout

    def call(self, op: str, **arguments: Any) -> dict[str, Any]:
        """The answer of operation `op`; GatewayError with the gateway's Dutch message when it refuses, or code
        `onbereikbaar` when the gateway cannot be reached."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.socket_path)
                sock.sendall(encode({"op": op, **arguments}))
                with sock.makefile("rb") as stream:
                    answer = read_message(stream)
        except OSError as e:
            raise GatewayError("onbereikbaar", "De verbinding met de pipeline is er niet; probeer het over een "
                                               "minuut opnieuw of waarschuw de beheerder.") from e
        if answer is None:
            raise GatewayError("onbereikbaar", "De pipeline gaf geen antwoord.")
        if not answer.get("ok"):
            raise GatewayError(str(answer.get("fout", "fout")), str(answer.get("bericht", "Er ging iets mis.")))
        return answer
