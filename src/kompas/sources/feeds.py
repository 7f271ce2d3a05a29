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


def parse_opml(path: str) -> Iterator[Record]:
    """Every feed (``<outline xmlUrl=...>``) of an OPML file, with its folder names."""
    file = Path(path)
    if not file.is_file():
        raise SourceError(path, "no such file", expected="an .opml file")
    if file.stat().st_size > max_member_bytes():
        raise SourceError(path, "file too large", expected="an OPML list under the size limit")
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
    except DefusedXmlException as exc:
        raise SourceError(path, f"unsafe XML refused ({exc})", expected="plain OPML") from exc
    body = root.find("body") if root is not None and root.tag.lower() == "opml" else None
    if root is None or body is None:
        found = "nothing" if root is None else f"<{root.tag}>"
        raise SourceError(path, f"root element is {found}", expected="<opml> with a <body>")
    yield from _outlines(body, ())


def _outlines(parent: Element, folders: tuple[str, ...]) -> Iterator[FeedSubscription]:
    for outline in parent.findall("outline"):
        title = outline.get("title") or outline.get("text")
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            yield FeedSubscription(
                url=url.strip(),
                title=title,
                html_url=outline.get("htmlUrl") or outline.get("htmlurl"),
                categories=folders,
            )
        yield from _outlines(outline, (*folders, title) if title and not url else folders)
