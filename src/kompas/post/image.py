"""An image to attach to a post: read once, its type known from its own first bytes (not
its name), its pixel size read from its header when the format says it, and checked
against a network's size limit before any byte is uploaded."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from kompas.errors import KompasError

#: Bluesky's ``app.bsky.embed.images`` lexicon: an image blob of at most 1,000,000 bytes.
BLUESKY_IMAGE_LIMIT = 1_000_000
#: Mastodon's default ``media_attachments.image_size_limit`` (an instance may say otherwise).
MASTODON_IMAGE_LIMIT = 16 * 1024 * 1024


class TooLarge(KompasError):
    """An image over the network's size limit (found before any upload)."""


class NotAnImage(KompasError):
    """A file that is not a PNG, JPEG, GIF or WebP image, or cannot be read."""


@dataclass(frozen=True)
class Image:
    """An image file's bytes and what the platforms need to know about them."""

    path: Path
    data: bytes
    mime_type: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return len(self.data)


def _mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's start-of-frame marker."""
    position = 2
    while position + 9 < len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return width, height
        position += 2 + length
    return None


def _dimensions(data: bytes, mime_type: str) -> tuple[int, int] | None:
    try:
        if mime_type == "image/png" and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return width, height
        if mime_type == "image/gif":
            width, height = struct.unpack("<HH", data[6:10])
            return width, height
        if mime_type == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def read_image(path: Path) -> Image:
    """The image at ``path``; :class:`NotAnImage` naming it when it is missing or of a
    type the networks do not take."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise NotAnImage(f"{path}: cannot read the image ({exc.strerror or exc})") from None
    mime_type = _mime(data)
    if mime_type is None:
        raise NotAnImage(f"{path}: not a PNG, JPEG, GIF or WebP image")
    size = _dimensions(data, mime_type)
    if size is None or 0 in size:
        return Image(path, data, mime_type)
    return Image(path, data, mime_type, size[0], size[1])


def check_size(image: Image, limit: int, network: str) -> None:
    """:class:`TooLarge` when ``image`` is over ``network``'s ``limit`` in bytes."""
    if image.size > limit:
        raise TooLarge(
            f"{image.path}: the image is {image.size:,} bytes; {network} takes at most "
            f"{limit:,} bytes per image (nothing was uploaded)"
        )
