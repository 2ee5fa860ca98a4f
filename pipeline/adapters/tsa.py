"""The timestamp service (RFC 3161) as the pipeline uses it: every answer checked, every fault the service's.

`CheckedTimeStamper` is pyHanko's HTTP client with two promises added. Whatever goes wrong with an answer (no
answer, a refusal, an answer that cannot be read, a token that does not verify, a TSA certificate that does not
chain to a trust root) is a `TimestampRequestError`, which the signer turns into a `TrustServiceOutage`: the case
file is retried and the operator told, never "correct the file". And a timestamp from a TSA we do not trust is
never embedded, also at B-T where pyHanko itself does not validate the TSA. The chain of a TSA certificate is
validated once per certificate (then remembered); the nonce and message imprint of every answer are pyHanko's.

`probe_timestamp` asks for one timestamp over a fresh random message and validates it completely: what
`sopipe doctor` checks, and how a watcher tells the DEMO services of its own root from whoever holds their port
(a fresh, nonce-bound answer signed under this root cannot be replayed).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Sequence

from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError


class CheckedTimeStamper(HTTPTimeStamper):
    """pyHanko's `HTTPTimeStamper` whose faults are all `TimestampRequestError` and whose TSA must chain to
    `trust_roots` (asn1crypto certificates; none given: the chain is not checked)."""

    def __init__(self, url: str, *, trust_roots: Sequence = (), **kwargs) -> None:
        super().__init__(url, **kwargs)
        self.trust_roots = tuple(trust_roots)
        self._trusted: set[bytes] = set()
        self._lock = threading.Lock()

    async def async_timestamp(self, message_digest, md_algorithm):
        try:
            token = await super().async_timestamp(message_digest, md_algorithm)
        except TimestampRequestError:
            raise
        except asyncio.CancelledError:
            raise
        except Exception as e:  # an answer that cannot be read is the service's fault, as no answer is
            raise TimestampRequestError(f"unreadable answer from the timestamp server {self.url}: "
                                        f"{type(e).__name__}: {e}") from e
        if self.trust_roots:
            await self._check(token, lambda algorithm: message_digest if algorithm == md_algorithm else b"")
        return token

    async def _check(self, token, imprint) -> None:
        try:
            signer = _signer_certificate(token)
        except Exception as e:
            raise TimestampRequestError(f"timestamp token of {self.url} cannot be read: {e}") from e
        with self._lock:
            if signer.sha256 in self._trusted:
                return
        problem = await _validate(token, self.trust_roots, imprint)
        if problem:
            raise TimestampRequestError(f"timestamp of {self.url}: {problem}")
        with self._lock:
            self._trusted.add(signer.sha256)


def _signer_certificate(token):
    signed_data = token["content"]
    sid = signed_data["signer_infos"][0]["sid"]
    for choice in signed_data["certificates"]:
        cert = choice.chosen
        if sid.name == "issuer_and_serial_number" and cert.serial_number == sid.chosen["serial_number"].native \
                and cert.issuer == sid.chosen["issuer"]:
            return cert
        if sid.name == "subject_key_identifier" and cert.key_identifier == sid.chosen.native:
            return cert
    raise ValueError("the TSA's certificate is not in the token")


async def _validate(token, trust_roots: Sequence, imprint) -> str | None:
    """None when the token is intact, correctly signed and its TSA chains to `trust_roots`; else what is wrong."""
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import TimestampSignatureStatus
    from pyhanko_certvalidator import ValidationContext
    signer = _signer_certificate(token)
    if not _reaches_a_root(signer, [c.chosen for c in token["content"]["certificates"]], trust_roots):
        return (f"the TSA certificate ({signer.subject.human_friendly}) does not chain to a trusted root (add the "
                "TSA's root to [signing] extra_trust_roots, or correct [signing] tsa_url)")
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = TimestampSignatureStatus(**await validate_tst_signed_data(token["content"], context, imprint))
    except Exception as e:
        return f"the token does not verify ({type(e).__name__}: {e})"
    if not (status.intact and status.valid):
        return "the token does not verify (its signature or message imprint is wrong)"
    if not status.trusted:
        return (f"the TSA certificate ({status.signing_cert.subject.human_friendly}) does not chain to a trusted "
                "root (add the TSA's root to [signing] extra_trust_roots, or correct [signing] tsa_url)")
    return None


def _reaches_a_root(cert, certificates: Sequence, roots: Sequence, *, depth: int = 8) -> bool:
    """Whether the issuers named from `cert` upwards (through the token's certificates) end at one of `roots`, by
    name and key identifier: the quick answer for a foreign TSA, before the full path validation (which would
    log a warning with a traceback for it)."""
    def issued(child, parent) -> bool:
        key = child.authority_key_identifier
        return child.issuer == parent.subject and (key is None or key == parent.key_identifier)

    for _ in range(depth):
        if any(issued(cert, root) for root in roots):
            return True
        parent = next((c for c in certificates if c is not cert and issued(cert, c)), None)
        if parent is None:
            return False
        cert = parent
    return False


@dataclass(frozen=True)
class TimestampProbe:
    """One timestamp obtained and validated."""
    url: str
    time: datetime
    tsa: str
    """The TSA certificate's subject."""
    seconds: float


def probe_timestamp(url: str, *, trust_roots: Sequence[Path], timeout: float = 10) -> TimestampProbe:
    """A timestamp from `url` over a fresh random message with a fresh nonce, validated against the PEM
    `trust_roots`. TimestampRequestError (with the reason) when there is no usable, trusted answer."""
    from pyhanko.keys import load_certs_from_pemder
    roots = [c for p in trust_roots if Path(p).is_file() for c in load_certs_from_pemder([str(p)])]
    message = secrets.token_bytes(32)
    digest = hashlib.sha256(message).digest()
    started = time.monotonic()

    async def ask():
        stamper = CheckedTimeStamper(url, timeout=timeout)  # its own session, closed with its loop
        token = await stamper.async_timestamp(digest, "sha256")
        problem = await _validate(token, roots, lambda algorithm: hashlib.new(algorithm, message).digest())
        if problem:
            raise TimestampRequestError(problem)
        return token

    token = asyncio.run(ask())
    info = token["content"]["encap_content_info"]["content"].parsed
    return TimestampProbe(url, info["gen_time"].native, _signer_certificate(token).subject.human_friendly,
                          time.monotonic() - started)
