"""Calling hours: when a fieldwork's interviewers may call, in Warsaw wall-clock time.

Nothing here reads the clock: every function takes ``now`` (an aware datetime, any zone)
and returns aware datetimes in UTC. Naive datetimes are refused with ``ValueError``. All
arithmetic is done in UTC: Python adds and compares two datetimes of the same zone by
their wall-clock times, which is wrong across a DST change (a 3-day retry from Saturday
noon before the spring change is Tuesday 13:00 in Warsaw -- 72 hours -- not 12:00).

Calling hours and DST
    ``CallingHours`` holds, per weekday (0 = Monday), windows of **local wall-clock time in
    Europe/Warsaw**, start included, end excluded. On the day of a DST change a window is
    turned into an interval of real time by mapping each of its ends to an instant:

    - a wall time that happens once maps to that instant;
    - a wall time that happens twice (the repeated 02:00-03:00 on the last Sunday of
      October) maps to its first occurrence, so a window ``02:30-04:00`` that day lasts
      2.5 hours of real time, the repeated hour included;
    - a wall time that does not exist (02:00-03:00 on the last Sunday of March) maps to the
      first instant whose wall time is at or after it -- the change itself, shown as 03:00.
      A window ``02:30-04:00`` that day opens at 03:00 and lasts one hour; a window wholly
      inside the skipped hour does not open at all that day.

    ``is_open``, ``next_open`` and ``closes_at`` all use these same intervals, so they
    always agree with each other.

    Text form (``parse`` / ``format``): entries separated by ``;`` (or new lines), each
    a day, a day range or a comma list of them, then one or more comma-separated windows:
    ``pn-pt 8:00-16:00; so 9-12``, ``pn, śr 8:00-12:00, 13:00-15:30``, ``mon-fri 08:00-16:00``.
    Days: Polish ``pn wt śr cz pt so nd`` (also ``sr``, ``czw``, ``sb``, ``ndz``, full names)
    or English ``mon tue wed thu fri sat sun``. Times ``8``, ``8:00``, ``08.00``. Windows of
    a day that overlap or touch are merged. An empty text means no calling hours at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType

from app.domain.dates import WARSAW, local_date, local_wall_time
from app.domain.messages import N_, Message

_DAY_NAMES_PL = ("pn", "wt", "śr", "cz", "pt", "so", "nd")
_DAY_TOKENS: Mapping[str, int] = {
    token: day
    for day, tokens in enumerate(
        (
            ("pn", "pon", "poniedziałek", "poniedzialek", "mo", "mon", "monday"),
            ("wt", "wto", "wtorek", "tu", "tue", "tuesday"),
            ("śr", "sr", "śro", "sro", "środa", "sroda", "we", "wed", "wednesday"),
            ("cz", "czw", "czwartek", "th", "thu", "thursday"),
            ("pt", "pią", "pia", "piątek", "piatek", "fr", "fri", "friday"),
            ("so", "sb", "sob", "sobota", "sa", "sat", "saturday"),
            ("nd", "ndz", "nie", "niedziela", "su", "sun", "sunday"),
        )
    )
    for token in tokens
}
_TIME = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?")
_DASHES = str.maketrans({"–": "-", "—": "-"})

Window = tuple[time, time]


class CallingHoursError(ValueError):
    """Calling hours that cannot be read or do not make sense; ``message`` says why."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.render())
        self.message = message


def to_utc(moment: datetime, name: str = "moment") -> datetime:
    """``moment`` in UTC; a naive datetime is refused (the domain never guesses a zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC)


def _merge(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted windows with the overlapping or touching ones joined."""
    merged: list[Window] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def _check_window(day: int, start: time, end: time) -> None:
    """Refuse a window that is not a stretch of whole minutes inside one day."""
    for moment in (start, end):
        if moment.tzinfo is not None or moment.second or moment.microsecond:
            raise CallingHoursError(
                Message(
                    N_("Calling hours are local times in whole minutes (day %(day)s)."),
                    {"day": _DAY_NAMES_PL[day]},
                )
            )
    if start >= end:
        raise CallingHoursError(
            Message(
                N_("A calling window must end after it starts: %(window)s."),
                {"window": f"{_DAY_NAMES_PL[day]} {_format_window((start, end))}"},
            )
        )


def _format_time(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


def _format_window(window: Window) -> str:
    return f"{_format_time(window[0])}-{_format_time(window[1])}"


def _instant(day: date, wall: time) -> datetime:
    """The first instant (UTC) whose Warsaw wall time on ``day`` is at or after ``wall``."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=WARSAW)  # fold=0: the first of a repeated wall time
    if first.astimezone(UTC).astimezone(WARSAW).replace(tzinfo=None) == naive:
        return first.astimezone(UTC)
    # ``wall`` falls in the hour skipped in spring. Read with the offset after the change
    # it is an instant before the change, with the offset before it one after; the change
    # lies between. Search it to the second (tzdb changes happen on whole seconds).
    low = naive.replace(tzinfo=WARSAW, fold=1).astimezone(UTC)
    high = first.astimezone(UTC)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if local_wall_time(middle) >= naive:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class CallingHours:
    """Weekly calling windows in Europe/Warsaw wall-clock time (0 = Monday)."""

    windows: Mapping[int, tuple[Window, ...]]

    def __post_init__(self) -> None:
        normalised: dict[int, tuple[Window, ...]] = {}
        for day, day_windows in sorted(self.windows.items()):
            if not isinstance(day, int) or not 0 <= day <= 6:
                raise CallingHoursError(
                    Message(
                        N_("A weekday is a number from 0 (Monday) to 6 (Sunday), not %(day)s."),
                        {"day": day},
                    )
                )
            for start, end in day_windows:
                _check_window(day, start, end)
            if day_windows:
                normalised[day] = _merge(day_windows)
        object.__setattr__(self, "windows", MappingProxyType(normalised))

    def __hash__(self) -> int:
        return hash(tuple(self.windows.items()))

    @classmethod
    def office_hours(cls) -> CallingHours:
        """Monday to Friday, 8:00-16:00: when Polish public institutions answer the phone."""
        return cls({day: ((time(8), time(16)),) for day in range(5)})

    @classmethod
    def parse(cls, text: str) -> CallingHours:
        """Calling hours from their text form; ``CallingHoursError`` says what is wrong."""
        collected: dict[int, list[Window]] = {}
        for raw_entry in re.split(r"[;\n]", text):
            entry = raw_entry.strip().lower().translate(_DASHES)
            if not entry:
                continue
            digit = re.search(r"\d", entry)
            if digit is None:
                raise CallingHoursError(
                    Message(
                        N_("No hours in “%(entry)s”; write e.g. “pn-pt 8:00-16:00”."),
                        {"entry": raw_entry.strip()},
                    )
                )
            days_text = entry[: digit.start()].strip().rstrip(":").strip()
            if not days_text:
                raise CallingHoursError(
                    Message(
                        N_(
                            "No days before the hours in “%(entry)s”; write e.g. "
                            "“pn-pt 8:00-16:00”."
                        ),
                        {"entry": raw_entry.strip()},
                    )
                )
            days = _parse_days(days_text)
            windows = [_parse_window(part) for part in entry[digit.start() :].split(",")]
            for day in days:
                collected.setdefault(day, []).extend(windows)
        for day, day_windows in collected.items():
            for start, end in day_windows:
                _check_window(day, start, end)
        return cls({day: tuple(day_windows) for day, day_windows in collected.items()})

    def format(self) -> str:
        """The Polish text form, consecutive days with the same windows as a range."""
        entries: list[str] = []
        day = 0
        while day < 7:
            windows = self.windows.get(day)
            if not windows:
                day += 1
                continue
            last = day
            while last + 1 < 7 and self.windows.get(last + 1) == windows:
                last += 1
            days = (
                _DAY_NAMES_PL[day] if last == day else f"{_DAY_NAMES_PL[day]}-{_DAY_NAMES_PL[last]}"
            )
            entries.append(f"{days} {', '.join(_format_window(w) for w in windows)}")
            day = last + 1
        return "; ".join(entries)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's windows as intervals of real time (UTC), touching ones joined."""
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in self.windows.get(day.weekday(), ()):
            opens, closes = _instant(day, start), _instant(day, end)
            if opens >= closes:  # the whole window lies in the hour skipped in spring
                continue
            if intervals and opens <= intervals[-1][1]:
                intervals[-1] = (intervals[-1][0], closes)
            else:
                intervals.append((opens, closes))
        return intervals

    def is_open(self, moment: datetime) -> bool:
        """Whether calls may be made at ``moment``."""
        moment = to_utc(moment)
        local_day = local_date(moment)
        return any(opens <= moment < closes for opens, closes in self._intervals(local_day))

    def next_open(self, moment: datetime) -> datetime | None:
        """The first instant at or after ``moment`` when calls may be made (UTC).

        ``moment`` itself when open; None when there are no windows at all.
        """
        moment = to_utc(moment)
        if not self.windows:
            return None
        local_day = local_date(moment)
        # Two weeks always reach a window: only one day a year can lose one (spring change).
        for offset in range(15):
            for opens, closes in self._intervals(local_day + timedelta(days=offset)):
                if moment < closes:
                    return max(moment, opens)
        return None

    def closes_at(self, moment: datetime) -> datetime | None:
        """When the window open at ``moment`` closes (UTC); None when closed at ``moment``."""
        moment = to_utc(moment)
        local_day = local_date(moment)
        for opens, closes in self._intervals(local_day):
            if opens <= moment < closes:
                return closes
        return None


def _parse_days(text: str) -> list[int]:
    """Weekday numbers from ``pn-pt``, ``pn, śr``, ``mon-fri`` and the like."""
    days: list[int] = []
    for item in text.split(","):
        parts = [part.strip().rstrip(".") for part in item.split("-")]
        if len(parts) > 2 or not all(parts):
            raise CallingHoursError(
                Message(
                    N_("Cannot read the days “%(days)s”; write e.g. “pn-pt” or “pn, śr”."),
                    {"days": item.strip()},
                )
            )
        numbers = []
        for part in parts:
            if part not in _DAY_TOKENS:
                raise CallingHoursError(
                    Message(
                        N_("Unknown day “%(day)s”; use pn, wt, śr, cz, pt, so, nd (or mon … sun)."),
                        {"day": part},
                    )
                )
            numbers.append(_DAY_TOKENS[part])
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            raise CallingHoursError(
                Message(
                    N_("A day range runs from Monday towards Sunday: “%(days)s”."),
                    {"days": item.strip()},
                )
            )
        days.extend(range(numbers[0], numbers[-1] + 1))
    return days


def _parse_time(text: str, window: str) -> time:
    match = _TIME.fullmatch(text.strip())
    hour = int(match.group(1)) if match else -1
    minute = int(match.group(2) or 0) if match else -1
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise CallingHoursError(
            Message(
                N_(
                    "Cannot read the time “%(time)s” in “%(window)s”; write e.g. 8:00 "
                    "(at most 23:59)."
                ),
                {"time": text.strip(), "window": window},
            )
        )
    return time(hour, minute)


def _parse_window(text: str) -> Window:
    """A ``8:00-16:00`` window."""
    parts = text.split("-")
    if len(parts) != 2:
        raise CallingHoursError(
            Message(
                N_("Cannot read the window “%(window)s”; write e.g. 8:00-16:00."),
                {"window": text.strip()},
            )
        )
    return _parse_time(parts[0], text.strip()), _parse_time(parts[1], text.strip())
