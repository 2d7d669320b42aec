"""The interviewer's roster on a posted page: what "next" means on a list's page by phone.

A phone page that is a repeat's own (``app.domain.questionnaire.roster``) shows one
instance at a time; after the last instance of an open list it asks "is there another?"
(the ``ANOTHER`` field: ``yes`` / ``no``). ``roster_post`` turns the posted "next" into
what ``decide`` understands: "stay" (store this instance as answered and show the next
one; with "yes", one more instance is sent, empty, to be filled next) or "next" (store and
go on to the next page). Other buttons (back, break off) are left as they are.
"""

from __future__ import annotations

from app.domain.messages import N_, Message
from app.domain.questionnaire.flow import State
from app.domain.questionnaire.roster import Stop, asks_another, instance_count, roster_of
from app.interview.pages import PagePost
from app.interview.submit import STAY

ANOTHER = "_another"  # the answer to "is there another?": yes / no
INSTANCE = "_instance"  # the instance the screen showed
YES, NO = "yes", "no"
ANSWER_ANOTHER = Message(N_("Answer: 1 – yes, 2 – no."))


def roster_post(stop: Stop, state: State, post: PagePost) -> PagePost | Message:
    """The post as ``decide`` takes it (see the module docstring), or what is wrong with it
    (no answer to "is there another?")."""
    fields = post.fields.copy()
    another = [value.strip() for value in fields.poplist(ANOTHER)]
    fields.poplist(INSTANCE)
    repeat = roster_of(stop.page)
    if repeat is None or post.action != "next":
        return PagePost(post.action, post.revision, fields, post.target)
    count = instance_count(stop.page, state)
    if asks_another(stop, state):
        if another == [YES]:
            fields.setlist(repeat.name, [str(count + 1)])
            return PagePost(STAY, post.revision, fields)
        if another != [NO]:
            return ANSWER_ANOTHER
        return PagePost("next", post.revision, fields)
    if stop.instance < count:
        return PagePost(STAY, post.revision, fields)
    return PagePost("next", post.revision, fields)
