"""Structured logs: one JSON object a line on stderr, for a district's log collector.

``XUNCHA_LOG_FORMAT=json`` (the default for ``serve --workers N`` and whenever the server is
not on a terminal) writes every record as ``{"ts", "level", "logger", "msg", "pid", ...}``
plus the fields a caller passed in ``extra`` (the request log adds ``method``, ``route``,
``status``, ``ms``, ``request_id``). ``text`` keeps the plain lines. Request logs never hold a
token, a password, a body or a query string: only the route template (``/api/v1/photos/{sha256}``).
"""

from __future__ import annotations

import json
import logging
import logging.config
import os
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def log_format(env: dict[str, str] | None = None) -> str:
    """``json`` or ``text``, from ``XUNCHA_LOG_FORMAT`` (json unless on a terminal)."""
    env = dict(os.environ if env is None else env)
    chosen = env.get("XUNCHA_LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    return "text" if sys.stderr.isatty() else "json"


def configure(fmt: str, level: str = "info") -> dict[str, Any]:
    """Set up the root and uvicorn loggers; the ``log_config`` to hand uvicorn."""
    formatter = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            # Our request log (server.infra.metrics) replaces uvicorn's access line, which
            # would show query strings.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # The request log is the access log: kept whatever --log-level says of the rest.
            "xuncha.requests": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        },
    }
    logging.config.dictConfig(config)
    return config
