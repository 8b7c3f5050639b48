"""The FastAPI application: settings, engine, migrations, error handlers, routers."""

from __future__ import annotations

from fastapi import FastAPI

from server import errors, photo_store
from server.db import make_engine
from server.group_commit import GroupWriter
from server.ledger.signing import load_or_create_key
from server.migrations import migrate
from server.routers import auth, changes, ledger, photos, records
from server.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    settings.ensure_dirs()
    photo_store.sweep_temp_files(settings)  # left by a killed process; nothing is in flight yet
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    app = FastAPI(title="Xuncha 巡查", version="0.1.0")
    app.state.settings = settings
    app.state.engine = engine
    app.state.group_writer = GroupWriter(engine)  # record intake: many requests, one commit
    app.state.signing_key = load_or_create_key(settings.signing_key_path)
    errors.install_handlers(app)
    for module in (auth, records, changes, photos, ledger):
        app.include_router(module.router)

    @app.get("/api/v1/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
