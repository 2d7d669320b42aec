"""Ankieta: survey collection and telephone interviewing for social-economy monitoring."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from flask import Flask, current_app, session

from app.platform.config import ConfigError, load_config

__all__ = ["ConfigError", "create_app"]

# the features' modules that register kinds of background work (app.platform.tasks.handler)
TASK_HANDLERS = ("app.exports.jobs", "app.fieldwork.imports", "app.mailing.sending")
# the features' modules that add endpoints to the REST API (app.platform.api.bp)
API_ROUTES = ("app.api.routes", "app.fieldwork.api", "app.exports.api")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, database, extensions, blueprints, errors."""
    # Imported here, not at the top: ``ankieta --help`` and ``surveys check`` import this
    # package (app.platform.config) but never build the app, and should not pay for the ORM.
    from app.domain.dates import utcnow
    from app.platform.headers import init_app as init_headers

    instance_path = Path(
        (test_config or {}).get("INSTANCE_PATH")
        or Path(__file__).resolve().parent.parent / "instance"
    )
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.update(load_config(instance_path, test_config))
    app.config.setdefault("CLOCK", utcnow)
    init_headers(app)  # before the extensions: it sets a CSRF default (see app/headers.py)
    register_extensions(app)
    register_blueprints(app)
    register_errors(app)
    register_templating(app)
    if app.config["PROXY_COUNT"]:
        # behind N reverse proxies: the client's address (audit log) and the scheme come
        # from the X-Forwarded-* headers the proxies set, never from the client itself
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        # Flask's documented way to wrap its WSGI app; its types declare wsgi_app a method
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )
    return app


def register_extensions(app: Flask) -> None:
    from app.auth.services import load_user
    from app.platform.extensions import babel, csrf, init_database, login_manager
    from app.platform.memory import init_app as init_memory
    from app.platform.security import enforce_access
    from app.platform.web import refuse_control_characters, refuse_unreadable_form

    init_database(app)
    app.before_request(refuse_unreadable_form)  # before the CSRF check reads the form
    app.before_request(refuse_control_characters)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.session_protection = "strong"
    babel.init_app(app, locale_selector=select_locale)
    from app.platform.i18n import install_template_gettext

    install_template_gettext(app)
    app.before_request(enforce_access)
    init_memory(app)
    from app.platform.tasks import init_app as init_tasks

    init_tasks(app, TASK_HANDLERS)


def select_locale() -> str:
    """The language the user chose (kept in the session), else Polish."""
    chosen = session.get("lang")
    if chosen in current_app.config["LANGUAGES"]:
        return cast(str, chosen)
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def register_blueprints(app: Flask) -> None:
    from app.platform.web import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route: ids past 2**31 are 404
    from app.admin.routes import bp as admin_bp
    from app.auth.routes import bp as auth_bp
    from app.cati.routes import bp as cati_bp
    from app.exports.routes import bp as exports_bp
    from app.fieldwork.routes import bp as fieldwork_bp
    from app.mailing.routes import bp as mailing_bp
    from app.main.routes import bp as main_bp
    from app.monitoring.routes import bp as monitoring_bp
    from app.privacy.routes import bp as privacy_bp
    from app.respond.preview_routes import bp as preview_bp
    from app.respond.routes import bp as respond_bp
    from app.supervise.routes import bp as supervise_bp
    from app.surveys.routes import bp as surveys_bp
    from app.tokens.routes import bp as tokens_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(surveys_bp)
    app.register_blueprint(fieldwork_bp)
    app.register_blueprint(privacy_bp)
    app.register_blueprint(respond_bp)
    app.register_blueprint(preview_bp)
    app.register_blueprint(supervise_bp)
    app.register_blueprint(cati_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(mailing_bp)
    app.register_blueprint(tokens_bp)
    app.register_blueprint(monitoring_bp)

    from app.platform.api import init_app as init_api

    init_api(app, API_ROUTES)

    from app.cli import register_commands

    register_commands(app)


def register_errors(app: Flask) -> None:
    from app.main.errors import register

    register(app)


def register_templating(app: Flask) -> None:
    from app.main.templating import register

    register(app)
