"""The office console: server-rendered pages at ``/console/`` for review, rectification,
rankings, reports and administration (issue 10).

    web.py          templates, language, the session and role dependencies, CSRF, error pages
    sessions.py     browser sessions kept on the server (``console_sessions`` in infra/tables.py)
    catalogue.py    every string, in Chinese and English
    queries.py      what the pages read beyond the API's own reads
    facts.py        what several pages derive from the same reads
    standings.py    the red and black list with trend, the cleaners' assessment (pure)
    overview.py     the dashboard's figures (pure)
    revision_diff.py, wording.py, receipts.py, charts.py, qr.py, exports.py
    plan_form.py    the plan, commitment and draw forms, read into the API's own bodies
    routes/         one thin module per area, over the services the API uses
    templates/, static/   Jinja2 templates extending base.html; CSS (with print), a little JS

``install(app)`` adds the pages, the static files and the console's error pages.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from server.console import web
from server.console.routes import (
    actions,
    dashboard,
    directories,
    people,
    plans,
    record,
    records,
    reference,
    reports,
    signin,
)

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    for module in (signin, dashboard, records, record, actions, reports, people, reference, plans, directories):
        app.include_router(module.router)
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    web.install_error_pages(app)
