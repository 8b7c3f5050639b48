"""Re-running a published draw file, offline, and naming the first difference.

``verify(file)`` needs nothing but the file: it checks, in this order, that the
commitment's digest matches its contents; that the random source was named to
publish after the commitment and the draw ran after that; that the key is the
RFC 3797 key of the published values; that each stratum's candidates hash to
what was committed, are numbered in ascending order and draw the plan's count;
that the inspectors and recusals hash to what was committed; then re-runs the
selection and the assignment and compares them entry by entry. The first thing
that differs is reported with its path in the file (``rfc3797.pools.0.selected.3``),
what re-running gives, and what the file says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from xuncha_core.errors import XunchaError
from xuncha_core.inspections import rfc3797
from xuncha_core.inspections.commitment import (
    ALGORITHM,
    commitment_digest,
    list_sha256,
    recusal_lines,
)
from xuncha_core.inspections.draw import FORMAT, Prepared, outcome
from xuncha_core.inspections.plans import Plan


@dataclass(frozen=True)
class Difference:
    path: str
    expected: str
    found: str

    @property
    def message(self) -> str:
        return f"{self.path}: re-running gives {self.expected}, the file says {self.found}"

    @property
    def message_zh(self) -> str:
        return f"{self.path}：重新计算得到 {self.expected}，文件中为 {self.found}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    difference: Difference | None = None


Check = Callable[[Mapping[str, Any]], "Difference | None"]


def verify(file: Mapping[str, Any]) -> VerifyResult:
    """Confirms the draw (``ok``) or names the first difference."""
    try:
        difference = _first_difference(file)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, XunchaError) as exc:
        difference = Difference(
            "file", f"a complete {FORMAT} file", f"an unreadable file ({exc!s:.200})"
        )
    return VerifyResult(difference is None, difference)


def _first_difference(f: Mapping[str, Any]) -> Difference | None:
    for check in (_format, _commitment, _timing, _key, _pools, _directories):
        if (difference := check(f)) is not None:
            return difference
    return _outcome(f)


def _format(f: Mapping[str, Any]) -> Difference | None:
    return _differ("format", FORMAT, f.get("format"))


def _commitment(f: Mapping[str, Any]) -> Difference | None:
    c = f["commitment"]
    index = c.get("ledger_index")
    if not (type(index) is int and index >= 0):
        return Difference(
            "commitment.ledger_index", "the ledger index of the commitment", repr(index)
        )
    return _differ("commitment.digest", commitment_digest(c), c.get("digest")) or _differ(
        "commitment.algorithm", ALGORITHM, c["algorithm"]
    )


def _timing(f: Mapping[str, Any]) -> Difference | None:
    c = f["commitment"]
    published, committed, drawn = (
        c["randomness"]["published_on"],
        c["committed_at"][:10],
        f["drawn_at"][:10],
    )
    if not published > committed:
        return Difference(
            "commitment.randomness.published_on", f"a day after {committed}", published
        )
    if not drawn >= published:
        return Difference("drawn_at", f"on or after {published}", drawn)
    return _differ(
        "random_values", f"{c['randomness']['value_sets']} sets", f"{len(f['random_values'])} sets"
    )


def _key(f: Mapping[str, Any]) -> Difference | None:
    return _differ("rfc3797.key", rfc3797.format_key(f["random_values"]), f["rfc3797"]["key"])


def _pools(f: Mapping[str, Any]) -> Difference | None:
    c, pools = f["commitment"], f["rfc3797"]["pools"]
    plan = Plan.from_dict(c["plan"])
    if d := _differ("rfc3797.pools", f"{len(plan.strata)} pools", f"{len(pools)} pools"):
        return d
    for n, (stratum, pool, committed) in enumerate(
        zip(plan.strata, pools, c["pools"], strict=True)
    ):
        at = f"rfc3797.pools.{n}"
        candidates = pool["candidates"]
        d = (
            _differ(f"{at}.stratum", stratum.id, pool["stratum"])
            or _differ(
                f"{at}.candidates",
                f"SHA-256 {committed['candidates_sha256']}",
                f"SHA-256 {list_sha256(candidates)}",
            )
            or _differ(f"{at}.candidates", "ascending, no repeats", _order(candidates))
            or _differ(f"{at}.key", rfc3797.pool_key(f["rfc3797"]["key"], stratum.id), pool["key"])
            or _differ(f"{at}.count", stratum.selection_count(len(candidates)), pool["count"])
        )
        if d:
            return d
    return None


def _directories(f: Mapping[str, Any]) -> Difference | None:
    c = f["commitment"]
    certificates = [i["certificate"] for i in f["inspectors"]]
    pairs = [(r["entity"], r["inspector"]) for r in f["recusals"]]
    return (
        _differ("inspectors", "ascending, no repeats", _order(certificates))
        or _differ(
            "inspectors",
            f"SHA-256 {c['inspectors']['sha256']}",
            f"SHA-256 {list_sha256(certificates)}",
        )
        or _differ(
            "recusals",
            f"SHA-256 {c['recusals_sha256']}",
            f"SHA-256 {list_sha256(recusal_lines(pairs))}",
        )
    )


def _outcome(f: Mapping[str, Any]) -> Difference | None:
    prepared = Prepared.from_dict(
        {
            "plan": f["commitment"]["plan"],
            "pools": f["rfc3797"]["pools"],
            "inspectors": f["inspectors"],
            "recusals": f["recusals"],
        }
    )
    picks, assignments = outcome(prepared, f["random_values"])
    for n, (want, got) in enumerate(zip(picks["pools"], f["rfc3797"]["pools"], strict=True)):
        if d := _first_item(f"rfc3797.pools.{n}.selected", want["selected"], got["selected"]):
            return d
    got_assign = f["assignments"]
    d = _differ("assignments.rule", assignments["rule"], got_assign["rule"]) or _differ(
        "assignments.inspectors_per_entity",
        assignments["inspectors_per_entity"],
        got_assign["inspectors_per_entity"],
    )
    if d or (
        d := _first_item("assignments.entities", assignments["entities"], got_assign["entities"])
    ):
        return d
    chosen = sorted(code for pool in picks["pools"] for code in pool["selected"])
    return _differ(
        "entity_names", f"names of the {len(chosen)} selected entities", _names(f, chosen)
    )


def _first_item(path: str, want: list[Any], got: list[Any]) -> Difference | None:
    for j, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            if isinstance(a, dict) and isinstance(b, dict):
                key = next((k for k in a if a[k] != b.get(k)), next(iter(b.keys() - a.keys()), ""))
                return Difference(
                    f"{path}.{j}.{key}" if key else f"{path}.{j}",
                    repr(a.get(key)),
                    repr(b.get(key)),
                )
            return Difference(f"{path}.{j}", repr(a), repr(b))
    return _differ(path, f"{len(want)} items", f"{len(got)} items")


def _names(f: Mapping[str, Any], chosen: list[str]) -> str:
    names = f.get("entity_names", {})
    ok = isinstance(names, dict) and sorted(names) == chosen
    return (
        f"names of the {len(chosen)} selected entities"
        if ok
        else f"names of {sorted(names)!r:.200}"
    )


def _order(items: list[str]) -> str:
    return (
        "ascending, no repeats"
        if all(a < b for a, b in pairwise(items))
        else "out of order or repeated"
    )


def _differ(path: str, expected: Any, found: Any) -> Difference | None:
    return None if expected == found else Difference(path, _show(expected), _show(found))


def _show(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
