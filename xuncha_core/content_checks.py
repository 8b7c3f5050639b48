"""Field-by-field checks for record content, each noting a Problem instead of stopping.

``Checker`` reads one field of an object, notes what is wrong with it (a path
such as ``deductions.2.photos``, a stable code, English and Chinese sentences)
and returns the parsed value, or None when the value is missing or bad, so a
caller can go on and report every problem at once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from xuncha_core.credit_code import is_credit_code
from xuncha_core.errors import Problem
from xuncha_core.points import as_points
from xuncha_core.records import SHA256_RE

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LOCATION_SOURCES = ("gps", "network", "manual")
MAX_TEXT = 2000
MAX_PHOTOS = 50


class Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def bad(self, path: str, code: str, message: str, message_zh: str) -> None:
        self.problems.append(Problem(path, code, message, message_zh))

    def has_problems_under(self, prefix: str) -> bool:
        return any(p.path == prefix or p.path.startswith(prefix + ".") for p in self.problems)

    def _missing(self, obj: dict[str, Any], key: str, path: str) -> bool:
        if key in obj:
            return False
        self.bad(
            f"{path}{key}",
            "content.missing",
            f"{key} is missing; fill it in",
            f"缺少 {key}，请填写",
        )
        return True

    def fields(
        self,
        obj: dict[str, Any],
        path: str,
        required: Collection[str],
        optional: Collection[str] = (),
    ) -> None:
        """Note every unknown field (missing ones are noted by the readers)."""
        for key in sorted(set(obj) - set(required) - set(optional)):
            self.bad(
                f"{path}{key}",
                "content.unknown_field",
                f"unknown field {key!r}; remove it",
                f"未知字段 {key!r}，请删除",
            )

    def text(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        *,
        allow_empty: bool = False,
        max_len: int = MAX_TEXT,
    ) -> str | None:
        if self._missing(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.bad(f"{path}{key}", "content.not_text", f"{key} must be text", f"{key} 必须是文本")
            return None
        if not allow_empty and not value.strip():
            self.bad(
                f"{path}{key}",
                "content.empty",
                f"{key} is empty; fill it in",
                f"{key} 为空，请填写",
            )
            return None
        if len(value) > max_len:
            self.bad(
                f"{path}{key}",
                "content.too_long",
                f"{key} is longer than {max_len} characters; shorten it",
                f"{key} 超过 {max_len} 字，请缩短",
            )
            return None
        return value

    def ident(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        return self.text(obj, key, path, max_len=128)

    def uuid(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value = self.text(obj, key, path, max_len=36)
        if value is None:
            return None
        if not _is_uuid(value):
            self.bad(
                f"{path}{key}",
                "content.bad_uuid",
                f"{key} must be a lowercase UUID",
                f"{key} 必须是小写 UUID",
            )
            return None
        return value

    def integer(self, obj: dict[str, Any], key: str, path: str, low: int, high: int) -> int | None:
        if self._missing(obj, key, path):
            return None
        value = obj[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.bad(
                f"{path}{key}",
                "content.bad_number",
                f"{key} must be a whole number from {low} to {high}",
                f"{key} 必须是 {low}–{high} 的整数",
            )
            return None
        return value

    def boolean(self, obj: dict[str, Any], key: str, path: str) -> bool | None:
        if self._missing(obj, key, path):
            return None
        if not isinstance(obj[key], bool):
            self.bad(
                f"{path}{key}",
                "content.not_boolean",
                f"{key} must be true or false",
                f"{key} 必须是 true 或 false",
            )
            return None
        return obj[key]

    def points(
        self, obj: dict[str, Any], key: str, path: str, *, maximum: int = 1000, report: bool = True
    ) -> Decimal | None:
        if key not in obj and not report:
            return None
        if self._missing(obj, key, path):
            return None
        value = as_points(obj[key])
        if value is None or value > maximum:
            if report:
                self.bad(
                    f"{path}{key}",
                    "content.bad_points",
                    f"{key} must be a number of points from 0 to {maximum} with at most two decimals",
                    f"{key} 必须是 0–{maximum} 之间、最多两位小数的分数",
                )
            return None
        return value

    def month(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value = self.text(obj, key, path, max_len=7)
        if value is not None and not MONTH_RE.match(value):
            self.bad(
                f"{path}{key}",
                "content.bad_month",
                f"{key} must be a month written YYYY-MM, such as 2025-03",
                f"{key} 必须是 YYYY-MM 格式的月份，例如 2025-03",
            )
            return None
        return value

    def date(self, obj: dict[str, Any], key: str, path: str) -> date | None:
        value = self.text(obj, key, path, max_len=10)
        if value is None:
            return None
        try:
            if not DATE_RE.match(value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError:
            self.bad(
                f"{path}{key}",
                "content.bad_date",
                f"{key} must be a date written YYYY-MM-DD",
                f"{key} 必须是 YYYY-MM-DD 格式的日期",
            )
            return None

    def time(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        value = self.text(obj, key, path, max_len=40)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            self.bad(
                f"{path}{key}",
                "content.bad_time",
                f"{key} must be an ISO 8601 time with a UTC offset, such as 2025-03-14T09:30:00+08:00",
                f"{key} 必须是带时区的 ISO 8601 时间，例如 2025-03-14T09:30:00+08:00",
            )
            return None
        return parsed

    def photos(self, obj: dict[str, Any], key: str, path: str) -> list[str] | None:
        if self._missing(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, list) or len(value) > MAX_PHOTOS:
            self.bad(
                f"{path}{key}",
                "content.bad_photos",
                f"{key} must be a list of at most {MAX_PHOTOS} photo hashes",
                f"{key} 必须是不超过 {MAX_PHOTOS} 个照片哈希的列表",
            )
            return None
        good = True
        for n, h in enumerate(value):
            if not isinstance(h, str) or not SHA256_RE.match(h):
                self.bad(
                    f"{path}{key}.{n}",
                    "content.bad_photo_hash",
                    "each photo must be a lowercase hex SHA-256",
                    "照片必须以小写十六进制 SHA-256 表示",
                )
                good = False
        if good and len(set(value)) != len(value):
            self.bad(
                f"{path}{key}",
                "content.duplicate_photo",
                "a photo is listed twice; list each once",
                "同一张照片重复列出，请只列一次",
            )
            good = False
        return list(value) if good else None

    def ids(
        self, obj: dict[str, Any], key: str, path: str, *, min_len: int, uuid_only: bool = True
    ) -> list[str] | None:
        if self._missing(obj, key, path):
            return None
        value = obj[key]
        if not isinstance(value, list) or len(value) < min_len or len(value) > 500:
            self.bad(
                f"{path}{key}",
                "content.bad_list",
                f"{key} must list at least {min_len}",
                f"{key} 至少需要 {min_len} 项",
            )
            return None
        good = True
        for n, v in enumerate(value):
            ok = isinstance(v, str) and (
                _is_uuid(v) if uuid_only else 0 < len(v.strip()) <= 128 and len(v) <= 128
            )
            if not ok:
                self.bad(
                    f"{path}{key}.{n}",
                    "content.bad_id",
                    "each entry must be a lowercase UUID"
                    if uuid_only
                    else "each entry must be a non-empty id",
                    "每一项必须是小写 UUID" if uuid_only else "每一项必须是非空编号",
                )
                good = False
        if good and len(set(value)) != len(value):
            self.bad(
                f"{path}{key}",
                "content.duplicate_id",
                f"{key} lists the same entry twice; list each once",
                f"{key} 中有重复项，请只列一次",
            )
            return None
        return list(value) if good else None

    def objects(
        self, obj: dict[str, Any], key: str, path: str, *, min_len: int, max_len: int
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield (index, object) for each entry of a list of objects, noting entries that are not objects."""
        if self._missing(obj, key, path):
            return
        value = obj[key]
        if not isinstance(value, list) or not min_len <= len(value) <= max_len:
            self.bad(
                f"{path}{key}",
                "content.bad_list",
                f"{key} must be a list of {min_len} to {max_len} entries",
                f"{key} 必须是 {min_len}–{max_len} 项的列表",
            )
            return
        for n, entry in enumerate(value):
            if isinstance(entry, dict):
                yield n, entry
            else:
                self.bad(
                    f"{path}{key}.{n}",
                    "content.not_object",
                    "each entry must be an object",
                    "每一项必须是对象",
                )

    def location(self, obj: dict[str, Any], key: str, path: str) -> None:
        if self._missing(obj, key, path) or obj[key] is None:
            return
        loc = obj[key]
        where = f"{path}{key}"
        if not isinstance(loc, dict):
            self.bad(
                where,
                "content.bad_location",
                f"{key} must be an object with lat, lon, accuracy_m and source, or null",
                f"{key} 必须是含 lat、lon、accuracy_m、source 的对象，或为 null",
            )
            return
        self.fields(loc, f"{where}.", {"lat", "lon", "accuracy_m", "source"})
        for name, limit in (("lat", 90), ("lon", 180)):
            v = loc.get(name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not -limit <= v <= limit:
                self.bad(
                    f"{where}.{name}",
                    "content.bad_location",
                    f"{name} must be degrees from -{limit} to {limit}",
                    f"{name} 必须是 -{limit} 到 {limit} 之间的度数",
                )
        acc = loc.get("accuracy_m", "missing")
        if acc is not None and (
            isinstance(acc, bool) or not isinstance(acc, (int, float)) or not 0 <= acc <= 1e6
        ):
            self.bad(
                f"{where}.accuracy_m",
                "content.bad_location",
                "accuracy_m must be metres ≥ 0, or null",
                "accuracy_m 必须是不小于 0 的米数，或为 null",
            )
        if loc.get("source") not in LOCATION_SOURCES:
            self.bad(
                f"{where}.source",
                "content.bad_location",
                "source must be gps, network or manual",
                "source 必须是 gps、network 或 manual",
            )

    def credit_code(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value = self.text(obj, key, path, max_len=18)
        if value is not None and not is_credit_code(value):
            self.bad(
                f"{path}{key}",
                "content.bad_credit_code",
                f"{key} is not a valid unified social credit code (18 characters with a correct check character)",
                f"{key} 不是有效的统一社会信用代码（18 位，校验码须正确）",
            )
            return None
        return value


def _is_uuid(s: str) -> bool:
    try:
        return str(uuid.UUID(s)) == s
    except ValueError:
        return False
