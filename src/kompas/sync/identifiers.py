"""What an account the user typed refers to: ``@user@instance``, a Bluesky handle or DID,
or a profile URL. Validation follows the AT Protocol syntax specs (handles, DIDs) and
Mastodon's account address form, and every rejection says what was expected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kompas.errors import KompasError
from kompas.model import Platform

#: Bluesky's own PDS, where `kompas connect bluesky` logs in unless told otherwise.
DEFAULT_SERVICE = "https://bsky.social"
#: The public Bluesky AppView, asked for public profiles without credentials.
PUBLIC_APPVIEW = "https://public.api.bsky.app"

# https://atproto.com/specs/handle: dot-separated DNS labels, the last one not starting
# with a digit, at most 253 characters in all.
_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
# https://atproto.com/specs/did: lowercase method, then identifier characters, never
# ending with ':' or '%'; at most 2 KB.
_DID = re.compile(r"^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$")
_MASTODON_USER = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_HOST = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(:\d{1,5})?$"
)
_BLUESKY_WEB = {"bsky.app", "www.bsky.app", "staging.bsky.app"}


class InvalidAccount(KompasError):
    """The text does not name an account kompas can look up."""


def is_valid_handle(text: str) -> bool:
    """Whether ``text`` is a syntactically valid AT Protocol handle."""
    return len(text) <= 253 and _HANDLE.match(text) is not None


def is_valid_did(text: str) -> bool:
    """Whether ``text`` is a syntactically valid DID as the AT Protocol accepts it."""
    return len(text) <= 2048 and _DID.match(text) is not None


def check_handle(text: str) -> str:
    """``text`` as a handle (lowercased), or :class:`InvalidAccount` saying why not."""
    if not is_valid_handle(text):
        raise InvalidAccount(
            f"{text!r} is not a valid Bluesky handle (expected a domain name such as "
            "alice.bsky.social: letters, digits and hyphens in dot-separated parts, "
            "at most 253 characters, the last part not starting with a digit)"
        )
    return text.lower()


def check_did(text: str) -> str:
    """``text`` as a DID, or :class:`InvalidAccount` saying why not."""
    if not is_valid_did(text):
        raise InvalidAccount(
            f"{text!r} is not a valid DID (expected did:METHOD:ID with a lowercase method, "
            "an identifier of letters, digits and . _ : % - not ending in : or %, "
            "at most 2048 characters)"
        )
    return text


@dataclass(frozen=True, slots=True)
class AccountRef:
    """A validated account to look up: Mastodon ``user@host``, or a Bluesky handle or DID."""

    platform: Platform
    #: Mastodon: ``user@host``; Bluesky: the handle or the DID.
    identifier: str
    #: Mastodon: the instance's host (where the public API is asked).
    host: str | None = None
    #: Mastodon: where the instance's API is (``https://HOST``, or a URL's own scheme).
    base_url: str | None = None

    @property
    def key(self) -> str:
        """The cache key: ``platform:identifier``."""
        return f"{self.platform.value}:{self.identifier}"


def _mastodon(user: str, host: str, original: str, scheme: str = "https") -> AccountRef:
    if not _MASTODON_USER.match(user) or len(user) > 64:
        raise InvalidAccount(
            f"{original!r}: {user!r} is not a valid Mastodon username "
            "(expected letters, digits, underscores, dots or hyphens)"
        )
    bare = host.split(":")[0]
    if not _HOST.match(host) or ("." not in bare and bare != "localhost"):
        raise InvalidAccount(f"{original!r}: {host!r} is not a valid instance host name")
    host = host.lower()
    return AccountRef(Platform.MASTODON, f"{user}@{host}", host, f"{scheme}://{host}")


def parse_account(text: str) -> AccountRef:
    """Which account ``text`` names, validated; :class:`InvalidAccount` when it names none."""
    raw = text  # not stripped: " alice.test" is not a handle, and saying so beats guessing
    if not raw.strip():
        raise InvalidAccount("no account given (expected @user@instance, a handle, a DID or a URL)")
    if raw.startswith(("https://", "http://")):
        return _from_url(raw)
    if raw.startswith("did:") or raw.lower().startswith("did:"):
        return AccountRef(Platform.BLUESKY, check_did(raw))
    if raw.startswith("@") and raw.count("@") == 2:
        user, _, host = raw[1:].partition("@")
        return _mastodon(user, host, raw)
    if raw.count("@") == 1 and not raw.startswith("@"):
        user, _, host = raw.partition("@")
        return _mastodon(user, host, raw)
    if raw.count("@") > 1 or (raw.startswith("@") and "@" in raw[1:]):
        raise InvalidAccount(f"{raw!r} is not an account address (expected @user@instance)")
    return AccountRef(Platform.BLUESKY, check_handle(raw.removeprefix("@")))


def _from_url(raw: str) -> AccountRef:
    parts = urlsplit(raw)
    host = (parts.netloc or "").lower()
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if host in _BLUESKY_WEB:
        if len(segments) >= 2 and segments[0] == "profile":
            actor = segments[1]
            if actor.startswith("did:"):
                return AccountRef(Platform.BLUESKY, check_did(actor))
            return AccountRef(Platform.BLUESKY, check_handle(actor))
        raise InvalidAccount(
            f"{raw!r}: expected a profile URL like https://bsky.app/profile/HANDLE"
        )
    if segments and segments[0].startswith("@") and len(segments[0]) > 1:
        user = segments[0][1:]
        if "@" in user:  # https://host/@user@other.host: a remote account seen from host
            name, _, home = user.partition("@")
            return _mastodon(name, home, raw)
        return _mastodon(user, host, raw, parts.scheme)
    if len(segments) >= 2 and segments[0] == "users":
        return _mastodon(segments[1], host, raw, parts.scheme)
    raise InvalidAccount(
        f"{raw!r} is not a profile URL kompas knows (expected https://INSTANCE/@USER or "
        "https://bsky.app/profile/HANDLE)"
    )
