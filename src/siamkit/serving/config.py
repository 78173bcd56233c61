"""The service's settings: where it listens, who may write, the limits and the batching.

Secure by default: a service that can change its gallery needs an API key, unless it is told
``insecure_local`` and listens on a loopback address only.

Example:
    >>> ServiceConfig(api_key="k" * 32).check()  # e.g. from $SIAMKIT_API_KEY: writes need it
    >>> ServiceConfig(read_only=True).check()  # no enroll or delete: no key needed
    >>> ServiceConfig().check()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: refusing to serve enroll/delete without an API key: set SIAMKIT_API_KEY, ...
    >>> ServiceConfig(host="0.0.0.0", insecure_local=True).check()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: --insecure-local serves writes without a key, so it is only allowed on a ...
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

MIN_KEY_CHARS = 16  # shorter API keys are refused: they can be guessed
API_KEY_ENV = "SIAMKIT_API_KEY"


@dataclass(frozen=True)
class ServiceConfig:
    """Settings of one service instance.

    Attributes:
        host: The address the server binds to; ``insecure_local`` needs a loopback one.
        api_key: Secret that write requests must present (``X-API-Key`` or
            ``Authorization: Bearer``); None = no key.
        insecure_local: Allow writes without a key; only valid on a loopback ``host``.
        read_only: Refuse every write (enroll, delete); then no key is needed.
        require_key_for_reads: Gallery reads (``/identify``, ``GET /items/{id}``,
            ``/similar/{id}``) need the key too (``--private-reads``).
        show_sources: ``GET /items/{id}`` returns an item's full stored source (a server path,
            or the text) to requests carrying the key; otherwise only a file's name is shown,
            and nothing for a text.
        max_body_bytes: Largest request body accepted, checked before it is all read.
        max_image_pixels: Largest decoded image (width x height) accepted.
        max_text_chars: Longest text accepted.
        max_items: Most inputs in one request (``/embed``, ``/enroll``).
        max_k: Largest ``k`` for ``/identify`` and ``/similar``.
        max_batch: Most items the micro-batcher gives the model at once; 1 turns batching off.
        max_wait_ms: How long the batcher waits for more requests before running a batch.
    """

    host: str = "127.0.0.1"
    api_key: str | None = None
    insecure_local: bool = False
    read_only: bool = False
    require_key_for_reads: bool = False
    show_sources: bool = False
    max_body_bytes: int = 10 * 1024 * 1024
    max_image_pixels: int = 4096 * 4096
    max_text_chars: int = 10_000
    max_items: int = 256
    max_k: int = 1000
    max_batch: int = 64
    max_wait_ms: float = 2.0

    @property
    def writable(self) -> bool:
        """Whether enroll and delete are served."""
        return not self.read_only

    def check(self) -> None:
        """Refuse settings that would leave the service open or unusable.

        Raises:
            ValueError: Write mode without a key outside ``insecure_local`` on loopback, a key
                that is too short, or a limit that is not positive; says how to fix it.
        """
        positive = {
            "max_body_bytes": self.max_body_bytes,
            "max_image_pixels": self.max_image_pixels,
            "max_text_chars": self.max_text_chars,
            "max_items": self.max_items,
            "max_k": self.max_k,
            "max_batch": self.max_batch,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1; got {value}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0; got {self.max_wait_ms}")
        if self.api_key is not None and len(self.api_key) < MIN_KEY_CHARS:
            raise ValueError(
                f"the API key has {len(self.api_key)} characters; use at least {MIN_KEY_CHARS} "
                "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        if self.insecure_local and not is_loopback(self.host):
            raise ValueError(
                f"--insecure-local serves writes without a key, so it is only allowed on a "
                f"loopback address (127.0.0.1, ::1, localhost); got host {self.host!r}. Set "
                f"{API_KEY_ENV} to serve on {self.host}"
            )
        for flag, name in (
            (self.require_key_for_reads, "--private-reads"),
            (self.show_sources, "--show-sources"),
        ):
            if flag and self.api_key is None:
                raise ValueError(
                    f"{name} needs an API key to check: set {API_KEY_ENV} (at least "
                    f"{MIN_KEY_CHARS} characters)"
                )
        if self.writable and self.api_key is None and not self.insecure_local:
            raise ValueError(
                f"refusing to serve enroll/delete without an API key: set {API_KEY_ENV}, or pass "
                "--read-only, or (on a loopback host only) --insecure-local"
            )


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
