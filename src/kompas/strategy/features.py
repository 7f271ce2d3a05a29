"""Text features for alignment and suggestions, computed for many posts at once.

Character n-grams (3 to 5 characters inside space-padded words) are hashed into a fixed
number of buckets with NumPy over the whole batch, not word by word in Python: 10,000
posts take a fraction of a second. Text in Chinese, Japanese or Korean has no spaces
between words, so its characters also give single characters and pairs (the usual
features for unsegmented CJK text), which lets a two-character keyword such as 数据
match inside a sentence.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import regex

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

#: Features are hashed into 2**BITS buckets (collisions are rare at this size).
BITS = 22
NGRAMS = (3, 5)
#: Above this many features to look up, a vocabulary maps every bucket to its column.
MAPPED = 200_000
_URL = regex.compile(r"https?://\S+|www\.\S+")
_HANDLE = regex.compile(r"(?<!\w)@[\w.@-]+")
_MARKS = regex.compile(r"\p{Mn}+")
_WORD = regex.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]")
#: Han, kana and hangul: scripts written without spaces between words.
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF))
_CJK_TEXT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")
_PRIME = np.uint64(1099511628211)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SEPARATOR = 1  # a code point no normalised text holds


def normalise(text: str) -> str:
    """Lower case, compatibility forms folded (𝗯𝗼𝗹𝗱 → bold), accents dropped, links and
    handles removed: what every method compares."""
    text = unicodedata.normalize("NFKC", text)
    text = _HANDLE.sub(" ", _URL.sub(" ", text))
    plain = _MARKS.sub("", unicodedata.normalize("NFKD", text.lower()))
    # NFKD splits Korean syllables into jamo; put them back together.
    plain = unicodedata.normalize("NFC", plain)
    return " ".join(plain.split())


def words(text: str) -> list[str]:
    """The words of normalised text (a run of CJK characters is one word)."""
    return _WORD.findall(text)


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Chinese, Japanese or Korean characters."""
    # Every CJK character (Hangul jamo first) comes after U+1100; max() is far cheaper
    # than a regex search.
    return bool(text) and max(text) >= "\u1100" and _CJK_TEXT.search(text) is not None


@dataclass(frozen=True, slots=True)
class Hashed:
    """Sparse rows of hashed features: row ``doc[i]`` holds ``count[i]`` of feature
    ``feature[i]``; rows are sorted, features unique within a row."""

    rows: int
    doc: Ints
    feature: Ints
    count: Floats

    def select(self, docs: Ints) -> Hashed:
        """Rows ``docs`` (in that order), numbered from 0: a subset without hashing again."""
        bounds = np.searchsorted(self.doc, np.arange(self.rows + 1))
        start, lengths = bounds[docs], bounds[docs + 1] - bounds[docs]
        ends = np.cumsum(lengths)
        index = np.repeat(start - (ends - lengths), lengths) + np.arange(
            int(ends[-1]) if len(ends) else 0
        )
        return Hashed(
            len(docs),
            np.repeat(np.arange(len(docs), dtype=np.int64), lengths),
            self.feature[index],
            self.count[index],
        )


def _codes(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], Ints]:
    """The code points of all texts, each as `` word word `` and separated, and the
    text each code point belongs to."""
    padded = [" " + " ".join(words(t)) + " " for t in texts]
    joined = chr(_SEPARATOR).join(padded)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.array([len(p) + 1 for p in padded], dtype=np.int64)
    owner = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)[: len(codes)]
    return codes, owner


def _window_hashes(
    codes: npt.NDArray[np.uint32], low: int, high: int, cjk: bool
) -> tuple[Ints, npt.NDArray[np.uint64]]:
    """``(start, hash)`` of every n-gram (``low`` ≤ n ≤ ``high``) inside a padded word:
    no separator anywhere and no space except at its two ends."""
    length = len(codes)
    separator = codes == _SEPARATOR
    if cjk:
        separators = np.concatenate(([0], np.cumsum(separator)))
        is_cjk = np.zeros(length, dtype=bool)
        for first, last in _CJK_RANGES:
            is_cjk |= (codes >= first) & (codes <= last)
        cjk_run = np.concatenate(([0], np.cumsum(is_cjk)))
    else:
        # reach[i]: the last place an n-gram starting at i may end: the next space (it
        # may end on it), or just before the next separator; -1 on a separator.
        boundary = separator | (codes == 32)
        place = np.where(boundary, np.arange(length), length)
        following = np.minimum.accumulate(place[::-1])[::-1]
        after = np.append(following[1:], length)
        ends_on_separator = np.append(separator, False)[after]
        reach = np.where(separator, -1, after - ends_on_separator)
    starts: list[Ints] = []
    hashes: list[npt.NDArray[np.uint64]] = []
    wide = codes.astype(np.uint64)
    rolling = np.zeros(length, dtype=np.uint64)
    for n in range(1, high + 1):
        count = length - n + 1
        if count <= 0:
            break
        # rolling[i] is the hash of codes[i : i + n], built from the one of n - 1.
        with np.errstate(over="ignore"):
            rolling = rolling[:count] * _PRIME + wide[n - 1 : n - 1 + count]
        if n < low:
            continue
        if cjk:  # single characters and pairs of CJK text
            begin = np.arange(count, dtype=np.int64)
            ok = separators[begin + n] == separators[begin]
            ok &= (cjk_run[begin + n] - cjk_run[begin]) == n
        else:
            ok = reach[:count] >= np.arange(n - 1, n - 1 + count)
        found = np.flatnonzero(ok)
        with np.errstate(over="ignore"):
            hashes.append(rolling[found] ^ (np.uint64(n) * _MIX))
        starts.append(found)
    if not starts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(starts), np.concatenate(hashes)


def hashed(texts: Sequence[str], normalised: bool = False) -> Hashed:
    """Character n-gram counts of ``texts`` (normalised here unless ``normalised``)."""
    plain = list(texts) if normalised else [normalise(t) for t in texts]
    cjk = any(has_cjk(t) for t in plain)
    codes, owner = _codes(plain)
    start, value = _window_hashes(codes, NGRAMS[0], NGRAMS[1], cjk=False)
    if cjk:
        extra_start, extra_value = _window_hashes(codes, 1, 2, cjk=True)
        start = np.concatenate((start, extra_start))
        value = np.concatenate((value, extra_value))
    with np.errstate(over="ignore"):
        bucket = ((value * _MIX) >> np.uint64(64 - BITS)).astype(np.int64)
    return _count(len(plain), owner[start], bucket)


def hashed_words(texts: Sequence[str], normalised: bool = False) -> Hashed:
    """Whole-word counts of ``texts``, hashed like :func:`hashed`."""
    plain = list(texts) if normalised else [normalise(t) for t in texts]
    doc_list: list[int] = []
    buckets: list[int] = []
    for number, text in enumerate(plain):
        for word in words(text):
            doc_list.append(number)
            buckets.append(hash_feature(word))
    doc, bucket = np.array(doc_list, dtype=np.int64), np.array(buckets, dtype=np.int64)
    return _count(len(plain), doc, bucket)


def hash_feature(feature: str) -> int:
    """The bucket of one whole-word feature (stable across runs, unlike ``hash``)."""
    value = 14695981039346656037
    for byte in feature.encode("utf-8"):
        value = ((value ^ byte) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return (value * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF) >> (64 - BITS)


def _count(rows: int, doc: Ints, bucket: Ints) -> Hashed:
    if not len(doc):
        empty = np.zeros(0, dtype=np.int64)
        return Hashed(rows, empty, empty, np.zeros(0))
    keys, counts = np.unique(doc * (1 << BITS) + bucket, return_counts=True)
    return Hashed(rows, keys >> BITS, keys & ((1 << BITS) - 1), counts.astype(np.float64))


@dataclass(frozen=True, slots=True)
class Frequency:
    """In how many documents of a corpus each feature occurs (one count per bucket)."""

    documents: int
    counts: npt.NDArray[np.int32]

    @classmethod
    def of(cls, rows: Hashed) -> Frequency:
        """The document frequencies of ``rows`` (features are unique within a row)."""
        counts = np.bincount(rows.feature, minlength=1 << BITS).astype(np.int32)
        return cls(rows.rows, counts)


class Vocabulary:
    """The features of some reference texts (pillars, corrections) and their inverse
    document frequencies over those texts and a corpus (the posts being aligned): posts
    are compared on these features only."""

    def __init__(self, reference: Hashed, corpus: Frequency | None = None) -> None:
        self.reference = reference
        self.features = np.unique(reference.feature)
        self.size = len(self.features)
        self._columns: npt.NDArray[np.int32] | None = None
        documents = reference.rows
        frequency = np.bincount(self.column(reference.feature), minlength=self.size)
        if corpus is not None:
            frequency = frequency + corpus.counts[self.features]
            documents += corpus.documents
        self.idf = np.log((1 + documents) / (1 + frequency)) + 1.0

    def column(self, feature: Ints) -> Ints:
        """The column of each feature in this vocabulary, -1 when it has none."""
        if len(feature) < MAPPED or not self.size:  # a binary search is enough
            place = np.minimum(np.searchsorted(self.features, feature), max(self.size - 1, 0))
            if not self.size:
                return np.full(len(feature), -1, dtype=np.int64)
            return np.where(self.features[place] == feature, place, -1).astype(np.int64)
        if self._columns is None:  # many features (a corpus): one lookup each
            self._columns = np.full(1 << BITS, -1, dtype=np.int32)
            self._columns[self.features] = np.arange(self.size, dtype=np.int32)
        return self._columns[feature].astype(np.int64)

    def weigh(self, rows: Hashed) -> tuple[Ints, Ints, Floats]:
        """``(doc, column, weight)``: unit-length TF-IDF rows (sublinear term
        frequency) over this vocabulary."""
        column = self.column(rows.feature)
        kept = column >= 0
        doc, column = rows.doc[kept], column[kept]
        weight = (1.0 + np.log(rows.count[kept])) * self.idf[column]
        norms = np.sqrt(np.bincount(doc, weights=weight * weight, minlength=rows.rows))
        norms[norms == 0] = 1.0
        return doc, column, weight / norms[doc]

    def dense(self, rows: Hashed) -> Floats:
        """:meth:`weigh` as a dense matrix (for the few texts of the pillars)."""
        matrix = np.zeros((rows.rows, self.size))
        doc, column, weight = self.weigh(rows)
        matrix[doc, column] = weight
        return matrix


def sparse_dot(doc: Ints, column: Ints, weight: Floats, rows: int, matrix: Floats) -> Floats:
    """``X @ matrix`` for a sparse X given as ``(doc, column, weight)`` triples sorted by
    ``doc``. A narrow ``matrix`` (a model's weights per pillar) is gathered column by
    column; a wider one ``chunk`` rows of X at a time made dense (BLAS is faster than any
    gather), so memory stays small."""
    width = matrix.shape[1]
    if width <= 8:
        gathered = np.zeros((rows, width))
        for j in range(width):
            gathered[:, j] = np.bincount(doc, weights=weight * matrix[column, j], minlength=rows)
        return gathered
    result = np.zeros((rows, width))
    chunk = max(16, min(1024, (1 << 21) // max(1, matrix.shape[0])))
    dense = np.zeros((chunk, matrix.shape[0]))
    bounds = np.searchsorted(doc, np.arange(0, rows + chunk, chunk))
    for number, first in enumerate(range(0, rows, chunk)):
        low, high = bounds[number], bounds[number + 1]
        dense[:] = 0.0
        dense[doc[low:high] - first, column[low:high]] = weight[low:high]
        size = min(chunk, rows - first)
        result[first : first + size] = dense[:size] @ matrix
    return result


def gram(doc: Ints, column: Ints, weight: Floats, rows: int) -> Floats:
    """``X @ X.T`` for a sparse X (a few hundred texts, many features): only the pairs
    of texts that share a feature are multiplied."""
    order = np.argsort(column, kind="stable")
    doc, column, weight = doc[order], column[order], weight[order]
    if not len(column):
        return np.zeros((rows, rows))
    first = np.flatnonzero(np.concatenate(([True], column[1:] != column[:-1])))
    size = np.diff(np.append(first, len(column)))
    group_start = np.repeat(first, size)  # per entry: where its feature's group begins
    group_size = np.repeat(size, size)
    left = np.repeat(np.arange(len(column)), group_size)
    ends = np.cumsum(group_size)
    right = np.repeat(group_start - (ends - group_size), group_size) + np.arange(int(ends[-1]))
    product: Floats = np.bincount(
        doc[left] * rows + doc[right], weights=weight[left] * weight[right], minlength=rows * rows
    ).astype(np.float64, copy=False)
    return product.reshape(rows, rows)
