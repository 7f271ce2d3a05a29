"""Replies: who a reply addresses, and what answering an inbox item does to it.

On Mastodon a reply reaches its author only if it mentions them (the web app starts every
reply with ``@author``); kompas does the same when the store knows the author's handle and
the text does not already mention them. Bluesky notifies the author of the post replied to
without a mention, so nothing is added there.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from kompas.store import inbox as inbox_store
from kompas.store.posted import known_post, replied_by


def addressed(connection: sa.Connection, network: str, reply_to: str | None, text: str) -> str:
    """``text`` as it should be posted in answer to ``reply_to``: on Mastodon, starting
    with ``@handle`` of the post's author when the store knows it, it is not the user, and
    the text does not mention them yet."""
    if network != "mastodon" or not reply_to:
        return text
    known = known_post(connection, network, reply_to.strip())
    if known is None or not known.author_handle:
        return text
    own = inbox_store.selves(connection, network).get(network, [])
    if known.author_id in own:
        return text  # continuing one's own thread
    handle = known.author_handle.lstrip("@")
    user = re.escape(handle.split("@", 1)[0])
    if re.search(rf"(?<![\w@])@{user}(@[\w.-]+)?(?![\w@])", text, re.IGNORECASE):
        return text
    return f"@{handle} {text}"


def settle(connection: sa.Connection, item: inbox_store.Addressed, now: datetime) -> bool:
    """After the user answered the inbox ``item``: whether the stored reply makes it
    answered; if not (the reply is stored, but not as a reply to that post the inbox can
    see), the item is marked done, so it leaves the inbox either way."""
    own = inbox_store.selves(connection, item.platform).get(item.platform, [])
    if replied_by(connection, item.platform, item.post, own):
        return True
    inbox_store.set_mark(connection, item.platform, item.post, "done", now, None)
    return False
