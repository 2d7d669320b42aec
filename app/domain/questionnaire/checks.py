"""The checks that need the whole questionnaire at once.

The builder (``app.domain.questionnaire.build``) reports what is wrong with each part as it
goes (syntax, unknown keys and types, names, texts in every language, choice lists,
expression syntax). The checks here look at the finished questionnaire:

- names unique across the questionnaire, including matrix row variables
  (``<matrix>_<row>``) and the ``<item>_other`` text of lists with an ``other`` choice;
- every ``${name}`` in an expression or a text refers to an item that has an answer;
- relevance, ``required`` and ``choice_filter`` use only answers given earlier, and a
  constraint only earlier answers and its own (a calculation counts as given as soon as
  everything it uses is);
- calculations do not depend on each other in a circle;
- ``.`` only in constraints, bare names only in ``choice_filter`` (as columns of the list);
- ``selected()``/``count-selected()``/``selected-at()`` only on select answers, and only
  for codes the list has;
- select defaults are codes of the list; a matrix list has no ``other`` choice;
- repeats: a name inside a repeat is read from outside it only through a repeat function
  (``count``, ``count-non-empty``, ``sum``, ``min``, ``max``, ``join``, ``checklist``,
  ``indexed-repeat``: ``expressions.AGGREGATES``); ``position(..)`` only inside a repeat;
  ``repeat_count`` uses earlier answers only; ``instance_label`` names a question of the
  repeat; repeats nest at most ``MAX_REPEAT_DEPTH`` deep; inside a repeat, relevance and
  calculations do not read a calculation made from that repeat's own entries (the
  instances are evaluated before it, so it would read as empty there).

Unknown ``${sample.NAME}`` variables and unused choice lists are warnings; everything
else is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from app.domain.fieldwork.sample.columns import SAMPLE_VARIABLES
from app.domain.messages import N_, Message
from app.domain.questionnaire.expressions import (
    Expression,
    choice_name_question,
    interpolate_references,
)
from app.domain.questionnaire.model import (
    MAX_REPEAT_DEPTH,
    Item,
    ItemType,
    Questionnaire,
    SourceLocation,
    Text,
)
from app.domain.questionnaire.problems import Problem, describe_location

Locator = Callable[[Item, str], SourceLocation]  # where key KEY of an item was written

_SAMPLE_INTERPOLATION = re.compile(r"\$\{sample\.([^}]*)\}")
_TEXT_KEYS = ("label", "hint", "interviewer_note", "required_message", "constraint_message")
_EXPRESSION_KEYS = (
    "relevant",
    "required",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
    "seed",
    "default_expression",
)


def check_questionnaire(
    questionnaire: Questionnaire, where: Locator | None = None
) -> list[Problem]:
    """The problems that only show in the whole questionnaire (see the module docstring).

    ``where(item, key)`` says where a key of an item was written; by default, the item.
    """
    check = _QuestionnaireCheck(questionnaire, where or _item_location)
    check.run()
    return check.problems


def _item_location(item: Item, key: str) -> SourceLocation:
    return item.location or SourceLocation("")


# --- checks that need the whole questionnaire -------------------------------------------


class _QuestionnaireCheck:
    """Names, references, order of references, calculation cycles and impossible calls."""

    def __init__(self, questionnaire: Questionnaire, where: Locator) -> None:
        self.questionnaire = questionnaire
        self.where = where
        self.problems: list[Problem] = []
        self.owners: dict[str, Item] = {}  # every declared name -> the item declaring it
        self.items = list(questionnaire.walk())
        self.positions = {id(item): index for index, item in enumerate(self.items)}
        self.effective: dict[int, int] = {}

    def run(self) -> None:
        """Run every check, in questionnaire order."""
        self.check_names()
        for item in self.items:
            self.check_choice_list(item)
            for key, expression in _expressions(item):
                self.check_expression(item, key, expression)
            self.check_texts(item)
            self.check_default(item)
            if item.is_repeat:
                self.check_repeat(item)
            self.check_instance_reads(item)
        self.check_cycles()
        self.check_unused_lists()

    def error(self, item: Item, at_key: str, msgid: str, /, **params: Any) -> None:
        """Report an error in ``item``, where its key ``at_key`` was written."""
        self.problems.append(Problem(self.where(item, at_key), item.name, Message(msgid, params)))

    def warning(
        self, where: SourceLocation, item: str | None, msgid: str, /, **params: Any
    ) -> None:
        """Report a warning written at ``where``."""
        self.problems.append(Problem(where, item, Message(msgid, params), "warning"))

    def check_names(self) -> None:
        """Each name and variable is declared once."""
        for item in self.items:
            for name in self.declared_names(item):
                first = self.owners.get(name)
                if first is None:
                    self.owners[name] = item
                    continue
                self.error(
                    item,
                    "name",
                    N_("The name %(name)s is already used (%(first)s)."),
                    name=name,
                    first=describe_location(first.location),
                )

    def declared_names(self, item: Item) -> list[str]:
        """The item's own name and the variables it stores (matrix rows, other texts)."""
        names = [item.name] + [n for n in item.variable_names() if n != item.name]
        choice_list = self.questionnaire.choice_list(item)
        if (
            item.type is not ItemType.MATRIX
            and choice_list
            and any(choice.other for choice in choice_list.choices)
        ):
            names.append(f"{item.name}_other")
        return names

    def check_choice_list(self, item: Item) -> None:
        """The item's choice list exists (and suits a matrix)."""
        if item.list_name is None:
            return
        choice_list = self.questionnaire.choices.get(item.list_name)
        if choice_list is None:
            self.error(
                item,
                "type",
                N_("The choice list %(list)s does not exist."),
                list=item.list_name,
            )
        elif item.type is ItemType.MATRIX and any(c.other for c in choice_list.choices):
            self.error(
                item,
                "type",
                N_("A matrix cannot use list %(list)s: it has an other choice."),
                list=item.list_name,
            )

    # references

    def value_owner(self, name: str) -> Item | None:
        """The item whose answer ``${name}`` reads, or None if nothing answers to it."""
        owner = self.owners.get(name)
        if owner is None or owner.type in (ItemType.GROUP, ItemType.NOTE):
            return None
        if owner.type is ItemType.MATRIX and name == owner.name:
            return None
        return owner

    def check_reference(self, item: Item, key: str, name: str) -> bool:
        """Report ``${name}`` if nothing answers to it; True when it is a known answer."""
        owner = self.owners.get(name)
        if owner is None:
            self.error(
                item,
                key,
                N_("%(key)s refers to ${%(name)s}, which is not in the questionnaire."),
                key=key,
                name=name,
            )
        elif self.value_owner(name) is None:
            self.error(
                item,
                key,
                N_("%(key)s refers to ${%(name)s}, a %(type)s, which has no answer."),
                key=key,
                name=name,
                type=owner.type.value,
            )
        return self.value_owner(name) is not None

    def check_expression(self, item: Item, key: str, expression: Expression) -> None:
        """References, their order, ``.``, sample variables, columns and calls."""
        for name in sorted(expression.references):
            if self.check_reference(item, key, name) and key != "calculation":
                self.check_order(item, key, name)
        for name in sorted(expression.scalar_references):
            self.check_repeat_reference(item, key, name)
        inside = item.enclosing_repeat() is not None
        if expression.uses_position and not inside:
            self.error(
                item,
                key,
                N_("%(key)s uses position(..), which only means something inside a repeat."),
                key=key,
            )
        if expression.uses_current and key != "constraint":
            self.error(
                item,
                key,
                N_("%(key)s uses . (the answer being checked), which only a constraint can use."),
                key=key,
            )
        self.check_sample(item, key, expression.sample_references)
        self.check_columns(item, key, expression.column_references)
        for function, args in expression.calls():
            if function in ("selected", "count-selected", "selected-at") and args:
                self.check_select_call(item, key, function, args)
            if function == "indexed-repeat":
                self.check_indexed_repeat(item, key, args)
            if function == "jr:choice-name":
                self.check_choice_name(item, key, choice_name_question(args[1]))
            if function in ("once", "uuid") and key != "calculation":
                self.check_kept_call(item, key, function)

    def check_kept_call(self, item: Item, key: str, function: str) -> None:
        """once() and uuid() mean something in a calculation, whose first value is kept."""
        if function == "uuid":
            self.error(
                item,
                key,
                N_(
                    "%(key)s uses uuid(), a new random value each time it is evaluated: "
                    "use it in a calculation, which keeps its first value."
                ),
                key=key,
            )
            return
        self.warning(
            self.where(item, key),
            item.name,
            N_(
                "%(key)s uses once(), which keeps the first value of a calculation: "
                "here it gives its argument's value."
            ),
            key=key,
        )

    def check_choice_name(self, item: Item, key: str, name: str) -> None:
        """``jr:choice-name(code, '${q}')`` looks codes up in the list of a select question."""
        owner = self.value_owner(name)
        if (
            owner is None
            or not owner.type.uses_choices
            or (owner.type is not ItemType.MATRIX and name != owner.name)
        ):
            self.error(
                item,
                key,
                N_("jr:choice-name() names ${%(name)s}, which is not a select question."),
                name=name,
            )

    def check_indexed_repeat(self, item: Item, key: str, args: tuple[dict[str, Any], ...]) -> None:
        """``indexed-repeat`` reads other entries only from outside the repeat: inside it,
        its first argument would be the entry's own answer."""
        around = {id(each) for each in _enclosing_repeats(item) if each is not item}
        for arg in args[1::2]:
            owner = self.value_owner(arg["name"]) if arg["type"] == "ref" else None
            if owner is not None and id(owner) in around:
                self.error(
                    item,
                    key,
                    N_(
                        "%(key)s uses indexed-repeat() over the repeat %(repeat)s it is "
                        "inside: there a name of the repeat reads this entry's own answer, so "
                        "indexed-repeat() can only pick an entry from outside the repeat."
                    ),
                    key=key,
                    repeat=owner.name,
                )
                return

    def check_repeat_reference(self, item: Item, key: str, name: str) -> None:
        """``${name}`` read as one value: it must not be inside a repeat ``item`` is not in."""
        owner = self.value_owner(name)
        if owner is None:
            return
        reader = set(map(id, _enclosing_repeats(item)))
        if item.is_repeat and key not in ("constraint", "calculation"):
            reader.discard(id(item))  # its count, relevance and texts are read outside it
        outside = [r for r in _enclosing_repeats(owner) if id(r) not in reader]
        if owner.is_repeat and id(owner) not in reader:
            outside.append(owner)
        if not outside:
            return
        if outside[-1] is owner:
            self.error(
                item,
                key,
                N_(
                    "%(key)s reads the repeat ${%(name)s} as one value: count(${%(name)s}) "
                    "gives its number of entries."
                ),
                key=key,
                name=name,
            )
            return
        self.error(
            item,
            key,
            N_(
                "%(key)s reads ${%(name)s}, which is inside the repeat %(repeat)s, as one "
                "value: use count(), sum(), min(), max(), join() or indexed-repeat()."
            ),
            key=key,
            name=name,
            repeat=outside[-1].name,
        )

    def check_repeat(self, repeat: Item) -> None:
        """Nesting depth and ``instance_label``."""
        if repeat.repeat_depth() > MAX_REPEAT_DEPTH:
            self.error(
                repeat,
                "type",
                N_("Repeats nest at most %(depth)d deep; %(name)s is deeper."),
                depth=MAX_REPEAT_DEPTH,
                name=repeat.name,
            )
        label = repeat.instance_label
        if label is None:
            return
        own = {
            each.name
            for child in repeat.children
            for each in child.scope()
            if each.type.is_question or each.type is ItemType.CALCULATE
        }
        if label not in own:
            self.error(
                repeat,
                "instance_label",
                N_("instance_label names %(name)s, which is not a question of this repeat."),
                name=label,
            )

    def check_instance_reads(self, item: Item) -> None:
        """Inside a repeat, relevance and calculations are evaluated with the instances,
        before any calculation made from the repeat's entries (``sum(${x})``): reading one
        there would give empty, so it is refused (constraints and labels may)."""
        for repeat in _enclosing_repeats(item):
            if repeat is item:
                continue
            inside = {id(each) for each in repeat.walk()}
            for key in ("relevant", "calculation"):
                expression = getattr(item, key)
                if not isinstance(expression, Expression):
                    continue
                for name in sorted(expression.references):
                    owner = self.value_owner(name)
                    if owner is None or id(owner) in inside or owner.type is not ItemType.CALCULATE:
                        continue
                    if inside & self.calculated_from(owner):
                        self.error(
                            item,
                            key,
                            N_(
                                "%(key)s reads ${%(name)s}, which is calculated from the "
                                "entries of the repeat %(repeat)s: inside an entry it is "
                                "still empty (a constraint or a label may use it)."
                            ),
                            key=key,
                            name=name,
                            repeat=repeat.name,
                        )
                        return

    def calculated_from(self, calculation: Item) -> set[int]:
        """The items a calculation's value is made from, through other calculations."""
        seen: set[int] = set()
        todo = [calculation]
        while todo:
            each = todo.pop()
            for key in ("relevant", "calculation"):
                expression = getattr(each, key)
                if not isinstance(expression, Expression):
                    continue
                for name in expression.references:
                    owner = self.value_owner(name)
                    if owner is not None and id(owner) not in seen:
                        seen.add(id(owner))
                        if owner.type is ItemType.CALCULATE:
                            todo.append(owner)
        return seen

    def check_order(self, item: Item, key: str, name: str) -> None:
        """Relevance, required and filters may only use earlier answers; constraints also own."""
        owner = self.value_owner(name)
        if owner is None:
            return
        position = self.positions[id(item)]
        if owner is item and key != "constraint":
            self.error(item, key, N_("%(key)s refers to the item itself."), key=key)
            return
        target = self.effective_position(owner)
        if target < position or (key == "constraint" and target == position):
            return
        if owner.type is ItemType.CALCULATE and self.positions[id(owner)] < position:
            msgid = N_("%(key)s refers to ${%(name)s}, which is calculated from a later answer.")
        else:
            msgid = N_("%(key)s refers to ${%(name)s}, which comes later in the questionnaire.")
        self.error(item, key, msgid, key=key, name=name)

    def effective_position(self, item: Item) -> int:
        """Where an answer is known: a calculation as soon as what it uses is known."""
        if item.type is not ItemType.CALCULATE:
            return self.positions[id(item)]
        if id(item) in self.effective:
            return self.effective[id(item)]
        self.effective[id(item)] = -1  # a cycle is reported elsewhere; stop here
        uses = [
            owner
            for _, expression in _expressions(item)
            for name in expression.references
            if (owner := self.value_owner(name)) is not None and owner is not item
        ]
        result = max((self.effective_position(owner) for owner in uses), default=-1)
        self.effective[id(item)] = result
        return result

    def check_sample(self, item: Item, key: str, names: frozenset[str]) -> None:
        """Warn about ``${sample.NAME}`` variables that samples do not have."""
        for name in sorted(names - frozenset(SAMPLE_VARIABLES)):
            self.warning(
                self.where(item, key),
                item.name,
                N_(
                    "%(key)s uses ${sample.%(name)s}, which samples do not have (known: %(known)s)."
                ),
                key=key,
                name=name,
                known=", ".join(sorted(SAMPLE_VARIABLES)),
            )

    def check_columns(self, item: Item, key: str, names: frozenset[str]) -> None:
        """Bare names only in ``choice_filter``, and only columns the list has."""
        if not names:
            return
        if key != "choice_filter":
            for name in sorted(names):
                self.error(
                    item,
                    key,
                    N_("%(key)s uses %(name)s without ${}: write ${%(name)s} to use an answer."),
                    key=key,
                    name=name,
                )
            return
        choice_list = self.questionnaire.choice_list(item)
        if choice_list is None:
            return
        columns = {"name"} | {column for choice in choice_list.choices for column in choice.extra}
        for name in sorted(names - columns):
            self.error(
                item,
                key,
                N_("choice_filter uses the column %(name)s, which list %(list)s does not have."),
                name=name,
                list=choice_list.name,
            )

    def check_select_call(
        self, item: Item, key: str, function: str, args: tuple[dict[str, Any], ...]
    ) -> None:
        """``selected()``, ``count-selected()`` and ``selected-at()`` must look at a select
        answer (``selected()`` for a code it has)."""
        subject = args[0]
        if subject["type"] == "ref":
            name = subject["name"]
            shown = f"${{{name}}}"
        elif subject["type"] == "current" and key == "constraint":
            name = item.name
            shown = "."
        else:
            return
        owner = self.value_owner(name)
        if owner is None:
            return
        is_select = (
            owner.type in (ItemType.SELECT_ONE, ItemType.SELECT_MULTIPLE) and name == owner.name
        ) or owner.type is ItemType.MATRIX
        if not is_select:
            self.error(
                item,
                key,
                N_("%(function)s() is used on %(subject)s, which is not a select question."),
                function=function,
                subject=shown,
            )
            return
        choice_list = self.questionnaire.choice_list(owner)
        code = args[1] if function == "selected" and len(args) > 1 else None
        if choice_list and code is not None and code["type"] == "string":
            if code["value"] not in choice_list.codes:
                self.error(
                    item,
                    key,
                    N_("selected() looks for code %(code)s, which list %(list)s does not have."),
                    code=code["value"],
                    list=choice_list.name,
                )

    def check_texts(self, item: Item) -> None:
        """``${name}`` in texts refers to answers (and known sample variables)."""
        for key in _TEXT_KEYS:
            text: Text | None = getattr(item, key)
            if text is None:
                continue
            names: set[str] = set()
            samples: set[str] = set()
            for value in text.by_language.values():
                names |= interpolate_references(value)
                samples.update(_SAMPLE_INTERPOLATION.findall(value))
            for name in sorted(names):
                if self.check_reference(item, key, name):
                    self.check_repeat_reference(item, key, name)
            self.check_sample(item, key, frozenset(samples))

    def check_default(self, item: Item) -> None:
        """A select's default is made of codes of its list."""
        choice_list = self.questionnaire.choice_list(item)
        if item.default is None or choice_list is None:
            return
        for code in item.default.split():
            if code not in choice_list.codes:
                self.error(
                    item,
                    "default",
                    N_("The default %(code)s is not a code of list %(list)s."),
                    code=code,
                    list=choice_list.name,
                )

    # whole questionnaire

    def check_cycles(self) -> None:
        """Report each group of calculations that depend on each other in a circle."""
        calculations = [item for item in self.items if item.type is ItemType.CALCULATE]
        uses = {
            id(item): [
                owner
                for name in item.calculation.references
                if (owner := self.value_owner(name)) is not None
                and owner.type is ItemType.CALCULATE
            ]
            for item in calculations
            if item.calculation is not None
        }
        for component in _strongly_connected(calculations, lambda item: uses.get(id(item), [])):
            first = min(component, key=lambda item: self.positions[id(item)])
            if len(component) > 1 or any(used is first for used in uses.get(id(first), [])):
                ordered = sorted(component, key=lambda item: self.positions[id(item)])
                self.error(
                    first,
                    "calculation",
                    N_("These calculations depend on each other in a circle: %(names)s."),
                    names=", ".join(item.name for item in ordered),
                )

    def check_unused_lists(self) -> None:
        """Warn about choice lists no item uses."""
        used = {item.list_name for item in self.items}
        for choice_list in self.questionnaire.choices.values():
            if choice_list.name not in used:
                self.warning(
                    choice_list.location or SourceLocation(self.questionnaire.source or ""),
                    None,
                    N_("The choice list %(list)s is not used by any item."),
                    list=choice_list.name,
                )


def _enclosing_repeats(item: Item) -> list[Item]:
    """The repeats ``item`` is inside (itself included when it is one), outermost first."""
    repeats: list[Item] = []
    each: Item | None = item
    while each is not None:
        if each.is_repeat:
            repeats.append(each)
        each = each.parent
    return repeats[::-1]


def _expressions(item: Item) -> Iterator[tuple[str, Expression]]:
    """The item's expressions with the key each was written under."""
    for key in _EXPRESSION_KEYS:
        value = getattr(item, key)
        if isinstance(value, Expression):
            yield key, value


def _strongly_connected(
    nodes: list[Item], successors: Callable[[Item], list[Item]]
) -> list[list[Item]]:
    """Tarjan's strongly connected components, iteratively (long chains must not recurse)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[Item] = []
    components: list[list[Item]] = []
    for root in nodes:
        if id(root) in index:
            continue
        work: list[tuple[Item, Iterator[Item]]] = [(root, iter(successors(root)))]
        index[id(root)] = low[id(root)] = len(index)
        stack.append(root)
        on_stack.add(id(root))
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if id(child) not in index:
                    index[id(child)] = low[id(child)] = len(index)
                    stack.append(child)
                    on_stack.add(id(child))
                    work.append((child, iter(successors(child))))
                elif id(child) in on_stack:
                    low[id(node)] = min(low[id(node)], index[id(child)])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[id(parent)] = min(low[id(parent)], low[id(node)])
            if low[id(node)] == index[id(node)]:
                component: list[Item] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(id(member))
                    component.append(member)
                    if member is node:
                        break
                components.append(component)
    return components
