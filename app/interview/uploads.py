"""Files sent with a questionnaire page: checked, kept, and made the file questions' fields.

Before a page is decided (app.interview.submit), ``receive_files`` sets the field of every
file question on it, whatever the browser sent there: the file just sent, when it passes
(the server's size cap, a type the question takes found from the file's content, an image
no larger than ``max-pixels`` after scaling it down); else the file the answer had (an
over-cap or refused file changes nothing and says why); nothing when the respondent ticked
"remove the file"; a don't know / refused where sent. No value a browser sends can pose as
a stored file (app.domain.questionnaire.fields). After the decision ``settle_files`` drops
what no saved answer names any more: a file replaced or removed once the page is saved,
or the one just sent when the page was not saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from werkzeug.datastructures import MultiDict

from app.domain.messages import N_, Message
from app.domain.questionnaire import uploads
from app.domain.questionnaire.answers import StoredFile, stored_file_keys
from app.domain.questionnaire.fields import (
    FIELD_VALUES,
    FILE_FIELD_PREFIX,
    REMOVE_FILE_FIELD_VALUE,
    file_field,
)
from app.domain.questionnaire.flow import Flow, State
from app.domain.questionnaire.model import UploadSpec
from app.domain.questionnaire.pages import Page
from app.platform.uploads import FileStore, image_size, scaled_down

log = logging.getLogger(__name__)

UNREADABLE_IMAGE = Message(N_("The image cannot be read; send a JPEG or PNG photo."))


class SentFile(Protocol):
    """A file of a multipart post (werkzeug's FileStorage)."""

    @property
    def filename(self) -> str | None: ...

    def read(self, size: int = -1) -> bytes: ...


@dataclass
class ReceivedFiles:
    """A page's fields with its file questions set by the server, why any file sent was
    refused (field -> message), and the keys of the files kept now."""

    fields: MultiDict[str, str]
    errors: dict[str, Message] = field(default_factory=dict)
    new_keys: list[str] = field(default_factory=list)


def without_typed_files(fields: MultiDict[str, str]) -> MultiDict[str, str]:
    """A copy of the sent ``fields`` without any value shaped like a stored file's: only the
    server sets a file question's field, so nothing a browser types can pose as a file."""
    fields = fields.copy()
    for name in list(fields.keys()):
        values = fields.getlist(name)
        if any(value.startswith(FILE_FIELD_PREFIX) for value in values):
            fields.setlist(name, [v for v in values if not v.startswith(FILE_FIELD_PREFIX)])
    return fields


def receive_files(
    flow: Flow,
    page: Page,
    state: State,
    fields: MultiDict[str, str],
    files: Mapping[str, Any],
    store: FileStore,
    limit: int,
) -> ReceivedFiles:
    """The page's ``fields`` with each file question's field set (see the module)."""
    fields = without_typed_files(fields)
    received = ReceivedFiles(fields)
    specs = _specs(flow)
    for name, current in flow.file_fields(page, state).items():
        sent = [value.strip() for value in fields.getlist(name)]
        upload = _sent_file(files, name)
        kept = [file_field(current)] if current is not None else []
        if upload is not None:
            spec = specs.get(name.rsplit(".", 1)[-1], UploadSpec())
            outcome = _check(upload, spec, limit)
            if isinstance(outcome, Message):
                received.errors[name] = outcome
                fields.setlist(name, kept)
                continue
            data, kind = outcome
            key = store.save(data)
            received.new_keys.append(key)
            name_sent = uploads.safe_name(upload.filename or "", kind)
            fields.setlist(name, [file_field(StoredFile(key, name_sent, len(data), kind))])
        elif REMOVE_FILE_FIELD_VALUE in sent:
            fields.setlist(name, [])
        elif missing := [value for value in sent if value in FIELD_VALUES]:
            fields.setlist(name, missing)
        else:
            fields.setlist(name, kept)
    return received


def _specs(flow: Flow) -> dict[str, UploadSpec]:
    """Every file question's limits by name (names are unique in a questionnaire)."""
    return {
        item.name: item.upload or UploadSpec()
        for item in flow.questionnaire.walk()
        if item.upload is not None
    }


def _sent_file(files: Mapping[str, Any], name: str) -> SentFile | None:
    """The file sent under ``name``, if one was chosen (an empty file input sends a part
    without a name)."""
    upload = files.get(name)
    if upload is None or not getattr(upload, "filename", None):
        return None
    return upload  # type: ignore[no-any-return]


def _check(upload: SentFile, spec: UploadSpec, limit: int) -> Message | tuple[bytes, str]:
    """The file's bytes (scaled down when an image is over ``max-pixels``) and type, or
    why it is refused."""
    data = upload.read(limit + 1)
    if len(data) > limit:
        size = len(data) + len(upload.read())  # the whole size, to say it
        return uploads.too_large(size, limit)
    if not data:
        return Message(N_("The file is empty."))
    kind = uploads.content_type(spec, data)
    if kind is None:
        return uploads.refused_type(spec)
    if not kind.startswith("image/"):
        return data, kind
    if kind == "image/heic":  # Pillow cannot read it: taken as sent, unless it must be measured
        return UNREADABLE_IMAGE if spec.max_pixels else (data, kind)
    pixels = image_size(data)
    if pixels is None:
        return UNREADABLE_IMAGE
    if spec.max_pixels and max(pixels) > spec.max_pixels:
        smaller = scaled_down(data, kind, spec.max_pixels)
        if smaller is None:
            return Message(
                N_(
                    "The image is %(width)d × %(height)d pixels; send one whose longer side "
                    "is at most %(most)d pixels."
                ),
                {"width": pixels[0], "height": pixels[1], "most": spec.max_pixels},
            )
        data = smaller
    return data, kind


def settle_files(
    store: FileStore,
    before: Any,
    after: Any,
    new_keys: Iterable[str],
    saved: bool,
    later: Callable[[Callable[[], None]], None],
) -> None:
    """Drop the files no answer names after a page: when it was ``saved``, those the
    stored answers (JSON) named ``before`` or that were just sent, and no longer name
    ``after`` (once the transaction is committed: ``later``); when it was not saved, the
    files just sent."""
    new = set(new_keys)
    if not saved:
        for key in new:
            store.delete(key)
        return
    gone = (stored_file_keys(before) | new) - stored_file_keys(after)
    if gone:
        log.info("%d stored file(s) replaced or removed", len(gone))

        def delete() -> None:
            for key in gone:
                store.delete(key)

        later(delete)
