"""Alignment says when it cannot read a post's language, and matches keywords inside
unsegmented Chinese and Japanese text (issue #11, point 6).

The review test runs on the real X sample, whose author writes mostly German: with
pillars written in English, French and Chinese only, every German-tagged post must be
counted as "not supported", never as "unaligned", and the count is read from the raw
``tweets.js`` by the independent reader in ``samples.py``."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import datetime

import pytest

from conftest import DATA, X_ARCHIVE, Kompas
from kompas.strategy import Aligner
from kompas.strategy.features import hashed
from kompas.strategy.language import detect
from kompas.strategy.model import Pillar
from samples import x_file

DATA_PILLAR = Pillar(
    id="data",
    name="数据可视化",
    description="数据分析、图表和可视化。Data analysis, charts and visualisation.",
    keywords=("数据", "可视化", "データ", "data", "chart"),
    examples=("我用开放数据画了一张图表。",),
)
MUSIC_PILLAR = Pillar(
    id="music",
    name="Music",
    description="Songs, albums and concerts.",
    keywords=("song", "album", "音乐"),
)
#: Declared tags kompas ignores (X's "undetermined", "only hashtags", "only links"…).
UNDETERMINED = {"und", "qam", "qme", "zxx"}


def test_cjk_keywords_match_inside_unsegmented_text() -> None:
    aligner = Aligner([DATA_PILLAR, MUSIC_PILLAR])
    chinese = aligner.align("今天我用政府的开放数据做了一个交互式可视化")
    assert chinese.labels == ["data"]
    assert set(chinese.pillars[0].keywords) == {"数据", "可视化"}
    assert chinese.language == "zh" and chinese.supported
    japanese = aligner.align("昨日のライブの音乐がすごく良かった、データも取った")
    assert japanese.language == "ja"
    assert "データ" in next(m for m in japanese.candidates if m.pillar == "data").keywords
    # A Latin keyword still needs whole words: "data" does not match inside "database".
    latin = aligner.align("my database migration failed again tonight, sadly")
    assert "data" not in next(m for m in latin.candidates if m.pillar == "data").keywords


def test_cjk_text_gets_character_features() -> None:
    rows = hashed(["数据可视化", "可视化很难"])
    first = set(rows.feature[rows.doc == 0].tolist())
    second = set(rows.feature[rows.doc == 1].tolist())
    # 可, 视, 化, 可视, 视化 are shared; without CJK features the two share nothing.
    assert len(first & second) >= 5


def test_a_post_in_a_language_the_pillars_lack_is_not_supported() -> None:
    web = Pillar(
        id="web",
        name="Web",
        description="Blogs, browsers and the open web.",
        keywords=("blog", "browser", "firefox"),
        examples=("Moved my blog to a static site generator.",),
    )
    aligner = Aligner([web])  # no CJK keyword: Chinese is not supported
    ukrainian = aligner.align("Сьогодні я написав новий допис у блозі про веб-браузери та Linux")
    assert ukrainian.language == "uk"
    assert not ukrainian.supported and not ukrainian.aligned
    assert ukrainian.status == "unsupported language"
    assert "language uk is not supported" in ukrainian.reason()
    chinese = aligner.align("今天的天气很好，我们去公园散步了")
    assert chinese.language == "zh" and chinese.status == "unsupported language"
    english = aligner.align("Gorgeous sunset tonight, happy Sunday everyone")
    assert english.supported and english.status == "unaligned"


def test_language_by_script_and_detector() -> None:
    assert detect("数据可视化") == ("zh", "detected")
    assert detect("データの可視化") == ("ja", "detected")
    assert detect("데이터 시각화를 했습니다") == ("ko", "detected")
    assert detect("Сьогодні я написав новий допис у блозі")[0] == "uk"
    assert detect("Bonjour à tous, première randonnée de l'année, quelle vue")[0] == "fr"


def _created(tweet: dict[str, str]) -> datetime:
    return datetime.strptime(tweet["created_at"], "%a %b %d %H:%M:%S %z %Y")


@pytest.fixture(scope="module")
def x_workspace(tmp_path_factory: pytest.TempPathFactory) -> Kompas:
    kompas = Kompas(tmp_path_factory.mktemp("languages") / "home")
    assert kompas("import", "x-archive", X_ARCHIVE).exit_code == 0
    (kompas.home / "strategy.yaml").write_text(
        """\
why: Data in Chinese, music in English.
pillars:
  - name: 数据
    description: 数据分析、图表和可视化。
    keywords: [数据, 可视化]
  - name: Musique
    description: Des chansons, des albums et des concerts.
    keywords: [chanson, album]
""",
        encoding="utf-8",
    )
    return kompas


def test_review_counts_unsupported_languages_apart_on_the_real_x_sample(
    x_workspace: Kompas,
) -> None:
    tweets = [t["tweet"] for t in x_file(X_ARCHIVE, "tweets")]
    own = [t for t in tweets if not t["full_text"].startswith("RT @")]
    newest = max(_created(t) for t in own)
    result = x_workspace("review", "--month", "--json", "--date", newest.date().isoformat())
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    unsupported = review["unsupported_language"]
    # The review covers the last 30 days of the sample; count the raw tweets of them.
    since = datetime.fromisoformat(review["period"]["since"])
    until = datetime.fromisoformat(review["period"]["until"])
    month = [t for t in own if since <= _created(t) < until]
    week_tags = Counter(t["lang"] for t in month)
    assert week_tags["de"] > 0, "the sample's last month holds German tweets"
    # A keyword of the user's still aligns a post kompas cannot read; nothing else does.
    keyword = re.compile(r"(?<!\w)(album|chanson)(s|es|x)?(?!\w)")
    unread = Counter(t["lang"] for t in month if not keyword.search(t["full_text"].lower()))
    # X tags most tweets; the untagged ones ("und", "qme"…) are detected by kompas and
    # may add to any language.
    guessed = sum(n for lang, n in unread.items() if lang in UNDETERMINED)
    for lang, count in unread.items():
        if lang not in UNDETERMINED | {"en", "fr"}:
            assert count <= unsupported["languages"].get(lang, 0) <= count + guessed, lang
    declared = sum(n for lang, n in unread.items() if lang not in UNDETERMINED | {"en", "fr"})
    assert declared <= unsupported["posts"] <= declared + guessed
    readable = review["unaligned"]["of"] - unsupported["posts"]
    assert review["unaligned"]["posts"] <= readable


def test_review_on_screen_names_the_posts_it_could_not_read(x_workspace: Kompas) -> None:
    newest = max(_created(t["tweet"]) for t in x_file(X_ARCHIVE, "tweets"))
    result = x_workspace("review", "--month", "--date", newest.date().isoformat())
    assert result.exit_code == 0, result.output
    assert "Not read:" in result.stdout and "de " in result.stdout


def test_batch_detection_says_what_py3langid_says_text_by_text() -> None:
    """The batch classifier walks py3langid's own automaton for all texts at once; it
    must name the same language as py3langid's ``classify``, text by text, on the
    labelled sets' posts (English, French, translations, short replies)."""
    from kompas.strategy.language import DETECT_CHARS, _identifier, classify_many

    texts = []
    for name in ("mixed", "dealingwith", "ducamp"):
        with (DATA / "alignment" / name / "labelled.jsonl").open(encoding="utf-8") as handle:
            texts += [json.loads(line)["text"][:DETECT_CHARS] for line in handle]
    texts += ["", "OK", "HELLO THERE EVERYONE", "Ça va très bien, merci beaucoup !"]
    identifier = _identifier(True)
    expected = [identifier.classify(text)[0] for text in texts]
    assert classify_many(identifier, texts) == expected
    assert {"en", "fr"} <= set(expected)
