"""Photos: which are missing, whole uploads, resumable uploads, and reading a kept photo.

Bodies are streamed to disk, never read whole into memory. When a request is
refused before its body is read, the body is drained first (up to a bound) so the
phone reads the error instead of a reset connection.
"""

from __future__ import annotations

import os
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.accounts import access
from server.accounts.accounts import Actor
from server.infra.db import read
from server.infra.deps import ActorDep, EngineDep, FieldActor, SettingsDep
from server.infra.http_errors import client_gone, response_for
from server.infra.schemas import error_responses, model_of
from server.infra.settings import Settings
from server.photos import checks as photo_checks
from server.photos import store as photo_store
from server.photos import upkeep as upload_upkeep
from server.photos import uploads
from xuncha_core import durable, receipts
from xuncha_core.errors import IntegrityError, NotFoundError, ValidationError, XunchaError

router = APIRouter(prefix="/api/v1", tags=["photos"], responses=error_responses(401, 403, 413, 422))


class MissingRequest(BaseModel):
    hashes: list[Annotated[str, Field(max_length=128)]] = Field(max_length=1000)


class UploadCreate(BaseModel):
    sha256: str = Field(max_length=128)
    length: int = Field(ge=0, le=2**53 - 1)


def _drain_limit(settings: Settings) -> int:
    return settings.max_photo_bytes + 4 * settings.upload_chunk_bytes


async def _drain(request: Request, settings: Settings) -> None:
    """Read and drop what is left of the body, up to a bound, so the error reaches the phone."""
    seen = 0
    try:
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > _drain_limit(settings):
                return
    except (ClientDisconnect, RuntimeError):  # gone already, or the stream was consumed
        return


def _content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length", "")
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _state_response(state: uploads.UploadState, settings: Settings, status: int, actor: Actor) -> JSONResponse:
    return JSONResponse(
        access.photo_receipt_for(actor, state.as_dict(settings)),
        status,
        headers={"Upload-Offset": str(state.offset), "Upload-Length": str(state.length), "Cache-Control": "no-store"},
    )


@router.post("/photos/missing")
def missing(req: MissingRequest, engine: EngineDep, _actor: FieldActor) -> dict[str, list[str]]:
    """Which of these photos the server does not keep yet (send only those)."""
    with read(engine) as conn:
        return {"missing": photo_store.missing_photos(conn, req.hashes)}


@router.put(
    "/photos/{sha256}",
    status_code=201,
    response_model=model_of(receipts.PhotoReceipt),
    responses={200: {"model": model_of(receipts.PhotoReceipt), "description": "Kept already"}},
)
async def put_photo(
    sha256: str, request: Request, engine: EngineDep, settings: SettingsDep, actor: FieldActor
) -> JSONResponse:
    """The whole photo as the body: 201 kept now, 200 kept already; any unfinished
    resumable upload of it is removed."""
    try:
        sha = photo_checks.normalise_sha256(sha256)
        declared = _content_length(request)
        if declared is not None and declared > settings.max_photo_bytes:
            raise photo_checks.too_large(declared, settings.max_photo_bytes)
    except XunchaError:
        await _drain(request, settings)
        raise
    durable.private_folder(settings.uploads_dir)
    tmp = settings.uploads_dir / f"put-{uuid.uuid4().hex}.tmp"
    try:
        size = 0
        with durable.new_private_file(tmp) as out:
            try:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > settings.max_photo_bytes:
                        await _drain(request, settings)
                        raise photo_checks.too_large(size, settings.max_photo_bytes)
                    out.write(chunk)
            except ClientDisconnect:
                return response_for(client_gone())
        receipt = await run_in_threadpool(
            photo_store.keep_photo,
            engine,
            settings=settings,
            source=tmp,
            expected_sha256=sha,
            uploaded_by=actor.username,
        )
    finally:
        tmp.unlink(missing_ok=True)
    # A resumable upload of the same photo, overtaken by this whole one, is done with too.
    await run_in_threadpool(upload_upkeep.forget, engine, settings, sha)
    return JSONResponse(access.photo_receipt_for(actor, receipt.as_dict()), 200 if receipt.replayed else 201)


@router.post("/uploads", status_code=201)
def create_upload(req: UploadCreate, engine: EngineDep, settings: SettingsDep, actor: FieldActor) -> JSONResponse:
    """Start or find a resumable upload: 201 new, 200 known (with its offset) or already kept."""
    state, created = uploads.create(engine, settings, sha256=req.sha256, length=req.length, actor=actor)
    return _state_response(state, settings, 201 if created else 200, actor)


@router.api_route("/uploads/{sha256}", methods=["GET", "HEAD"])
def upload_status(sha256: str, engine: EngineDep, settings: SettingsDep, actor: FieldActor) -> JSONResponse:
    """``Upload-Offset``: how many bytes the server holds durably; send from there."""
    return _state_response(uploads.status(engine, settings, sha256=sha256), settings, 200, actor)


def _upload_offset(request: Request) -> int:
    raw = request.headers.get("upload-offset", "")
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError(
            "upload.bad_offset",
            "Send the byte offset of this chunk in the Upload-Offset header (a whole number).",
            "请在 Upload-Offset 请求头中给出本分块的起始字节（整数）。",
        )
    return int(raw)


@router.patch("/uploads/{sha256}")
async def patch_upload(
    sha256: str, request: Request, engine: EngineDep, settings: SettingsDep, actor: FieldActor
) -> Response:
    """Append the body at ``Upload-Offset``: 200 ``{offset}``; 201 when the photo is whole and kept."""
    try:
        begun = await run_in_threadpool(
            uploads.begin_append,
            engine,
            settings,
            sha256=sha256,
            offset=_upload_offset(request),
            content_length=_content_length(request),
            actor=actor,
        )
    except XunchaError:
        await _drain(request, settings)
        raise
    if isinstance(begun, uploads.UploadState):  # kept already: a replay after a lost answer
        await _drain(request, settings)
        return _state_response(begun, settings, 200, actor)
    try:
        async for chunk in request.stream():
            begun.write(chunk)
    except ClientDisconnect:
        await run_in_threadpool(begun.keep_partial)
        return response_for(client_gone())
    except XunchaError:
        begun.abort()
        await _drain(request, settings)
        raise
    except BaseException:
        begun.abort()
        raise
    state = await run_in_threadpool(begun.finish)
    return _state_response(state, settings, 201 if state.complete else 200, actor)


@router.get("/photos/{sha256}")
def get_photo(sha256: str, engine: EngineDep, settings: SettingsDep, actor: ActorDep) -> Any:
    """The photo's bytes, for read roles, its uploader, or who may read a record its uploader made citing it.

    Who may read is judged first: a field user is refused alike whether or not the photo is kept.
    """
    sha = photo_checks.normalise_sha256(sha256)
    with read(engine) as conn:
        if not access.may_read_photo(conn, actor=actor, sha256=sha):
            raise access.photo_forbidden()
        receipt = photo_store.find_photo(conn, sha)
    if receipt is None:
        raise NotFoundError("photo.not_found", "The server does not keep this photo.", "服务器上没有这张照片。")
    path = photo_store.photo_path(settings, sha)
    if not os.path.isfile(path):
        raise IntegrityError(
            "photo.file_missing",
            "The photo is recorded but its file is missing on the server; tell the administrator.",
            "照片已登记但服务器上的文件缺失，请联系管理员。",
        )
    return FileResponse(
        path,
        media_type=receipt.mime,
        headers={"ETag": f'"{sha}"', "Cache-Control": "private, max-age=31536000, immutable"},
    )
