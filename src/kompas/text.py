"""Platform text is untrusted: turn HTML into plain text for analysis, and sanitise it
with nh3 before anything displays it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_BLOCKS = {"p", "div", "li", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n\n")
        elif tag == "a":
            values = dict(attrs)
            classes = (values.get("class") or "").split()
            href = values.get("href")
            # Mentions and hashtags are links to profiles and tag pages, not shared links.
            if href and not {"mention", "hashtag"} & set(classes) and "u-url" not in classes:
                self.links.append(href)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> tuple[str, list[str]]:
    """Plain text of ``html`` (paragraphs kept as blank lines) and the links it shares."""
    parser = _TextAndLinks()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip(), parser.links


def links_in(text: str) -> list[str]:
    """The http(s) URLs written in plain text."""
    return [m.group(0).rstrip(".,;:!?") for m in _URL.finditer(text)]


def sanitize_html(html: str) -> str:
    """HTML safe to display: no scripts, event handlers or javascript: URLs."""
    return nh3.clean(html, url_schemes={"http", "https", "mailto"})
