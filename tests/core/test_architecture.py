"""The layering the project promises, checked on the source tree (issue 8).

- the core (xuncha_core) imports no UI, web, database or HTTP library, and never the
  server or the phone; the phone (field_app) never imports the server;
- exactly one class in the tree derives directly from Exception: XunchaError;
- no module over 400 lines and no function over 60 in xuncha_core/, server/, field_app/.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("xuncha_core", "server", "field_app")
CORE_FORBIDDEN = ("flet", "fastapi", "starlette", "sqlalchemy", "tinydb", "httpx", "server", "field_app")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(tree: ast.Module) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _top(name: str) -> str:
    return name.split(".", 1)[0]


def _where(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("package", ["xuncha_core"])
def test_the_core_imports_no_ui_web_database_or_http_library_and_neither_side(package: str) -> None:
    found = [
        f"{_where(path)} imports {name}"
        for path in _modules(package)
        for name in _imported(_tree(path))
        if _top(name) in CORE_FORBIDDEN
    ]
    assert found == []


def test_the_phone_never_imports_the_server() -> None:
    found = [
        f"{_where(path)} imports {name}"
        for path in _modules("field_app")
        for name in _imported(_tree(path))
        if _top(name) == "server"
    ]
    assert found == []


def test_exactly_one_class_derives_directly_from_exception() -> None:
    roots = [
        f"{_where(path)}:{node.name}"
        for path in [*_modules(*PACKAGES), *sorted((ROOT / "tests").rglob("*.py"))]
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.ClassDef)
        and any(isinstance(base, ast.Name) and base.id in ("Exception", "BaseException") for base in node.bases)
    ]
    assert roots == ["xuncha_core/errors.py:XunchaError"]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_over_400_lines(package: str) -> None:
    long = [
        f"{_where(path)}: {n} lines"
        for path in _modules(package)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert long == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_function_is_over_60_lines(package: str) -> None:
    long = [
        f"{_where(path)}:{node.lineno} {node.name}: {n} lines"
        for path in _modules(package)
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []
