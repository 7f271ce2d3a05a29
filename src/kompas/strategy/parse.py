"""Reading ``strategy.yaml``: YAML with positions (the rules pillar's guarded loader),
validated against the published JSON Schema, then each key result bound to a metric.
Every error names the line and column of the offending node; an unknown metric or a
malformed threshold also lists the valid metric names.

A file parsed once is remembered (:mod:`kompas.memo`, keyed by its text and by this
code), so the commands that read it on every run skip the YAML parser and the schema
validator, about a fifth of ``kompas review``'s CPU on the samples."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kompas import memo
from kompas.errors import SourceError
from kompas.strategy import metrics, model, schema
from kompas.strategy.metrics import REGISTRY, MetricKind
from kompas.strategy.model import Goal, Habit, KeyResult, Pillar, Strategy
from kompas.strategy.schema import MAX_FILE_BYTES, strategy_schema

if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError

#: Bump when what a file parses to changes in a way the code's own text does not show.
PARSE_VERSION = 1
#: How many distinct strategy texts are remembered.
REMEMBERED = 8

_PERIODS = {
    "day": "day",
    "jour": "day",
    "week": "week",
    "semaine": "week",
    "month": "month",
    "mois": "month",
}
_KEY_RESULT = re.compile(
    r"^\s*(?P<metric>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+)"
    r"(?:\s+(?:per|par)\s+(?P<per>\w+))?"
    r"\s*(?P<op>>=|<=|==|=>|=<|!=|=|>|<|≥|≤)?"
    r"\s*(?P<target>.*?)\s*$"
)
_NUMBER = re.compile(r"^(?P<number>-?[0-9]+(?:[.,][0-9]+)?)\s*(?P<percent>%)?$")
_OPS = {">=": ">=", "≥": ">=", ">": ">", "<=": "<=", "≤": "<=", "<": "<", "==": "=="}
_MIX_TOLERANCE = 0.011


class StrategyFileError(SourceError):
    """A strategy file that cannot be used: where (1-based line and column), what is
    wrong, and what was expected there."""

    def __init__(
        self, path: str, line: int, column: int, problem: str, expected: str | None = None
    ) -> None:
        self.line = line
        self.column = column
        super().__init__(path, problem, location=f"line {line}, column {column}", expected=expected)


def _valid_metrics() -> str:
    return "one of the metrics: " + ", ".join(REGISTRY.names())


def read_strategy_text(path: str | Path) -> str:
    """The text of a strategy file, refused if missing or over the size limit."""
    file = Path(path)
    if not file.is_file():
        raise StrategyFileError(
            str(path),
            1,
            1,
            "no such file",
            "a strategy file (write one with `kompas strategy init`)",
        )
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise StrategyFileError(
            str(path), 1, 1, f"file is {size:,} bytes", f"at most {MAX_FILE_BYTES:,} bytes"
        )
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StrategyFileError(
            str(path), 1, 1, f"not UTF-8 text ({exc.reason})", "UTF-8"
        ) from None


@cache
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(strategy_schema())


def _value_position(container: Any, key: Any) -> tuple[int, int]:
    from kompas.rules.load import position

    if isinstance(container, dict):
        try:
            line, column = container.lc.value(key)  # type: ignore[attr-defined]
            return (int(line) + 1, int(column) + 1)
        except (AttributeError, KeyError, TypeError):
            pass
    return position(container, key)


def _expected(error: ValidationError) -> str:
    names = [step for step in error.absolute_path if isinstance(step, str)]
    last = names[-1] if names else None
    if last == "key_results":
        return "METRIC [per day|week|month] OP NUMBER; " + _valid_metrics()
    if last == "pillars":
        return "a pillar: name, description (and optionally id, keywords, examples)"
    if last == "habits":
        return "a habit: name, count (or tag), per, target (and optionally distinct)"
    if last == "goals":
        return "a goal: name, key_results (and optionally why)"
    if not error.absolute_path:
        return "a mapping with why: (and goals, pillars, mix, habits)"
    described = error.schema.get("description") if isinstance(error.schema, dict) else None
    return str(described or "a value the schema allows")


def _validate(document: Any, path: str) -> None:
    from jsonschema.exceptions import best_match

    from kompas.rules.load import locate, position

    if document is None:
        raise StrategyFileError(path, 1, 1, "the file is empty", "a mapping with why:")
    errors = list(_validator().iter_errors(document))
    if not errors:
        return
    error = best_match(errors)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        if extra:
            line, column = position(instance, extra[0])
            raise StrategyFileError(
                path,
                line,
                column,
                f"unknown key {extra[0]!r}",
                "one of: " + ", ".join(sorted(allowed)),
            )
    if error.validator == "required" and isinstance(instance, dict):
        line, column = position(instance)
        raise StrategyFileError(path, line, column, error.message, _expected(error))
    if error.validator == "oneOf" and isinstance(instance, dict):
        line, column = position(instance)
        both = "count" in instance and "tag" in instance
        problem = "a habit has both count and tag" if both else "a habit needs count or tag"
        raise StrategyFileError(
            path,
            line,
            column,
            problem,
            "exactly one of count: (a kind of action) or tag: (a rules tag)",
        )
    parent, key = locate(document, list(error.absolute_path))
    if parent is None:
        line, column = position(document)
    else:
        line, column = _value_position(parent, key)
    problem = error.message
    if error.validator == "anyOf":
        problem = f"{instance!r} is not allowed here"
    raise StrategyFileError(path, line, column, problem, _expected(error))


def parse_key_result(
    text: str, path: str = "<strategy>", line: int = 1, column: int = 1
) -> KeyResult:
    """One key result, ``METRIC [per day|week|month] OP NUMBER[%]``, checked against the
    metric registry."""
    match = _KEY_RESULT.match(text)
    if match is None:
        raise StrategyFileError(
            path,
            line,
            column,
            f"cannot read key result {text!r}",
            "METRIC [per day|week|month] OP NUMBER; " + _valid_metrics(),
        )
    metric = match["metric"]
    if metric not in REGISTRY.infos:
        raise StrategyFileError(path, line, column, f"unknown metric {metric!r}", _valid_metrics())
    info = REGISTRY.infos[metric]
    per = None
    if match["per"] is not None:
        per = _PERIODS.get(match["per"].lower())
        if per is None:
            raise StrategyFileError(
                path,
                line,
                column,
                f"unknown period {match['per']!r}",
                "per day, per week or per month",
            )
        if info.kind is not MetricKind.COUNT:
            raise StrategyFileError(
                path,
                line,
                column,
                f"{metric} is a {info.kind.value}, not a count",
                f"no `per …` for {metric} (it is measured over the review period)",
            )
    op = _OPS.get(match["op"] or "")
    if op is None:
        found = match["op"] or "nothing"
        raise StrategyFileError(
            path,
            line,
            column,
            f"malformed threshold in {text!r}: operator {found!r}",
            "one of >=, >, <=, <, == then a number; " + _valid_metrics(),
        )
    number = _NUMBER.match(unicodedata.normalize("NFKC", match["target"]))
    if number is None:
        raise StrategyFileError(
            path,
            line,
            column,
            f"malformed threshold {match['target']!r} in {text!r}",
            "a number such as 20, 0.4 or 40%; " + _valid_metrics(),
        )
    target = float(number["number"].replace(",", "."))
    percent = number["percent"] is not None
    if percent:
        target /= 100.0
    return KeyResult(
        text=text.strip(),
        metric=metric,
        op=op,
        target=target,
        per=per,
        percent=percent,
        line=line,
        column=column,
    )


def _share(value: Any) -> float:
    if isinstance(value, str):
        return float(value.strip().rstrip("%").strip().replace(",", ".")) / 100.0
    return float(value)


def _slug(name: str) -> str:
    """The id of a pillar named ``name``: accents dropped, letters of any script kept
    (数据 stays 数据), anything else a hyphen."""
    decomposed = unicodedata.normalize("NFKD", name.lower())
    plain = unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    )
    slug = re.sub(r"[\W_]+", "-", plain).strip("-")
    return slug[:64] or "pillar"


def _build(document: Any, path: str) -> Strategy:
    from kompas.rules.load import position

    goals = []
    for goal in document.get("goals") or []:
        results = []
        for index, text in enumerate(goal["key_results"]):
            line, column = position(goal["key_results"], index)
            results.append(parse_key_result(text, path, line, column))
        goals.append(Goal(name=str(goal["name"]), key_results=tuple(results), why=goal.get("why")))
    pillars: list[Pillar] = []
    seen: set[str] = set()
    for index, pillar in enumerate(document.get("pillars") or []):
        ident = str(pillar.get("id") or _slug(str(pillar["name"])))
        if ident in seen:
            line, column = position(document["pillars"], index)
            raise StrategyFileError(
                path,
                line,
                column,
                f"two pillars have the id {ident!r}",
                "a distinct name or id: for each pillar",
            )
        seen.add(ident)
        pillars.append(
            Pillar(
                id=ident,
                name=str(pillar["name"]),
                description=str(pillar["description"]),
                keywords=tuple(str(k) for k in pillar.get("keywords") or ()),
                examples=tuple(str(e) for e in pillar.get("examples") or ()),
            )
        )
    mix = {kind: _share(value) for kind, value in (document.get("mix") or {}).items()}
    for kind, share in mix.items():
        if not 0.0 <= share <= 1.0:
            line, column = _value_position(document["mix"], kind)
            raise StrategyFileError(
                path, line, column, f"{kind} share is {share:.0%}", "a share between 0% and 100%"
            )
    # At most 100%: the rest is left to posts of no targeted kind (community's other).
    if mix and sum(mix.values()) > 1.0 + _MIX_TOLERANCE:
        line, column = position(document["mix"])
        raise StrategyFileError(
            path, line, column, f"the mix adds up to {sum(mix.values()):.0%}", "at most 100%"
        )
    habits = tuple(
        Habit(
            name=str(h["name"]),
            per=str(h["per"]),
            target=int(h["target"]),
            count=h.get("count"),
            tag=h.get("tag"),
            distinct=str(h.get("distinct") or "actions"),
        )
        for h in document.get("habits") or []
    )
    return Strategy(
        why=str(document["why"]).strip(),
        goals=tuple(goals),
        pillars=tuple(pillars),
        mix=mix,
        habits=habits,
        domains=tuple(str(d) for d in document.get("domains") or ()),
        style=document.get("style"),
        language=document.get("language"),
        path=path,
    )


def parse_strategy(text: str, path: str = "<strategy>") -> Strategy:
    """Parse and validate a strategy file's text (remembered once it parsed)."""
    key = _memo_key(text)
    remembered = memo.read("strategies", PARSE_VERSION, "files")
    known = _from_plain(remembered.get(key), path)
    if known is not None:
        return known
    strategy = _parse(text, path)
    remembered.pop(key, None)
    remembered[key] = asdict(strategy)
    memo.write("strategies", PARSE_VERSION, "files", remembered, keep=REMEMBERED)
    return strategy


def _memo_key(text: str) -> str:
    """The text, and the code that decides what it parses to."""
    return memo.digest(text, str(PARSE_VERSION), *_code(), ",".join(REGISTRY.names()))


@cache
def _code() -> tuple[str, ...]:
    """The text of the modules that decide what a file parses to (read once a process)."""
    files = (__file__, metrics.__file__, model.__file__, schema.__file__)
    return tuple(Path(file or "").read_text("utf-8") for file in files)


def _from_plain(entry: Any, path: str) -> Strategy | None:
    """The strategy a memo entry holds (``None`` for anything else)."""
    if not isinstance(entry, dict):
        return None
    try:
        goals = tuple(
            Goal(
                name=goal["name"],
                key_results=tuple(KeyResult(**result) for result in goal["key_results"]),
                why=goal["why"],
            )
            for goal in entry["goals"]
        )
        return Strategy(
            why=entry["why"],
            goals=goals,
            pillars=tuple(
                Pillar(**{**p, "keywords": tuple(p["keywords"]), "examples": tuple(p["examples"])})
                for p in entry["pillars"]
            ),
            mix={str(kind): float(share) for kind, share in entry["mix"].items()},
            habits=tuple(Habit(**habit) for habit in entry["habits"]),
            domains=tuple(entry["domains"]),
            style=entry["style"],
            language=entry["language"],
            path=path,
        )
    except (KeyError, TypeError, AttributeError):
        return None


def _parse(text: str, path: str) -> Strategy:
    from kompas.rules.load import RuleFileError, load_yaml

    try:
        document = load_yaml(text, path)
    except RuleFileError as error:
        raise StrategyFileError(
            path, error.line, error.column, error.problem, error.expected
        ) from None
    _validate(document, path)
    return _build(document, path)


def load_strategy(path: str | Path) -> Strategy:
    """Read, parse and validate the strategy file at ``path``."""
    return parse_strategy(read_strategy_text(path), str(path))
