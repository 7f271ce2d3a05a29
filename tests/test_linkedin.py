"""The LinkedIn parser on the real sample's irregular CSV quoting."""

from __future__ import annotations

import re

from conftest import LINKEDIN_EXPORT
from kompas.model import Post, PostKind
from kompas.sources import linkedin
from samples import linkedin_text


def _posts() -> list[Post]:
    return [r for r in linkedin.parse(str(LINKEDIN_EXPORT)) if isinstance(r, Post)]


def test_multi_line_share_is_unwrapped_to_the_text_the_author_wrote() -> None:
    # Read by hand from Shares.csv line 2: every line of the post wrapped in its own quotes.
    share = next(p for p in _posts() if p.id == "urn:li:share:7345821826846990338")
    assert share.text.startswith(
        "I'm off for a 10-day Vipassana meditation program.\n\n𝗪𝗛𝗔𝗧? A 10-day residential"
    )
    assert '"' not in share.text
    assert share.text.endswith("But I won't be replying.")
    assert "https://www.dhamma.org/" in share.links


def test_comments_with_backslash_escaped_quotes() -> None:
    raw = linkedin_text(LINKEDIN_EXPORT, "Comments.csv")
    assert '\\"' in raw  # the sample escapes quotes with a backslash
    comments = [p for p in _posts() if p.kind is PostKind.REPLY]
    srini = next(c for c in comments if c.text.startswith("Srini Annamaraju"))
    assert '"Challenge my assumptions' in srini.text and "\\" not in srini.text
    assert srini.reply_to_id == "urn:li:activity:7344186464080941056"


def test_every_share_row_date_becomes_a_post_time() -> None:
    dates = set(
        re.findall(
            r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),",
            linkedin_text(LINKEDIN_EXPORT, "Shares.csv"),
            re.MULTILINE,
        )
    )
    shares = [p for p in _posts() if p.kind is PostKind.POST]
    assert {p.created_at.strftime("%Y-%m-%d %H:%M:%S") for p in shares if p.created_at} == dates


def test_unwrap_lines_leaves_ordinary_text_alone() -> None:
    assert linkedin.unwrap_lines('He said "hi"\nand left') == 'He said "hi"\nand left'
    assert linkedin.unwrap_lines('one"\n""\n"two') == "one\n\ntwo"
