"""The inbox: what others addressed to the user that waits for an answer, and the marks
(done, snoozed, ignored) the user keeps on it."""

from kompas.inbox.build import Inbox, build_inbox, rules_of
from kompas.inbox.items import InboxItem, responsiveness
from kompas.inbox.marks import mark, parse_duration, resolve, unmark

__all__ = [
    "Inbox",
    "InboxItem",
    "build_inbox",
    "mark",
    "parse_duration",
    "resolve",
    "responsiveness",
    "rules_of",
    "unmark",
]
