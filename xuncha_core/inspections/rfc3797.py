"""RFC 3797 "Publicly Verifiable Nominations Committee (NomCom) Random Selection", exactly.

The random values are public numbers published after the pool was fixed (lottery
draws of a named date). Each source's values are sorted ascending and written in
decimal, each followed by ``.``; each source ends with ``/``; the key is the
concatenation in the sources' committed order::

    sources (9319), (2 5 12 8 10), (9 18 26 34 41 45)
    key     "9319./2.5.8.10.12./9.18.26.34.41.45./"

The pool is numbered 1..N. For selection i = 0, 1, ... the MD5 of the key with the
two-byte big-endian i before *and* after it is read as a 128-bit unsigned integer;
its remainder divided by the number of members still unselected picks, counting
from zero, that member among those left in pool order. Values are non-negative
integers (the RFC's recommended form); the pool and the count are limited to
65,535 as in the RFC's reference code, whose 16-bit counters set that bound.

A pool with a key of its own (one stratum of a plan) appends extra key material
the way the reference code does: ``key + material + "./"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from xuncha_core.errors import Problem, ValidationError

NAME = "RFC 3797"
MAX_POOL = 65535


@dataclass(frozen=True)
class Step:
    """One selection as the RFC's worked example prints it."""

    index: int  # 1-based, as printed
    md5_hex: str  # upper-case, as printed
    remaining: int  # the divisor
    chosen: int  # 1-based position in the pool


def format_key(value_sets: Sequence[Sequence[int]]) -> str:
    """The key string RFC 3797 hashes, from each source's values in committed order."""
    problems = _value_problems(value_sets)
    if problems:
        raise ValidationError.of(problems, code="draw.bad_random_values")
    return "".join("".join(f"{v}." for v in sorted(values)) + "/" for values in value_sets)


def pool_key(key: str, material: str) -> str:
    """The key of a pool that needs its own: the common key with ``material`` appended."""
    return f"{key}{material}./"


def steps(key: str, pool_size: int, count: int) -> list[Step]:
    """The first ``count`` selections from a pool of ``pool_size``, with the figures the RFC prints."""
    if not 0 <= count <= pool_size <= MAX_POOL:
        raise ValueError(f"need 0 <= count ({count}) <= pool size ({pool_size}) <= {MAX_POOL}")
    key_bytes = key.encode("utf-8")
    remaining = list(range(1, pool_size + 1))
    out: list[Step] = []
    for i in range(count):
        bracket = i.to_bytes(2, "big")
        digest = hashlib.md5(bracket + key_bytes + bracket, usedforsecurity=False).digest()
        divisor = len(remaining)
        chosen = remaining.pop(int.from_bytes(digest, "big") % divisor)
        out.append(Step(i + 1, digest.hex().upper(), divisor, chosen))
    return out


def select(key: str, pool_size: int, count: int) -> list[int]:
    """The 1-based pool positions selected, in selection order."""
    return [s.chosen for s in steps(key, pool_size, count)]


def _value_problems(value_sets: Sequence[Sequence[int]]) -> list[Problem]:
    if not value_sets:
        return [
            Problem(
                "random_values",
                "draw.no_random_values",
                "no random values: enter each named source's published numbers",
                "没有随机数：请录入每个约定来源公布的号码",
            )
        ]
    problems: list[Problem] = []
    for n, values in enumerate(value_sets):
        bad = [v for v in values if type(v) is not int or v < 0]
        if not values or bad:
            problems.append(
                Problem(
                    f"random_values.{n}",
                    "draw.bad_random_value",
                    f"source {n + 1} needs one or more whole numbers of 0 or more (got {list(values)!r}); "
                    "enter the numbers exactly as the source published them",
                    f"第 {n + 1} 个来源需要一个或多个非负整数（收到 {list(values)!r}）；请按来源公布的号码原样录入",
                )
            )
    return problems
