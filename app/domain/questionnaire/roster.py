"""The interviewer's roster: a repeat asked one instance at a time, by phone.

In mode ``"phone"`` a repeat of its own is one page (``Flow.pages``); the interviewer's
screen shows it one instance at a time, a **stop** being the page and the instance
number. After the last instance of an open list the screen asks whether there is
another one (``asks_another``): yes adds an instance (``Flow.add_instance``) and goes to
it, no goes on to the next page. A list with no instance yet stops at instance 0, which
asks only that question. A fixed count (``repeat_count``, answered earlier) has exactly
that many stops and never asks. Going back (F4) walks the stops backwards across instance
and page boundaries; the jump list lists every stop (``stops``).

Pages that are not a repeat's (and a field-list group holding a repeat, shown whole)
have a single stop, instance 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.questionnaire.flow import Flow, Mode, State
from app.domain.questionnaire.model import Item
from app.domain.questionnaire.pages import Page, is_field_list


@dataclass(frozen=True)
class Stop:
    """A page, and on a roster page the instance shown (from 1; 0: none yet)."""

    page: Page
    instance: int = 0


def roster_of(page: Page) -> Item | None:
    """The repeat a page asks one instance at a time: a page holding only a repeat (and
    notes before it); None for any other page."""
    repeats = page.repeats
    whole = page.group is not None and is_field_list(page.group)
    if len(repeats) == 1 and not page.questions and not whole:
        return repeats[0]
    return None


def instance_count(page: Page, state: State) -> int:
    """How many instances the roster page's repeat has now (0 for other pages)."""
    repeat = roster_of(page)
    return len(state.instances(repeat.name)) if repeat is not None else 0


def asks_another(stop: Stop, state: State) -> bool:
    """True when the stop ends with "is there another?": the last instance (or none yet) of
    an open list that is not full."""
    repeat = roster_of(stop.page)
    if repeat is None or repeat.repeat_count is not None:
        return False
    count = len(state.instances(repeat.name))
    return stop.instance == count and count < repeat.max_instances


def entry(page: Page, state: State, *, backwards: bool = False) -> Stop:
    """The stop a page is entered at: its first instance going forward, its last going
    back; instance 0 when it has none (or is no roster page)."""
    count = instance_count(page, state)
    if count == 0:
        return Stop(page, 0)
    return Stop(page, count if backwards else 1)


def next_stop(flow: Flow, state: State, stop: Stop, mode: Mode) -> Stop | None:
    """The stop after ``stop`` with the instances ``state`` has (add the new instance
    first when the answer to "another?" was yes); None at the end."""
    if stop.instance < instance_count(stop.page, state):
        return Stop(stop.page, stop.instance + 1)
    following = flow.next_page(state, mode, stop.page.id)
    return entry(following, state) if following is not None else None


def previous_stop(flow: Flow, state: State, stop: Stop, mode: Mode) -> Stop | None:
    """The stop before ``stop`` (F4); None at the very beginning."""
    if stop.instance > 1:
        return Stop(stop.page, min(stop.instance - 1, instance_count(stop.page, state)))
    previous = flow.previous_page(state, mode, stop.page.id)
    return entry(previous, state, backwards=True) if previous is not None else None


def stops(flow: Flow, state: State, mode: Mode) -> list[Stop]:
    """Every stop of the shown pages, in order: one per instance on a roster page (one
    with instance 0 when its list is empty), one for any other page."""
    found: list[Stop] = []
    for page in flow.pages(mode):
        if not flow.is_shown(page, state, mode):
            continue
        count = instance_count(page, state)
        if count == 0:
            found.append(Stop(page, 0))
        else:
            found.extend(Stop(page, number) for number in range(1, count + 1))
    return found


def stop_at(flow: Flow, state: State, mode: Mode, page_id: str, instance: int) -> Stop:
    """The stop a URL names, the instance brought within the list as it is now (a stale
    link to a removed instance shows the last one). KeyError for an unknown page."""
    page = flow.page(mode, page_id)
    count = instance_count(page, state)
    if count == 0:
        return Stop(page, 0)
    return Stop(page, max(1, min(instance, count)))
