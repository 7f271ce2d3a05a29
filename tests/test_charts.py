"""Charts a person can read: weekly series bucketed by month or year over long spans (the
same buckets on the dashboard and in the CLI), a y axis with its values, values over the
bars, and CLI sparklines that fit the terminal with the newest weeks kept.

Expected buckets are grouped here by hand (a week belongs to the month/year of its Monday),
independently of :mod:`kompas.buckets`."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from conftest import LINKEDIN_EXPORT, MASTODON_ARCHIVE, X_ARCHIVE, Kompas
from kompas import buckets
from kompas.cli._trends import BARS, print_trends, sparkline
from kompas.web import charts

SVG = "{http://www.w3.org/2000/svg}"


def mondays(first: date, count: int) -> list[str]:
    return [(first + timedelta(weeks=n)).isoformat() for n in range(count)]


def by_hand(weeks: list[str], values: list[int], key: str) -> dict[str, int]:
    """Sum per month (``key="month"``: YYYY-MM) or year (YYYY) of each week's Monday."""
    found: dict[str, int] = defaultdict(int)
    for week, value in zip(weeks, values, strict=True):
        found[week[:7] if key == "month" else week[:4]] += value
    return dict(found)


def test_up_to_26_weeks_stay_weeks() -> None:
    weeks = mondays(date(2023, 1, 2), 26)
    grouped = buckets.bucket(weeks, list(range(26)))
    assert grouped.unit == "week"
    assert grouped.values() == list(range(26))


def test_a_year_of_weeks_becomes_months_summed_by_hand() -> None:
    weeks = mondays(date(2022, 5, 2), 60)  # 2022-05-02 … 2023-06-19
    values = [(n * 7) % 11 for n in range(60)]
    grouped = buckets.bucket(weeks, values)
    assert grouped.unit == "month"
    assert {f"{b.start:%Y-%m}": b.value for b in grouped.buckets} == by_hand(weeks, values, "month")
    # May 2022 has 5 Mondays (2, 9, 16, 23, 30), all in; June 2023 only 3 of its 4.
    first, last = grouped.buckets[0], grouped.buckets[-1]
    assert (first.weeks, first.whole, first.partial) == (5, 5, False)
    assert (last.weeks, last.whole, last.partial) == (3, 4, True)


def test_people_per_week_average_instead_of_adding_up() -> None:
    weeks = mondays(date(2023, 1, 2), 30)
    values: list[int | None] = [4] * 5 + [2, 3, None, 1] + [0] * 21
    grouped = buckets.bucket(weeks, values, average=True)
    assert grouped.buckets[0].value == 4.0  # January 2023: five weeks of 4 people
    assert grouped.buckets[1].value == 2.0  # February: 2, 3, (no data), 1
    only_gaps = buckets.bucket(weeks, [None] * 30)
    assert set(only_gaps.values()) == {None}


def test_fifteen_years_of_weeks_become_years() -> None:
    weeks = mondays(date(2008, 3, 3), 754)
    values = [n % 5 for n in range(754)]
    grouped = buckets.bucket(weeks, values)
    assert grouped.unit == "year"
    assert {str(b.start.year): b.value for b in grouped.buckets} == by_hand(weeks, values, "year")
    assert len(grouped.buckets) == 15
    with pytest.raises(ValueError, match="754 weeks but 3 values"):
        buckets.bucket(weeks, [1, 2, 3])


def test_newest_keeps_the_newest_buckets() -> None:
    grouped = buckets.bucket(mondays(date(2020, 1, 6), 200), list(range(200)))
    kept, left_out = grouped.newest(10)
    assert kept.buckets == grouped.buckets[-10:] and left_out == len(grouped.buckets) - 10


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_bar_chart_has_a_labelled_y_axis_and_labelled_bars() -> None:
    labels = [f"w{n}" for n in range(8)]
    values = [0, 3, 7, 12, 5, 0, 9, 37]
    root = parse(str(charts.bar_chart(labels, values, "Posts")))
    ticks = [t for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert [t.text for t in ticks] == ["0", "10", "20", "30", "40"]
    bars = [float(r.get("data-value", "")) for r in root.iter(f"{SVG}rect")]
    assert bars == values
    shown = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert shown == [str(v) for v in values if v]  # every non-zero bar says its value
    tooltips = [t.text for g in root.iter(f"{SVG}g") for t in g.iter(f"{SVG}title")]
    assert tooltips == [f"{label}: {value}" for label, value in zip(labels, values, strict=True)]


def test_many_bars_label_the_highest_and_the_newest_and_french_numbers() -> None:
    values: list[int | float | None] = [1000 + n for n in range(40)]
    values[10] = 12345
    values[-1] = None  # no data: an empty slot, said so in its tooltip
    root = parse(str(charts.bar_chart([str(n) for n in range(40)], values, "t", lang="fr")))
    shown = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "value"]
    assert shown == ["12\u202f345", "1\u202f038"]
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert ticks[-1] == "15\u202f000"
    assert "39: pas de données" in [t.text for t in root.iter(f"{SVG}title")]
    labels = [t for t in root.iter(f"{SVG}text") if t.get("class") == "label"]
    assert 2 <= len(labels) < 40 and labels[-1].text == "39"


def test_a_long_trend_chart_is_by_month_with_named_months() -> None:
    weeks = mondays(date(2022, 5, 2), 60)
    html = str(charts.trend_chart(weeks, [1] * 60, "Publications", name="posts", lang="fr"))
    assert 'data-unit="month"' in html and "mois par mois" in html
    assert "mai 2022" in html and "juin 2023" in html
    assert "partiel : 3 semaines sur 4" in html  # June 2023's tooltip
    people = str(charts.trend_chart(weeks, [1] * 60, "People", name="people_interacted"))
    assert "the average week of each month" in people


def test_sparkline_heights_and_gaps() -> None:
    assert sparkline([0, 7, None, 14]) == BARS[0] + BARS[4] + " " + BARS[7]
    assert sparkline([0, 0]) == BARS[0] * 2


def rendered(width: int, weeks: list[str], series: dict[str, list[int] | None]) -> str:
    console = Console(width=width, record=True, force_terminal=False)
    print_trends(console, weeks, series, "all platforms")
    return console.export_text()


def test_cli_trends_fit_the_terminal_and_keep_the_newest_months() -> None:
    weeks = mondays(date(2019, 1, 7), 260)  # 60 months
    posts = [0] * 259 + [50]  # only the newest week has posts
    text = rendered(60, weeks, {"posts": posts, "replies_received": None})
    assert max(len(line) for line in text.splitlines()) <= 60
    spark = re.search(r"│ posts\s+│ (\S+)", text)
    assert spark is not None
    line = spark.group(1)
    assert line.endswith(BARS[7]) and set(line[:-1]) == {BARS[0]}  # the newest kept
    kept = len(line)
    assert 8 <= kept < 60
    assert f"the oldest {60 - kept} months (2019-01 to " in " ".join(text.split())
    assert "no data" in text and "Month by month" in text


def test_a_wide_terminal_shows_every_month() -> None:
    weeks = mondays(date(2022, 1, 3), 60)
    text = rendered(120, weeks, {"posts": [1] * 60})
    assert "left out" not in text
    spark = re.search(r"│ posts\s+│ (\S+)", text)
    assert spark is not None and len(spark.group(1)) == len({w[:7] for w in weeks})


def test_the_samples_all_time_fit_80_columns(tmp_path: Path) -> None:
    kompas = Kompas(tmp_path)
    for kind, path in (
        ("x-archive", X_ARCHIVE),
        ("mastodon-archive", MASTODON_ARCHIVE),
        ("linkedin", LINKEDIN_EXPORT),
    ):
        assert kompas("import", kind, path).exit_code == 0
    data = json.loads(kompas("community", "--all", "--json").stdout)
    weekly = data["trends"]["all"]
    weeks, posts = weekly["weeks"], weekly["posts"]
    assert len(weeks) > 26 * 12  # years of weeks
    text = kompas("community", "--all").stdout
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) > 5 and max(len(line) for line in table) <= 80
    spark = re.search(r"│ posts\s+│ (\S+)", text)
    assert spark is not None
    yearly = by_hand(weeks, posts, "year")
    assert "Year by year" in text
    # One character per year, the tallest where the most posts were.
    line = spark.group(1)
    assert len(line) == len(yearly)
    assert line.index(BARS[7]) == list(yearly.values()).index(max(yearly.values()))
