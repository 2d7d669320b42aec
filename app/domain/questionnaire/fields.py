"""Form fields: the strings a submitted page sends, as values (and values back as fields).

One field per variable; a select_multiple sends one value per ticked code; don't know /
refused are sent as the reserved values ``DONT_KNOW_FIELD_VALUE`` / ``REFUSED_FIELD_VALUE``
in the variable's own field. Numbers may group thousands with spaces and use a decimal
comma; dates are DD.MM.YYYY or ISO; times HH:MM; moments DD.MM.YYYY HH:MM in Warsaw
time. A geopoint's form sends up to four fields under its name (latitude, longitude,
altitude, accuracy, in that order) or one "lat lon [alt [acc]]" string; a geotrace or
geoshape one point a line; a rank one "RANK:CODE" value per choice. A file question's
field holds its stored file as ``file:`` and the answer's JSON: only the server puts it
there (app.interview.uploads replaces whatever a browser sent under a file question's name
with the file it kept or the one just received), never the browser.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain import dates
from app.domain.messages import N_, Message
from app.domain.questionnaire.answers import DONT_KNOW, ISO_DATE, REFUSED, Missing, StoredFile
from app.domain.questionnaire.model import ItemType, RangeSpec

DONT_KNOW_FIELD_VALUE = "__dk__"
REFUSED_FIELD_VALUE = "__rf__"
TEXT_MAX_LENGTH = 10_000
OTHER_MAX_LENGTH = 255
INTEGER_LIMIT = 2**53  # the largest integer a browser (and a JSON double) holds exactly
DECIMAL_MAX_INTEGER_DIGITS = 15  # beyond this a spreadsheet cell is no longer exact
DECIMAL_MAX_PLACES = 10
FIELD_VALUES = {DONT_KNOW_FIELD_VALUE: DONT_KNOW, REFUSED_FIELD_VALUE: REFUSED}
FILE_FIELD_PREFIX = "file:"  # a stored file in a form field (put there by the server)
REMOVE_FILE_FIELD_VALUE = "__remove__"  # the box "remove the file" of a file question

_GROUPED = r"[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+"
_INTEGER = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]+)")
_DECIMAL = re.compile(rf"([+\-\u2212]?)({_GROUPED}|[0-9]*)(?:[.,]([0-9]+))?")
_POLISH_DATE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_SPACES = re.compile(r"[ \u00a0\u202f]")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH_YEAR = re.compile(r"(?P<month>[0-9]{1,2})[./](?P<year>[0-9]{4})")
_ISO_MONTH = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})")
# 08:30, 8.30, or just the digits (830, 0830), as an interviewer types fastest
_TIME = re.compile(r"([0-9]{1,2})[:.]?([0-9]{2})(?::([0-9]{2}))?")
_ISO_MOMENT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:?[0-9]{2})?"
)
_POLISH_MOMENT = re.compile(
    r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}),?\s+([0-9]{1,2})[:.]?([0-9]{2})"
)
_COORDINATE = re.compile(r"[+\-\u2212]?[0-9]{1,3}(?:[.,][0-9]{1,10})?")
_MEASURE = re.compile(r"[+\-\u2212]?[0-9]{1,6}(?:[.,][0-9]{1,3})?")
ACKNOWLEDGED = "OK"  # what an acknowledge (or trigger) stores, as ODK does
GEO_MAX_POINTS = 500


class InvalidValue(Exception):
    """A submitted string that is not a value of its variable's type."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def _parse_integer(raw: str) -> int:
    """A whole number; spaces may group thousands ("1 234")."""
    match = _INTEGER.fullmatch(raw.strip())
    if match is None:
        raise InvalidValue(Message(N_("Enter a whole number.")))
    digits = _SPACES.sub("", match.group(2)).lstrip("0") or "0"
    # Count digits before converting: int() of thousands of digits is slow, then refused.
    if len(digits) > len(str(INTEGER_LIMIT)) or int(digits) > INTEGER_LIMIT:
        raise InvalidValue(Message(N_("The number is too large.")))
    return -int(digits) if match.group(1) else int(digits)


def _parse_decimal(raw: str) -> Decimal:
    """A number with a decimal comma or point ("12,5", "12.5", "1 234,5")."""
    match = _DECIMAL.fullmatch(raw.strip())
    if match is None or not (match.group(2) or match.group(3)):
        raise InvalidValue(Message(N_("Enter a number.")))
    sign, whole, fraction = match.group(1), _SPACES.sub("", match.group(2)), match.group(3)
    if len(whole.lstrip("0")) > DECIMAL_MAX_INTEGER_DIGITS:
        raise InvalidValue(Message(N_("The number is too large.")))
    if fraction and len(fraction) > DECIMAL_MAX_PLACES:
        raise InvalidValue(
            Message(N_("Use at most %(places)d decimal places."), {"places": DECIMAL_MAX_PLACES})
        )
    digits = f"{whole or '0'}.{fraction}" if fraction else whole
    return Decimal(f"-{digits}" if sign else digits)  # as typed: "12,50" stays 12.50


def _parse_date(raw: str) -> date:
    """A date as DD.MM.YYYY (Polish) or YYYY-MM-DD (ISO, what date inputs send)."""
    text = raw.strip()
    day = None
    try:
        if match := ISO_DATE.fullmatch(text):
            day = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        elif match := _POLISH_DATE.fullmatch(text):
            day = date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    except ValueError:
        pass  # a day that does not exist: the same message as any malformed date
    if day is None:
        raise InvalidValue(Message(N_("Enter a date as DD.MM.YYYY.")))
    if not dates.in_range(day):  # 01.01.0001 is a typo, and no date to a spreadsheet
        raise InvalidValue(dates.out_of_range_message())
    return day


def parse_partial_date(raw: str, precision: str) -> date:
    """A date asked to the month (MM.YYYY, or YYYY-MM) or to the year (YYYY), stored as
    its first day as ODK stores them; a whole date is taken too, cut to its month or year."""
    text = raw.strip()
    month_match = _MONTH_YEAR.fullmatch(text) or _ISO_MONTH.fullmatch(text)
    day: date | None = None
    if _YEAR.fullmatch(text) or (month_match and precision == "month"):
        if month_match is None:
            year, month = int(text), 1
        else:
            year, month = int(month_match["year"]), int(month_match["month"])
        if year >= 1 and 1 <= month <= 12:
            day = date(year, month, 1)
    else:
        try:
            whole = _parse_date(text)
        except InvalidValue:
            whole = None
        if whole is not None:
            day = whole.replace(day=1) if precision == "month" else whole.replace(month=1, day=1)
    if day is None:
        if precision == "month":
            raise InvalidValue(Message(N_("Enter a month as MM.YYYY.")))
        raise InvalidValue(Message(N_("Enter a year as YYYY.")))
    if not dates.in_range(day):
        raise InvalidValue(dates.out_of_range_message())
    return day


def _parse_time(raw: str) -> time:
    """A time of day as HH:MM (a dot works too, as some write it: 8.30; or digits: 830)."""
    match = _TIME.fullmatch(raw.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59 or int(match[3] or 0) > 59:
        raise InvalidValue(Message(N_("Enter a time as HH:MM, for example 08:30.")))
    return time(int(match[1]), int(match[2]))


def warsaw_moment(day: date, hour: int, minute: int) -> datetime:
    """The Warsaw moment at ``day`` ``hour``:``minute``; a time the clocks skip (the last
    Sunday of March, 2:00-2:59) is refused, a repeated one (October) is the first."""
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=dates.WARSAW)
    there_and_back = moment.astimezone(UTC).astimezone(dates.WARSAW)
    if there_and_back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        raise InvalidValue(
            Message(N_("There is no such time in Poland that day (the clocks go forward)."))
        )
    return there_and_back


def _parse_datetime(raw: str) -> datetime:
    """A moment as DD.MM.YYYY HH:MM in Warsaw time (or ISO, with or without an offset)."""
    text = raw.strip()
    wrong = InvalidValue(Message(N_("Enter a date and time as DD.MM.YYYY HH:MM.")))
    try:
        if match := _POLISH_MOMENT.fullmatch(text):
            day = date(int(match[3]), int(match[2]), int(match[1]))
            hour, minute, offset = int(match[4]), int(match[5]), None
        elif match := _ISO_MOMENT.fullmatch(text):
            day = date(int(match[1]), int(match[2]), int(match[3]))
            hour, minute, offset = int(match[4]), int(match[5]), match[7]
        else:
            raise wrong
    except ValueError:
        raise wrong from None
    if hour > 23 or minute > 59:
        raise wrong
    if not dates.in_range(day):
        raise InvalidValue(dates.out_of_range_message())
    if offset is not None:  # a moment given with its offset: the same moment, in Warsaw
        iso = f"{day.isoformat()}T{hour:02d}:{minute:02d}{offset.replace('Z', '+00:00')}"
        try:
            return datetime.fromisoformat(iso).astimezone(dates.WARSAW)
        except ValueError:
            raise wrong from None
    return warsaw_moment(day, hour, minute)


def _number_text(text: str) -> str:
    """A number as typed ("-50,5", "−3") in the form Decimal reads ("-50.5")."""
    return text.replace(",", ".").replace("\u2212", "-")


def parse_range(raw: str, spec: RangeSpec) -> int | Decimal:
    """A value of a range: between its bounds, a whole number of steps from its start."""
    value = _parse_decimal(raw)
    if not spec.allows(value):
        raise InvalidValue(
            Message(
                N_("Choose a value from %(start)s to %(end)s in steps of %(step)s."),
                {"start": str(spec.start), "end": str(spec.end), "step": str(spec.step)},
            )
        )
    return int(value) if spec.whole else value


def parse_acknowledge(raw: str) -> str:
    """The one value of an acknowledge: OK."""
    if raw.strip() != ACKNOWLEDGED:
        raise InvalidValue(Message(N_("Tick the box to confirm, or leave it empty.")))
    return ACKNOWLEDGED


def _coordinate(text: str, limit: int, what: Message) -> str:
    if not _COORDINATE.fullmatch(text):
        raise InvalidValue(what)
    value = Decimal(_number_text(text))
    if abs(value) > limit:
        raise InvalidValue(what)
    return str(value)


def parse_point(parts: list[str]) -> str:
    """A point from its parts (latitude, longitude, then optional altitude and accuracy in
    metres), as ODK writes it: "lat lon[ alt[ acc]]" with decimal points."""
    parts = [part.strip() for part in parts]
    while parts and not parts[-1]:
        parts.pop()
    if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
        raise InvalidValue(Message(N_("Enter both the latitude and the longitude.")))
    latitude = _coordinate(
        parts[0], 90, Message(N_("The latitude must be a number from -90 to 90."))
    )
    longitude = _coordinate(
        parts[1], 180, Message(N_("The longitude must be a number from -180 to 180."))
    )
    point = [latitude, longitude]
    if len(parts) >= 3:
        if not _MEASURE.fullmatch(parts[2] or "0"):
            raise InvalidValue(Message(N_("The altitude must be a number of metres.")))
        point.append(str(Decimal(_number_text(parts[2] or "0"))))
    if len(parts) == 4:
        if not _MEASURE.fullmatch(parts[3]) or Decimal(_number_text(parts[3])) < 0:
            raise InvalidValue(Message(N_("The accuracy must be a number of metres, 0 or more.")))
        point.append(str(Decimal(_number_text(parts[3]))))
    return " ".join(point)


def _parse_geopoint(raw: str) -> str:
    return parse_point(raw.split())


def _parse_points(raw: str, kind: ItemType) -> str:
    """A line or a shape: one point a line ("lat lon", or "lat lon alt acc"), or ODK's
    "lat lon alt acc;lat lon alt acc"; stored with ";" between the points."""
    lines = [line for line in re.split(r"[;\n]", raw.replace("\r", "")) if line.strip()]
    if len(lines) > GEO_MAX_POINTS:
        raise InvalidValue(
            Message(N_("Enter at most %(count)d points."), {"count": GEO_MAX_POINTS})
        )
    points = []
    for number, line in enumerate(lines, 1):
        try:
            points.append(parse_point(line.split()))
        except InvalidValue as invalid:
            raise InvalidValue(
                Message(
                    N_("Point %(number)d: %(problem)s"),
                    {"number": number, "problem": invalid.message},
                )
            ) from None
    if kind is ItemType.GEOTRACE and len(points) < 2:
        raise InvalidValue(Message(N_("A line needs at least 2 points, one a line.")))
    if kind is ItemType.GEOSHAPE:
        if len(points) >= 3 and _lat_lon(points[0]) != _lat_lon(points[-1]):
            points.append(points[0])  # the closing point may be left out: the shape closes
        if len({_lat_lon(point) for point in points}) < 3:
            raise InvalidValue(
                Message(N_("A shape needs at least 3 different points, one a line."))
            )
    return ";".join(points)


def _lat_lon(point: str) -> tuple[str, ...]:
    return tuple(point.split()[:2])


def geo_points(value: str) -> list[tuple[Decimal, ...]]:
    """The points of a stored geopoint, geotrace or geoshape, as numbers."""
    points = []
    for point in value.split(";"):
        try:
            points.append(tuple(Decimal(part) for part in point.split()))
        except InvalidOperation:
            return []
    return points


def parse_rank(values: list[str], codes: tuple[str, ...]) -> tuple[str, ...]:
    """The codes in rank order, from one "RANK:CODE" value per ranked choice: every
    choice gets a rank, each rank once."""
    ranks: dict[str, int] = {}
    wrong = InvalidValue(Message(N_("Choose one of the listed answers.")))
    for value in values:
        rank, _, code = value.partition(":")
        if not rank.isdigit() or code not in codes or code in ranks:
            raise wrong
        ranks[code] = int(rank)
    if len(ranks) < len(codes):
        raise InvalidValue(Message(N_("Give every answer a rank.")))
    if sorted(ranks.values()) != list(range(1, len(codes) + 1)):
        raise InvalidValue(Message(N_("Give each rank to one answer only.")))
    return tuple(sorted(ranks, key=ranks.__getitem__))


def file_field(stored: StoredFile) -> str:
    """A stored file as its form field holds it."""
    return FILE_FIELD_PREFIX + json.dumps(stored.to_json(), ensure_ascii=False)


def parse_file_field(raw: str) -> StoredFile:
    """The stored file a file question's field holds (``file_field``)."""
    wrong = InvalidValue(Message(N_("Choose the file to send.")))
    if not raw.startswith(FILE_FIELD_PREFIX):
        raise wrong
    try:
        stored = StoredFile.from_json(json.loads(raw[len(FILE_FIELD_PREFIX) :]))
    except ValueError:
        raise wrong from None
    if stored is None:
        raise wrong
    return stored


def parse_text(raw: str, max_length: int) -> str:
    """A text with Unix line ends, at most ``max_length`` characters long."""
    text = raw.replace("\r\n", "\n")
    if len(text) > max_length:
        raise InvalidValue(
            Message(N_("The text is too long: at most %(max)d characters."), {"max": max_length})
        )
    return text


PARSERS: dict[ItemType, Callable[[str], str | int | Decimal | date | time | StoredFile]] = {
    ItemType.INTEGER: _parse_integer,
    ItemType.DECIMAL: _parse_decimal,
    ItemType.DATE: _parse_date,
    ItemType.TIME: _parse_time,
    ItemType.DATETIME: _parse_datetime,
    ItemType.ACKNOWLEDGE: parse_acknowledge,
    ItemType.BARCODE: lambda raw: parse_text(raw, OTHER_MAX_LENGTH),
    ItemType.GEOPOINT: _parse_geopoint,
    ItemType.GEOTRACE: lambda raw: _parse_points(raw, ItemType.GEOTRACE),
    ItemType.GEOSHAPE: lambda raw: _parse_points(raw, ItemType.GEOSHAPE),
    ItemType.FILE: parse_file_field,
    ItemType.TEXT: lambda raw: parse_text(raw, TEXT_MAX_LENGTH),
    ItemType.TEXTAREA: lambda raw: parse_text(raw, TEXT_MAX_LENGTH),
}


def to_field(value: Any) -> list[str]:
    """A stored value as the strings a form field holds."""
    if isinstance(value, Missing):
        return [DONT_KNOW_FIELD_VALUE if value is DONT_KNOW else REFUSED_FIELD_VALUE]
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, StoredFile):
        return [file_field(value)]
    if isinstance(value, datetime):
        return [dates.format_local(value)]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, time):
        return [value.strftime("%H:%M")]
    return [str(value)]


_EXPRESSION_MOMENT = re.compile(
    r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)


def default_field(kind: ItemType, value: Any) -> list[str]:
    """What a default expression gave, as the question's field holds it: a date from
    today() or now() as the date, time or moment the question asks for, a whole number
    without a decimal point, a select_multiple's codes one by one; nothing for no value."""
    if value is None or value == "" or isinstance(value, bool):
        return []
    if isinstance(value, date | time):
        if isinstance(value, datetime) and kind is ItemType.DATE:
            return [value.date().isoformat()]
        return to_field(value)
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    else:
        text = str(value)
    moment = _EXPRESSION_MOMENT.fullmatch(text.strip())
    if moment is not None and kind is ItemType.DATE:
        return [moment[1]]
    if moment is not None and kind is ItemType.TIME and moment[2]:
        return [moment[2]]
    if moment is not None and kind is ItemType.DATETIME:
        return [f"{moment[1]}T{moment[2] or '00:00'}"]
    if kind is ItemType.SELECT_MULTIPLE:
        return text.split()
    return [text]


def field_values(form: Mapping[str, Any], name: str) -> list[str]:
    """All values sent under ``name`` (a MultiDict or a mapping of name -> list)."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return [str(v) for v in getlist(name)]
    value = form.get(name, ())
    return [value] if isinstance(value, str) else [str(v) for v in value]
