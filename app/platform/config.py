"""Configuration: defaults, then instance/config.py, then environment, then the test mapping."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from app.domain.messages import N_, Message

ENV_PREFIX = "ANKIETA_"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite in instance/ankieta.db
    "SECRET_KEY": None,  # None: generated on first start and kept in instance/secret_key
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,  # set ANKIETA_SESSION_COOKIE_SECURE=1 behind HTTPS
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # one working day, in seconds
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,  # uploads (samples, workbooks) and form posts
    # a sample file larger than this (about 2,500 rows) is imported in the background
    "SAMPLE_IMPORT_BACKGROUND_BYTES": 256 * 1024,
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    "BABEL_DEFAULT_LOCALE": "pl",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Warsaw",
    "LANGUAGES": ["pl", "en"],
    "LOGIN_MAX_FAILURES": 5,  # wrong passwords in a row before the login is throttled
    "LOGIN_LOCK_MINUTES": 15,
    # failed logins from one client address (any user names) per window before it is refused
    "LOGIN_ADDRESS_MAX_FAILURES": 30,
    "LOGIN_ADDRESS_WINDOW_MINUTES": 15,
    # contact data of a closed fieldwork is due for erasure this many days after closing
    "CONTACT_RETENTION_DAYS": 365,
    # reverse proxies in front (nginx: 1); their X-Forwarded-For/-Proto/-Host are trusted
    "PROXY_COUNT": 0,
    "SURVEYS_DIR": None,  # None: surveys/ beside the app package
    # files respondents send with file questions (app/platform/uploads.py): outside the web
    # root; None: instance/uploads. A file over UPLOAD_MAX_BYTES is refused with a message
    # on the page (a whole post over MAX_CONTENT_LENGTH is refused before it is read).
    "UPLOADS_DIR": None,
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    "BASE_URL": "http://127.0.0.1:5000",  # the public address, for links made on the command line
    # the task queue of `ankieta worker` (app/tasks.py): unset = beside the database
    "QUEUE_URL": "",
    "WORKER_THREADS": 2,  # jobs one `ankieta worker` runs at once
    "JOB_STALE_SECONDS": 120,  # a running job silent this long lost its worker
    "WORKER_CHECK_SECONDS": 30,  # how often each worker looks for such jobs and due reminders
    # the worker takes a CPU only when no page request wants it (Linux SCHED_IDLE; elsewhere
    # nice 19): exports and mail never slow respondents down on a shared machine
    "WORKER_IDLE_PRIORITY": True,
    # e-mail (app/mailer.py): smtp://user:pass@host:587, smtps://host:465, smtp://host:25
    "SMTP_URL": "",
    "MAIL_FROM": "",
    "MAIL_REPLY_TO": "",
    "MAIL_RATE": 60,  # messages per minute at most
    # the bounce mailbox (app/platform/mailbox.py): imaps://user:pass@host:993/INBOX; unset: none
    "BOUNCE_IMAP_URL": "",
    "BOUNCE_CHECK_SECONDS": 300,  # how often each worker reads it
}

# Environment values arrive as strings; these keys are converted to their default's type.
_BOOL_WORDS = {"1": True, "true": True, "yes": True, "on": True}
_BOOL_WORDS.update({"0": False, "false": False, "no": False, "off": False, "": False})


class ConfigError(Exception):
    """A configuration problem; its message is one line telling what to fix (``str()`` is
    English, for logs; ``message`` is translatable, for the command line)."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.message = Message(msgid, params)
        super().__init__(self.message.render())


def load_config(instance_path: Path, test_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge the configuration layers and validate the result."""
    config = dict(DEFAULTS)
    config.update(_from_instance_file(instance_path / "config.py"))
    config.update(_from_environment(os.environ))
    if test_config:
        config.update(test_config)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'ankieta.db'}"
    _check_database_url(config["DATABASE_URL"])
    _check_bounce_mailbox(config["BOUNCE_IMAP_URL"])
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(instance_path)
    if not config["SURVEYS_DIR"]:
        config["SURVEYS_DIR"] = str(Path(__file__).resolve().parents[2] / "surveys")
    return config


def _from_instance_file(path: Path) -> dict[str, Any]:
    """Upper-case names from instance/config.py (if present)."""
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    try:
        source = path.read_text(encoding="utf-8")
        exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - the operator's own file
    except SyntaxError as exc:
        raise ConfigError(
            N_("%(file)s:%(line)s: syntax error: %(error)s; fix the file"),
            file=path,
            line=exc.lineno,
            error=exc.msg,
        ) from None
    except Exception as exc:
        raise ConfigError(
            N_("%(file)s: %(error)s; fix the file"), file=path, error=f"{type(exc).__name__}: {exc}"
        ) from None
    return {key: value for key, value in namespace.items() if key.isupper()}


def _from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """ANKIETA_* variables, converted to the type of the setting's default."""
    result: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name[len(ENV_PREFIX) :]
        default = DEFAULTS.get(key)
        if isinstance(default, bool):
            if raw.strip().lower() not in _BOOL_WORDS:
                raise ConfigError(
                    N_("%(setting)s is not a yes/no value; use 1 or 0"), setting=f"{name}={raw!r}"
                )
            result[key] = _BOOL_WORDS[raw.strip().lower()]
        elif isinstance(default, int):
            try:
                result[key] = int(raw)
            except ValueError:
                raise ConfigError(
                    N_("%(setting)s is not a whole number"), setting=f"{name}={raw!r}"
                ) from None
        elif isinstance(default, list):
            result[key] = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            result[key] = raw
    return result


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            N_(
                "database URL %(url)s is not valid; use e.g. sqlite:///path/ankieta.db or"
                " postgresql+psycopg://user@host/dbname"
            ),
            url=repr(url),
        ) from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            N_("database %(backend)s is not supported; use SQLite or PostgreSQL"),
            backend=repr(parsed.get_backend_name()),
        )


def _check_bounce_mailbox(url: str | None) -> None:
    """A malformed ANKIETA_BOUNCE_IMAP_URL stops the start with one line (no password)."""
    from app.domain.fieldwork.mail import MailConfigError
    from app.platform.mailbox import bounce_settings

    try:
        bounce_settings(url)
    except MailConfigError as exc:
        raise ConfigError(str(exc)) from None


def _instance_secret(instance_path: Path) -> str:
    """The secret kept in instance/secret_key, created (owner-only) on first start.

    Several workers may start at once: the first to link its file into place wins and the
    others read that one, so every worker signs sessions with the same key.
    """
    path = instance_path / SECRET_FILE
    try:
        if not path.exists():
            instance_path.mkdir(parents=True, exist_ok=True)
            tmp = instance_path / f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        secret = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise ConfigError(
            N_(
                "cannot keep the secret key in %(file)s: %(error)s; make %(folder)s writable"
                " or set %(setting)s"
            ),
            file=path,
            error=exc.strerror,
            folder=instance_path,
            setting=f"{ENV_PREFIX}SECRET_KEY",
        ) from None
    if len(secret) < 32:
        raise ConfigError(
            N_("%(file)s holds a secret shorter than 32 characters; delete the file"), file=path
        )
    return secret
