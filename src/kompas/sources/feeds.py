"""Feeds the user follows: OPML subscription lists (exported by every feed reader).

Parsed with defusedxml, so entity-expansion bombs and external entities are refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from kompas.errors import SourceError
from kompas.model import FeedSubscription, Record
from kompas.sources.archive import max_member_bytes

#: Larger than any subscription list (thousands of feeds are a few MB).
MAX_OPML_BYTES = 64 * 1024**2
#: Deeper than any reader's folders go.
MAX_OPML_DEPTH = 64


def parse_opml(path: str) -> Iterator[Record]:
    """Every feed (``<outline xmlUrl=...>``) of an OPML file, with its folder names."""
    file = Path(path)
    if not file.is_file():
        raise SourceError(path, "no such file", expected="an .opml file")
    if file.stat().st_size > min(MAX_OPML_BYTES, max_member_bytes()):
        raise SourceError(path, "file too large", expected="an OPML list under 64 MiB")
    try:
        root = safe_xml.parse(str(file)).getroot()
    except ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise SourceError(
            path,
            f"invalid XML ({exc})",
            location=f"line {line}, column {column}",
            expected="an OPML document",
        ) from exc
    except LookupError as exc:
        raise SourceError(
            path, f"unknown text encoding ({exc})", expected="UTF-8 or another known encoding"
        ) from exc
    except DefusedXmlException as exc:
        raise SourceError(path, f"unsafe XML refused ({exc})", expected="plain OPML") from exc
    body = root.find("body") if root is not None and root.tag.lower() == "opml" else None
    if root is None or body is None:
        found = "nothing" if root is None else f"<{root.tag}>"
        raise SourceError(path, f"root element is {found}", expected="<opml> with a <body>")
    yield from _outlines(path, body)


def _outlines(path: str, body: Element) -> Iterator[FeedSubscription]:
    """Every feed under ``body`` in document order, walked without recursion."""
    number = 0
    stack: list[tuple[Iterator[Element], tuple[str, ...]]] = [(iter(body.findall("outline")), ())]
    while stack:
        outline = next(stack[-1][0], None)
        if outline is None:
            stack.pop()
            continue
        folders = stack[-1][1]
        number += 1
        title = outline.get("title") or outline.get("text")
        url = outline.get("xmlUrl", outline.get("xmlurl"))
        if url is not None:
            url = url.strip()
            if not url.lower().startswith(("http://", "https://")) or len(url) > 4096:
                raise SourceError(
                    path,
                    f"feed address {url[:80]!r} is not an http(s) URL",
                    location=f"outline {number} ({(title or '')[:60]!r})",
                    expected='xmlUrl="https://…"',
                )
            yield FeedSubscription(
                url=url,
                title=title,
                html_url=outline.get("htmlUrl") or outline.get("htmlurl"),
                categories=folders,
            )
        if len(stack) >= MAX_OPML_DEPTH:
            if outline.find("outline") is not None:
                raise SourceError(
                    path,
                    f"outlines nested more than {MAX_OPML_DEPTH} deep",
                    location=f"outline {number}",
                    expected="folders a few levels deep",
                )
            continue
        inner = (*folders, title) if title and url is None else folders
        stack.append((iter(outline.findall("outline")), inner))
