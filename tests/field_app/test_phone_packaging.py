"""The field app and its tests run with only what the phone gets (issue 9, packaging).

A virtual environment is built with the field app's own dependencies (``[project]
dependencies`` of pyproject.toml) at the versions of Flet's mobile wheel index (Pillow 10.4,
cryptography 43.0.1), the test tools, and nothing of the server's extras; the phone's test
suite (tests/field_app) runs in it. The environment is built once and kept in
``.phone-venv/`` (ignored by git), rebuilt when its requirements change.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".phone-venv"
# The compiled packages at the versions the mobile wheel index has (docs/android.md).
MOBILE_PINS = {"pillow": "pillow==10.4.0", "cryptography": "cryptography==43.0.1"}
SERVER_ONLY = ("fastapi", "starlette", "sqlalchemy", "uvicorn", "psycopg", "argon2", "pyvips", "multipart", "segno")


def phone_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    tools = {re.split(r"[=<>]", d)[0]: d for d in project["optional-dependencies"]["dev"]}
    out = []
    for dep in project["dependencies"]:
        name = re.split(r"[=<>\[]", dep)[0].lower()
        out.append(MOBILE_PINS.get(name, dep))
    # the test tools (fontTools checks the bundled font's coverage): none is packaged
    return [*out, tools["pytest"], tools["pytest-timeout"], tools["hypothesis"], tools["fonttools"]]


def phone_venv() -> Path:
    """The environment's python, built (or rebuilt) for the current requirements."""
    wanted = "\n".join(phone_requirements())
    stamp = VENV / "requirements.txt"
    python = VENV / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *phone_requirements()],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    stamp.write_text(wanted, encoding="utf-8")
    return python


@pytest.mark.packaging
def test_the_field_app_and_its_tests_run_with_only_the_phones_dependencies(tmp_path: Path) -> None:
    python = phone_venv()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = str(ROOT)  # the source tree, not an installed copy: only what is packaged
    probe = subprocess.run(
        [str(python), "-c", "import importlib.util as u, PIL, cryptography, field_app.sync.cli, field_app.store;"
         f"print(PIL.__version__, cryptography.__version__, [m for m in {SERVER_ONLY!r} if u.find_spec(m)])"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip().split(maxsplit=2) == ["10.4.0", "43.0.1", "[]"], probe.stdout
    tests = subprocess.run(
        [str(python), "-m", "pytest", "tests/field_app", "-q", "-rs", "-p", "no:cacheprovider", "-m", "not packaging",
         "--basetemp", str(tmp_path / "t")],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    tail = "\n".join(tests.stdout.splitlines()[-30:])
    assert tests.returncode == 0, tail + tests.stderr[-3000:]
    assert re.search(r"\d+ passed", tail), tail
    # the only tests left out are those of what a phone does not have: the desktop's HEIF
    # decoder and the server's libvips check
    skips = [line for line in tests.stdout.splitlines() if line.startswith("SKIPPED")]
    assert all("pillow-heif" in line or "pyvips" in line for line in skips), skips


def test_the_phones_requirements_hold_no_server_extra() -> None:
    names = {re.split(r"[=<>\[]", r)[0].lower() for r in phone_requirements()}
    assert not names & {"fastapi", "sqlalchemy", "uvicorn", "psycopg", "argon2-cffi", "pyvips", "pillow-heif"}
    assert hashlib.sha256("\n".join(phone_requirements()).encode()).hexdigest()  # stable text for the stamp
