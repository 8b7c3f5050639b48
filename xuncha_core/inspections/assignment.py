"""Inspectors for each selected entity: recusal, at least two each, balanced load.

The rule (``RULE``), applied the same way by the office and by anyone re-running
a published draw:

1. An entity's *eligible* inspectors are the active ones without a recusal
   (conflict of interest) for it. A recused inspector is never assigned.
2. In selection order (strata in plan order, each in RFC 3797 selection order)
   each entity takes the required number of eligible inspectors with the fewest
   inspections so far. Ties go to the lower SHA-256 of
   ``key + credit code + "/" + certificate + "/"``: random, yet fixed by the
   published key, so nobody chooses who inspects whom.
3. Then, while one inspector has at least two more inspections than another and
   a chain of exchanges can move one inspection from the first towards the
   second without breaking a recusal, the first such chain is applied (breadth-
   first search from the busiest inspectors, in ascending order of entity and
   certificate). Loads end differing by at most one whenever any assignment can
   achieve that; otherwise the spread is the least possible.
4. Fallback, never a silent redraw: an entity with fewer eligible inspectors than
   required gets all of them and ``short_by`` records how many are missing; the
   office adds inspectors from outside the directory (a neighbouring office),
   which is recorded with the result.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass

RULE = "xuncha-assign/1"


@dataclass(frozen=True)
class Assignment:
    entity: str
    stratum: str
    inspectors: tuple[str, ...]  # ascending certificates
    short_by: int = 0


def assign(
    selected: Sequence[tuple[str, str]],
    inspectors: Sequence[str],
    recusals: Collection[tuple[str, str]],
    per_entity: int,
    key: str,
) -> list[Assignment]:
    """Assignments for ``selected`` (entity, stratum) pairs in selection order; see the module rule."""
    pool = sorted(set(inspectors))
    recused = set(recusals)
    eligible = [[i for i in pool if (entity, i) not in recused] for entity, _ in selected]
    load = dict.fromkeys(pool, 0)
    held: dict[str, set[int]] = {i: set() for i in pool}
    chosen: list[set[str]] = []
    for n, (entity, _) in enumerate(selected):
        prefix = f"{key}{entity}/"
        ranked = sorted(eligible[n], key=lambda i: (load[i], _rank(prefix, i)))
        picks = set(ranked[:per_entity])
        for i in picks:
            load[i] += 1
            held[i].add(n)
        chosen.append(picks)
    while (path := _exchange_chain(pool, load, held, chosen, eligible)) is not None:
        for giver, n, taker in path:
            chosen[n].remove(giver)
            chosen[n].add(taker)
            held[giver].remove(n)
            held[taker].add(n)
        load[path[0][0]] -= 1
        load[path[-1][2]] += 1
    return [
        Assignment(entity, stratum, tuple(sorted(chosen[n])), max(0, per_entity - len(chosen[n])))
        for n, (entity, stratum) in enumerate(selected)
    ]


def loads(assignments: Sequence[Assignment], inspectors: Sequence[str]) -> dict[str, int]:
    """How many of the assignments each inspector has."""
    out = dict.fromkeys(inspectors, 0)
    for a in assignments:
        for i in a.inspectors:
            out[i] += 1
    return out


def _rank(prefix: str, inspector: str) -> bytes:
    return hashlib.sha256(f"{prefix}{inspector}/".encode()).digest()


def _exchange_chain(
    pool: list[str],
    load: dict[str, int],
    held: dict[str, set[int]],
    chosen: list[set[str]],
    eligible: list[list[str]],
) -> list[tuple[str, int, str]] | None:
    """The first chain (giver, entity, taker)... moving one inspection down by two or more, if any."""
    if not pool:
        return None
    top, bottom = max(load.values()), min(load.values())
    for level in range(top, bottom + 1, -1):
        sources = [i for i in pool if load[i] >= level]
        parent: dict[str, tuple[str, int]] = {}
        seen = set(sources)
        queue = deque(sources)
        while queue:
            giver = queue.popleft()
            for n in sorted(held[giver]):
                for taker in eligible[n]:
                    if taker in seen or taker in chosen[n]:
                        continue
                    parent[taker] = (giver, n)
                    if load[taker] <= level - 2:
                        return _unwind(parent, taker, sources=set(sources))
                    seen.add(taker)
                    queue.append(taker)
    return None


def _unwind(
    parent: dict[str, tuple[str, int]], end: str, *, sources: set[str]
) -> list[tuple[str, int, str]]:
    path: list[tuple[str, int, str]] = []
    taker = end
    while taker not in sources:
        giver, n = parent[taker]
        path.append((giver, n, taker))
        taker = giver
    return path[::-1]
