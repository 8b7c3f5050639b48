"""Photos: which are missing, whole uploads, resumable uploads, and reading a kept photo.

Bodies are streamed to disk, or, with photos in an object store, held in memory up to the
photo limit (the server's own disk is not used). When a request is
refused before its body is read, the body is drained first (up to a bound) so the
phone reads the error instead of a reset connection.
"""

from __future__ import annotations

import io
import os
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
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
from server.photos import thumbnails, uploads
from server.photos import upkeep as upload_upkeep
from server.photos.blobs import blobs_for
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
    tmp: Path | None = None
    try:
        if settings.photos_in_object_store:
            source: bytes | Path | None = await _body_in_memory(request, settings)
        else:
            tmp = settings.uploads_dir / f"put-{uuid.uuid4().hex}.tmp"
            source = await _body_on_disk(request, settings, tmp)
        if source is None:
            return response_for(client_gone())
        receipt = await run_in_threadpool(
            photo_store.keep_photo,
            engine,
            settings=settings,
            source=source,
            expected_sha256=sha,
            uploaded_by=actor.username,
        )
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    # A resumable upload of the same photo, overtaken by this whole one, is done with too.
    await run_in_threadpool(upload_upkeep.forget, engine, settings, sha)
    return JSONResponse(access.photo_receipt_for(actor, receipt.as_dict()), 200 if receipt.replayed else 201)


async def _body_in_memory(request: Request, settings: Settings) -> bytes | None:
    """The whole body, held in memory (never more than the photo limit); None if the phone left.

    For an object store: the server's own disk is not used, so any process can take a photo."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            if len(body) + len(chunk) > settings.max_photo_bytes:
                await _drain(request, settings)
                raise photo_checks.too_large(len(body) + len(chunk), settings.max_photo_bytes)
            body += chunk
    except ClientDisconnect:
        return None
    return bytes(body)


async def _body_on_disk(request: Request, settings: Settings, tmp: Path) -> Path | None:
    """The whole body, streamed to ``tmp`` (never more than the photo limit); None if the phone left."""
    durable.private_folder(settings.uploads_dir)
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
            return None
    return tmp


@router.post("/uploads", status_code=201)
def create_upload(req: UploadCreate, engine: EngineDep, settings: SettingsDep, actor: FieldActor) -> JSONResponse:
    """Start or find a resumable upload: 201 new, 200 known (with its offset) or already kept."""
    state, created = uploads.create(engine, settings, sha256=req.sha256, length=req.length, actor=actor)
    return _state_response(state, settings, 201 if created else 200, actor)


@router.get("/uploads/{sha256}")
@router.head("/uploads/{sha256}", operation_id="upload_status_head")
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
    sha, receipt = _readable_photo(sha256, engine, actor)
    if settings.photos_in_object_store:
        try:
            body = blobs_for(settings).chunks(sha)
        except FileNotFoundError:
            raise _file_missing() from None
        headers = {**_immutable(sha), "Content-Length": str(receipt.size)}
        return StreamingResponse(body, media_type=receipt.mime, headers=headers)
    return FileResponse(_photo_file(settings, sha), media_type=receipt.mime, headers=_immutable(sha))


@router.get("/photos/{sha256}/thumbnail")
def get_thumbnail(sha256: str, engine: EngineDep, settings: SettingsDep, actor: ActorDep) -> Any:
    """A small JPEG of the photo (longest side 320 px), for whoever may read the photo itself."""
    sha, _receipt = _readable_photo(sha256, engine, actor)
    try:
        if settings.photos_in_object_store:
            try:
                source: Path | io.BytesIO = io.BytesIO(blobs_for(settings).read(sha))
            except FileNotFoundError:
                raise _file_missing() from None
        else:
            source = _photo_file(settings, sha)
        thumb = thumbnails.thumbnail_of(settings, sha, source)
    except (OSError, ValueError) as exc:
        raise IntegrityError(
            "photo.thumbnail_failed",
            "The server could not make a thumbnail of this photo; open it full size instead.",
            "服务器无法生成这张照片的缩略图，请直接打开原图。",
        ) from exc
    return FileResponse(thumb, media_type="image/jpeg", headers=_immutable(f"{sha}-thumb"))


def _immutable(tag: str) -> dict[str, str]:
    return {"ETag": f'"{tag}"', "Cache-Control": "private, max-age=31536000, immutable"}


def _readable_photo(sha256: str, engine: Any, actor: Actor) -> tuple[str, photo_store.PhotoReceipt]:
    """(hash, receipt) of a kept photo ``actor`` may read; refused alike whether or not it is kept."""
    sha = photo_checks.normalise_sha256(sha256)
    with read(engine) as conn:
        if not access.may_read_photo(conn, actor=actor, sha256=sha):
            raise access.photo_forbidden()
        receipt = photo_store.find_photo(conn, sha)
    if receipt is None:
        raise NotFoundError("photo.not_found", "The server does not keep this photo.", "服务器上没有这张照片。")
    return sha, receipt


def _photo_file(settings: Settings, sha: str) -> Path:
    path = photo_store.photo_path(settings, sha)
    if not os.path.isfile(path):
        raise _file_missing()
    return Path(path)


def _file_missing() -> XunchaError:
    return IntegrityError(
        "photo.file_missing",
        "The photo is recorded but its file is missing on the server; tell the administrator.",
        "照片已登记但服务器上的文件缺失，请联系管理员。",
    )
