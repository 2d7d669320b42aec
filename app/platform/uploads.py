"""The upload store: files respondents sent with file questions, kept outside the web root.

Each file is kept under a random key (128 bits, hex) in ``UPLOADS_DIR`` (default
``instance/uploads``), two levels deep (``ab/abcdef...``), readable by the server's user
only; its sent name, size and type are in the answer (app.domain.questionnaire.answers),
never in the path. Nothing serves this folder: staff download a file through a route that
checks their role and scope (app.fieldwork). Images are measured and scaled down with
Pillow.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from pathlib import Path

from flask import Flask, current_app

from app.domain.questionnaire.answers import FILE_KEY

_SCALED_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


class FileStore:
    """Files kept by key in one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path | None:
        """Where the file ``key`` is kept (None for a string that is no key)."""
        if not FILE_KEY.fullmatch(key):
            return None
        return self.root / key[:2] / key

    def save(self, data: bytes) -> str:
        """Keep ``data`` under a new random key (owner-only), and return the key."""
        key = secrets.token_hex(16)
        path = self.path(key)
        assert path is not None  # noqa: S101 - a fresh key always is one
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{key}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        tmp.replace(path)
        return key

    def exists(self, key: str) -> bool:
        path = self.path(key)
        return path is not None and path.is_file()

    def read(self, key: str) -> bytes | None:
        """The file's bytes (None when there is no such file)."""
        path = self.path(key)
        try:
            return path.read_bytes() if path is not None else None
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        """Remove the file; True when there was one."""
        path = self.path(key)
        if path is None:
            return False
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def uploads_dir(app: Flask) -> Path:
    """The configured upload folder (``UPLOADS_DIR``, else instance/uploads)."""
    configured = app.config.get("UPLOADS_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "uploads"


def file_store(app: Flask | None = None) -> FileStore:
    """The application's upload store."""
    return FileStore(uploads_dir(app or current_app))


def upload_limit(app: Flask | None = None) -> int:
    """The most bytes one uploaded file may have (``UPLOAD_MAX_BYTES``)."""
    return int((app or current_app).config["UPLOAD_MAX_BYTES"])


def image_size(data: bytes) -> tuple[int, int] | None:
    """An image's width and height in pixels (None when Pillow cannot read it)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # any failure of the decoders means the same: not a readable image
        return None


def scaled_down(data: bytes, content_type: str, longest: int) -> bytes | None:
    """The image with its longer side made ``longest`` pixels (turned upright as its
    camera said, and without its metadata: no location or camera data is kept), in its
    own format; None when it cannot be scaled (a format Pillow does not write, a broken
    image)."""
    from PIL import Image, ImageOps

    kind = _SCALED_FORMATS.get(content_type)
    if kind is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((longest, longest))
            out = io.BytesIO()
            if kind == "JPEG" and upright.mode not in ("RGB", "L"):
                upright = upright.convert("RGB")
            upright.save(out, format=kind, **({"quality": 90} if kind != "PNG" else {}))
            return out.getvalue()
    except Exception:  # a broken or hostile image: refused, not kept
        return None
