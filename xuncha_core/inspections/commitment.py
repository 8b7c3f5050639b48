"""The commitment: everything a draw depends on, fixed before the random values exist.

The office commits to the plan, the SHA-256 of each stratum's sorted candidate
list, of the active inspectors and of the recusals (inspector-entity pairs with
a conflict of interest), the algorithm's name and version, and the randomness
source: public numbers that no office member controls, published on a named
day *after* the commitment (a national lottery draw, as RFC 3797 suggests).
The commitment is appended to the ledger; its ledger index goes in the
published draw file, so anyone can see it was there before the numbers were.

A list's hash is SHA-256 over its items each followed by a line feed, UTF-8::

    candidates_sha256 = SHA-256("91110000802100433B\\n91330100799655058B\\n...")
    recusals_sha256   = SHA-256 over "<credit code> <certificate>\\n" lines, sorted

``digest`` is SHA-256 of the commitment's RFC 8785 canonical JSON without its
``digest`` and ``ledger_index``: change any input and it changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from xuncha_core.canonical import canonical_bytes
from xuncha_core.errors import Problem, ValidationError
from xuncha_core.inspections import rfc3797
from xuncha_core.inspections.plans import Plan, Stratum

ALGORITHM = {"name": rfc3797.NAME, "version": "xuncha-draw/1"}
MAX_VALUE_SETS = 16  # as many sources as the RFC's reference code takes
_OUTSIDE_DIGEST = ("digest", "ledger_index")


def list_sha256(items: Iterable[str]) -> str:
    return hashlib.sha256("".join(f"{item}\n" for item in items).encode("utf-8")).hexdigest()


def recusal_lines(recusals: Iterable[tuple[str, str]]) -> list[str]:
    """The recusal pairs (entity, inspector) as the sorted lines that are hashed."""
    return sorted({f"{entity} {inspector}" for entity, inspector in recusals})


def randomness_source(description: str, published_on: date, value_sets: int) -> dict[str, Any]:
    """A named public source: what it is, the day its numbers are published, how many sets."""
    return {
        "description": description,
        "published_on": published_on.isoformat(),
        "value_sets": value_sets,
    }


def build_commitment(
    *,
    plan: Plan,
    pools: Sequence[tuple[Stratum, Sequence[str]]],
    inspectors: Sequence[str],
    recusals: Iterable[tuple[str, str]],
    randomness: Mapping[str, Any],
    committed_at: str,
) -> dict[str, Any]:
    """The commitment, with its ``digest``; refused if the source is not published after today."""
    _check_randomness(randomness, committed_at)
    commitment: dict[str, Any] = {
        "plan": plan.as_dict(),
        "pools": [
            {"stratum": s.id, "size": len(c), "candidates_sha256": list_sha256(c)} for s, c in pools
        ],
        "inspectors": {"count": len(inspectors), "sha256": list_sha256(sorted(inspectors))},
        "recusals_sha256": list_sha256(recusal_lines(recusals)),
        "algorithm": dict(ALGORITHM),
        "randomness": dict(randomness),
        "committed_at": committed_at,
    }
    commitment["digest"] = commitment_digest(commitment)
    return commitment


def commitment_digest(commitment: Mapping[str, Any]) -> str:
    body = {k: v for k, v in commitment.items() if k not in _OUTSIDE_DIGEST}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def _check_randomness(randomness: Mapping[str, Any], committed_at: str) -> None:
    problems: list[Problem] = []
    description = randomness.get("description")
    if not isinstance(description, str) or not description.strip():
        problems.append(
            Problem(
                "randomness.description",
                "draw.no_source",
                "name the public source of the random values (which lottery, which draw)",
                "请写明随机数的公开来源（哪种彩票、哪一期）",
            )
        )
    sets = randomness.get("value_sets")
    if type(sets) is not int or not 1 <= sets <= MAX_VALUE_SETS:
        problems.append(
            Problem(
                "randomness.value_sets",
                "draw.bad_value_sets",
                f"the number of value sets must be 1 to {MAX_VALUE_SETS}; got {sets!r}",
                f"随机数组数应为 1 至 {MAX_VALUE_SETS}；收到 {sets!r}",
            )
        )
    published = randomness.get("published_on")
    day = committed_at[:10]
    if (
        not isinstance(published, str)
        or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", published)
        or published <= day
    ):
        problems.append(
            Problem(
                "randomness.published_on",
                "draw.source_not_future",
                f"the source must publish its numbers after today ({day}); got {published!r}. "
                "Name a later draw, so nobody can know the numbers when the draw is committed",
                f"随机数来源的公布日期须晚于今天（{day}）；收到 {published!r}。"
                "请选择以后的开奖期次，使承诺时无人能知道号码",
            )
        )
    if problems:
        raise ValidationError.of(problems, code="draw.invalid_commitment")
