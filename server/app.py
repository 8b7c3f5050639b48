"""The FastAPI application: it only wires the pieces together.

Settings, the engine (migrated), the one writer, the one clock and the signing key go
on ``app.state`` (``server.infra.deps`` hands them to routes); errors are answered in
one place (``server.infra.http_errors``); then each feature package's router, the API
documentation (``server.infra.api_docs``) and the office console's pages (``server.console``).
"""

from __future__ import annotations

from fastapi import FastAPI

from server import console
from server.accounts import routes as accounts
from server.infra import api_docs, http_errors, metrics
from server.infra.clock import Clock, utc_now
from server.infra.db import make_engine
from server.infra.migrations import migrate
from server.infra.request_guard import RequestGuard
from server.infra.security_headers import SecurityHeaders
from server.infra.settings import Settings
from server.infra.writer import writer_for
from server.inspections import public_page
from server.inspections import routes as inspections
from server.ledger import key_source
from server.ledger import routes as ledger
from server.photos import routes as photos
from server.photos import store as photo_store
from server.records import routes as records
from server.reference import routes as reference


def create_app(settings: Settings | None = None, *, clock: Clock = utc_now) -> FastAPI:
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
    app.state.group_writer = writer_for(engine)
    app.state.signing_key = key_source.load_signing_key(settings)
    key_source.pin(engine, app.state.signing_key)  # every process signs with the ledger's one key
    counters = metrics.RequestCounters(settings.data_dir / "metrics")
    http_errors.install_handlers(app)
    # The last added runs first: headers go on every answer, even the guard's own refusals.
    app.add_middleware(RequestGuard, engine=engine, settings=settings)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(metrics.MetricsMiddleware, counters=counters)
    for package in (accounts, records, reference, photos, ledger, inspections, public_page):
        app.include_router(package.router)
    api_docs.install(app)
    console.install(app)
    metrics.install_route(app, engine=engine, counters=counters, token=settings.metrics_token)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
