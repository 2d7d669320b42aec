"""What a file question takes: a file's type found from its content, never from its name.

A file sent with a page is known by its first bytes (its "magic bytes"): a JPEG starts
``FF D8 FF``, a PDF ``%PDF-``, and so on. Only the types listed here are taken at all
(``TYPES``); a file question of a kind (image, audio, video) takes that kind's types, one of
any kind all of them; its ``accept`` (MIME types such as ``image/png`` or ``audio/*`` and
name endings such as ``.pdf``) narrows that further. A name ending in ``accept`` stands for
the type such files have (``.pdf``: ``application/pdf``): a file called ``x.pdf`` that is
really a program is refused whatever its name. Plain Python: the image's size in pixels
and its scaling are the platform's (app.platform.uploads, with Pillow).
"""

from __future__ import annotations

import io
import zipfile

from app.domain.messages import N_, Message
from app.domain.questionnaire.model import UploadKind, UploadSpec

SNIFF_BYTES = 4096  # what the type is told from (a zip's names: from the whole file)

# every type a file question may take, with the name endings that stand for it
TYPES: dict[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/heic": (".heic", ".heif"),
    "audio/mpeg": (".mp3",),
    "audio/wav": (".wav",),
    "audio/ogg": (".ogg", ".oga", ".opus"),
    "audio/webm": (".weba", ".webm"),
    "audio/mp4": (".m4a", ".mp4"),
    "audio/flac": (".flac",),
    "audio/amr": (".amr",),
    "audio/3gpp": (".3gp",),
    "video/mp4": (".mp4", ".m4v"),
    "video/quicktime": (".mov",),
    "video/webm": (".webm",),
    "video/ogg": (".ogv", ".ogg"),
    "video/3gpp": (".3gp",),
    "video/x-msvideo": (".avi",),
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": (".pptx",),
    "application/vnd.oasis.opendocument.text": (".odt",),
    "application/vnd.oasis.opendocument.spreadsheet": (".ods",),
    "application/zip": (".zip",),
    "application/rtf": (".rtf",),
    "text/plain": (".txt", ".csv"),
}
# what each type's files are called when they are downloaded or zipped without a name
EXTENSIONS = {kind: endings[0] for kind, endings in TYPES.items()}

_ISO_VIDEO_BRANDS = (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"dash", b"MSNV", b"M4V ")
_ZIPPED = {  # a zip's telling member -> the document type it makes
    "word/document.xml": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/presentation.xml": "application/vnd.openxmlformats-officedocument"
    ".presentationml.presentation",
}


def candidates(data: bytes) -> tuple[str, ...]:
    """The types ``data`` may be, most likely first (a WebM may be sound alone or film);
    empty when it is none that a file question takes."""
    head = data[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return ("image/jpeg",)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ("image/png",)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return ("image/gif",)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ("image/webp",)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ("audio/wav",)
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ("video/x-msvideo",)
    if head[4:8] == b"ftyp":
        return _iso_media(head[8:12])
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ("audio/mpeg",)
    if head.startswith(b"OggS"):
        return ("audio/ogg", "video/ogg")
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # Matroska / WebM
        return ("video/webm", "audio/webm")
    if head.startswith(b"fLaC"):
        return ("audio/flac",)
    if head.startswith(b"#!AMR"):
        return ("audio/amr",)
    if head.startswith(b"%PDF-"):
        return ("application/pdf",)
    if head.startswith(b"{\\rtf"):
        return ("application/rtf",)
    if head.startswith(b"PK\x03\x04"):
        return (_zipped(data),)
    if _is_text(head):
        return ("text/plain",)
    return ()


def _iso_media(brand: bytes) -> tuple[str, ...]:
    """An ISO media file (MP4, QuickTime, 3GP, HEIC) by its brand."""
    if brand in (b"heic", b"heix", b"mif1", b"msf1", b"hevc"):
        return ("image/heic",)
    if brand in (b"M4A ", b"M4B "):
        return ("audio/mp4",)
    if brand == b"qt  ":
        return ("video/quicktime",)
    if brand.startswith(b"3g"):
        return ("video/3gpp", "audio/3gpp")
    if brand in _ISO_VIDEO_BRANDS:
        return ("video/mp4", "audio/mp4")
    return ()


def _zipped(data: bytes) -> str:
    """A zip: an office document by what it holds, else a plain zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:  # its first bytes only
                    kind = member.read(100).decode("ascii", "replace").strip()
                if kind in TYPES:
                    return kind
    except (zipfile.BadZipFile, OSError, ValueError, RuntimeError):
        return "application/zip"
    return next((kind for member, kind in _ZIPPED.items() if member in names), "application/zip")


def _is_text(head: bytes) -> bool:
    """UTF-8 text without control characters other than tabs and line ends."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:  # the cut may fall inside a character
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return all(ch >= " " or ch in "\t\r\n\f" for ch in text)


def allowed(spec: UploadSpec, content_type: str) -> bool:
    """True when a file question with ``spec`` takes files of ``content_type``."""
    if content_type not in TYPES:
        return False
    if spec.kind is not UploadKind.ANY and not content_type.startswith(f"{spec.kind.value}/"):
        return False
    return not spec.accept or any(_matches(entry, content_type) for entry in spec.accept)


def _matches(entry: str, content_type: str) -> bool:
    if entry.startswith("."):
        return entry in TYPES[content_type]
    if entry.endswith("/*"):
        return content_type.startswith(entry[:-1])
    return entry == content_type


def content_type(spec: UploadSpec, data: bytes) -> str | None:
    """The type of ``data`` as the question ``spec`` takes it; None when it takes none."""
    return next((kind for kind in candidates(data) if allowed(spec, kind)), None)


def accept_attribute(spec: UploadSpec) -> str:
    """The file input's ``accept``: what the browser offers to pick (the server checks)."""
    if spec.accept:
        return ",".join(spec.accept)
    if spec.kind is UploadKind.ANY:
        return ""
    return f"{spec.kind.value}/*"


def described_types(spec: UploadSpec) -> str:
    """The name endings of what the question takes, for the respondent (".jpg, .png")."""
    kinds = [kind for kind in TYPES if allowed(spec, kind)]
    return ", ".join(dict.fromkeys(ending for kind in kinds for ending in TYPES[kind]))


def refused_type(spec: UploadSpec) -> Message:
    """Why a file of another type is refused."""
    return Message(
        N_("This file type is not accepted here. Send a file of one of these types: %(types)s."),
        {"types": described_types(spec)},
    )


def too_large(size: int, limit: int) -> Message:
    """Why a file over the server's cap is refused."""
    return Message(
        N_("The file is too large (%(size)s); send a file of at most %(limit)s."),
        {"size": megabytes(size), "limit": megabytes(limit)},
    )


def megabytes(size: int) -> str:
    """A size as people read it: "2,4 MB", "830 KB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} KB"


def safe_name(name: str, content_type: str, fallback: str = "plik") -> str:
    """A sent file's name as kept and shown: its last path part, without control
    characters, at most 255 characters; ``fallback`` and the type's ending when empty."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()
    if not name or name in (".", ".."):
        name = fallback + EXTENSIONS.get(content_type, "")
    if len(name) > 255:
        stem, dot, ending = name.rpartition(".")
        name = (stem[: 254 - len(ending)] + dot + ending) if dot and len(ending) < 10 else name
        name = name[:255]
    return name
