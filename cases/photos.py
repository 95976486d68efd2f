"""A photo as it arrives from a phone: checked by its content, re-encoded, thumbnailed. Pure (bytes in, bytes out).

Only JPEG and PNG are accepted (CONTRACT §6), told by their magic bytes and then by actually decoding them
(a file named .jpg that is not an image, or a truncated one, is refused). Every photo is stored re-encoded as
JPEG at most ``max_side`` pixels: that strips the EXIF block (a phone writes the GPS position and the device
into it) and bounds what the database holds, whatever a client sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
THUMB_SIDE = 240


class PhotoRefused(ValueError):
    """Why a photo is refused: ``reason`` is one of too_large, not_an_image, empty."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Photo:
    jpeg: bytes
    thumb: bytes
    width: int
    height: int


def _fit(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return img
    return cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


def _encode(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV encodes any decoded image
        raise PhotoRefused("not_an_image", "the image could not be re-encoded")
    return buf.tobytes()


def check_photo(data: bytes, max_bytes: int, max_side: int = 1600) -> Photo:
    """The stored form of an uploaded photo, or PhotoRefused naming the reason."""
    if not data:
        raise PhotoRefused("empty", "the photo is empty")
    if len(data) > max_bytes:
        raise PhotoRefused("too_large", f"the photo is {len(data)} bytes; at most {max_bytes} are accepted")
    if not data.startswith((JPEG_MAGIC, PNG_MAGIC)):
        raise PhotoRefused("not_an_image", "not a JPEG or PNG image (checked by content, not by name)")
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None or img.size == 0:
        raise PhotoRefused("not_an_image", "the image cannot be decoded (damaged or truncated)")
    full = _fit(img, max_side)
    return Photo(_encode(full, 85), _encode(_fit(img, THUMB_SIDE), 75), full.shape[1], full.shape[0])
