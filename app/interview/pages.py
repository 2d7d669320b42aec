"""A questionnaire page shown and posted: items turned into plain view objects for the
templates (web, phone, preview, the response viewer and staff edits), and a posted page read."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape
from werkzeug.datastructures import MultiDict

from app.domain.dates import format_local
from app.domain.messages import Message
from app.domain.questionnaire.answers import DONT_KNOW, REFUSED, StoredFile, VariableKind
from app.domain.questionnaire.expressions import (
    Expression,
    interpolate_references,
    moment_text,
    with_choice_labels,
)
from app.domain.questionnaire.fields import (
    DONT_KNOW_FIELD_VALUE,
    REFUSED_FIELD_VALUE,
    InvalidValue,
    parse_file_field,
)
from app.domain.questionnaire.flow import Flow, Mode, State
from app.domain.questionnaire.model import Availability, Choice, Item, ItemType, Text, UploadSpec
from app.domain.questionnaire.pages import Page, is_table_list
from app.domain.questionnaire.uploads import accept_attribute, described_types, megabytes

Gettext = Callable[[str], str]
FileLink = Callable[[str, StoredFile], str]  # (field, file) -> where staff download it
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def _typed_field_values(kind: ItemType, values: list[str]) -> list[str]:
    """The values a typed field shows: a stored geopoint in its four fields, a line or
    shape one point a line, a rank as "RANK:CODE"; as sent (an invalid page) unchanged."""
    if not values or values[0] in (DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE):
        return values
    if kind is ItemType.GEOPOINT and len(values) == 1:
        parts = values[0].split()
        return parts + [""] * (4 - len(parts))
    if kind in (ItemType.GEOTRACE, ItemType.GEOSHAPE):
        return ["\n".join(value.split(";")) for value in values]
    if kind is ItemType.RANK and all(":" not in value for value in values):
        return [f"{rank}:{code}" for rank, code in enumerate(values, 1)]
    return values


def _polish_date(value: str, precision: str = "day") -> str:
    """An ISO date (a stored answer) as DD.MM.YYYY (MM.YYYY or YYYY for a date asked to
    the month or the year); anything else (as typed) unchanged."""
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        return value
    if precision == "year":
        return match[1]
    if precision == "month":
        return f"{match[2]}.{match[1]}"
    return f"{match[3]}.{match[2]}.{match[1]}"


def _layout(item: Item) -> str:
    """How a question is laid out beyond its type, from its appearance: a select_one as a
    dropdown ("minimal") or a scale ("likert"), choices in a row ("row"), a date asked
    to the month or the year ("month", "year"); "" for the usual way."""
    words = item.appearances
    if item.type is ItemType.SELECT_ONE and "minimal" in words:
        return "minimal"
    if item.type is ItemType.SELECT_ONE and "likert" in words:
        return "likert"
    if item.type.uses_choices and any(word.startswith(("horizontal", "columns")) for word in words):
        return "row"
    if item.type is ItemType.DATE and item.date_precision != "day":
        return item.date_precision
    return ""


def _decimal_comma(value: str) -> str:
    """A stored decimal ("120.5") as Polish writes it ("120,5"); other text unchanged."""
    return value.replace(".", ",") if _DECIMAL.fullmatch(value) else value


_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")


@dataclass
class ChoiceView:
    code: str
    label: str
    other: bool = False
    offered: bool = True  # False: hidden by the item's choice_filter for the current answers
    columns: str | None = None  # JSON of the choice's columns, for the live choice_filter


@dataclass
class RowView:
    """A matrix row: its own variable, label, chosen code and error."""

    name: str
    label: str
    value: str
    error: str | None


def _live(text: str, template: str | None) -> Markup:
    """``text`` escaped; with a ``template`` (it names other answers, ${name}), in a span
    that the page's script fills in again as they change."""
    if template:
        return Markup('<span data-template="{}">{}</span>').format(template, text)
    return escape(text)


@dataclass
class ItemView:
    """One item as the page shows it."""

    name: str
    type: str
    label: str
    hint: str
    interviewer_note: str
    required: bool
    relevant: bool
    relevance_tree: str | None  # JSON expression tree for live skip logic, or None
    filter_tree: str | None = None  # JSON tree of the choice_filter, evaluated per choice
    values: list[str] = field(default_factory=list)
    error: str | None = None
    choices: list[ChoiceView] = field(default_factory=list)
    rows: list[RowView] = field(default_factory=list)
    other_name: str | None = None  # the variable of the `other` text, if the list has one
    other_value: str = ""
    other_error: str | None = None
    allow_dont_know: bool = False
    allow_refused: bool = False
    read_only: bool = False
    children: list[ItemView | RepeatView] = field(default_factory=list)
    context: str = ""  # inside a repeat: the instance's title, said with an error
    phone: bool = False  # on an interviewer's screen (keyboard first)
    label_template: str | None = None  # the label with ${name} left in, to fill in live
    hint_template: str | None = None
    range: tuple[str, str, str] | None = None  # a range's start, end and step
    layout: str = ""  # from the appearance: "minimal", "likert", "row", "month", "year"
    # a table-list group: one table, its questions the rows, ``choices`` the columns
    table: bool = False
    file: StoredFile | None = None  # a file question's file sent (or being sent)
    file_url: str | None = None  # where staff download it (the response viewer only)
    accept: str = ""  # the file input's accept attribute
    file_types: str = ""  # the name endings the question takes (".jpg, .png")
    file_limit: str = ""  # the largest file the server takes ("10,0 MB")

    @property
    def file_size(self) -> str:
        """The size of the file sent, as people read it."""
        return megabytes(self.file.size) if self.file else ""

    def rank_of(self, code: str) -> str:
        """The rank given to ``code`` (a rank question), "" when none."""
        for value in self.values:
            rank, _, ranked = value.partition(":")
            if ranked == code:
                return rank
        return ""

    def part(self, index: int) -> str:
        """The ``index``-th of a geopoint's fields (latitude, longitude, altitude, accuracy)."""
        if self.missing or index >= len(self.values):
            return ""
        return self.values[index]

    @property
    def missing(self) -> str | None:
        """ "dk" or "rf" when the stored answer is an explicit non-answer."""
        if DONT_KNOW_FIELD_VALUE in self.values:
            return "dk"
        if REFUSED_FIELD_VALUE in self.values:
            return "rf"
        return None

    @property
    def has_error(self) -> bool:
        return bool(self.error or self.other_error or any(r.error for r in self.rows))

    @property
    def text_value(self) -> str:
        """What a text box shows: the first value that is no explicit non-answer."""
        for value in self.values:
            if value not in (DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE):
                return value
        return ""

    @property
    def live_label(self) -> Markup:
        """The label as HTML, marked to be filled in live when it names other answers."""
        return _live(self.label, self.label_template)

    @property
    def live_hint(self) -> Markup:
        return _live(self.hint, self.hint_template)

    @property
    def described_by(self) -> str:
        """The ids of its hint, interviewer's note and error (aria-describedby), or ""."""
        ids = []
        if self.hint:
            ids.append(f"h-{self.name}")
        if self.interviewer_note:
            ids.append(f"n-{self.name}")
        if self.error:
            ids.append(f"e-{self.name}")
        return " ".join(ids)


@dataclass
class InstanceView:
    """One instance of a repeat as a page shows it: its number, its title ("Partner 2:
    Fundacja Szansa"), its field prefix ("partnerzy.2") and its items, whose field names
    carry the prefix ("partnerzy.2.nazwa")."""

    number: int
    title: str
    prefix: str
    removable: bool
    items: list[ItemView | RepeatView] = field(default_factory=list)
    confirm_remove: bool = False  # the page asks whether to remove it (no JavaScript)

    @property
    def anchor(self) -> str:
        """The id of its fieldset (the focus after it is added or a removal is cancelled)."""
        return f"instance-{self.prefix}"


@dataclass
class RepeatView:
    """A repeat on a page: its field name (prefixed inside another instance), its noun
    ("Partner"), its count and bounds, its instances and the problem of the list as a
    whole (too few entries, a refused count)."""

    name: str
    label: str
    hint: str
    count: int
    fixed: bool  # a repeat_count: no adding or removing
    can_add: bool
    minimum: int | None
    maximum: int
    relevant: bool
    relevance_tree: str | None
    depth: int  # 0: on the page; 1: inside an instance of another repeat; ...
    error: str | None = None
    read_only: bool = False
    instances: list[InstanceView] = field(default_factory=list)
    type: str = "repeat"

    @property
    def has_error(self) -> bool:
        return bool(self.error)

    @property
    def instance_items(self) -> list[ItemView | RepeatView]:
        """Every instance's items, one after the other (the error summary's order)."""
        return [item for instance in self.instances for item in instance.items]


def problem_text(problem: Message | Text | None, language: str, gettext: Gettext) -> str | None:
    """A flow problem in the reader's language (a definition's own message, or ours)."""
    if problem is None:
        return None
    if isinstance(problem, Text):
        return problem.get(language)
    return problem.render(gettext)


def _allowed(availability: Availability, mode: Mode) -> bool:
    return availability is Availability.YES or (
        mode == "phone" and availability is Availability.PHONE
    )


class PageBuilder:
    """Builds the view objects of one page for one state, language and mode."""

    def __init__(
        self,
        flow: Flow,
        state: State,
        *,
        language: str,
        mode: Mode,
        gettext: Gettext,
        values: Mapping[str, list[str]],
        errors: Mapping[str, Message | Text],
        read_only: bool = False,
        list_changes: bool = True,
        confirm_remove: str | None = None,
        prefix: str = "",
        context: str = "",
        depth: int = 0,
        upload_limit: int | None = None,
        file_link: FileLink | None = None,
    ) -> None:
        self.flow = flow
        self.state = state
        self.language = language
        self.mode = mode
        self.gettext = gettext
        self.values = values
        self.errors = errors
        self.settings = flow.questionnaire.settings
        self.read_only = read_only  # every field shown but not editable (the response viewer)
        # whether lists offer their add and remove buttons (not in staff edits)
        self.list_changes = list_changes and not read_only
        self.confirm_remove = confirm_remove  # the instance path a removal is asked about
        self.prefix = prefix  # inside an instance: its fields' prefix ("partnerzy.2.")
        self.context = context  # inside an instance: its title, said with its errors
        self.depth = depth
        self.upload_limit = upload_limit  # the server's cap on a file, to say it
        self.file_link = file_link  # staff only: a file's download address

    def page(self, page: Page) -> list[ItemView | RepeatView]:
        """The page's items; a nested group's items are shown inside it, not a second time
        (``page.items`` lists the group and, after it, everything inside it). The page's
        own group, when randomized, shows its items in the response's order; a table-list
        group as its table (its label is the page's heading)."""
        group = page.group
        if group is None or page.id != group.name or not page.items:
            return self._items(page.items)  # not a group's own page (a question of it)
        blocks: list[list[Item]] = []
        for item in page.items:  # an item of the group, or inside the one before it
            if item.parent is group or not blocks:
                blocks.append([item])
            else:
                blocks[-1].append(item)
        lead = blocks.pop(0) if blocks[0][0].parent is not group else []  # notes before
        blocks = self.flow.ordered_items(group, blocks, self.state)
        if is_table_list(group):
            table = self.item(group)
            table.label = table.label_template = ""  # the page's heading says it
            table.relevance_tree = None
            return [*self._items(lead), table]
        return self._items([*lead, *(item for block in blocks for item in block)])

    def _items(self, items: Iterable[Item]) -> list[ItemView | RepeatView]:
        items = list(items)
        nested_groups = {item.name for item in items if item.type is ItemType.GROUP}
        return [
            self.repeat(item) if item.is_repeat else self.item(item)
            for item in items
            if item.type is not ItemType.CALCULATE
            and (item.parent is None or item.parent.name not in nested_groups)
        ]

    def text(self, text: Text | None) -> str:
        return self.flow.render_text(text, self.language, self.state) if text else ""

    def error(self, name: str) -> str | None:
        return problem_text(self.errors.get(name), self.language, self.gettext)

    def repeat(self, item: Item) -> RepeatView:
        """A repeat with its instances (each built by ``instance``)."""
        name = self.prefix + item.name
        relevant = self.state.is_relevant(item.name)
        instances = self.state.instances(item.name)
        fixed = item.repeat_count is not None
        view = RepeatView(
            name=name,
            label=self.text(item.label),
            hint=self.text(item.hint),
            count=len(instances),
            fixed=fixed,
            can_add=self.list_changes and not fixed and len(instances) < item.max_instances,
            minimum=None if fixed else item.repeat_min,
            maximum=item.max_instances,
            relevant=relevant,
            relevance_tree=_tree_json(item.relevant, self.flow),
            depth=self.depth,
            error=self.error(name),
            read_only=self.read_only,
        )
        view.instances = [self.instance(item, state) for state in instances]
        return view

    def instance(self, repeat: Item, state: State) -> InstanceView:
        """One instance of ``repeat`` (of this builder's scope) with its items; the
        interviewer's roster shows one at a time."""
        number = state.position or 0
        prefix = f"{self.prefix}{repeat.name}.{number}"
        title = self.instance_title(repeat, state)
        inner = PageBuilder(
            self.flow.repeat_flows[repeat.name],
            state,
            language=self.language,
            mode=self.mode,
            gettext=self.gettext,
            values=self.values,
            errors=self.errors,
            read_only=self.read_only,
            list_changes=self.list_changes,
            confirm_remove=self.confirm_remove,
            prefix=prefix + ".",
            context=title if not self.context else f"{self.context} › {title}",
            depth=self.depth + 1,
            upload_limit=self.upload_limit,
            file_link=self.file_link,
        )
        return InstanceView(
            number=number,
            title=title,
            prefix=prefix,
            removable=self.list_changes and repeat.repeat_count is None,
            items=inner._items(inner.flow.shown_items()),
            confirm_remove=self.confirm_remove == prefix,
        )

    def instance_at(self, path: str) -> InstanceView:
        """The instance at ``path`` ("partnerzy.2", "partnerzy.1.etaty.3") of this page's
        scope; LookupError when there is none now."""
        parts = path.split(".")
        if len(parts) % 2 or not parts:
            raise LookupError(path)
        builder: PageBuilder = self
        found: InstanceView | None = None
        while parts:
            name, number = parts[0], parts[1]
            parts = parts[2:]
            var = builder.flow.variables.get(name)
            if var is None or var.kind is not VariableKind.REPEAT or not number.isdigit():
                raise LookupError(path)
            instances = builder.state.instances(name)
            if not 1 <= int(number) <= len(instances):
                raise LookupError(path)
            state = instances[int(number) - 1]
            found = builder.instance(var.item, state)
            if parts:
                builder = PageBuilder(
                    builder.flow.repeat_flows[name],
                    state,
                    language=self.language,
                    mode=self.mode,
                    gettext=self.gettext,
                    values=self.values,
                    errors=self.errors,
                    read_only=self.read_only,
                    list_changes=self.list_changes,
                    confirm_remove=self.confirm_remove,
                    prefix=found.prefix + ".",
                    context=found.title,
                    depth=builder.depth + 1,
                    upload_limit=self.upload_limit,
                    file_link=self.file_link,
                )
        assert found is not None  # noqa: S101 - the path has at least one part
        return found

    def instance_title(self, repeat: Item, state: State) -> str:
        """ "Partner 2", or "Partner 2: Fundacja Szansa" when the repeat names its
        instances by an answer inside them (``instance_label``)."""
        return instance_title(self.flow, repeat, state, self.language, self.gettext)

    def item(self, item: Item) -> ItemView:
        view = ItemView(
            name=self.prefix + item.name,
            type=item.type.value,
            label=self.text(item.label),
            hint=self.text(item.hint),
            interviewer_note=self.text(item.interviewer_note) if self.mode == "phone" else "",
            required=item.required is True
            or (item.required not in (False, None) and self._required_now(item)),
            relevant=self.state.is_relevant(item.name),
            relevance_tree=_tree_json(item.relevant, self.flow),
            read_only=item.read_only or self.read_only,
        )
        view.phone = self.mode == "phone"
        view.context = self.context
        view.label_template = self._live_template(item.label)
        view.hint_template = self._live_template(item.hint)
        if item.type is ItemType.GROUP:
            view.children = [
                self.repeat(c) if c.is_repeat else self.item(c)
                for c in self.flow.ordered_items(item, item.children, self.state)
                if c.type is not ItemType.CALCULATE
            ]
            for child in view.children:
                if child.relevance_tree is None:
                    # Relevant exactly when the group is: the group's element hides and shows
                    # it (live too). Its own `hidden` would never be lifted by the script.
                    child.relevant = True
            if is_table_list(item):
                self._table(view)
            return view
        # On the phone a dropdown would slow the interviewer, who reads the choices out and
        # picks one by its digit: minimal is the usual list there.
        layout = _layout(item)
        view.layout = "" if self.mode == "phone" and layout == "minimal" else layout
        if not item.type.is_question:
            return view
        view.allow_dont_know = _allowed(item.dont_know or self.settings.dont_know, self.mode)
        view.allow_refused = _allowed(item.refused or self.settings.refused, self.mode)
        if item.type.uses_choices:
            view.choices = self._choices(item)
            if item.choice_filter is not None:
                view.filter_tree = _tree_json(item.choice_filter, self.flow)
        for var in self.flow.variables_of(item):
            if var.kind is VariableKind.ROW:
                row = next(r for r in item.rows if f"{item.name}_{r.name}" == var.name)
                field_name = self.prefix + var.name
                view.rows.append(
                    RowView(
                        field_name,
                        row.label.get(self.language, self.settings.default_language),
                        (self.values.get(field_name) or [""])[0],
                        self.error(field_name),
                    )
                )
            elif var.kind is VariableKind.OTHER:
                view.other_name = self.prefix + var.name
                view.other_value = (self.values.get(view.other_name) or [""])[0]
                view.other_error = self.error(view.other_name)
            elif item.type is ItemType.FILE:
                self._file(view, item, self.prefix + var.name)
            else:
                view.values = list(self.values.get(self.prefix + var.name, []))
                if item.type is ItemType.DATE:  # the form asks for DD.MM.YYYY; stored is ISO
                    precision = item.date_precision
                    view.values = [_polish_date(value, precision) for value in view.values]
                elif item.type is ItemType.DECIMAL:  # Polish writes a decimal comma
                    view.values = [_decimal_comma(value) for value in view.values]
                else:
                    view.values = _typed_field_values(item.type, view.values)
                if item.range is not None:
                    view.range = (str(item.range.start), str(item.range.end), str(item.range.step))
                view.error = self.error(self.prefix + var.name)
        if self.read_only:
            # The response viewer shows a stored don't know / refused even where this mode
            # would not offer it (the web form), so that it never looks skipped.
            given = set(view.values) | {row.value for row in view.rows}
            view.allow_dont_know = view.allow_dont_know or DONT_KNOW_FIELD_VALUE in given
            view.allow_refused = view.allow_refused or REFUSED_FIELD_VALUE in given
        return view

    @staticmethod
    def _table(view: ItemView) -> None:
        """A table-list group's view as one table: the columns are its first question's
        choices (every question has the same list, in the same order), and don't know /
        refused a column each when any question offers them."""
        rows = [child for child in view.children if isinstance(child, ItemView)]
        view.table = True
        view.choices = rows[0].choices if rows else []
        view.allow_dont_know = any(row.allow_dont_know for row in rows)
        view.allow_refused = any(row.allow_refused for row in rows)

    def _file(self, view: ItemView, item: Item, name: str) -> None:
        """A file question: the file its field holds, what it takes, where staff get it."""
        sent = self.values.get(name, [])
        view.values = [v for v in sent if v in (DONT_KNOW_FIELD_VALUE, REFUSED_FIELD_VALUE)]
        for value in sent:
            try:
                view.file = parse_file_field(value)
            except InvalidValue:
                continue
        spec = item.upload or UploadSpec()
        view.accept = accept_attribute(spec)
        view.file_types = described_types(spec)
        if self.upload_limit:
            view.file_limit = megabytes(self.upload_limit)
        if self.file_link is not None and view.file is not None and not view.file.erased:
            view.file_url = self.file_link(name, view.file)
        view.error = self.error(name)

    def _live_template(self, text: Text | None) -> str | None:
        """The text as written, when it shows answers (``${name}``) the browser can fill in
        as they change on the page; None for a text without any."""
        if text is None or self.read_only:
            return None
        source = text.get(self.language, self.settings.default_language)
        return source if interpolate_references(source) else None

    def _choices(self, item: Item) -> list[ChoiceView]:
        """Every choice of the list; those the choice_filter leaves out now are marked, so the
        browser can offer them as soon as an answer on the same page lets it."""
        if self.flow.questionnaire.choice_list(item) is None:
            return []
        offered = {c.name for c in self.flow.choices_for(item, self.state)}
        language, default = self.language, self.settings.default_language
        return [
            ChoiceView(
                c.name,
                c.label.get(language, default),
                c.other,
                offered=c.name in offered,
                columns=json.dumps({"name": c.name, **c.extra}) if item.choice_filter else None,
            )
            for c in self._ordered_choices(item)
        ]

    def _ordered_choices(self, item: Item) -> list[Choice]:
        """The choices in the order shown: a table's rows share their table's columns, so a
        randomized one takes the order of the table's first question."""
        group = item.parent
        if group is not None and is_table_list(group) and item is not group.children[0]:
            return self.flow.ordered_choices(group.children[0], self.state)
        return self.flow.ordered_choices(item, self.state)

    def _required_now(self, item: Item) -> bool:
        required = item.required
        if isinstance(required, bool):
            return required
        return required.evaluate_bool(self.state.context())


def instance_title(flow: Flow, repeat: Item, state: State, language: str, gettext: Gettext) -> str:
    """ "Partner 2", or "Partner 2: Fundacja Szansa" with the answer of the repeat's
    ``instance_label`` child in the instance ``state`` (``flow``: the repeat's scope)."""
    noun = flow.render_text(repeat.label, language, state.outer or state) if repeat.label else ""
    title = gettext("%(label)s %(number)d") % {
        "label": noun or repeat.name,
        "number": state.position or 0,
    }
    if repeat.instance_label is None:
        return title
    inner = flow.repeat_flows[repeat.name]
    if repeat.instance_label not in inner.variables:
        return title
    value = inner.clean_answers(state).get(repeat.instance_label)
    if value is None or value is DONT_KNOW or value is REFUSED:
        return title
    var = inner.variables[repeat.instance_label]
    named = _answer_text(inner, var.item, var.kind, value, language, gettext)
    return f"{title}: {named}" if named.strip() else title


def field_label(flow: Flow, state: State, name: str, language: str, gettext: Gettext) -> str:
    """What a page's field (or error key) is called for the reader: its question's label,
    inside a list with the entry's title ("Partner 2: Fundacja Szansa: Nazwa"); a list's
    own key, the list's label. The name itself when it names nothing."""
    parts = name.split(".")
    context: list[str] = []
    while len(parts) > 2:
        repeat_name, number = parts[0], parts[1]
        var = flow.variables.get(repeat_name)
        if var is None or var.kind is not VariableKind.REPEAT or not number.isdigit():
            return name
        instances = state.instances(repeat_name)
        if not 1 <= int(number) <= len(instances):
            return name
        instance = instances[int(number) - 1]
        context.append(instance_title(flow, var.item, instance, language, gettext))
        flow, state, parts = flow.repeat_flows[repeat_name], instance, parts[2:]
    var = flow.variables.get(parts[0]) if len(parts) == 1 else None
    if var is None:
        return name
    item = var.item
    label = flow.render_text(item.label, language, state) if item.label else item.name
    return ": ".join([" › ".join(context), label]) if context else label


def summary(flow: Flow, state: State, language: str, gettext: Gettext) -> list[tuple[str, str]]:
    """(question, answer) pairs of the relevant answered questions, in order, for print; a
    repeat's answers under its instances' titles ("Partner 2: Nazwa", "Fundacja Szansa")."""
    rows: list[tuple[str, str]] = []
    _summary_rows(flow, state, flow.questionnaire.items, "", language, gettext, rows)
    return rows


def _summary_rows(
    flow: Flow,
    state: State,
    items: Iterable[Item],
    context: str,
    language: str,
    gettext: Gettext,
    rows: list[tuple[str, str]],
) -> None:
    settings = flow.questionnaire.settings
    clean = flow.clean_answers(state)
    for top in items:
        for item in top.scope():
            if item.is_repeat:
                if item.name not in clean:
                    continue
                inner = flow.repeat_flows[item.name]
                for instance in state.instances(item.name):
                    title = instance_title(flow, item, instance, language, gettext)
                    where = f"{context} › {title}" if context else title
                    _summary_rows(inner, instance, item.children, where, language, gettext, rows)
                continue
            if not item.type.is_question:
                continue
            label = flow.render_text(item.label, language, state) if item.label else item.name
            if context:
                label = f"{context}: {label}"
            for var in flow.variables_of(item):
                if var.name not in clean:
                    continue
                value = clean[var.name]
                if var.kind is VariableKind.ROW:
                    row = next(r for r in item.rows if f"{item.name}_{r.name}" == var.name)
                    question = f"{label} — {row.label.get(language, settings.default_language)}"
                elif var.kind is VariableKind.OTHER:
                    question = f"{label} — ({var.name})"
                else:
                    question = label
                answer = _answer_text(flow, item, var.kind, value, language, gettext)
                rows.append((question, answer))


def _answer_text(
    flow: Flow, item: Item, kind: VariableKind, value: Any, language: str, gettext: Gettext
) -> str:
    if value is DONT_KNOW:
        return gettext("Don't know")
    if value is REFUSED:
        return gettext("Refused")
    if isinstance(value, StoredFile):
        return value.name or gettext("(the file was erased)")
    choices = flow.questionnaire.choice_list(item)
    if choices and kind in (VariableKind.ANSWER, VariableKind.ROW):
        codes = value if isinstance(value, tuple) else (value,)
        labels = []
        for code in codes:
            choice = choices.get(str(code))
            labels.append(choice.label.get(language) if choice else str(code))
        return ", ".join(labels)
    if isinstance(value, datetime):
        return format_local(value)  # a date-time answer, in Warsaw
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if hasattr(value, "strftime"):
        written = {"year": "%Y", "month": "%m.%Y"}.get(item.date_precision, "%d.%m.%Y")
        return str(value.strftime(written))
    if isinstance(value, Decimal):
        return _decimal_comma(str(value))
    return str(value)


def progress_percent(flow: Flow, mode: Mode, page: Page) -> int:
    """How far into the questionnaire ``page`` is, 0-99: the share of all its pages (shown
    or skipped alike) that come before it. Unlike "page 3 of 7" it never jumps back when an
    answer opens or skips later pages: it only grows as the respondent goes on."""
    total = len(flow.pages(mode))
    return 100 * page.index // total if total else 0


def live_calculations(flow: Flow, repeat: str = "") -> list[dict[str, Any]]:
    """The questionnaire's calculations as the browser evaluates them while a page is
    filled (name, calculation tree, relevance tree), in the order the server evaluates
    them, so that a label showing ``${total}`` follows the answers it adds up.

    A calculation inside a repeat is evaluated once per instance: it says which repeat
    (``"repeat": "partnerzy"``, nested ``"partnerzy.etaty"``) and comes before the
    calculations of the scope around it."""
    result: list[dict[str, Any]] = []
    for name, inner in flow.repeat_flows.items():
        result.extend(live_calculations(inner, f"{repeat}.{name}" if repeat else name))
    for item in flow.calculations():
        if item.calculation is None or flow.is_kept(item):
            continue  # a kept value comes from the server (known answers), as stored
        calculation: dict[str, Any] = {
            "name": item.name,
            "calculation": browser_tree(item.calculation, flow),
            "relevant": _relevance_tree(item, flow),
        }
        if repeat:
            calculation["repeat"] = repeat
        result.append(calculation)
    return result


_CALCULATIONS_JSON: WeakKeyDictionary[Flow, Markup] = WeakKeyDictionary()


def live_calculations_json(flow: Flow) -> Markup:
    """``live_calculations`` as a page's script reads them: the JSON Jinja's ``tojson`` would
    write (keys sorted, HTML-safe), made once per flow, as it depends on the questionnaire
    alone (the same on every page and for every respondent)."""
    cached = _CALCULATIONS_JSON.get(flow)
    if cached is None:
        cached = htmlsafe_json_dumps(live_calculations(flow), dumps=json.dumps, sort_keys=True)
        _CALCULATIONS_JSON[flow] = cached
    return cached


def browser_tree(expression: Expression, flow: Flow) -> dict[str, Any]:
    """An expression's tree as the page's script evaluates it (jr:choice-name() calls
    carrying the labels they look up)."""
    return with_choice_labels(expression.to_json(), flow.choice_labels)


def _tree_json(expression: Expression | None, flow: Flow) -> str | None:
    return json.dumps(browser_tree(expression, flow)) if expression is not None else None


def _relevance_tree(item: Item, flow: Flow) -> list[Any] | None:
    """Every relevance the item depends on (its own and its groups', up to its repeat),
    as trees."""
    trees = []
    current: Item | None = item
    while current is not None and not current.is_repeat:
        if current.relevant is not None:
            trees.append(browser_tree(current.relevant, flow))
        current = current.parent
    return trees or None


def expression_values(flow: Flow, state: State) -> dict[str, Any]:
    """The relevant answers the browser's expression evaluator may read (JSON values;
    don't know / refused as empty, lists for select_multiple, ISO dates). A repeat and
    every name inside it are node-sets, as expressions outside the repeat see them:
    ``{"nodeset": [values...], "paths": [[1], [2], ...]}`` (a repeat's own: the instance
    numbers; nested: ``[1, 2]`` is the second instance inside the first)."""
    # Only what the page's script can look up: the names some expression or ``${name}``
    # text refers to (``Flow.referenced_names``), and every list; for each, what
    # ``Flow.clean_answers`` gives, without evaluating the rest of the questionnaire.
    result: dict[str, Any] = {}
    read = flow.referenced_names
    for name in flow.variables:
        repeat = flow.repeat_flows.get(name)
        if repeat is None and name not in read:
            continue
        value = flow.clean_value(state, name)
        if value is None:
            continue
        if repeat is not None:
            result.update(_node_sets(repeat, name, value))
        else:
            result[name] = _json_value(value)
    return result


def _node_sets(inner: Flow, repeat: str, instances: Any) -> dict[str, Any]:
    """The node-sets of a repeat's clean instances: the repeat's own and each name's."""
    instances = instances if isinstance(instances, tuple) else ()
    sets: dict[str, dict[str, list[Any]]] = {
        repeat: {
            "nodeset": list(range(1, len(instances) + 1)),
            "paths": [[n] for n in range(1, len(instances) + 1)],
        }
    }
    names = [name for name in inner.variables if name not in inner.repeat_flows]
    for number, answers in enumerate(instances, 1):
        for name in names:
            entry = sets.setdefault(name, {"nodeset": [], "paths": []})
            value = answers.get(name)
            entry["nodeset"].append("" if value is None else _json_value(value))
            entry["paths"].append([number])
        for name, nested in inner.repeat_flows.items():
            for key, inner_set in _node_sets(nested, name, answers.get(name)).items():
                entry = sets.setdefault(key, {"nodeset": [], "paths": []})
                entry["nodeset"].extend(inner_set["nodeset"])
                entry["paths"].extend([number, *path] for path in inner_set["paths"])
    for name in names:
        sets.setdefault(name, {"nodeset": [], "paths": []})
    return sets


def _json_value(value: Any) -> Any:
    if value is DONT_KNOW or value is REFUSED:
        return ""
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):  # as the server's expressions read it: Warsaw time
        return moment_text(value, seconds=False)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, int | str):
        return value
    return str(value)


CONTROL_FIELDS = ("csrf_token", "action", "revision")


@dataclass
class PagePost:
    """A submitted questionnaire page: the button pressed, the revision it was shown at,
    the answer fields (control fields removed) and, for a button of a list ("add",
    "remove", "confirm_remove"), the list or instance it names (``target``)."""

    action: str
    revision: int
    fields: MultiDict[str, str]
    target: str = ""
    # why a file sent with the page was refused, by field (app.interview.uploads): the
    # page is then not stored as answered
    upload_errors: Mapping[str, Message] = field(default_factory=dict)


MAX_TARGET = 200  # an instance path is a few names and numbers; a longer one is forged


def read_page_post(form: MultiDict[str, str], actions: tuple[str, ...]) -> PagePost | None:
    """The page post in ``form``; an unknown button counts as the first action. A list's
    button sends ``ACTION:PATH`` ("add:partnerzy", "remove:partnerzy.2"). None when the
    revision is missing or not a number (a forged or broken form)."""
    action = form.get("action", actions[0])
    action, _, target = action.partition(":")
    if action not in actions or (target and action not in LIST_ACTIONS):
        action, target = actions[0], ""
    try:
        revision = int(form.get("revision", ""))
    except ValueError:
        return None
    fields = form.copy()
    for name in CONTROL_FIELDS:
        fields.poplist(name)
    return PagePost(action, revision, fields, target if len(target) <= MAX_TARGET else "?")


# A list's buttons, sent as ACTION:PATH: add an entry to the list PATH; ask whether to
# remove the entry PATH, remove it, or keep it after all (app.interview.submit).
LIST_ACTIONS = ("add", "remove", "confirm_remove", "keep")
