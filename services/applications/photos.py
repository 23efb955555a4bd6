"""Photos in a school's portfolio, made safe to keep: decoded (an image that does not
decode is refused), turned upright as their EXIF orientation says, and saved again
with no metadata at all, so no location (GPS), camera, owner or time travels with a
photo of children. HEIC (iPhone) photos are kept as JPEG: browsers do not show HEIC.

Pillow does the decoding (pillow-heif adds HEIC); it is kept up to date for exactly
this: reading untrusted images.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePath

from PIL import Image, ImageOps, UnidentifiedImageError

from shared.errors import Invalid
from shared.files import HEIC, JPEG, PNG

try:  # HEIC, where the wheel is installed; without it a HEIC upload does not decode
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - the dependency is declared
    pass

PHOTOS = (JPEG, PNG, HEIC)
THUMBNAIL_PIXELS = 320
MAX_PIXELS = 80_000_000  # a 80-megapixel photo; anything larger is refused, not decoded
_DECODE_FAILURES = (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                    Image.DecompressionBombWarning, EOFError)


@dataclass(frozen=True)
class CleanPhoto:
    content: bytes
    content_type: str
    filename: str


def clean_photo(content: bytes, content_type: str, filename: str) -> CleanPhoto:
    """The photo upright, re-encoded without any metadata; refused if it does not decode."""
    image = _decode(content, filename)
    upright = ImageOps.exif_transpose(image)  # the pixels as the camera meant them shown
    upright.info.clear()  # nothing from the original (EXIF, XMP, comments) is written again
    out = io.BytesIO()
    if content_type == PNG:
        upright.save(out, "PNG", optimize=True)
        return CleanPhoto(out.getvalue(), PNG, filename)
    if upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    upright.save(out, "JPEG", quality=90)
    name = filename if content_type == JPEG else str(PurePath(filename).with_suffix(".jpg"))
    return CleanPhoto(out.getvalue(), JPEG, name)


def thumbnail(content: bytes) -> bytes:
    """A small JPEG of a stored (already cleaned) photo, for the panel's page."""
    image = _decode(content, "the photo")
    image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _decode(content: bytes, filename: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(content))
            if image.width * image.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.load()
            return image
    except _DECODE_FAILURES:
        raise Invalid(f"{filename}: the image does not open (it is damaged, or not an image).",
                      {"files": [f"{filename}: the image does not open; it may be damaged. "
                                 "Export it again as JPEG or PNG."]}) from None
