"""``xuncha-server draw verify FILE``: re-run a published draw file offline, confirm or refute it.

Needs no server, database or network: only the file a citizen downloaded from the
public page. Exit status 0 when confirmed, 1 when refuted (the first difference is
printed), 2 when the file cannot be read as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from server.inspections.catalogue import both, t
from xuncha_core.inspections.verify import verify

CONFIRMED, REFUTED, UNREADABLE = 0, 1, 2


def run(path: str, out: TextIO) -> int:
    """Verify the draw file at ``path``, writing the verdict to ``out``; answer the exit status."""
    try:
        data = json.loads(Path(path).read_bytes())
    except OSError as exc:
        print(both("verify.unreadable", path=path, reason=exc.strerror or exc), file=out)
        return UNREADABLE
    except ValueError as exc:
        print(both("verify.not_json", path=path, reason=exc), file=out)
        return UNREADABLE
    result = verify(data)
    if result.difference is not None:
        d = result.difference
        print(t("verify.refuted", "zh", message=d.message_zh), file=out)
        print(t("verify.refuted", "en", message=d.message), file=out)
        return REFUTED
    print(both("verify.confirmed"), file=out)
    for line in _summary(data):
        print(line, file=out)
    return CONFIRMED


def _summary(data: dict[str, Any]) -> list[str]:
    c = data["commitment"]
    lines = [
        both(
            "verify.summary",
            title=data["title"],
            drawn_at=data["drawn_at"],
            ledger_index=c["ledger_index"],
            digest=c["digest"][:16],
        )
    ]
    for pool in data["rfc3797"]["pools"]:
        lines.append(
            both(
                "verify.pool",
                stratum=pool["stratum"],
                size=len(pool["candidates"]),
                count=pool["count"],
            )
        )
    entities = data["assignments"]["entities"]
    lines.append(
        both(
            "verify.assignments",
            entities=len(entities),
            per_entity=data["assignments"]["inspectors_per_entity"],
            short=sum(1 for a in entities if a["short_by"]),
        )
    )
    return lines


def add_commands(sub: Any) -> None:
    """``draw verify FILE`` on the server's command line (needs no database)."""
    draw = sub.add_parser("draw", help="random-inspection draws").add_subparsers(
        dest="draw_command", required=True
    )
    v = draw.add_parser(
        "verify",
        help="re-run a published draw file offline; confirm it or name the first difference",
    )
    v.add_argument("file", help="the draw file, as downloaded from /api/v1/public/draws/{id}")
    v.set_defaults(func=lambda args: run(args.file, sys.stdout))
