"""OPML subscription lists, including hostile XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import OPML, Kompas
from kompas.errors import SourceError
from kompas.model import FeedSubscription
from kompas.sources.feeds import parse_opml


def test_every_feed_with_its_folder() -> None:
    expected = [o.get("xmlUrl") for o in ET.parse(OPML).iter("outline") if o.get("xmlUrl")]
    feeds = [r for r in parse_opml(str(OPML)) if isinstance(r, FeedSubscription)]
    assert [f.url for f in feeds] == expected
    python = next(f for f in feeds if f.title == "Python Insider")
    assert python.categories == ("Python",)
    indieweb = next(f for f in feeds if f.title == "IndieWeb News")
    assert indieweb.categories == ()


def test_entity_expansion_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<opml><body><outline title="&b;" xmlUrl="https://e.example/feed"/></body></opml>'
    )
    with pytest.raises(SourceError, match="unsafe XML refused"):
        list(parse_opml(str(bomb)))


def test_not_opml(kompas: Kompas, tmp_path: Path) -> None:
    other = tmp_path / "feed.xml"
    other.write_text("<rss><channel/></rss>")
    result = kompas("import", "opml", other)
    assert result.exit_code == 1 and "<rss>" in result.stderr and "<opml>" in result.stderr
    broken = tmp_path / "broken.opml"
    broken.write_text("<opml><body><outline></body>")
    result = kompas("import", "opml", broken)
    assert result.exit_code == 1 and "invalid XML" in result.stderr and "line 1" in result.stderr
