"""The FastAPI application: settings, engine, migrations, clock, middleware, error handlers, routers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from server import errors, photo_store
from server.db import make_engine
from server.group_commit import GroupWriter
from server.inspections import public_page
from server.inspections import routes as inspections
from server.ledger.signing import load_or_create_key
from server.migrations import migrate
from server.request_guard import RequestGuard
from server.routers import auth, changes, ledger, photos, records
from server.security_headers import SecurityHeaders, install_docs
from server.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings | None = None, *, clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """The server. ``clock`` is what sign-in throttling reads the time from (tests move it)."""
    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    photo_store.sweep_temp_files(settings)  # left by a killed process; nothing is in flight yet
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    app = FastAPI(title="Xuncha 巡查", version="0.1.0", docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.group_writer = GroupWriter(engine)  # record intake: many requests, one commit
    app.state.signing_key = load_or_create_key(settings.signing_key_path)
    errors.install_handlers(app)
    # The last added runs first: headers go on every answer, even the guard's own refusals.
    app.add_middleware(RequestGuard, engine=engine, settings=settings)
    app.add_middleware(SecurityHeaders)
    for module in (auth, records, changes, photos, ledger, inspections, public_page):
        app.include_router(module.router)
    install_docs(app)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
