"""``xuncha-server``: serve, manage users and devices, fill demo data, export and verify audits,
back up and restore, sweep the photo store, make the signing key."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

import argparse
import getpass
import sys

from server.infra.settings import Settings
from xuncha_core.errors import ConflictError


def _engine(settings: Settings) -> Engine:
    from server.infra.db import make_engine
    from server.infra.migrations import migrate

    settings.ensure_dirs()
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    migrate(engine)
    return engine


def _read_password(prompt: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if getpass.getpass("Again / 再输入一次: ") != first:
            raise SystemExit("passwords differ / 两次输入的密码不一致")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.infra import logs

    log_config = logs.configure(logs.log_format(), args.log_level)
    if args.workers > 1:
        # Each worker process builds its own app (same settings); they share the database
        # and the photo store. Migrating first spares the workers a race to do it.
        _engine(Settings.from_env()).dispose()
        uvicorn.run(
            "server.app:create_app", factory=True, host=args.host, port=args.port,
            workers=args.workers, log_level=args.log_level, log_config=log_config,
        )  # fmt: skip
        return 0
    from server.app import create_app

    app = create_app(Settings.from_env())
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=log_config)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.accounts import accounts
    from server.infra.writer import write

    password = None if args.no_password else _read_password("Password / 密码: ")
    engine = _engine(Settings.from_env())
    write(
        engine,
        lambda conn: accounts.create_user(
            conn,
            username=args.name,
            role=args.role,
            password=password,
            display_name=args.display_name,
            cert_no=args.cert_no,
            unit=args.unit,
        ),
    )
    print(f"user {args.name} ({args.role}) created")
    return 0


def cmd_user_code(args: argparse.Namespace) -> int:
    from server.accounts import accounts
    from server.infra.writer import write

    engine = _engine(Settings.from_env())
    result = write(engine, lambda conn: accounts.issue_enrollment_code(conn, username=args.name, issued_by=None))
    print(f"enrollment code for {args.name}: {result['code']} (expires {result['expires_at'][:16]})")
    return 0


def cmd_device_revoke(args: argparse.Namespace) -> int:
    from server.accounts import accounts
    from server.infra.writer import write

    engine = _engine(Settings.from_env())
    write(engine, lambda conn: accounts.revoke_device(conn, device_id=args.device_id, reason=args.reason, by=None))
    print(f"device {args.device_id} revoked")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo import town as demo

    settings = Settings.from_env()
    engine = _engine(settings)
    try:
        made = demo.fill(engine, settings, records=args.records)
    except ConflictError as exc:  # demo.not_fresh
        print(f"{exc.message} / {exc.message_zh}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"demo town written to {settings.data_dir}")
    print(demo.accounts_table(made))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xuncha-server", description="Xuncha 巡查 server")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the HTTP server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--log-level", default="info")
    s.add_argument("--workers", type=int, default=1, help="server processes on this port (one per core is a good start)")
    s.set_defaults(func=cmd_serve)

    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    ua = user.add_parser("add", help="add a user; the password is read from a prompt or stdin")
    ua.add_argument("name")
    ua.add_argument("--role", required=True)
    ua.add_argument("--display-name")
    ua.add_argument("--cert-no", help="enforcement certificate number (执法证号)")
    ua.add_argument("--unit")
    ua.add_argument("--no-password", action="store_true", help="enroll by code only")
    ua.set_defaults(func=cmd_user_add)
    uc = user.add_parser("code", help="issue a one-time enrollment code")
    uc.add_argument("name")
    uc.set_defaults(func=cmd_user_code)

    dev = sub.add_parser("device", help="manage devices").add_subparsers(dest="device_command", required=True)
    dr = dev.add_parser("revoke", help="revoke a lost device")
    dr.add_argument("device_id")
    dr.add_argument("--reason", default="lost")
    dr.set_defaults(func=cmd_device_revoke)

    from server.audit.commands import add_commands as add_audit_commands

    add_audit_commands(sub)
    from server.reference.commands import add_commands as add_calendar_commands

    add_calendar_commands(sub)
    from server.infra.ops_commands import add_commands as add_ops_commands

    add_ops_commands(sub)
    from server.inspections.verify_command import add_commands as add_draw_commands

    add_draw_commands(sub)
    dm = sub.add_parser("demo", help="fill a fresh data folder with a demo town (demo accounts, demo-only)")
    dm.add_argument("--records", type=int, default=60, help="how many records to write (default 60)")
    dm.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
