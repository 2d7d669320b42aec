"""The export's fast reader gives exactly what the flow gives, over many answer sets.

``AnswerReader.clean`` skips the flow's state where it can and remembers, per distinct
combination of the answers that conditions refer to, which conditional variables count.
One reader is reused for every answer set here, as in an export, so the remembered
results are exercised; the reference is ``Flow.clean_answers``.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest

from app.domain.outputs.export import AnswerReader
from app.domain.questionnaire.answers import answers_from_json, answers_to_json
from app.domain.questionnaire.flow import Flow
from app.domain.questionnaire.loading import load_definition
from app.domain.questionnaire.synthetic import generate_answers
from tests.support import shipped_questionnaires

SURVEYS = Path(__file__).resolve().parents[3] / "surveys"
SAMPLES = [
    {"subregion": "południowy", "entity_type": "CIS", "gmina": "Żory", "name": "A"},
    {"subregion": "centralny", "entity_type": "KIS", "gmina": "Gliwice", "name": "B"},
    {},
]


@pytest.mark.parametrize("path", shipped_questionnaires(SURVEYS), ids=lambda p: p.stem)
def test_reader_cleans_like_the_flow(path: Path) -> None:
    flow = Flow(load_definition(path.read_bytes(), path.name).questionnaire)
    q = flow.questionnaire
    reader = AnswerReader(flow)
    rng = random.Random(path.stem)
    stored_sets = []
    for n in range(120):
        sample = SAMPLES[n % len(SAMPLES)]
        today = date(2026, 1 + n % 12, 1 + n % 28)
        made = generate_answers(
            flow, sample=sample, today=today, rng=rng, mode="web" if n % 2 else "phone"
        )
        stored_sets.append((answers_to_json(q, made.answers), sample, today))
    # respondents who went back and changed a filter: answers of questions that are no
    # longer asked stay stored and must be left out
    for _ in range(60):
        first, _s1, _t1 = stored_sets[rng.randrange(len(stored_sets))]
        second, sample, today = stored_sets[rng.randrange(len(stored_sets))]
        mixed = dict(first)
        mixed.update({k: v for k, v in second.items() if rng.random() < 0.5})
        stored_sets.append((mixed, sample, today))
    for stored, sample, today in stored_sets:
        answers = answers_from_json(q, stored, flow.variables)
        expected = flow.clean_answers(flow.state(answers, sample=sample, today=today))
        assert reader.clean(stored, sample=sample, today=today) == expected, stored
