"""Which language a post is in, offline: the platform's own tag when it has one, else
the writing system for scripts that name their language well enough (Chinese, Japanese,
Korean), else py3langid (a small naive-Bayes model shipped inside its package, no
network). Latin-script text is read among the languages kompas's samples hold, so short
posts are not taken for Catalan or Latvian; other scripts among all of py3langid's."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt
import regex

from kompas import memo
from kompas.strategy.features import has_cjk

#: The languages detection chooses among for Latin-script text.
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
#: Below this many letters a guess is not worth making.
MIN_LETTERS = 12
#: Detection reads at most this many characters.
DETECT_CHARS = 160
_LATIN = regex.compile(r"\p{Latin}")
_LETTER = regex.compile(r"\p{L}")
_HAN = regex.compile(r"\p{Han}")
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
_HANGUL = regex.compile(r"\p{Hangul}")
#: Every byte that is not an ASCII letter (deleted to count the letters of ASCII text).
_NOT_LETTERS = bytes(b for b in range(256) if not chr(b).isalpha() or b > 127)


@cache
def _identifier(restricted: bool) -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if restricted:
        identifier.set_languages(list(LANGUAGES))
    return identifier


def prepare() -> None:
    """Load the detector's models now (the dashboard does at start), not on the first
    post that needs one."""
    _identifier(True)
    _identifier(False)


def by_script(text: str) -> str | None:
    """``ja``, ``ko`` or ``zh`` when most letters of ``text`` are in those scripts."""
    if not has_cjk(text):  # most posts: no need to count anything
        return None
    letters = len(_LETTER.findall(text))
    han, kana, hangul = (len(p.findall(text)) for p in (_HAN, _KANA, _HANGUL))
    if not letters or (han + kana + hangul) * 2 < letters:
        return None
    if kana:
        return "ja"
    return "ko" if hangul > han else "zh"


def detect(text: str, declared: str | None = None) -> tuple[str | None, str]:
    """``(language, how)``: the declared tag (``how`` = "platform") when there is one,
    else the script's language or the detector's guess ("detected"), or ``None`` ("too
    short") for tiny texts. Only the opening of a post is read: it names the post's
    language as well as all of it, for far less work on long posts."""
    return detect_many([text], [declared])[0]


def detect_many(
    texts: Sequence[str], declared: Sequence[str | None] | None = None
) -> list[tuple[str | None, str]]:
    """:func:`detect` for many texts: the naive-Bayes model reads all of them at once."""
    found: list[tuple[str | None, str]] = [(None, "too short")] * len(texts)
    waiting: dict[bool, list[tuple[int, str]]] = {True: [], False: []}
    for number, text in enumerate(texts):
        tag = _tagged(declared[number] if declared else None)
        if tag is not None:
            found[number] = (tag, "platform")
            continue
        opening = text[:DETECT_CHARS]
        script = by_script(opening)
        if script is not None:
            found[number] = (script, "detected")
            continue
        if opening.isascii():  # most posts: count letters without a regex
            letters = latin = len(opening.encode("ascii").translate(None, _NOT_LETTERS))
        else:
            letters = len(_LETTER.findall(opening))
            latin = len(_LATIN.findall(opening))
        if letters >= MIN_LETTERS:
            waiting[latin * 2 >= letters].append((number, opening))
    for restricted, items in waiting.items():
        if items:
            guesses = classify_many(_identifier(restricted), [text for _, text in items])
            for (number, _), guess in zip(items, guesses, strict=True):
                found[number] = (guess, "detected")
    return found


#: Bump when detection changes, so remembered answers are asked again.
MEMO_VERSION = 1


#: How many texts each memo keeps (the newest first to stay): a year of a busy account's
#: posts without a platform tag; about 60 bytes each.
MEMO_TEXTS = 20_000


def detect_remembered(
    texts: Sequence[str], declared: Sequence[str | None] | None = None, name: str = "languages"
) -> list[tuple[str | None, str]]:
    """:func:`detect_many` for texts that come back on every run (the strategy's pillars,
    the posts of the week a review reads), remembered by their hash in memo ``name``, so a
    run whose texts were all seen before never loads the detector's model. A text with a
    platform tag needs no memo; past :data:`MEMO_TEXTS` the oldest answers go first."""
    found: list[tuple[str | None, str]] = [(None, "too short")] * len(texts)
    ask: list[int] = []
    for number in range(len(texts)):
        tag = _tagged(declared[number] if declared else None)
        if tag is not None:
            found[number] = (tag, "platform")
        else:
            ask.append(number)
    if not ask:
        return found
    known = memo.read(name, MEMO_VERSION, "texts")
    keys = {number: memo.digest(texts[number]) for number in ask}
    missing = sorted({n for n in ask if not _valid(known.get(keys[n]))})
    if missing:
        for n, result in zip(missing, detect_many([texts[n] for n in missing]), strict=True):
            known[keys[n]] = list(result)
    for number in ask:
        language, how = known[keys[number]]
        found[number] = (language, how)
    if missing:
        memo.write(name, MEMO_VERSION, "texts", known, keep=MEMO_TEXTS)
    return found


def _tagged(tag: str | None) -> str | None:
    """The language a platform tag names (``None`` for none, "undetermined", X's
    mentions-only or media-only, "no linguistic content")."""
    if not tag or tag in ("und", "qam", "qme", "zxx"):
        return None
    return tag.split("-")[0].lower()


def _valid(entry: object) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 2
        and (entry[0] is None or isinstance(entry[0], str))
        and isinstance(entry[1], str)
    )


#: Up to this many languages to choose among, texts are classified all at once.
BATCH_LANGUAGES = 16
#: The parts of a py3langid identifier the batch classifier reads (py3langid >= 0.4).
_PARTS = ("_encode", "_rowbase", "tk_nextmove", "tk_output", "nb_ptc", "nb_pc", "nb_classes")


def classify_many(identifier: Any, texts: Sequence[str]) -> list[str]:
    """What ``identifier.classify`` says of each text, for many texts at once: the
    identifier's byte automaton walks all texts in step (one NumPy operation per byte
    position instead of a Python loop per byte), then its naive-Bayes tables score them
    together. An identifier without those parts, or choosing among many languages (its
    tables would be gathered for every feature of every text), is asked text by text."""
    if (
        len(texts) < 4
        or not all(hasattr(identifier, part) for part in _PARTS)
        or identifier.nb_ptc.shape[1] > BATCH_LANGUAGES
    ):
        return [str(identifier.classify(text)[0]) for text in texts]
    nextmove, rowbase, output = _automaton(identifier)
    encoded = [identifier._encode(text) for text in texts]
    lengths = np.array([len(raw) for raw in encoded], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")  # longest first: the texts still being read
    longest = int(lengths.max()) if len(lengths) else 0
    grid = np.zeros((len(texts), longest), dtype=np.int64)
    for row, number in enumerate(order.tolist()):
        grid[row, : lengths[number]] = np.frombuffer(encoded[number], dtype=np.uint8)
    sorted_lengths = lengths[order]
    state = np.zeros(len(texts), dtype=np.int64)
    docs: list[npt.NDArray[np.int64]] = []
    features: list[npt.NDArray[np.int64]] = []
    for position in range(longest):
        reading = int(np.count_nonzero(sorted_lengths > position))
        state[:reading] = nextmove[rowbase[state[:reading]] + grid[:reading, position]]
        emitted = output[state[:reading]]
        hit = np.flatnonzero(emitted >= 0)
        docs.append(hit)
        features.append(emitted[hit])
    table = identifier.nb_ptc
    width = table.shape[0]
    keys, counts = np.unique(
        np.concatenate(docs) * width + np.concatenate(features), return_counts=True
    )
    doc, feature = keys // width, keys % width
    weighted = np.log1p(counts.astype(np.float32))[:, None] * table[feature].astype(np.float32)
    scores = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    seen = np.zeros(len(texts), dtype=bool)
    if len(doc):  # keys are sorted, so each text's features are one run
        first = np.flatnonzero(np.concatenate(([True], doc[1:] != doc[:-1])))
        scores[doc[first]] = np.add.reduceat(weighted, first, axis=0)
        seen[doc[first]] = True
    scores += identifier.nb_pc
    norm = bool(getattr(identifier, "_norm_probs", False))
    scores[~seen] = 0.0 if norm else float(np.finfo(np.float32).min)
    if norm:
        scores *= (1.0 / np.sqrt(np.maximum(sorted_lengths, 1)))[:, None].astype(np.float32)
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
    for first, duplicate in getattr(identifier, "_alias_pairs", ()):
        if norm:
            scores[:, first] += scores[:, duplicate]
            scores[:, duplicate] = 0.0
        else:
            scores[:, first] = np.maximum(scores[:, first], scores[:, duplicate])
            scores[:, duplicate] = float(np.finfo(np.float32).min)
    best = scores.argmax(axis=1)
    floor = getattr(identifier, "min_confidence", None)
    guesses = [""] * len(texts)
    for row, number in enumerate(order.tolist()):
        confident = floor is None or scores[row, best[row]] >= floor
        guesses[number] = str(identifier.nb_classes[best[row]]) if confident else "und"
    return guesses


@cache
def _automaton(identifier: Any) -> tuple[npt.NDArray[Any], ...]:
    """The identifier's automaton as NumPy arrays (its big transition table viewed in
    place, not copied)."""
    moves = identifier.tk_nextmove
    return (
        np.frombuffer(moves, dtype=np.dtype(moves.typecode)),
        np.asarray(identifier._rowbase, dtype=np.int64),
        np.asarray(identifier.tk_output, dtype=np.int64),
    )
