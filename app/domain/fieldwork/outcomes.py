"""Call outcomes, their AAPOR codes, and a CATI case's disposition derived from its calls.

Outcomes
    Each fieldwork has its own outcome table (``OutcomeSpec`` rows), seeded from
    ``DEFAULT_OUTCOMES`` and editable by the supervisor; the labels are therefore data
    (Polish first, English too), not translatable UI strings. Every outcome carries an AAPOR
    Standard Definitions final-disposition code (the telephone table) and flags that drive
    scheduling: ``kind``, ``retry_minutes``, ``try_other_number``, ``note_required``.

    An outcome is **final** (``OutcomeSpec.is_final``) when its kind is ``FINAL`` or
    ``SUPERVISOR``, or when it is ``TEMPORARY`` / ``REFUSAL`` without a retry delay ("not
    again"). An ``APPOINTMENT`` is never final.

    The ``eligible`` flag must agree with the AAPOR group of the code (checked when an
    outcome is built): ``True`` for groups 1 and 2, ``False`` for group 4, ``None`` (unknown)
    for group 3. So the flags and the codes can never tell two stories.

Numbers
    An outcome with ``try_other_number`` that is final (fax, number does not exist, wrong
    institution) rules out **the number** it was recorded on, not the institution: a sampled
    institution usually has two or three numbers. When ``case_disposition`` is given the
    case's phone numbers, such an outcome ends the case only once every number is ruled
    out; until then the call is set aside and says nothing about the institution. Without
    the numbers (``phones=None``) it ends the case, like any final outcome.

The disposition rules (``case_disposition``), in this order
    1. Completed online: final, the "completed online" outcome (1.1), whatever the calls.
    2. A final outcome ends the case. If there are several (a supervisor changed a call,
       or a call was recorded after the end), the latest one in time wins.
    3. ``attempts >= attempt_limit`` without a final outcome: final, the "max attempts"
       outcome, with the AAPOR code of the **most informative** call (below). With the
       default table that gives: a refusal or break-off in the history -> its 2.11x/2.12
       code; otherwise contact with the institution but no interview (call back later,
       appointment) -> 2.21 (eligible, respondent never available: AAPOR's non-contact
       group, because the institution was reached but never the person who answers);
       never contacted -> the 3.1x code of the unanswered calls (3.13 no answer, 3.14
       answering machine; 3.12 only when the line was busy every time).
    4. No calls: not attempted, 3.11, not final.
    5. Otherwise (fieldwork still going on): the most informative call, not final. A soft
       refusal followed by no answers stays a refusal for the rates, as AAPOR practice
       codes the most informative outcome, not the last one.

    The most informative call: the AAPOR group ranks refusal/break-off (R) above other
    eligible (O), non-contact (NC), unknown-other (UO), unknown-household (UH), not
    eligible (NE). Inside the best group, 3.12 "always busy" is dropped when any other code
    of the group occurred (AAPOR reserves it for numbers busy on every call); then the most
    frequent code wins, a tie going to the code used most recently. The disposition's
    ``outcome`` is the latest call with that code.

    ``attempts`` counts the calls whose outcome is not of kind ``SUPERVISOR`` (a
    supervisor's decision is not a dial).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "AAPOR_GROUPS",
    "COMPLETED_ONLINE_CODE",
    "DEFAULT_OUTCOMES",
    "MAX_ATTEMPTS_CODE",
    "CallFact",
    "Disposition",
    "OutcomeKind",
    "OutcomeSpec",
    "aapor_group",
    "case_disposition",
    "outcome_by_code",
    "remaining_numbers",
]

COMPLETED_ONLINE_CODE = "completed_online"
MAX_ATTEMPTS_CODE = "max_attempts"
NOT_ATTEMPTED_AAPOR = "3.11"

# The AAPOR rate categories of the standard telephone codes. ``aapor_group`` also places
# any other well-formed code (2.113, 3.161, ...) by its leading digits, the way AAPOR
# nests its codes.
AAPOR_GROUPS: Mapping[str, str] = {
    "1.1": "I",
    "1.2": "P",
    "2.10": "R",
    "2.11": "R",
    "2.111": "R",
    "2.112": "R",
    "2.12": "R",
    "2.20": "NC",
    "2.21": "NC",
    "2.22": "NC",
    "2.221": "NC",
    "2.222": "NC",
    "2.23": "NC",
    "2.30": "O",
    "2.31": "O",
    "2.32": "O",
    "2.33": "O",
    "2.35": "O",
    "3.10": "UH",
    "3.11": "UH",
    "3.12": "UH",
    "3.13": "UH",
    "3.14": "UH",
    "3.15": "UH",
    "3.16": "UH",
    "3.17": "UH",
    "3.18": "UH",
    "3.19": "UH",
    "3.20": "UO",
    "3.21": "UO",
    "3.90": "UO",
    "4.10": "NE",
    "4.20": "NE",
    "4.30": "NE",
    "4.31": "NE",
    "4.32": "NE",
    "4.33": "NE",
    "4.40": "NE",
    "4.41": "NE",
    "4.43": "NE",
    "4.50": "NE",
    "4.51": "NE",
    "4.52": "NE",
    "4.70": "NE",
    "4.80": "NE",
    "4.90": "NE",
}

_CODE = re.compile(r"([1-4])\.([0-9])[0-9]*")


def aapor_group(code: str) -> str:
    """The AAPOR rate category (I, P, R, NC, O, UH, UO, NE) of a disposition code.

    Raises ``ValueError`` for text that is not an AAPOR code (``"2.11"``, ``"3.161"``...).
    """
    known = AAPOR_GROUPS.get(code)
    if known is not None:
        return known
    match = _CODE.fullmatch(code)
    if match is None:
        raise ValueError(f"not an AAPOR disposition code: {code!r}")
    group, sub = match.group(1), match.group(2)
    if group == "1":
        if sub in ("1", "2"):
            return "I" if sub == "1" else "P"
        raise ValueError(f"AAPOR group 1 has only 1.1 (complete) and 1.2 (partial): {code!r}")
    if group == "2":
        return {"1": "R", "2": "NC"}.get(sub, "O")
    if group == "3":
        return "UH" if sub == "1" else "UO"
    return "NE"


class OutcomeKind(StrEnum):
    """What an outcome does to the case's schedule."""

    TEMPORARY = "temporary"  # try again after retry_minutes (None: not again, final)
    APPOINTMENT = "appointment"  # call again at the appointment's start
    REFUSAL = "refusal"  # soft refusal with retry_minutes; hard refusal without
    FINAL = "final"  # the case (or, with try_other_number, the number) is done
    SUPERVISOR = "supervisor"  # set by a supervisor only; final


_ELIGIBILITY_OF_GROUP: Mapping[str, bool | None] = {
    "I": True,
    "P": True,
    "R": True,
    "NC": True,
    "O": True,
    "UH": None,
    "UO": None,
    "NE": False,
}


@dataclass(frozen=True)
class OutcomeSpec:
    """One row of a fieldwork's outcome table: what a call ended with and what follows."""

    code: str  # stable short code, e.g. "no_answer"
    label_pl: str
    label_en: str
    aapor: str  # AAPOR final disposition code, e.g. "3.13", "2.111", "1.1"
    contacted: bool  # someone at the institution was reached
    eligible: bool | None  # True eligible, False not eligible, None unknown
    kind: OutcomeKind
    retry_minutes: int | None  # TEMPORARY / REFUSAL: earliest retry; None = not again
    try_other_number: bool  # move on to the case's next phone number
    note_required: bool
    is_complete: bool = False  # an interview completed (1.1)
    is_partial: bool = False  # 1.2

    def __post_init__(self) -> None:
        if not self.code or not self.code.strip():
            raise ValueError("an outcome needs a code")
        group = aapor_group(self.aapor)
        if _ELIGIBILITY_OF_GROUP[group] is not self.eligible:
            raise ValueError(
                f"outcome {self.code!r}: eligible={self.eligible!r} does not match AAPOR "
                f"code {self.aapor} (group {group})"
            )
        if self.retry_minutes is not None and self.retry_minutes < 0:
            raise ValueError(f"outcome {self.code!r}: retry_minutes must not be negative")
        if self.is_complete and group != "I":
            raise ValueError(f"outcome {self.code!r}: a complete interview is coded 1.1")
        if self.is_partial and group != "P":
            raise ValueError(f"outcome {self.code!r}: a partial interview is coded 1.2")

    @property
    def group(self) -> str:
        """The AAPOR rate category of this outcome's code."""
        return aapor_group(self.aapor)

    @property
    def is_final(self) -> bool:
        """Whether the outcome ends the case (or, with ``try_other_number``, the number)."""
        if self.kind in (OutcomeKind.FINAL, OutcomeKind.SUPERVISOR):
            return True
        if self.kind is OutcomeKind.APPOINTMENT:
            return False
        return self.retry_minutes is None

    @property
    def rules_out_number(self) -> bool:
        """Whether the outcome says the dialled number is useless (fax, dead, wrong)."""
        return self.try_other_number and self.is_final


_T, _A, _R, _F, _S = (
    OutcomeKind.TEMPORARY,
    OutcomeKind.APPOINTMENT,
    OutcomeKind.REFUSAL,
    OutcomeKind.FINAL,
    OutcomeKind.SUPERVISOR,
)

# The defaults. Codes are from AAPOR Standard Definitions, table for telephone surveys.
# Our sample is a list of institutions, each with one to three numbers, so the sampled
# unit is the institution, not the number; the comments say where that matters.
# Columns: code, label_pl, label_en, aapor, contacted, eligible, kind, retry_minutes,
# try_other_number, note_required (then is_complete / is_partial by name).
# fmt: off
DEFAULT_OUTCOMES: tuple[OutcomeSpec, ...] = (
    # Not reached: eligibility unknown (group 3.1, "unknown if household" -- here "unknown
    # whether the institution is there").
    OutcomeSpec("no_answer", "Brak odpowiedzi", "No answer", "3.13",
                False, None, _T, 120, False, False),
    OutcomeSpec("busy", "Zajęte", "Busy", "3.12",
                False, None, _T, 15, False, False),
    # 3.14 "answering machine, don't know if household": an office machine rarely proves
    # the institution still works there, so we do not claim 2.22 (eligible non-contact).
    OutcomeSpec("answering_machine", "Automatyczna sekretarka", "Answering machine", "3.14",
                False, None, _T, 120, False, False),
    OutcomeSpec("technical_problem", "Problem techniczny z połączeniem",
                "Technical problem with the line", "3.16",
                False, None, _T, 30, False, False),
    # Dead numbers (AAPOR 4.20 fax/data line, 4.31 non-working number). They rule out the
    # number; the case moves on to its next number and ends with this code only when it
    # has none left (see the module's "Numbers").
    OutcomeSpec("fax", "Faks / modem", "Fax or data line", "4.20",
                False, False, _F, None, True, False),
    OutcomeSpec("number_does_not_exist", "Numer nie istnieje", "Number does not exist", "4.31",
                False, False, _F, None, True, False),
    # Wrong number: another institution answered. Not 4.10 "out of sample": that says the
    # *reached unit* is outside the population, and here the reached unit is not our
    # sampled institution at all -- we learnt nothing about the institution, only that the
    # number is wrong. Coding it ineligible would drop it from the response-rate
    # denominator and flatter the rates, so it is 3.90 (eligibility unknown, other). The
    # note should say who answered, and a better number if they gave one.
    OutcomeSpec("wrong_institution", "Pomyłka – inna instytucja",
                "Wrong number – another institution", "3.90",
                False, None, _F, None, True, True),
    # The institution itself is gone: 4.51 (business / government office / organisation --
    # the telephone table's closest code for an organisation that no longer operates).
    # Learnt from someone outside the institution, so not "contacted".
    OutcomeSpec("institution_closed", "Instytucja zlikwidowana", "Institution closed down",
                "4.51", False, False, _F, None, False, True),
    # Reached, but the institution is outside the surveyed population (not a PES, wrong
    # entity type, a duplicate in the register): 4.10 out of sample.
    OutcomeSpec("not_eligible", "Nie należy do badanej populacji",
                "Not in the surveyed population", "4.10",
                True, False, _F, None, False, True),
    # Refusals. AAPOR 2.111 is a refusal at the unit level (a household member; here the
    # secretariat, the gatekeeper), 2.112 a refusal by the known respondent (the head of
    # the institution or the named contact person). A soft refusal is usually the
    # gatekeeper's "not now, not interested" and is worth converting after a few days;
    # a hard refusal ends the case.
    OutcomeSpec("soft_refusal", "Odmowa miękka", "Soft refusal", "2.111",
                True, True, _R, 3 * 24 * 60, False, True),
    OutcomeSpec("hard_refusal", "Odmowa stanowcza", "Hard refusal", "2.112",
                True, True, _R, None, False, True),
    # Reached the institution, not the person who can answer: AAPOR 2.21 "respondent never
    # available" (non-contact group) -- until the interview, that is what it stays.
    OutcomeSpec("call_back_later", "Oddzwonić później", "Call back later", "2.21",
                True, True, _T, 60, False, False),
    OutcomeSpec("appointment", "Umówiony termin", "Appointment made", "2.21",
                True, True, _A, None, False, False),
    # 2.12 break-off: the interview started and stopped. Normally an appointment is booked
    # (the interview resumes where it stopped); without one, try again in an hour. A
    # break-off that will not be resumed is recorded as "partial" (1.2) instead.
    OutcomeSpec("break_off", "Przerwany wywiad", "Interview broken off", "2.12",
                True, True, _A, 60, False, True),
    OutcomeSpec("partial", "Wywiad częściowy", "Partial interview", "1.2",
                True, True, _F, None, False, False, is_partial=True),
    OutcomeSpec("complete", "Wywiad zakończony", "Interview completed", "1.1",
                True, True, _F, None, False, False, is_complete=True),
    # The institution answered the web form: complete, whatever the calls said.
    OutcomeSpec(COMPLETED_ONLINE_CODE, "Wypełniono online", "Completed online", "1.1",
                True, True, _F, None, False, False, is_complete=True),
    # Ends a case at the attempt limit. Its own code is a placeholder: the case's code is
    # taken from its history (see the module's rule 3).
    OutcomeSpec(MAX_ATTEMPTS_CODE, "Limit prób wyczerpany", "Maximum attempts reached",
                "3.90", False, None, _S, None, False, False),
    # A supervisor's exclusion (duplicate, sampled by mistake): out of sample.
    OutcomeSpec("excluded", "Wykluczony przez koordynatora", "Excluded by the supervisor",
                "4.10", False, False, _S, None, False, True),
)
# fmt: on


def outcome_by_code(outcomes: Sequence[OutcomeSpec], code: str) -> OutcomeSpec:
    """The outcome with ``code`` in a fieldwork's table; ``KeyError`` if there is none."""
    for outcome in outcomes:
        if outcome.code == code:
            return outcome
    raise KeyError(code)


@dataclass(frozen=True)
class CallFact:
    """One call of a case as the disposition rules see it: when, how it ended, which number."""

    at: datetime
    outcome: OutcomeSpec
    phone: str | None = None  # the number dialled, as listed for the case

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("a call's time must be an aware datetime")


@dataclass(frozen=True)
class Disposition:
    """A case's current disposition, derived from its calls by ``case_disposition``."""

    outcome: OutcomeSpec | None  # None: nothing known about the institution yet
    aapor: str
    is_final: bool
    attempts: int
    ever_contacted: bool
    ever_eligible: bool | None


def remaining_numbers(calls: Sequence[CallFact], phones: Sequence[str]) -> list[str]:
    """The case's numbers not yet ruled out by a fax / dead / wrong-number outcome, in order."""
    ruled_out = {c.phone for c in calls if c.outcome.rules_out_number and c.phone is not None}
    return [phone for phone in phones if phone not in ruled_out]


_GROUP_RANK: Mapping[str, int] = {
    "I": 7,
    "P": 6,
    "R": 5,
    "O": 4,
    "NC": 3,
    "UO": 2,
    "UH": 1,
    "NE": 0,
}


def _most_informative(calls: Sequence[CallFact]) -> CallFact | None:
    """The call whose code best describes the case (rule in the module docstring)."""
    if not calls:
        return None
    best_rank = max(_GROUP_RANK[c.outcome.group] for c in calls)
    candidates = [c for c in calls if _GROUP_RANK[c.outcome.group] == best_rank]
    # AAPOR 3.12 means "always busy": it cannot describe a number that once rang out.
    if any(c.outcome.aapor != "3.12" for c in candidates):
        candidates = [c for c in candidates if c.outcome.aapor != "3.12"]
    counts = Counter(c.outcome.aapor for c in candidates)
    last_index = {c.outcome.aapor: i for i, c in enumerate(candidates)}
    code = max(counts, key=lambda k: (counts[k], last_index[k]))
    return candidates[last_index[code]]


def case_disposition(
    calls: Sequence[CallFact],
    *,
    attempt_limit: int,
    completed_online: bool = False,
    outcomes: Sequence[OutcomeSpec] = DEFAULT_OUTCOMES,
    phones: Sequence[str] | None = None,
) -> Disposition:
    """The disposition of a case from its calls, by the rules in the module docstring.

    ``outcomes`` is the fieldwork's table (for its "completed online" and "max attempts"
    rows); ``phones`` the case's numbers, when the calls record which number they dialled.
    """
    if attempt_limit < 1:
        raise ValueError("attempt_limit must be at least 1")
    # By real time (UTC): same-zone datetimes compare by wall clock, wrong in the repeated
    # autumn hour. The sort is stable, so calls at the same moment keep their order.
    ordered = sorted(calls, key=lambda c: c.at.astimezone(UTC))
    attempts = sum(1 for c in ordered if c.outcome.kind is not OutcomeKind.SUPERVISOR)

    # Split off the calls that only ruled out a number while the case had others left:
    # they say nothing about the institution and must not end the case.
    case_calls: list[CallFact] = []
    ruled_out: set[str] = set()
    for call in ordered:
        if call.outcome.rules_out_number and phones is not None:
            if call.phone is not None:
                ruled_out.add(call.phone)
            if not set(phones) <= ruled_out:
                continue
        case_calls.append(call)

    ever_contacted = completed_online or any(c.outcome.contacted for c in case_calls)
    if completed_online or any(c.outcome.eligible is True for c in case_calls):
        ever_eligible: bool | None = True
    elif any(c.outcome.eligible is False for c in case_calls):
        ever_eligible = False
    else:
        ever_eligible = None

    def disposition(outcome: OutcomeSpec | None, aapor: str, is_final: bool) -> Disposition:
        return Disposition(outcome, aapor, is_final, attempts, ever_contacted, ever_eligible)

    def history_code(history: Sequence[CallFact]) -> str:
        best = _most_informative(history)
        return best.outcome.aapor if best is not None else NOT_ATTEMPTED_AAPOR

    if completed_online:
        online = outcome_by_code(outcomes, COMPLETED_ONLINE_CODE)
        return disposition(online, online.aapor, True)

    finals = [c for c in case_calls if c.outcome.is_final]
    if finals:
        last = finals[-1]
        if last.outcome.code == MAX_ATTEMPTS_CODE:
            # A supervisor closed the case as max attempts: code it like rule 3 would.
            earlier = [c for c in case_calls if c is not last and not c.outcome.is_final]
            return disposition(last.outcome, history_code(earlier), True)
        return disposition(last.outcome, last.outcome.aapor, True)

    if attempts >= attempt_limit:
        limit = outcome_by_code(outcomes, MAX_ATTEMPTS_CODE)
        return disposition(limit, history_code(case_calls), True)

    best = _most_informative(case_calls)
    if best is None:
        return disposition(None, NOT_ATTEMPTED_AAPOR, False)
    return disposition(best.outcome, best.outcome.aapor, False)
