"""``python -m field_app sync --data DIR --server URL`` does one sync against --server and says
what is left; ``--continuous`` runs on (issue 9: it used to ignore --server and never exit)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from typing import Any

from tests.support.live_server import LiveServer
from tests.support.phone import ROOT, Phone, assert_exactly_once, server_copies, small_jpeg
from tests.support.waits import wait_until


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nobody listens once it is closed


def _command(phone: Phone, *args: str) -> list[str]:
    return [sys.executable, "-m", "field_app", "sync", "--data", str(phone.folder), "--quiet", *args]


def _run(phone: Phone, *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(_command(phone, *args), env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr
    return done.returncode, json.loads(lines[-1])


def test_one_sync_goes_to_the_server_named_not_the_stale_stored_one_and_exits_0(phone_server: LiveServer, phone: Phone) -> None:
    saved = [phone.save_recheck([small_jpeg(1)]), phone.save_recheck([])]
    phone.store.set_setting("server_url", _closed_port_url())  # a stale address stored by the app
    phone.close()

    code, summary = _run(phone, "--server", phone_server.url)

    assert code == 0, summary
    assert summary["server"] == phone_server.url and summary["state"] == "done" and summary["passes"] == 1
    assert (summary["outbox"], summary["photos_pending"]) == (0, 0)
    assert_exactly_once(phone_server, saved)


def test_an_unreachable_server_exits_2_with_what_is_left(phone: Phone) -> None:
    phone.save_recheck([small_jpeg(2)])
    phone.close()
    code, summary = _run(phone, "--server", _closed_port_url())
    assert code == 2 and summary["state"] == "offline"
    assert (summary["outbox"], summary["photos_pending"]) == (1, 1)


def test_a_refused_record_left_waiting_on_her_exits_4(phone_server: LiveServer, phone: Phone) -> None:
    good = phone.save_recheck([])
    bad = phone.save_recheck([], note="x")
    phone.store.close()
    # make the second one unacceptable to the server: a content field it does not know
    from field_app.store import LocalStore

    store = LocalStore(phone.folder)
    item = next(i for i in store.outbox() if i["record_id"] == bad["record_id"])
    store._work.replace({**item, "envelope": {**item["envelope"], "content": {**bad["content"], "colour": "red"}}})
    store.close()

    code, summary = _run(phone, "--server", phone_server.url)
    assert code == 4 and summary["state"] == "unfinished"
    assert (summary["outbox"], summary["outbox_waiting_on_you"]) == (1, 1)
    assert_exactly_once(phone_server, [good])


def test_continuous_keeps_syncing_against_the_server_named_until_interrupted(phone_server: LiveServer, phone: Phone) -> None:
    first = phone.save_recheck([])
    phone.store.set_setting("server_url", _closed_port_url())
    phone.close()
    proc = subprocess.Popen(_command(phone, "--server", phone_server.url, "--continuous", "--period", "0.2"),
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        wait_until(lambda: server_copies(phone_server)["heads"] == 1, "the record on the server")
        assert proc.poll() is None  # still running after its first sync
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    summary = json.loads([line for line in out.splitlines() if line.startswith("{")][-1])
    assert proc.returncode == 0, out + err
    assert summary["state"] == "done" and summary["server"] == phone_server.url
    assert_exactly_once(phone_server, [first])

