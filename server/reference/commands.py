"""``xuncha-server calendar add --year 2027 FILE``: add a year's working-day schedule from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.infra.settings import Settings
from xuncha_core.errors import XunchaError


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cal = sub.add_parser("calendar", help="the working-day calendar").add_subparsers(dest="calendar_command", required=True)
    add = cal.add_parser("add", help="add a year's holidays and make-up workdays from a JSON or CSV file")
    add.add_argument("--year", type=int, required=True)
    add.add_argument("file", type=Path, help="JSON {holidays, makeup_workdays} or CSV lines date,holiday|workday")
    add.set_defaults(func=cmd_calendar_add)


def cmd_calendar_add(args: argparse.Namespace) -> int:
    from server.cli import _engine
    from server.infra.writer import write
    from server.reference import calendar

    try:
        schedule = calendar.parse_schedule_file(args.file.read_bytes(), name=args.file.name)
        engine = _engine(Settings.from_env())
        try:
            status, row = write(engine, lambda conn: calendar.add_year(conn, year=args.year, schedule=schedule, by=None))
        finally:
            engine.dispose()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror} / 无法读取文件 {args.file}", file=sys.stderr)
        return 1
    except XunchaError as exc:
        print(f"{exc.message} / {exc.message_zh}", file=sys.stderr)
        for p in getattr(exc, "problems", ()):
            print(f"  {p.path}: {p.message} / {p.message_zh}", file=sys.stderr)
        return 1
    payload = row["payload"]
    verb = "added" if status == 201 else "already held"
    print(f"calendar {args.year} {verb}: {len(payload['holidays'])} holidays, "
          f"{len(payload['makeup_workdays'])} make-up workdays (feed seq {row['seq']})")  # fmt: skip
    return 0
