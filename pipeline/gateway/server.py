"""The gateway's socket: `<root>/gateway/desk.sock`, a Unix socket only the pipeline's user and the desk's group
can open (folder 0750, socket 0660, both of that group), framed as `protocol` says, one thread per connection.

The kernel tells who connected (SO_PEERCRED): with `allowed_uids` any other user is refused before a byte is read,
so even a mistaken mode on the socket lets no one else in.
"""

from __future__ import annotations

import grp
import logging
import os
import socket
import socketserver
import struct
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pipeline.gateway.protocol import SOCKET_DIR, SOCKET_NAME, GatewayError, encode, read_message
from pipeline.gateway.service import Gateway

log = logging.getLogger("sopipe.gateway")

DIR_MODE = 0o2750
SOCKET_MODE = 0o660


def socket_path(root: Path) -> Path:
    return Path(root) / SOCKET_DIR / SOCKET_NAME


def peer_uid(sock: socket.socket) -> int:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


class _Handler(socketserver.StreamRequestHandler):
    server: "_Server"

    def handle(self) -> None:
        uid = peer_uid(self.request)
        if self.server.allowed_uids is not None and uid not in self.server.allowed_uids:
            log.warning("gateway: connection from uid %d refused (not the desk's user)", uid)
            return
        while True:
            try:
                request = read_message(self.rfile)
            except GatewayError as e:
                self.wfile.write(encode({"ok": False, "fout": e.code, "bericht": e.bericht}))
                return
            if request is None:
                return
            try:
                answer = self.server.gateway.handle(request)
            except Exception:  # never a traceback to the desk; the log has it
                log.exception("gateway: operation %r failed", request.get("op"))
                answer = {"ok": False, "fout": "intern", "bericht": "Er ging iets mis in de pipeline; de beheerder "
                                                                    "kan het in het logboek zien."}
            self.wfile.write(encode(answer))

    def finish(self) -> None:
        try:
            super().finish()
        finally:  # this connection's thread ends: its SQLite connections with it
            self.server.gateway.close_thread()


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, gateway: Gateway, allowed_uids: frozenset[int] | None) -> None:
        self.gateway = gateway
        self.allowed_uids = allowed_uids
        super().__init__(path, _Handler)


def prepare_socket_dir(root: Path, *, group: str | None) -> Path:
    """`<root>/gateway/` owned by us with the desk's group, 2750; a stale socket removed."""
    folder = Path(root) / SOCKET_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise GatewayError("socket", f"{folder} is not a folder")
    gid = grp.getgrnam(group).gr_gid if group else -1
    os.chown(folder, -1, gid)
    os.chmod(folder, DIR_MODE if group else 0o700)
    path = folder / SOCKET_NAME
    if path.exists() or path.is_symlink():
        path.unlink()
    return path


@contextmanager
def serving(gateway: Gateway, root: Path, *, group: str | None = None,
            allowed_uids: frozenset[int] | None = None) -> Iterator[Path]:
    """Run the gateway on `<root>/gateway/desk.sock` in a background thread while the block runs."""
    path = prepare_socket_dir(root, group=group)
    old = os.umask(0o177)  # the socket is born 0600, then opened up to the group only
    try:
        server = _Server(str(path), gateway, allowed_uids)
    finally:
        os.umask(old)
    if group:
        os.chown(path, -1, grp.getgrnam(group).gr_gid)
        os.chmod(path, SOCKET_MODE)
    thread = threading.Thread(target=server.serve_forever, name="sopipe-gateway", daemon=True)
    thread.start()
    log.info("gateway: listening on %s", path)
    try:
        yield path
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        try:
            path.unlink()
        except FileNotFoundError:
            pass
