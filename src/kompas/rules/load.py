"""Reading a rules file: YAML with positions, refused early when it is too big, too deep
or uses anchors, then validated against the published JSON Schema. Every error names the
line and column of the offending node and what was expected there."""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionStartEvent,
    MappingEndEvent,
    NodeEvent,
    SequenceEndEvent,
)

from kompas.errors import SourceError
from kompas.rules.schema import ACTIONS, CONDITIONS, MAX_FILE_BYTES, MAX_YAML_DEPTH, rules_schema


class RuleFileError(SourceError):
    """A rules file that cannot be used: where (1-based line and column), what is wrong,
    and what was expected."""

    def __init__(
        self, path: str, line: int, column: int, problem: str, expected: str | None = None
    ) -> None:
        self.line = line
        self.column = column
        super().__init__(path, problem, location=f"line {line}, column {column}", expected=expected)


def position(node: Any, key: Any = None) -> tuple[int, int]:
    """The 1-based (line, column) of ``node`` or of its entry ``key`` (a mapping key or a
    list index), as the YAML parser recorded them."""
    try:
        if key is not None and isinstance(node, CommentedMap):
            line, column = node.lc.key(key)
        elif key is not None and isinstance(node, CommentedSeq):
            line, column = node.lc.item(key)
        else:
            line, column = node.lc.line, node.lc.col
    except (AttributeError, KeyError, IndexError, TypeError):
        return (1, 1)
    return (int(line) + 1, int(column) + 1)


def read_rules_text(path: str | Path) -> str:
    """The text of a rules file, refused if missing or over the size limit."""
    file = Path(path)
    if not file.is_file():
        raise RuleFileError(str(path), 1, 1, "no such file", "a rules file (rules.yaml)")
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RuleFileError(
            str(path), 1, 1, f"file is {size:,} bytes", f"at most {MAX_FILE_BYTES:,} bytes"
        )
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RuleFileError(str(path), 1, 1, f"not UTF-8 text ({exc.reason})", "UTF-8") from None


def load_yaml(text: str, path: str = "<rules>") -> Any:
    """The YAML document of ``text``, with positions, after the structural guards."""
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        raise RuleFileError(path, 1, 1, "rules file too large", f"at most {MAX_FILE_BYTES:,} bytes")
    _flow_depth_guard(text, path)
    yaml = YAML(typ="rt", pure=True)
    try:
        # Events first: streaming, so a hostile file is refused before any tree is built.
        depth = 0
        for event in yaml.parse(io.StringIO(text)):
            mark = event.start_mark
            where = (mark.line + 1, mark.column + 1)
            if isinstance(event, AliasEvent) or (
                isinstance(event, NodeEvent) and event.anchor is not None
            ):
                raise RuleFileError(
                    path,
                    *where,
                    "YAML anchors and aliases are not allowed",
                    "plain values (write each rule out)",
                )
            tag = getattr(event, "tag", None)
            if isinstance(event, NodeEvent) and tag not in (None, "!"):
                # Explicit tags (``!!python/…``, custom ones) could ask a loader to build
                # objects; a rules file never needs one, so every tag is refused.
                raise RuleFileError(
                    path, *where, f"YAML tag {tag!s} is not allowed", "plain YAML values"
                )
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise RuleFileError(
                        path,
                        *where,
                        "nesting too deep",
                        f"at most {MAX_YAML_DEPTH} levels of YAML nesting",
                    )
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
        return yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "invalid YAML"
        expected = exc.context or "valid YAML"
        raise RuleFileError(path, line, column, problem, expected) from None
    except YAMLError as exc:
        raise RuleFileError(path, 1, 1, f"invalid YAML: {exc}", "valid YAML") from None


def _flow_depth_guard(text: str, path: str) -> None:
    """Refuse deeply nested flow collections (``[[[[...``) before the YAML scanner, whose
    cost grows with the square of their depth, ever sees them."""
    depth = 0
    quote = ""
    line, column = 1, 0
    previous = "\n"
    index = 0
    while index < len(text):
        char = text[index]
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif quote:
            if quote == '"' and char == "\\":
                index += 1
                column += 1
            elif char == quote:
                quote = ""
        elif char in "'\"" and previous in " \t\n[{,:":
            quote = char
        elif char == "#" and previous in " \t\n":
            end = text.find("\n", index)
            index = len(text) if end == -1 else end
            continue
        elif char in "[{":
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise RuleFileError(
                    path,
                    line,
                    column,
                    "nesting too deep",
                    f"at most {MAX_YAML_DEPTH} levels of YAML nesting",
                )
        elif char in "]}":
            depth = max(0, depth - 1)
        previous = char
        index += 1


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(rules_schema())


def locate(document: Any, path: Sequence[Any]) -> tuple[Any, Any]:
    """The deepest (container, key) along ``path`` inside a loaded YAML ``document``, to
    point a schema error at its line and column."""
    node: Any = document
    parent: Any = None
    key: Any = None
    for step in path:
        if isinstance(node, (dict, list)):
            try:
                child = node[step]
            except (KeyError, IndexError, TypeError):
                break
            parent, key, node = node, step, child
        else:
            break
    return parent, key


def _expected(error: ValidationError) -> str:
    names = [step for step in error.absolute_path if isinstance(step, str)]
    last = names[-1] if names else None
    in_actions = "then" in names
    if error.validator == "additionalProperties" or last is None:
        return _expected_at(error)
    table = ACTIONS if in_actions and last in ACTIONS else CONDITIONS
    described = table.get(last, {}).get("description")
    if described:
        return f"{last}: {described}"
    return _expected_at(error)


def _expected_at(error: ValidationError) -> str:
    names = [s for s in error.absolute_path if isinstance(s, str)]
    last = names[-1] if names else None
    if last == "then":
        return "actions: " + ", ".join(ACTIONS)
    if last in ("when", "all", "any", "not") or (
        isinstance(error.instance, dict) and bool(set(error.instance) & set(CONDITIONS))
    ):
        return "conditions: " + ", ".join(CONDITIONS)
    if len(error.absolute_path) == 2 and error.absolute_path[0] == "rules":
        return "a rule: name, when, then (and optionally enabled)"
    if not error.absolute_path:
        return "a mapping with `rules:` (and optionally `default:` and `version:`)"
    schema = error.schema
    described = schema.get("description") if isinstance(schema, dict) else None
    return str(described or "a value the schema allows")


def validate(document: Any, path: str = "<rules>") -> None:
    """Check a loaded document against the JSON Schema, raising the most relevant error
    with its position."""
    if document is None:
        raise RuleFileError(path, 1, 1, "the file is empty", "a mapping with `rules:`")
    errors = list(_validator().iter_errors(document))
    if not errors:
        return
    error = best_match(errors)
    parent, key = locate(document, list(error.absolute_path))
    problem = error.message
    if error.validator == "anyOf":
        problem = f"{error.instance!r} is not allowed here"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra:
            node = error.instance
            line, column = position(node, extra[0])
            raise RuleFileError(path, line, column, f"unknown key {extra[0]!r}", _expected(error))
    if error.validator == "required" and isinstance(error.instance, dict):
        node = error.instance
        line, column = position(node)
        raise RuleFileError(path, line, column, problem, _expected(error))
    if parent is None:
        line, column = position(document)
    elif isinstance(parent, dict):
        line, column = _value_position(parent, key)
    else:
        line, column = position(parent, key)
    raise RuleFileError(path, line, column, problem, _expected(error))


def _value_position(mapping: Any, key: Any) -> tuple[int, int]:
    try:
        line, column = mapping.lc.value(key)
        return (int(line) + 1, int(column) + 1)
    except (AttributeError, KeyError, TypeError):
        return position(mapping, key)


def load_rules_document(text: str, path: str = "<rules>") -> Any:
    """Parse and validate a rules file's text; the document keeps node positions."""
    document = load_yaml(text, path)
    validate(document, path)
    return document
