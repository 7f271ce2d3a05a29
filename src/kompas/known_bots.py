"""Accounts known to be automated though the platform does not flag them: assistants and
utility bots people reply to or mention (e.g. X's ``grok``, thread unrollers, reminder
bots). Each one says on its own profile that it is automated; the list is short on purpose
and is matched by handle, case-insensitively. Mastodon's ``bot`` flag and Bluesky's
self-label cover the rest (``accounts.is_bot``)."""

from __future__ import annotations

KNOWN_BOTS: dict[str, frozenset[str]] = {
    "x": frozenset(
        {
            "grok",
            "askperplexity",
            "threadreaderapp",
            "unrollthread",
            "remindme_ofthis",
            "savetonotion",
            "pikaso_me",
            "makeitaquote",
            "colorize_bot",
            "dearassistant",
            "quotedreplies",
            "getvidbot",
            "sendvidbot",
            "downloaderbot",
            "readwiseio",
            "iluminatibot",
        }
    ),
    "bluesky": frozenset(),
    "mastodon": frozenset(),
}
#: Mastodon servers that host only bots (botsin.space, the largest, until it closed in 2024).
BOT_INSTANCES = frozenset({"botsin.space"})


def is_known_bot(platform: str, handle: str | None) -> bool:
    """Whether ``handle`` on ``platform`` is a known automated account."""
    if not handle:
        return False
    name = handle.lstrip("@").lower()
    if platform == "mastodon" and name.rpartition("@")[2] in BOT_INSTANCES:
        return True
    return name in KNOWN_BOTS.get(platform, frozenset())
