"""The random-inspection directories: entities, inspectors, conflicts of interest, inspection matters.

Read-only tables with import from CSV or XLSX, over the API's own directory service
(``server.inspections.directory_import``): the page shows exactly the exported file, the
export is that file, and an import is checked whole (every bad row listed with its line
and reason, nothing imported unless all rows are valid). As through the API, only office
reviewers and administrators see or change them: conflicts of interest are private to the office.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from server.console import plan_form, web
from server.infra.db import read
from server.infra.writer import write
from server.inspections import directory_import
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.inspections.directory_files import read_csv
from xuncha_core.inspections.directory_rows import COLUMNS

router = APIRouter(prefix="/console/directories", include_in_schema=False)
KINDS = ("entities", "inspectors", "conflicts", "matters")
Kind = Annotated[str, Path(pattern=r"^(entities|inspectors|conflicts|matters)$")]
ShownKind = Annotated[str, Query(pattern=r"^(entities|inspectors|conflicts|matters)$")]
Format = Annotated[str | None, Query(max_length=8)]


@router.get("")
def directory(request: Request, session: web.Issuer, kind: ShownKind = "entities", format: Format = None,
              done: str = "") -> Response:
    with read(request.app.state.engine) as conn:
        if fmt := _format(format):
            data, media_type = directory_import.export(conn, kind=kind, file_format=fmt)
            return Response(data, media_type=media_type, headers={
                "Content-Disposition": f'attachment; filename="{kind}.{fmt}"', "Cache-Control": "no-store"})
    return _page(request, kind, notice=_notice(request, done))


@router.post("/{kind}/import")
def import_file(request: Request, session: web.Issuer, kind: Kind, form: web.FormDep) -> Response:
    upload = form.get("file")
    lang = web.lang_of(request)
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationError.of([Problem("file", "console.no_file", "choose a CSV or XLSX file to import",
                                              "请选择要导入的 CSV 或 XLSX 文件")], code="console.no_file")
        name = upload.filename.lower()
        fmt = "xlsx" if name.endswith(".xlsx") else "csv"
        table = directory_import.read_table(upload.file.read(), file_format=fmt)
        at = web.now(request).isoformat(timespec="seconds").replace("+00:00", "Z")
        result = write(request.app.state.engine, lambda conn: directory_import.import_table(
            conn, kind=kind, table=table, actor=session.actor, at=at))
    except ValidationError as exc:
        errors = plan_form.problems_shown(exc, lang, lambda path: "")
        return _page(request, kind, errors=errors, status=422)
    return web.redirect(f"/console/directories?kind={kind}&done={result['changed']}-{result['unchanged']}")


def _page(request: Request, kind: str, *, notice: str = "", errors: list[str] | None = None, status: int = 200) -> Response:
    with read(request.app.state.engine) as conn:
        data, _ = directory_import.export(conn, kind=kind, file_format="csv")
    table = read_csv(data)
    return web.render(request, "directories.html", status=status, kind=kind, kinds=KINDS,
                      columns=[col.key for col in COLUMNS[kind]],
                      rows=[cells for _, cells in table.rows], errors=errors or [], notice=notice, query=f"kind={kind}")


def _notice(request: Request, done: str) -> str:
    changed, _, unchanged = done.partition("-")
    if not (changed.isdigit() and unchanged.isdigit()):
        return ""
    return web.translator(web.lang_of(request))("dir.imported", changed=changed, unchanged=unchanged)


def _format(value: str | None) -> str | None:
    return value if value in ("csv", "xlsx") else None
