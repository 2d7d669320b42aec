"""The order of a randomized list: the same for the same key, whatever the process.

Python's ``random.Random`` seeded with a text is deterministic across runs and machines (the
text is hashed with SHA-512, not with ``hash()``), so a response shows its choices in one
order on every page view, on the web and by phone, and a resumed response finds them where
they were. Nothing here is secret: the order only spreads the effect of position on answers.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

# Choices that stay at the end of a randomized list, as respondents expect them there: a
# list's ``other``, and the choices named as don't know, refused or none usually are
# (besides those whose code is the questionnaire's don't-know or refused code).
PINNED_CHOICES = frozenset(
    {
        *("dk", "dont_know", "do_not_know", "don_t_know", "nie_wiem", "trudno_powiedziec"),
        *("rf", "refused", "refuse", "refusal", "odmowa", "prefer_not_to_say"),
        *("none", "none_of_the_above", "zadne", "other", "inne", "inna"),
    }
)


def shuffled(items: Iterable[T], key: str, *, last: Callable[[T], bool] | None = None) -> list[T]:
    """``items`` in the order ``key`` gives them; those ``last`` says stay at the end, in
    their own order."""
    items = list(items)
    pinned = [item for item in items if last is not None and last(item)]
    moving = [item for item in items if last is None or not last(item)]
    random.Random(key).shuffle(moving)  # noqa: S311 - an order to show, not a secret
    return moving + pinned
