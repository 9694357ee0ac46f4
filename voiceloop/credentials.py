"""Which server a stage talks to, and which key (if any) goes with it.

A key is sent only to the origin it belongs to (scheme, host and port):

- a stage's own ``api_key`` goes to that stage's server;
- ``GROQ_API_KEY`` goes to Groq (``https://api.groq.com`` or the origin of ``GROQ_BASE_URL``);
- ``OPENAI_API_KEY`` goes to OpenAI (``https://api.openai.com`` or the origin of
  ``OPENAI_BASE_URL``), as the OpenAI SDK reads them;
- any other server gets no ``Authorization`` header at all, and ``auth = "none"`` says
  so even for those.

A key over plain HTTP to anything but this machine is refused (:func:`check_plain_http`);
plain HTTP with no key is fine. :func:`stage_auth` is the one place that decides.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from voiceloop.errors import InsecureTransportError

__all__ = [
    "DEFAULT_GROQ_BASE_URL",
    "DEFAULT_OPENAI_BASE_URL",
    "StageAuth",
    "check_plain_http",
    "is_loopback",
    "origin_of",
    "stage_auth",
]

DEFAULT_GROQ_BASE_URL = "https://api.groq.com"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class StageAuth:
    """A stage's server and the key it may send there."""

    url: str
    """API root with its version path, no trailing slash."""
    key: SecretStr | None
    """The key sent as ``Authorization: Bearer``; ``None`` sends no such header."""
    source: str
    """Where the key comes from (``GROQ_API_KEY``, ``[llm] api_key``) or why there is none."""
    needs_key: bool
    """The server is one that refuses requests without a key (Groq's or OpenAI's API)."""

    @property
    def missing(self) -> bool:
        """A key is needed and none is configured for this origin."""
        return self.needs_key and self.key is None


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``url``, with the scheme's default port filled in."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost (not ``*.localhost``: not every resolver keeps
    those on this machine, and a key would then cross the network in clear)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_plain_http(url: str, key: SecretStr | None) -> None:
    """Refuse to send ``key`` in clear text to anything but this machine."""
    if key is None:
        return
    scheme, host, _ = origin_of(url)
    if scheme == "http" and not is_loopback(host):
        raise InsecureTransportError(
            f"an API key would travel over plain HTTP to {host}, where anyone on the way "
            "could read it",
            hint='use an https:// base URL, or set auth = "none" if that server takes no key',
        )


def _key(value: object) -> SecretStr | None:
    if isinstance(value, SecretStr):
        return value if value.get_secret_value() else None
    if isinstance(value, str) and value:
        return SecretStr(value)
    return None


def _name(section: object, settings: object) -> str:
    if settings is not None:
        for name in ("stt", "translate", "llm", "tts"):
            if getattr(settings, name, None) is section:
                return name
    return "stage"


def stage_auth(section: object, settings: object = None) -> StageAuth:
    """The server ``section`` talks to and the key (if any) that may travel there.

    ``settings`` gives the environment keys and base URLs (``None``: the section alone,
    with Groq's public API as the default server).
    """
    provider = str(getattr(section, "provider", "") or "groq")
    groq_root = str(getattr(settings, "groq_base_url", None) or DEFAULT_GROQ_BASE_URL)
    openai_root = str(getattr(settings, "openai_base_url", None) or DEFAULT_OPENAI_BASE_URL)
    base_url = getattr(section, "base_url", None)
    if base_url:
        url = str(base_url).rstrip("/")
    elif provider == "openai":
        url = openai_root.rstrip("/")
    else:
        url = groq_root.rstrip("/") + "/openai/v1"
    origin = origin_of(url)
    groq_origins = {origin_of(groq_root), origin_of(DEFAULT_GROQ_BASE_URL)}
    openai_origins = {origin_of(openai_root), origin_of(DEFAULT_OPENAI_BASE_URL)}
    needs_key = origin in groq_origins or origin in openai_origins
    if str(getattr(section, "auth", "auto") or "auto") == "none":
        return StageAuth(url, None, 'auth = "none"', needs_key=False)
    own = _key(getattr(section, "api_key", None))
    if own is not None:
        return StageAuth(url, own, f"[{_name(section, settings)}] api_key", needs_key)
    if origin in groq_origins:
        key = _key(getattr(settings, "groq_api_key", None))
        return StageAuth(url, key, "GROQ_API_KEY", needs_key=True)
    if origin in openai_origins:
        key = _key(getattr(settings, "openai_api_key", None))
        return StageAuth(url, key, "OPENAI_API_KEY", needs_key=True)
    return StageAuth(url, None, "no key for this server", needs_key=False)
