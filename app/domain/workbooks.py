"""Handling .xlsx workbooks safely, for every part of Ankieta that reads or writes them.

- Reading an uploaded workbook (a sample, an XLSForm): an .xlsx file is a zip, and
  ``zip_problem`` refuses a zip bomb from the zip directory alone, before anything is
  unpacked: at most ``MAX_ZIP_MEMBERS`` parts, ``MAX_UNPACKED_BYTES`` unpacked in all, each
  large part packed at most ``MAX_PACKING_RATIO`` times.
- Writing a workbook with XlsxWriter (exports, reports, the sample template):
  ``SAFE_XLSX_OPTIONS`` keep texts from definitions, samples and answers as texts, never
  turned into formulas, links or numbers.
"""

from __future__ import annotations

import zipfile
from typing import Final

from app.domain.messages import N_, Message

MAX_UNPACKED_BYTES: Final = 100 * 1024 * 1024
MAX_PACKING_RATIO: Final = 100  # applies to members above _RATIO_FLOOR bytes unpacked
MAX_ZIP_MEMBERS: Final = 1000  # an .xlsx has a dozen or two
_RATIO_FLOOR = 1024 * 1024  # tiny members (styles, rels) may pack tightly, they cannot hurt
_PART_NAME_LENGTH = 200

# XlsxWriter's Workbook options for any text that comes from users.
SAFE_XLSX_OPTIONS: Final = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def zip_problem(archive: zipfile.ZipFile) -> Message | None:
    """Why a zip must not be unpacked (too big, too tightly packed, too many parts), or None.

    Only the central directory is looked at. Python's zipfile never unpacks more than a
    member's declared size (a member that lies fails its CRC), so declared sizes bound
    what openpyxl can be made to read.
    """
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        return Message(
            N_("the workbook has %(count)s parts, far more than a real one has; it is refused"),
            {"count": len(members)},
        )
    if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
        return Message(
            N_("the workbook would unpack to more than %(limit)s MB; it is refused"),
            {"limit": MAX_UNPACKED_BYTES // (1024 * 1024)},
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and (
            member.file_size > MAX_PACKING_RATIO * max(member.compress_size, 1)
        ):
            return Message(
                N_("the workbook is packed suspiciously tightly (part %(part)s); it is refused"),
                {"part": member.filename[:_PART_NAME_LENGTH]},
            )
    return None
