"""Reading a YAML definition into a :class:`~app.domain.questionnaire.build.Node` document.

Rules worth knowing when reading the code:

- YAML 1.1 reads ``yes``/``no`` as booleans and ``007`` as the number 7, so each mapping
  keeps its plain scalars as written too (``Node.raw``): the builder takes texts and codes
  from there.
- YAML anchors and aliases are refused: a definition never needs them, and they could
  multiply a small file into a huge questionnaire.
- YAML is scanned and parsed by libyaml (PyYAML's C ``CParser``) where it is installed,
  else by PyYAML's pure-Python parser, with the same line numbers either way. The nodes are
  always composed in Python (PyYAML's ``Composer``), not by the C loader's own composer:
  that one recurses in C and crashes the process (a segmentation fault) on deeply nested
  input, where Python's recursion limit gives a clean "nested too deeply" problem; and the
  Python composer is where aliases are refused. A file libyaml finds broken is read again
  by the pure-Python parser, so that syntax errors keep their usual wording.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import yaml

from app.domain.messages import N_, Message
from app.domain.questionnaire.build import Node, build_questionnaire
from app.domain.questionnaire.model import SourceLocation
from app.domain.questionnaire.problems import LoadResult, Problem, refused


class _AliasError(yaml.MarkedYAMLError):
    """A YAML alias (``*name``), which definitions may not use."""


if TYPE_CHECKING:  # the mixin below is always combined with a loader's parts
    _LoaderParts = yaml.SafeLoader
else:
    _LoaderParts = object


class _Locating(_LoaderParts):
    """A safe YAML loader's part that makes mappings :class:`Node` objects with line numbers."""

    def __init__(self, stream: bytes, filename: str) -> None:
        super().__init__(stream)
        self.filename = filename
        self.problems: list[Problem] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """The next node, refusing aliases (see the module docstring)."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
            raise _AliasError(problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_located_mapping(self, node: yaml.MappingNode) -> Node:
        """A mapping as a :class:`Node`, keys as written, duplicate keys reported."""
        self.flatten_mapping(node)
        result = Node(self._location(node))
        for key_node, value_node in node.value:
            where = self._location(key_node)
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(where, Message(N_("A key must be a word, not a list or mapping.")))
                continue
            key = key_node.value
            if key in result:
                self._problem(
                    where,
                    Message(N_("The key %(key)s is written twice here."), {"key": key}),
                )
            value = self.construct_object(value_node, deep=True)
            # a plain scalar: style None (Python parser) or "" (libyaml)
            plain = isinstance(value_node, yaml.ScalarNode) and not value_node.style
            result.put(key, value, where, value_node.value if plain else None)
        return result

    def _location(self, node: yaml.Node) -> SourceLocation:
        return SourceLocation(self.filename, line=node.start_mark.line + 1)

    def _problem(self, where: SourceLocation, message: Message) -> None:
        self.problems.append(Problem(where, None, message))


class _PythonLocatingLoader(_Locating, yaml.SafeLoader):
    """PyYAML's pure-Python scanner and parser."""


_PythonLocatingLoader.add_constructor(
    "tag:yaml.org,2002:map", _PythonLocatingLoader.construct_located_mapping
)

_LocatingLoader: type[_Locating] = _PythonLocatingLoader
if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _CLocatingLoader(
        _Locating,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
        CParser,
    ):
        """libyaml's scanner and parser (the events) under PyYAML's Python composer and
        constructor (see the module docstring): Composer comes before CParser in the MRO, so
        its compose_* and get_single_node are used; CParser gives check/peek/get_event."""

        def __init__(self, stream: bytes, filename: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.filename = filename
            self.problems = []

    _CLocatingLoader.add_constructor(
        "tag:yaml.org,2002:map", _CLocatingLoader.construct_located_mapping
    )
    _LocatingLoader = _CLocatingLoader


def load_yaml(data: bytes, filename: str) -> LoadResult:
    """Read, build and check a YAML definition."""
    document, problems = read_yaml(data, filename)
    if document is None and any(problem.is_error for problem in problems):
        return LoadResult(None, problems)
    return build_questionnaire(document, filename, problems)


def read_yaml(data: bytes, filename: str) -> tuple[Any, list[Problem]]:
    """A YAML file's document, its mappings :class:`Node` objects that know their lines, and
    the problems met reading it; the document is None when the file cannot be read (its
    one problem says why). Shared by every YAML file Ankieta reads (questionnaires, plans)."""
    try:
        return _parse_yaml(data, filename)
    except _AliasError as error:
        location = _mark_location(filename, error.problem_mark)
        message = Message(N_("YAML anchors and aliases (*name) are not supported: write it out."))
        return None, [Problem(location, None, message)]
    except yaml.MarkedYAMLError as error:
        location = _mark_location(filename, error.problem_mark or error.context_mark)
        reason = error.problem or error.context or ""
        message = Message(N_("YAML syntax error: %(reason)s."), {"reason": reason})
        return None, [Problem(location, None, message)]
    except yaml.YAMLError as error:  # a reader error: bytes that are not text
        reason = getattr(error, "reason", None) or str(error)
        return None, refused(
            SourceLocation(filename), N_("The file is not UTF-8 text: %(reason)s."), reason=reason
        ).problems
    except RecursionError:
        return None, refused(
            SourceLocation(filename), N_("The file is nested too deeply.")
        ).problems
    except ValueError as error:  # a value YAML cannot build, such as the date 2026-02-30
        return None, refused(
            SourceLocation(filename), N_("A value cannot be read: %(reason)s."), reason=str(error)
        ).problems


def _parse_yaml(data: bytes, filename: str) -> tuple[Any, list[Problem]]:
    """The YAML document and the problems noticed while reading it (duplicate keys).

    A file libyaml finds broken is read again by the pure-Python parser, whose messages
    (and limits) are the ones Ankieta has always given: only a broken file pays for that.
    """
    with _no_cyclic_gc():
        return _parse_yaml_once(data, filename)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a document's many small objects are made.

    Reading a large definition allocates tens of thousands of nodes that all stay alive
    until the end, so every collection on the way finds nothing to free; pausing it took
    ~15 % off checking 1,000 items (bench/definitions.py). Nothing is leaked: reference
    counting frees as usual, and cycles are collected once the collector runs again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse_yaml_once(data: bytes, filename: str) -> tuple[Any, list[Problem]]:
    try:
        return _parse_with(_LocatingLoader, data, filename)
    except _AliasError:
        raise
    except yaml.YAMLError:
        if _LocatingLoader is _PythonLocatingLoader:
            raise
    return _parse_with(_PythonLocatingLoader, data, filename)


def _parse_with(loader_class: type, data: bytes, filename: str) -> tuple[Any, list[Problem]]:
    loader = loader_class(data, filename)
    try:
        return loader.get_single_data(), loader.problems
    finally:
        loader.dispose()


def _mark_location(filename: str, mark: yaml.Mark | None) -> SourceLocation:
    return SourceLocation(filename, line=mark.line + 1 if mark is not None else None)
