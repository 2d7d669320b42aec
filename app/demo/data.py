"""Demo responses: synthetic answers stored as responses marked ``is_demo``.

A new user can try the exports and reports at once, and benchmarks get data. The answers
come from ``app.domain.questionnaire.synthetic`` and so obey the questionnaire exactly; institutions
are added to the sample (through the ordinary sample import, with their call-queue
cases) when it has too few without a response. Everything random comes from one
generator seeded with the given seed, so the same seed on the same fieldwork gives the
same responses; a further run continues the sequence instead of repeating it.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cati.services import mark_completed_online
from app.domain.dates import local_date
from app.domain.questionnaire.answers import answers_to_json
from app.domain.questionnaire.flow import MODES
from app.domain.questionnaire.synthetic import generate_answers
from app.fieldwork.services import FieldworkError, import_sample
from app.models.fieldwork import Fieldwork, Response, ResponseStatus, SampleUnit
from app.models.surveys import flow_of

log = logging.getLogger(__name__)

MAX_DEMO_RESPONSES = 1_000_000
DEMO_ID_PREFIX = "DEMO-"
DEFAULT_PERIOD_DAYS = 60  # a fieldwork without dates: responses over the last two months
INTERVIEW_MINUTES = (4, 45)  # how long filling in takes, shortest and longest
# Where a fresh sample has nothing to copy from: Śląskie's subregions and two entity types.
DEFAULT_PLACES = [
    ("CIS", "środkowy", "katowicki", "Katowice"),
    ("KIS", "południowy", "bielski", "Bielsko-Biała"),
    ("CIS", "zachodni", "rybnicki", "Rybnik"),
    ("KIS", "północny", "częstochowski", "Częstochowa"),
]


@dataclass
class DemoOutcome:
    """What ``create_demo_responses`` added."""

    created: int = 0
    complete: int = 0
    partial: int = 0
    units_added: int = 0


def create_demo_responses(
    session: Session,
    fieldwork: Fieldwork,
    n: int,
    *,
    seed: int,
    now: datetime,
    spare: int = 0,
) -> DemoOutcome:
    """Add ``n`` demo responses to ``fieldwork``, one per institution without a response.

    Institutions are added when fewer than ``n`` are without one. The first ``spare``
    institutions without a response are passed over, so their personal links stay free
    for trying the form.
    """
    if not 0 <= n <= MAX_DEMO_RESPONSES:  # the command line refuses this before
        raise ValueError(f"cannot make {n} demo responses (0 to {MAX_DEMO_RESPONSES})")
    outcome = DemoOutcome()
    if n == 0:
        return outcome
    done = session.scalar(
        select(func.count())
        .select_from(Response)
        .where(Response.fieldwork_id == fieldwork.id, Response.is_demo.is_(True))
    )
    # The seed and how many demo responses exist: a second run continues, not repeats.
    rng = random.Random(f"ankieta-demo:{seed}:{done}")  # noqa: S311 - reproducible, not secret
    units = _units_without_response(session, fieldwork, n, skip=spare)
    if len(units) < n:
        outcome.units_added = n - len(units)
        units.extend(_add_units(session, fieldwork, outcome.units_added, rng, now))
    flow = flow_of(fieldwork.survey_version)
    finished: list[int] = []
    start, end = _period(fieldwork, now)
    for unit in units:
        mode = rng.choice(MODES)
        started = start + (end - start) * rng.random()
        completed = min(started + timedelta(minutes=rng.uniform(*INTERVIEW_MINUTES)), now)
        generated = generate_answers(
            flow,
            sample=unit.sample_variables(),
            today=local_date(completed),
            rng=rng,
            mode=mode,
        )
        status = ResponseStatus.COMPLETE if generated.complete else ResponseStatus.IN_PROGRESS
        session.add(
            Response(
                fieldwork_id=fieldwork.id,
                sample_unit_id=unit.id,
                survey_version_id=fieldwork.survey_version_id,
                answers=answers_to_json(flow.questionnaire, generated.answers),
                status=status.value,
                last_page=generated.last_page,
                revision=1,
                via_web=mode == "web",
                via_phone=mode == "phone",
                is_demo=True,
                started_at=started,
                updated_at=completed,
                completed_at=completed if generated.complete else None,
            )
        )
        outcome.created += 1
        if generated.complete:
            outcome.complete += 1
            finished.append(unit.id)
        else:
            outcome.partial += 1
    session.flush()
    # Finished institutions leave the call queue, as after a real interview or web form.
    for unit_id in finished:
        mark_completed_online(session, unit_id, now)
    log.info(
        "fieldwork %d: %d demo responses (%d partial), %d institutions added",
        fieldwork.id,
        outcome.created,
        outcome.partial,
        outcome.units_added,
    )
    return outcome


def _units_without_response(
    session: Session, fieldwork: Fieldwork, n: int, *, skip: int
) -> list[SampleUnit]:
    """Up to ``n`` institutions without a response, in id order, after the first ``skip``."""
    answered = select(Response.sample_unit_id).where(
        Response.fieldwork_id == fieldwork.id, Response.sample_unit_id.is_not(None)
    )
    return list(
        session.scalars(
            select(SampleUnit)
            .where(SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.id.not_in(answered))
            .order_by(SampleUnit.id)
            .offset(skip)
            .limit(n)
        )
    )


def _add_units(
    session: Session, fieldwork: Fieldwork, count: int, rng: random.Random, now: datetime
) -> list[SampleUnit]:
    """``count`` made-up institutions imported like a sample file (cases included).

    Their places are copied from the existing sample, so breakdowns by subregion or entity
    type look like the real ones.
    """
    places = [
        tuple(row)
        for row in session.execute(
            select(
                SampleUnit.entity_type, SampleUnit.subregion, SampleUnit.powiat, SampleUnit.gmina
            )
            .where(SampleUnit.fieldwork_id == fieldwork.id)
            .distinct()
            .order_by(
                SampleUnit.entity_type, SampleUnit.subregion, SampleUnit.powiat, SampleUnit.gmina
            )
        )
    ] or DEFAULT_PLACES
    taken = set(
        session.scalars(
            select(SampleUnit.external_id).where(
                SampleUnit.fieldwork_id == fieldwork.id,
                SampleUnit.external_id.startswith(DEMO_ID_PREFIX),
            )
        )
    )
    lines = ["external_id;name;entity_type;subregion;powiat;gmina"]
    ids: list[str] = []
    number = len(taken)
    while len(ids) < count:
        number += 1
        external_id = f"{DEMO_ID_PREFIX}{number:05d}"
        if external_id in taken:
            continue
        ids.append(external_id)
        entity_type, subregion, powiat, gmina = rng.choice(places)
        name = f"Jednostka demonstracyjna {number}" + (f" ({gmina})" if gmina else "")
        lines.append(
            ";".join(
                _csv_cell(v) for v in (external_id, name, entity_type, subregion, powiat, gmina)
            )
        )
    imported = import_sample(
        session, fieldwork, "\n".join(lines).encode("utf-8"), "demo.csv", now=now
    )
    if not imported.ok:
        raise FieldworkError(imported.problems[0].message)
    return list(
        session.scalars(
            select(SampleUnit)
            .where(SampleUnit.fieldwork_id == fieldwork.id, SampleUnit.external_id.in_(ids))
            .order_by(SampleUnit.id)
        )
    )


def _csv_cell(value: str) -> str:
    """A value as one ';'-separated CSV cell (quoted when it holds a separator or quote)."""
    if any(ch in value for ch in ';"\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _period(fieldwork: Fieldwork, now: datetime) -> tuple[datetime, datetime]:
    """The moments responses are spread over: the fieldwork's dates, never after ``now``."""
    end_day: date = min(fieldwork.closes_on or now.date(), now.date())
    start_day: date = fieldwork.opens_on or end_day - timedelta(days=DEFAULT_PERIOD_DAYS)
    start = datetime.combine(min(start_day, end_day), time(6, 0), tzinfo=UTC)
    end = min(datetime.combine(end_day, time(18, 0), tzinfo=UTC), now)
    return start, max(start, end)
