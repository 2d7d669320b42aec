"""The REST API fuzzed with schemathesis against its own OpenAPI document (both databases).

Requests are generated from ``/api/v1/openapi.json`` (valid and invalid ones) and sent to
the app in-process. With an analyst's read-write token every answer must be no server
error, a documented status with its documented content type and schema. With a read-only
token, an interviewer's token and no token at all nothing may change in the database
(every table is compared, except the audit log and the tokens' last-use time, which
record the attempt by design).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.models.base import Base
from app.models.fieldwork import Response
from app.models.tokens import TokenScope
from app.models.users import Role, User
from app.tokens.services import create_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
NOT_COMPARED = {"audit_event": (), "api_token": ("last_used_at",)}
FUZZ = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same requests every run: a failure is reproducible
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


@dataclass
class World:
    app: object
    fieldwork_id: int
    response_id: int
    write: dict
    read_only: dict
    interviewer: dict


@pytest.fixture
def world(app, make_user, make_fieldwork, runner, clock) -> World:
    units = [(f"U-{n:03d}", f"Spółdzielnia {n}", {}) for n in range(6)]
    fieldwork = make_fieldwork(units=units)
    result = runner.invoke(args=["demo-data", str(fieldwork), "--responses", "5", "--seed", "4"])
    assert result.exit_code == 0, result.output
    headers = {}
    for name, role, scope in (
        ("write", Role.ANALYST, TokenScope.WRITE),
        ("read_only", Role.ADMIN, TokenScope.READ),
        ("interviewer", Role.INTERVIEWER, TokenScope.WRITE),
    ):
        user = make_user(f"fuzz-{name}", role)
        with app.extensions["ankieta.db"].session() as session:
            issued = create_token(session, session.get(User, user.id), now=clock(), scope=scope)
            headers[name] = {"Authorization": f"Bearer {issued.secret}"}
    with app.extensions["ankieta.db"].session() as session:
        response_id = session.scalar(select(Response.id).order_by(Response.id))
    return World(app, fieldwork, response_id, **headers)


def _snapshot(app) -> dict[str, list]:
    """Every row of every table (but what records the attempt itself)."""
    tables = {}
    with app.extensions["ankieta.db"].session() as session:
        for table in Base.metadata.sorted_tables:
            skipped = NOT_COMPARED.get(table.name)
            if skipped == ():
                continue
            columns = [c for c in table.columns if c.name not in (skipped or ())]
            order = list(table.primary_key.columns)
            tables[table.name] = [
                tuple(row) for row in session.execute(select(*columns).order_by(*order))
            ]
    return tables


def _operations(world):
    """(operation, strategy) for every operation of the app's own OpenAPI document: valid
    and invalid requests, with random ids and with the real fieldwork's."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    for result in schema.get_all_operations():
        operation = result.ok()
        strategies = [
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if "{fieldwork_id}" in operation.path:
            real = {"fieldwork_id": world.fieldwork_id}
            if "{response_id}" in operation.path:
                real["response_id"] = world.response_id
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
        yield operation, st.one_of(strategies)


def _fuzz(world, check) -> None:
    for operation, strategy in _operations(world):

        @FUZZ
        @given(case=strategy)
        def run(case):
            check(case)

        try:
            run()
        except Exception as exc:
            raise AssertionError(f"{operation.method.upper()} {operation.path}: {exc}") from exc


@pytest.mark.slow
def test_api_answers_as_its_description_says(world):
    _fuzz(world, lambda case: case.call_and_validate(headers=world.write, checks=CHECKS))


@pytest.mark.slow
def test_requests_without_the_right_change_nothing(world):
    def check(case):
        for headers in (world.read_only, world.interviewer, {}):
            before = _snapshot(world.app)
            response = case.call(headers=headers)
            assert _snapshot(world.app) == before, (case.method, case.path, response.status_code)
            case.validate_response(response, checks=CHECKS)
            public = case.path.endswith(("/openapi.json", "/docs"))
            anyone_s = case.method == "GET" and case.path.endswith("/me")
            refused = not public and (
                not headers
                or case.method != "GET"
                or (headers is world.interviewer and not anyone_s)
            )
            if refused:
                # 400: a control character in the address is refused before anything else
                assert response.status_code in (400, 401, 403, 404, 405), (
                    f"{case.method} {case.path}: {response.status_code}"
                )

    _fuzz(world, check)
