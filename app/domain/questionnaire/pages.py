"""Pages: how a questionnaire's items are cut into the pages of each mode (see
``app.domain.questionnaire.flow``, section Pages)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.domain.questionnaire.model import Item, ItemType


@dataclass(frozen=True)
class Page:
    """One page of the web form or one screen of the interviewer."""

    id: str
    index: int
    items: tuple[Item, ...] = field(compare=False)  # notes, questions and nested groups
    group: Item | None = field(default=None, compare=False)  # the group the page shows

    @property
    def questions(self) -> tuple[Item, ...]:
        """The items on the page that take an answer (a repeat's are in its instances)."""
        return tuple(item for item in self.items if item.type.is_question)

    @property
    def repeats(self) -> tuple[Item, ...]:
        """The repeats on the page, each shown with all its instances."""
        return tuple(item for item in self.items if item.is_repeat)

    @property
    def takes_files(self) -> bool:
        """True when a file question is on the page (inside its lists too): the web form
        then sends its files (multipart)."""
        return any(
            each.type is ItemType.FILE
            for item in self.questions + self.repeats
            for each in item.walk()
        )


PageSpec = tuple[str, list[Item], "Item | None"]  # a page's id, items and group


def is_visible(item: Item) -> bool:
    """True for what a page shows: notes, questions and repeats."""
    return item.type is ItemType.NOTE or item.type.is_question or item.is_repeat


def is_field_list(item: Item) -> bool:
    """A group shown as one page, also to interviewers (a table-list is one too)."""
    return item.is_group and bool({"field-list", "table-list"} & item.appearances)


def is_table_list(item: Item) -> bool:
    """A group shown as one table (XLSForm's ``table-list``): its items are single-choice
    questions on one list, without a choice_filter, so they share the columns."""
    if not item.is_group or "table-list" not in item.appearances or not item.children:
        return False
    first = item.children[0]
    return all(
        row.type is ItemType.SELECT_ONE
        and row.list_name == first.list_name
        and row.choice_filter is None
        for row in item.children
    )


def displayed(items: Iterable[Item]) -> list[Item]:
    """Items in order, nested ones included, without calculations (never shown); a repeat
    stands for its instances (its children are shown inside each)."""
    return [each for item in items for each in item.scope() if each.type is not ItemType.CALCULATE]


def group_pages(items: list[Item]) -> Iterator[PageSpec]:
    """Group paging: a page per top-level group, one per run of items between groups."""
    run: list[Item] = []
    for item in items:
        if item.is_group:
            yield from _run_page(run)
            run = []
            yield item.name, displayed(item.children), item
        elif item.is_repeat:  # a repeat of its own is a page of its own, like a group
            yield from _run_page(run)
            run = []
            yield item.name, [item], None
        else:
            run.append(item)
    yield from _run_page(run)


def _run_page(run: list[Item]) -> Iterator[PageSpec]:
    """The page of top-level items between groups, unless it would show nothing."""
    shown = displayed(run)
    if shown:
        yield shown[0].name, shown, None


def question_pages(items: list[Item], group: Item | None) -> Iterator[PageSpec]:
    """One question a page, notes before it attached, a field-list group as one page."""
    notes: list[Item] = []
    for item in items:
        if is_field_list(item):
            yield item.name, notes + displayed(item.children), item
            notes = []
        elif item.is_repeat:  # all its instances on one page
            yield item.name, notes + [item], group
            notes = []
        elif item.is_group:
            if notes:
                yield notes[0].name, notes, group
                notes = []
            yield from question_pages(item.children, item)
        elif item.type is ItemType.NOTE:
            notes.append(item)
        elif item.type.is_question:
            yield item.name, notes + [item], group
            notes = []
    if notes:
        yield notes[0].name, notes, group


def page_index(page: Page) -> int:
    return page.index
