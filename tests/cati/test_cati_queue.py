"""The call queue in the database: claim_next agrees with the domain's pick_next, keeps the
scheduling rules with an injected clock, and never gives one case to two interviewers.

``app.domain.fieldwork.calling.pick_next`` is the specification; ``app.cati.services.claim_next``
answers the same question with two SQL queries (appointments, then the regular queue).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.cati.queue import claim_next, release_idle_claims
from app.cati.services import AppointmentRequest, finish_call, mark_completed_online, start_call
from app.domain.dates import WARSAW
from app.domain.fieldwork.calling import QueueCase, pick_next, why_nothing
from app.domain.fieldwork.calling_hours import CallingHours
from app.models.calling import seed_outcomes
from app.models.cati import Call, Case, Outcome
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.users import Role
from app.platform.db import begin_for_writing, make_engine

pytestmark = pytest.mark.db

OFFICE_HOURS = "pn-pt 8:00-16:00"


def warsaw(day: int, hour: int, minute: int = 0, *, month: int = 3) -> datetime:
    """A Warsaw wall-clock moment in 2026 (DST starts 29 March, ends 25 October)."""
    return datetime(2026, month, day, hour, minute, tzinfo=WARSAW)


# --- building cases directly in the database ----------------------------------------------


def _new_fieldwork(session, template: Fieldwork, **settings) -> Fieldwork:
    """A fresh open fieldwork of the same survey version, without a sample."""
    fieldwork = Fieldwork(
        survey_id=template.survey_id,
        survey_version_id=template.survey_version_id,
        title="Kolejka",
        state="open",
        **settings,
    )
    session.add(fieldwork)
    session.flush()
    return fieldwork


def _add_case(session, fieldwork: Fieldwork, name: str, **columns) -> Case:
    """A sampled institution and its case; ``priority`` and ``attempts`` keep their mirrors."""
    priority = columns.pop("priority", 0)
    attempts = columns.pop("attempts", 0)
    unit = SampleUnit(
        fieldwork_id=fieldwork.id,
        external_id=name,
        name=f"Instytucja {name}",
        token=f"{fieldwork.id}-{name}-token",
    )
    case = Case(fieldwork_id=fieldwork.id, sample_unit=unit, **columns)
    case.set_priority(priority)
    case.set_attempts(attempts)
    session.add(case)
    return case


def _queue_cases(session, fieldwork_id: int) -> list[QueueCase]:
    """The fieldwork's cases as the domain sees them (an excluded case counts as final)."""
    rows = session.scalars(select(Case).where(Case.fieldwork_id == fieldwork_id)).all()
    return [
        QueueCase(
            id=c.id,
            priority=c.priority,
            next_callable_at=c.next_callable_at,
            is_final=c.is_final or c.excluded,
            attempts=c.attempts,
            claimed_by=c.claimed_by_id,
            claimed_at=c.claimed_at,
            appointment_start=c.appointment_start,
            appointment_end=c.appointment_end,
            appointment_interviewer=c.appointment_interviewer_id,
            completed_online=False,  # a case completed online is final in the database
            assigned_interviewer=c.assigned_interviewer_id,
        )
        for c in rows
    ]


@pytest.fixture
def interviewers(make_user) -> list[int]:
    return [make_user(f"ankieter{n}", Role.INTERVIEWER).id for n in range(3)]


@pytest.fixture
def template_fieldwork(app, make_fieldwork) -> int:
    return make_fieldwork("monitoring_cis_kis")


# --- claim_next agrees with pick_next on random queues ------------------------------------

MINUTES = (-180, -61, -60, -31, -30, -29, -1, 0, 1, 29, 30, 31, 60, 180)


def _random_queue(rng: random.Random, session, fieldwork, now, me, others) -> None:
    """Up to 25 cases mixing every state the queue distinguishes, boundaries included."""
    everyone = [me, *others]
    timeout = timedelta(minutes=fieldwork.claim_timeout_minutes)

    def at(minutes: int) -> datetime:
        return now + timedelta(minutes=minutes)

    for n in range(rng.randint(0, 25)):
        columns: dict = {
            "priority": rng.choice((0, 0, 0, 1, 2, -1)),
            "attempts": rng.choice((0, 0, 1, 2, fieldwork.attempt_limit - 1, 99)),
            "next_callable_at": None if rng.random() < 0.05 else at(rng.choice(MINUTES)),
            "is_final": rng.random() < 0.1,
            "excluded": rng.random() < 0.05,
        }
        claim = rng.random()
        if claim < 0.1:  # another interviewer's claim, fresh or stale around the timeout
            columns["claimed_by_id"] = rng.choice(others)
            columns["claimed_at"] = now - timeout + timedelta(minutes=rng.choice((-1, 0, 1, 20)))
        elif claim < 0.15:
            columns["claimed_by_id"] = rng.choice(others)
            columns["claimed_at"] = rng.choice((None, now - timedelta(hours=5)))
        elif claim < 0.18:  # my own unfinished case
            columns["claimed_by_id"] = me
            columns["claimed_at"] = now - timedelta(minutes=rng.choice((1, 5, 45)))
        if rng.random() < 0.35:
            start = at(rng.choice(MINUTES))
            columns["appointment_start"] = start
            columns["appointment_end"] = rng.choice(
                (None, start + timedelta(minutes=30), start + timedelta(hours=2))
            )
            columns["appointment_interviewer_id"] = rng.choice((None, None, *everyone))
        if rng.random() < 0.25:
            columns["assigned_interviewer_id"] = rng.choice(everyone)
        _add_case(session, fieldwork, f"R{n:02d}", **columns)
    session.flush()


def test_claim_next_gives_the_case_pick_next_chooses(app, template_fieldwork, interviewers, clock):
    database = app.extensions["ankieta.db"]
    me, *others = interviewers
    for seed in range(60):
        rng = random.Random(seed)
        now = clock() + timedelta(minutes=rng.randint(0, 240))  # Monday 10:30-14:30 Warsaw
        # every fifth queue is phoned outside its calling hours (weekend windows only)
        hours = "so-nd 8:00-16:00" if seed % 5 == 4 else OFFICE_HOURS
        with database.session() as session:
            template = session.get(Fieldwork, template_fieldwork)
            fieldwork = _new_fieldwork(
                session,
                template,
                calling_hours=hours,
                attempt_limit=rng.choice((2, 3, 5)),
                claim_timeout_minutes=rng.choice((10, 30)),
            )
            _random_queue(rng, session, fieldwork, now, me, others)
            fieldwork_id = fieldwork.id
        # several interviewers in turn: each claim changes what the next one may get
        for who in (me, others[0], me, others[1]):
            with database.session() as session:
                fieldwork = session.get(Fieldwork, fieldwork_id)
                cases = _queue_cases(session, fieldwork_id)
                rules = {
                    "interviewer": who,
                    "now": now,
                    "hours": CallingHours.parse(hours),
                    "attempt_limit": fieldwork.attempt_limit,
                    "claim_timeout": timedelta(minutes=fieldwork.claim_timeout_minutes),
                }
                expected = pick_next(cases, **rules)
                claim = claim_next(session, fieldwork, who, now)
                got = claim.case.id if claim.case else None
                differing = [c for c in cases if c.id in (got, expected and expected.id)]
                assert got == (expected.id if expected else None), (seed, who, now, differing)
                if claim.case is None:
                    explained = why_nothing(cases, **rules)
                    assert (claim.nothing.reason, claim.nothing.when) == (
                        explained.reason,
                        explained.when,
                    ), (seed, who)
                    if hours != OFFICE_HOURS and explained.reason not in (
                        "all_final",
                        "empty",
                        "assigned_elsewhere",
                        "blocked",
                    ):
                        # outside hours the next callable moment is a weekend window
                        assert claim.nothing.when.astimezone(WARSAW).weekday() >= 5, seed
                else:
                    assert claim.case.claimed_by_id == who
                    assert claim.case.claimed_at == (
                        now if expected.claimed_by != who else expected.claimed_at
                    )


def test_outside_calling_hours_nothing_is_claimed_and_the_reason_says_hours(
    app, template_fieldwork, interviewers, clock
):
    database = app.extensions["ankieta.db"]
    me = interviewers[0]
    now = warsaw(16, 17, 0)  # Monday, after office hours
    with database.session() as session:
        template = session.get(Fieldwork, template_fieldwork)
        fieldwork = _new_fieldwork(session, template, calling_hours=OFFICE_HOURS)
        _add_case(session, fieldwork, "F", next_callable_at=now - timedelta(hours=2))
        fieldwork_id = fieldwork.id
    with database.session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        claim = claim_next(session, fieldwork, me, now)
        assert claim.case is None
        assert claim.nothing.reason == "closed"
        assert claim.nothing.when == warsaw(17, 8, 0)  # Tuesday 8:00
        assert session.scalar(select(Case.claimed_by_id)) is None
    with database.session() as session:
        fieldwork = session.get(Fieldwork, fieldwork_id)
        fieldwork.calling_hours = ""
        claim = claim_next(session, fieldwork, me, now)
        assert claim.case is None
        assert claim.nothing.reason == "no_hours"
        assert claim.nothing.when is None


# --- scheduling scenarios with the injected clock -----------------------------------------


@dataclass(frozen=True)
class At:
    moment: datetime


@dataclass(frozen=True)
class Next:
    """``who`` asks for the next case: ``case`` (its name) or none, with reason and when."""

    who: str
    case: str | None
    reason: str | None = None
    when: datetime | None = None


@dataclass(frozen=True)
class CallEnds:
    """``who`` calls ``case`` now and records ``outcome`` (an appointment: start, end, mine)."""

    who: str
    case: str
    outcome: str
    appointment: tuple[datetime, datetime | None, bool] | None = None


@dataclass(frozen=True)
class ReleaseIdle:
    released: int


@dataclass(frozen=True)
class CompletedOnline:
    case: str


@dataclass(frozen=True)
class Final:
    case: str
    aapor: str


@dataclass(frozen=True)
class Scenario:
    id: str
    cases: tuple[str, ...]  # created in this order, callable from the first At
    steps: tuple
    hours: str = OFFICE_HOURS
    attempt_limit: int = 10
    claim_timeout: int = 30
    priorities: dict[str, int] = field(default_factory=dict)


SCENARIOS = [
    Scenario(
        "appointment_for_anyone_is_due_at_its_start_not_before",
        ("F", "A"),
        (
            At(warsaw(16, 9, 0)),
            CallEnds("anna", "A", "appointment", (warsaw(16, 10), warsaw(16, 10, 30), False)),
            Next("beata", "F"),
            CallEnds("beata", "F", "no_answer"),
            At(warsaw(16, 9, 59)),
            Next("beata", None, "appointment", warsaw(16, 10)),
            At(warsaw(16, 10, 0)),
            Next("beata", "A"),
        ),
    ),
    Scenario(
        "missed_appointment_goes_back_to_the_queue_first",
        ("A", "P"),
        (
            At(warsaw(16, 9, 0)),
            CallEnds("anna", "A", "appointment", (warsaw(16, 10), warsaw(16, 10, 30), False)),
            At(warsaw(16, 10, 31)),
            Next("beata", "A"),  # a missed appointment outranks priority 5
            Next("anna", "P"),
        ),
        priorities={"P": 5},
    ),
    Scenario(
        "bound_appointment_waits_for_its_interviewer_until_missed",
        ("A",),
        (
            At(warsaw(16, 9, 0)),
            CallEnds("anna", "A", "appointment", (warsaw(16, 10), warsaw(16, 10, 30), True)),
            At(warsaw(16, 10, 5)),
            Next("beata", None, "appointment_other", warsaw(16, 10, 30)),
            Next("anna", "A"),
            CallEnds("anna", "A", "appointment", (warsaw(16, 11), warsaw(16, 11, 30), True)),
            At(warsaw(16, 11, 30)),
            Next("beata", None, "appointment_other", warsaw(16, 11, 30)),
            At(warsaw(16, 11, 31)),
            Next("beata", "A"),
        ),
    ),
    Scenario(
        "retry_delay_of_no_answer_and_busy",
        ("F",),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "F"),
            CallEnds("anna", "F", "no_answer"),  # 120 minutes
            Next("anna", None, "retry", warsaw(16, 11, 0)),
            At(warsaw(16, 10, 59)),
            Next("beata", None, "retry", warsaw(16, 11, 0)),
            At(warsaw(16, 11, 0)),
            Next("beata", "F"),
            CallEnds("beata", "F", "busy"),  # 15 minutes
            At(warsaw(16, 11, 14)),
            Next("anna", None, "retry", warsaw(16, 11, 15)),
            At(warsaw(16, 11, 15)),
            Next("anna", "F"),
        ),
    ),
    Scenario(
        "attempt_limit_ends_the_case_as_max_attempts",
        ("F",),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "F"),
            CallEnds("anna", "F", "no_answer"),
            At(warsaw(16, 11, 0)),
            Next("anna", "F"),
            CallEnds("anna", "F", "no_answer"),
            Final("F", "3.13"),
            Next("anna", None, "all_final"),
            At(warsaw(17, 11, 0)),
            Next("beata", None, "all_final"),
        ),
        attempt_limit=2,
    ),
    Scenario(
        "priority_first_then_fresh_cases_before_retried_ones",
        ("R", "F", "P"),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "P"),
            CallEnds("anna", "P", "no_answer"),
            Next("anna", "R"),
            CallEnds("anna", "R", "busy"),
            At(warsaw(16, 9, 20)),
            Next("anna", "F"),  # R is callable again, but F has not been tried yet
            Next("beata", "R"),
        ),
        priorities={"P": 1},
    ),
    Scenario(
        "calling_hours_across_the_spring_dst_change",
        ("F",),
        (
            At(warsaw(27, 15, 50)),  # Friday, CET (UTC+1)
            Next("anna", "F"),
            CallEnds("anna", "F", "no_answer"),
            At(warsaw(27, 16, 0)),
            # Monday 30 March 8:00 is CEST (UTC+2): 06:00 UTC, not 07:00
            Next("anna", None, "retry", datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
            At(datetime(2026, 3, 30, 5, 59, tzinfo=UTC)),
            Next("anna", None, "closed", datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
            At(datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
            Next("anna", "F"),
        ),
    ),
    Scenario(
        "window_partly_in_the_skipped_hour_opens_at_the_change",
        ("F",),
        (
            # Sunday 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC)
            At(datetime(2026, 3, 29, 0, 45, tzinfo=UTC)),
            Next("anna", None, "closed", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
            At(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
            Next("anna", "F"),
            At(datetime(2026, 3, 29, 2, 0, tzinfo=UTC)),  # 04:00 CEST: closed again
            # anna's claim went idle at 01:30; next Sunday 2:30 CEST is 00:30 UTC
            Next("beata", None, "closed", datetime(2026, 4, 5, 0, 30, tzinfo=UTC)),
        ),
        hours="nd 2:30-4:00",
    ),
    Scenario(
        "own_unfinished_case_comes_first_even_after_hours",
        ("F", "G"),
        (
            At(warsaw(16, 15, 59)),
            Next("anna", "F"),
            At(warsaw(16, 16, 10)),
            Next("anna", "F"),
            Next("beata", None, "closed", warsaw(17, 8, 0)),
        ),
    ),
    Scenario(
        "idle_claim_is_taken_over_after_the_claim_timeout",
        ("F",),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "F"),
            At(warsaw(16, 9, 30)),
            Next("beata", None, "claimed", warsaw(16, 9, 30)),  # exactly the timeout: held
            At(warsaw(16, 9, 31)),
            Next("beata", "F"),
            Next("anna", None, "claimed", warsaw(16, 10, 1)),
        ),
    ),
    Scenario(
        "release_idle_claims_frees_an_abandoned_case",
        ("F",),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "F"),
            At(warsaw(16, 9, 30)),
            ReleaseIdle(0),
            At(warsaw(16, 9, 31)),
            ReleaseIdle(1),
            Next("beata", "F"),
        ),
    ),
    Scenario(
        "case_completed_online_mid_queue_is_never_handed_out",
        ("F1", "F2", "F3"),
        (
            At(warsaw(16, 9, 0)),
            Next("anna", "F1"),
            Next("beata", "F2"),
            CompletedOnline("F2"),  # while beata holds it
            CompletedOnline("F3"),  # while it waits in the queue
            Final("F2", "1.1"),
            Final("F3", "1.1"),
            Next("beata", None, "claimed", warsaw(16, 9, 30)),
            CallEnds("anna", "F1", "no_answer"),
            At(warsaw(16, 11, 0)),
            Next("beata", "F1"),
            CallEnds("beata", "F1", "complete"),
            Next("anna", None, "all_final"),
        ),
    ),
]


class QueueRun:
    """Plays a scenario against the services, one transaction per step."""

    def __init__(self, app, template_id: int, scenario: Scenario, clock, users: dict[str, int]):
        self.database = app.extensions["ankieta.db"]
        self.clock = clock
        self.users = users
        self.scenario = scenario
        first = next(step.moment for step in scenario.steps if isinstance(step, At))
        clock.now = first
        with self.database.session() as session:
            template = session.get(Fieldwork, template_id)
            fieldwork = _new_fieldwork(
                session,
                template,
                calling_hours=scenario.hours,
                attempt_limit=scenario.attempt_limit,
                claim_timeout_minutes=scenario.claim_timeout,
            )
            seed_outcomes(session, fieldwork)
            cases = [
                _add_case(
                    session,
                    fieldwork,
                    name,
                    priority=scenario.priorities.get(name, 0),
                    next_callable_at=first,
                )
                for name in scenario.cases
            ]
            session.flush()
            self.fieldwork_id = fieldwork.id
            self.case_ids = {
                name: case.id for name, case in zip(scenario.cases, cases, strict=True)
            }
            self.names = {case_id: name for name, case_id in self.case_ids.items()}

    def play(self) -> None:
        for number, step in enumerate(self.scenario.steps):
            where = f"step {number}: {step}"
            with self.database.session() as session:
                fieldwork = session.get(Fieldwork, self.fieldwork_id)
                match step:
                    case At(moment):
                        self.clock.now = moment
                    case Next(who, expected, reason, when):
                        claim = claim_next(session, fieldwork, self.users[who], self.clock())
                        got = self.names[claim.case.id] if claim.case else None
                        assert got == expected, where
                        if expected is None:
                            assert claim.nothing.reason == reason, (where, claim.nothing)
                            if when is not None:
                                assert claim.nothing.when.replace(microsecond=0) == when, where
                    case CallEnds(who, name, code, appointment):
                        case_ = session.get(Case, self.case_ids[name])
                        outcome = session.scalar(
                            select(Outcome).where(
                                Outcome.fieldwork_id == fieldwork.id, Outcome.code == code
                            )
                        )
                        now = self.clock()
                        call = start_call(session, case_, self.users[who], None, now)
                        request = None
                        if appointment is not None:
                            starts, ends, mine = appointment
                            request = AppointmentRequest(starts, ends, for_me=mine)
                        finish_call(
                            session,
                            case_,
                            call,
                            outcome,
                            interviewer_id=self.users[who],
                            note="",
                            now=now,
                            appointment=request,
                        )
                    case ReleaseIdle(expected_count):
                        released = release_idle_claims(session, fieldwork, self.clock())
                        assert released == expected_count, where
                    case CompletedOnline(name):
                        case_ = session.get(Case, self.case_ids[name])
                        session.add(
                            Response(
                                fieldwork_id=fieldwork.id,
                                sample_unit_id=case_.sample_unit_id,
                                survey_version_id=fieldwork.survey_version_id,
                                status=ResponseStatus.COMPLETE.value,
                                via_web=True,
                                started_at=self.clock(),
                                updated_at=self.clock(),
                                completed_at=self.clock(),
                            )
                        )
                        session.flush()
                        mark_completed_online(session, case_.sample_unit_id, self.clock())
                    case Final(name, aapor):
                        case_ = session.get(Case, self.case_ids[name])
                        assert (case_.is_final, case_.disposition_code) == (True, aapor), where
                        assert case_.claimed_by_id is None, where
                    case _:
                        raise AssertionError(f"unknown step {step!r}")


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scheduling_scenario(app, template_fieldwork, make_user, clock, scenario):
    users = {name: make_user(name, Role.INTERVIEWER).id for name in ("anna", "beata")}
    QueueRun(app, template_fieldwork, scenario, clock, users).play()


# --- concurrency ------------------------------------------------------------------------


def _interviewers_race(app, make_fieldwork, make_user, clock, threads: int, cases: int) -> None:
    """``threads`` interviewers claim and finish ``cases`` cases at once; check the claims."""
    database = app.extensions["ankieta.db"]
    units = [(f"U{n:05d}", f"Instytucja {n}", {}) for n in range(cases)]
    fieldwork_id = make_fieldwork("monitoring_cis_kis", units=units)
    users = [make_user(f"ankieter{n:02d}", Role.INTERVIEWER).id for n in range(threads)]
    with database.session() as session:
        complete_id = session.scalar(
            select(Outcome.id).where(
                Outcome.fieldwork_id == fieldwork_id, Outcome.code == "complete"
            )
        )
    now = clock()
    # a pool as large as the crowd, so that all of them really are in the database at once
    engine = make_engine(database.url, pool_size=threads + 2, max_overflow=0)
    lock = threading.Lock()
    holders: dict[int, set[int]] = defaultdict(set)
    handed: Counter[int] = Counter()
    overlaps: list[tuple[int, set[int]]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads)
    deadline = time.monotonic() + 90

    def interviewer(user_id: int) -> None:
        session = database.sessionmaker(bind=engine)
        try:
            start.wait(timeout=30)
            while time.monotonic() < deadline:
                begin_for_writing(session)
                fieldwork = session.get(Fieldwork, fieldwork_id)
                claim = claim_next(session, fieldwork, user_id, now)
                session.commit()
                if claim.case is None:
                    if claim.nothing.reason == "all_final":
                        return
                    time.sleep(0.005)  # the rest is held by others who will finish it
                    continue
                case_id = claim.case.id
                with lock:
                    holders[case_id].add(user_id)
                    handed[case_id] += 1
                    if len(holders[case_id]) > 1:
                        overlaps.append((case_id, set(holders[case_id])))
                begin_for_writing(session)
                case_ = session.get(Case, case_id)
                call = start_call(session, case_, user_id, None, now)
                finish_call(
                    session,
                    case_,
                    call,
                    session.get(Outcome, complete_id),
                    interviewer_id=user_id,
                    note="",
                    now=now,
                )
                session.commit()
                with lock:
                    holders[case_id].discard(user_id)
            errors.append(TimeoutError(f"interviewer {user_id} still busy at the deadline"))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
            session.rollback()
        finally:
            session.close()

    workers = [threading.Thread(target=interviewer, args=(u,)) for u in users]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
    finally:
        engine.dispose()
    assert not errors, errors[:3]
    assert not overlaps, overlaps[:5]
    with database.session() as session:
        case_ids = set(session.scalars(select(Case.id).where(Case.fieldwork_id == fieldwork_id)))
        assert len(case_ids) == cases
        assert set(handed) == case_ids
        assert [n for n in handed.values() if n != 1] == []
        calls_per_case = Counter(
            session.scalars(
                select(Call.case_id).join(Case).where(Case.fieldwork_id == fieldwork_id)
            )
        )
        assert calls_per_case == Counter(dict.fromkeys(case_ids, 1))
        open_cases = session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.fieldwork_id == fieldwork_id, Case.is_final.is_(False))
        )
        assert open_cases == 0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_thirty_interviewers_never_hold_the_same_case_on_postgresql(
    app, make_fieldwork, make_user, clock
):
    assert app.extensions["ankieta.db"].engine.dialect.name == "postgresql"
    _interviewers_race(app, make_fieldwork, make_user, clock, threads=30, cases=1000)


def test_eight_interviewers_never_hold_the_same_case(app, make_fieldwork, make_user, clock):
    """The same race, smaller: SQLite with one server (and PostgreSQL again)."""
    _interviewers_race(app, make_fieldwork, make_user, clock, threads=8, cases=200)
