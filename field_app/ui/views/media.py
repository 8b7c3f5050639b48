"""Photos and places for the forms: camera, gallery, location, thumbnails.

Device APIs are async and may be missing (no camera on a desktop, no GPS
permission): each helper returns None and says why through ``ctx.message``
rather than raising, so the form always stays usable (a manual location, the
gallery instead of the camera).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import flet as ft

from field_app import clock
from field_app.ui import theme
from field_app.ui.models.check_form import make_location

LOCATE_TIMEOUT_S = 20


async def pick_photos(ctx: Any) -> list[bytes]:
    """Photos chosen from the gallery or the file system (bytes on web, a path elsewhere)."""
    files = await ft.FilePicker().pick_files(
        file_type=ft.FilePickerFileType.IMAGE, allow_multiple=True, with_data=True
    )
    out: list[bytes] = []
    for f in files or []:
        if f.bytes:
            out.append(bytes(f.bytes))
        elif f.path:
            out.append(await asyncio.to_thread(Path(f.path).read_bytes))
    return out


async def take_photo(ctx: Any) -> bytes | None:
    """One picture from the camera, shown in a dialog with a shutter button; None if cancelled."""
    try:
        import flet_camera as fc
    except ImportError:
        ctx.message(ctx.tr("check.no_camera"), error=True)
        return None
    tr = ctx.tr
    camera = fc.Camera(expand=True, preview_enabled=True)
    done: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()

    async def shoot(_: Any) -> None:
        try:
            data = await camera.take_picture()
        except Exception as exc:  # shown, and the gallery stays available
            if not done.done():
                done.set_exception(exc)
            return
        if not done.done():
            done.set_result(bytes(data))

    def cancel(_: Any) -> None:
        if not done.done():
            done.set_result(None)

    dialog = ft.AlertDialog(
        modal=True,
        content=ft.Container(camera, width=340, height=420),
        actions=[theme.button(tr("common.cancel"), cancel), theme.primary_button(tr("check.camera"), shoot)],
    )
    ctx.page.show_dialog(dialog)
    try:
        cams = await camera.get_available_cameras()
        if not cams:
            raise RuntimeError("no camera")
        back = next((c for c in cams if c.lens_direction == fc.CameraLensDirection.BACK), cams[0])
        await camera.initialize(back, fc.ResolutionPreset.VERY_HIGH, enable_audio=False)
        return await done
    except Exception:
        ctx.message(tr("check.no_camera"), error=True)
        return None
    finally:
        ctx.page.pop_dialog()


async def locate(ctx: Any) -> dict[str, Any] | None:
    """The phone's position as a content Location, or None (then she can enter it by hand)."""
    try:
        import flet_geolocator as fg

        geo = fg.Geolocator()
        await asyncio.wait_for(geo.request_permission(), LOCATE_TIMEOUT_S)
        pos = await asyncio.wait_for(geo.get_current_position(), LOCATE_TIMEOUT_S)
        if pos.latitude is None or pos.longitude is None:
            raise ValueError("no fix")
        return make_location(pos.latitude, pos.longitude, accuracy_m=pos.accuracy, source="gps")
    except Exception:  # no permission, no fix, no plugin: fall back to manual
        ctx.message(ctx.tr("check.location_failed"), error=True)
        return None


def manual_location(ctx: Any, on_done: Any) -> None:
    """A dialog to type latitude and longitude; calls ``on_done(location)``."""
    tr = ctx.tr
    lat = theme.field(tr("check.lat"), keyboard_type=ft.KeyboardType.NUMBER)
    lon = theme.field(tr("check.lon"), keyboard_type=ft.KeyboardType.NUMBER)
    error = theme.body("", color=theme.DANGER)

    def ok(_: Any) -> None:
        try:
            location = make_location(float(lat.value or ""), float(lon.value or ""), source="manual")
        except ValueError:
            error.value = tr("check.bad_coordinates")
            ctx.page.update()
            return
        ctx.page.pop_dialog()
        on_done(location)

    ctx.page.show_dialog(
        ft.AlertDialog(
            title=theme.body(tr("check.set_manual"), bold=True),
            content=ft.Column([lat, lon, error], tight=True),
            actions=[theme.button(tr("common.cancel"), lambda _: ctx.page.pop_dialog()),
                     theme.primary_button(tr("common.ok"), ok)],
        )
    )


def location_text(ctx: Any, location: dict[str, Any] | None) -> str:
    if not location:
        return ctx.tr("check.location_none")
    return ctx.tr("check.location_value", lat=f"{location['lat']:.5f}", lon=f"{location['lon']:.5f}",
                  source=location.get("source", ""))


async def ingest(
    ctx: Any, data: bytes, *, village: str, location: dict[str, Any] | None, from_camera: bool = False
) -> str | None:
    """Run the evidence pipeline on one photo and record it; the SHA-256 of the evidence image.

    ``from_camera``: the bytes are ``take_photo``'s (the phone's own encoder, this moment),
    not a file from the gallery; the pipeline then trusts their entropy-coded data.

    Durable before it returns: the photo file is written atomically by the
    pipeline and its metadata by the store. A refused photo is explained and
    nothing is kept.
    """
    from field_app.paths import photos_dir
    from field_app.photos import Capture, Location, process_photo

    user = ctx.user()
    capture = Capture(
        device_time=clock.now(),
        device_location=Location(latitude=location["lat"], longitude=location["lon"],
                                 accuracy=location.get("accuracy_m")) if location else None,
        village=village,
        recorder=user.get("display_name") or user.get("username") or "",
        from_camera=from_camera,
    )
    try:
        evidence = await asyncio.to_thread(process_photo, data, photos_dir=photos_dir(ctx.data_dir), capture=capture)
    except Exception as exc:  # every refusal is explained to her
        message = ctx.tr.error(exc)
        ctx.message(ctx.tr("check.photo_failed", message=message), error=True)
        return None
    ctx.store.add_photo(evidence.as_dict())
    return evidence.sha256


def thumbnail(ctx: Any, sha256: str, *, size: int = 96) -> ft.Control:
    """The photo's thumbnail (or its short hash when the file is missing)."""
    meta = ctx.store.photo(sha256) or {}
    name = meta.get("thumbnail")
    if name:
        from field_app.paths import photos_dir

        p = photos_dir(ctx.data_dir) / name
        if p.exists():
            return ft.Image(src=p.read_bytes(), width=size, height=size, fit=ft.BoxFit.COVER, border_radius=6,
                            semantics_label=sha256[:8])
    return ft.Container(theme.body(sha256[:8], size=12), width=size, height=size, bgcolor="#EEEEEE",
                        alignment=ft.Alignment.CENTER)
