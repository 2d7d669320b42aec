"""The database: engine set-up and one session per request (the models are in app.models)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs.setdefault("json_deserializer", json_loads)
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    return create_engine(url, **kwargs)


def json_loads(text: str | bytes) -> Any:
    """A stored JSON value (answers, sample variables) as Python, as ``json.loads`` reads
    it: by orjson's parser, which reads a response's answers 1.5 times as fast with the check
    below (an export reads 100,000 of them), unless the text has a run of 19 digits (orjson
    reads an integer past 64 bits as a float) or orjson refuses it (NaN, 1E400, a lone
    surrogate)."""
    if isinstance(text, str):
        raw = text.encode()
    elif isinstance(text, bytes):
        raw = text
    else:  # json's own TypeError (SQLite's JSON type then takes a number as it is)
        return json.loads(text)
    if raw.translate(_DIGIT_MAP).find(_LONG_RUN) < 0:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


# every digit as "1", every other byte as "0": a run of 19 digits is a run of 19 ones
_DIGIT_MAP = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_RUN = b"1" * 19


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own implicit BEGIN handling is switched off and SQLAlchemy issues BEGIN
    # itself (_sqlite_on_begin): the documented recipe for real transaction boundaries.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    # A transaction that will write takes SQLite's write lock up front (BEGIN IMMEDIATE,
    # waiting up to busy_timeout); a deferred one that read first and writes later fails at
    # once with SQLITE_BUSY when another connection wrote in between (WAL snapshot rule).
    immediate = connection.get_execution_options().get(WRITE_INTENT, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


WRITE_INTENT = "ankieta_write_intent"


def begin_for_writing(session: Session) -> None:
    """Start ``session``'s transaction as one that will write (BEGIN IMMEDIATE on SQLite).

    Call it before the first statement; it changes nothing on PostgreSQL.
    """
    session.connection(execution_options={WRITE_INTENT: True})


class Database:
    """An engine and its session factory."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for writing, committed at the end of the block, rolled back if it raises."""
        session = self.sessionmaker()
        begin_for_writing(session)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
