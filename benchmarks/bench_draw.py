"""Draw figures (issue 11; run by hand: ``python benchmarks/bench_draw.py``).

A town-sized directory far beyond any real township: 50,000 entities in 5 strata
(one per business type, 3% to 20% drawn, about 4,000 entities selected), 200 active
inspectors, 2,000 conflicts of interest, 2 inspectors per entity. Times, with the
real core code:

- hashing the five sorted candidate lists alone (SHA-256, the commitment's floor);
- the draw: RFC 3797 selection in every stratum, inspector assignment with recusal
  and balance, and the published file (``run_draw``);
- verification of the published file as downloaded (``json.loads`` + ``verify``).

Each figure is the median of ``--repeat`` runs and is printed as seconds and as a
ratio to hashing the lists. Options: --entities N, --inspectors N, --conflicts N,
--repeat N, --seed N.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xuncha_core.credit_code import check_character  # noqa: E402
from xuncha_core.inspections.assignment import Assignment, loads  # noqa: E402
from xuncha_core.inspections.commitment import list_sha256, randomness_source  # noqa: E402
from xuncha_core.inspections.directories import Conflict, Entity, Inspector  # noqa: E402
from xuncha_core.inspections.draw import prepare, run_draw  # noqa: E402
from xuncha_core.inspections.plans import Plan  # noqa: E402
from xuncha_core.inspections.verify import verify  # noqa: E402

TYPES = [
    ("catering", "餐饮", "3"),
    ("food_retail", "食品销售", "5"),
    ("pharmacy", "药品零售", "10"),
    ("agri_inputs", "农资", "10"),
    ("special_equipment", "特种设备使用", "20"),
]


def directories(n_entities: int, n_inspectors: int, n_conflicts: int, seed: int) -> tuple[Any, ...]:
    rng = random.Random(seed)
    entities = []
    for n in range(n_entities):
        body = f"92350102MA{n:07d}"
        entities.append(
            Entity(
                body + check_character(body),
                f"商户{n}",
                TYPES[n % 5][1],
                f"大路{n}号",
                f"村{n % 23}",
                ("low", "medium", "high")[n % 3],
            )
        )
    inspectors = [
        Inspector(f"3501{n:07d}", f"执法员{n}", "城关市场监管所") for n in range(n_inspectors)
    ]
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < n_conflicts:
        pairs.add((rng.randrange(n_entities), rng.randrange(n_inspectors)))
    conflicts = [
        Conflict(inspectors[i].certificate, entities[e].credit_code, "same_village")
        for e, i in sorted(pairs)
    ]
    plan = Plan.from_dict(
        {
            "title": "基准测试抽查计划",
            "matters": ["SC-01"],
            "inspectors_per_entity": 2,
            "deadline": "2025-12-31",
            "strata": [
                {"id": code, "name": zh, "filter": {"types": [zh]}, "percent": pct}
                for code, zh, pct in TYPES
            ],
        }
    )
    return plan, entities, inspectors, conflicts


def median_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--inspectors", type=int, default=200)
    parser.add_argument("--conflicts", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20251012)
    args = parser.parse_args()

    plan, entities, inspectors, conflicts = directories(
        args.entities, args.inspectors, args.conflicts, args.seed
    )
    prepare_s, prepared = median_time(
        lambda: prepare(plan, entities, inspectors, conflicts), args.repeat
    )
    hash_s, _ = median_time(lambda: [list_sha256(c) for _, c in prepared.pools], args.repeat)
    commitment = prepared.commit(
        randomness_source("双色球 2025-10-12", date(2025, 10, 12), 2),
        "2025-10-10T08:00:00Z",
    )
    commitment["ledger_index"] = 1
    names = {e.credit_code: e.name for e in entities}
    values = [[3, 9, 12, 20, 25, 31], [7]]

    def draw() -> dict[str, Any]:
        return run_draw(
            commitment=commitment,
            prepared=prepared,
            value_sets=values,
            draw_id="bench",
            drawn_at="2025-10-13T09:00:00Z",
            entity_names=names,
        )

    draw_s, file = median_time(draw, args.repeat)
    text = json.dumps(file, ensure_ascii=False)
    verify_s, result = median_time(lambda: verify(json.loads(text)), args.repeat)
    assert result.ok, result.difference

    chosen = file["assignments"]["entities"]
    load = loads(
        [
            Assignment(a["entity"], a["stratum"], tuple(a["inspectors"]), a["short_by"])
            for a in chosen
        ],
        [i["certificate"] for i in file["inspectors"]],
    )
    print(
        f"entities {args.entities:,} in 5 strata, inspectors {args.inspectors}, conflicts {args.conflicts:,}"
    )
    print(
        f"selected {len(chosen):,}; inspector loads {min(load.values())}..{max(load.values())}; "
        f"short of inspectors {sum(1 for a in chosen if a['short_by'])}; file {len(text.encode()) / 1e6:.1f} MB"
    )
    print(f"prepare (filter, sort)         {prepare_s:8.3f} s")
    print(f"hash the candidate lists alone {hash_s:8.4f} s   1x")
    print(f"draw (select, assign, file)    {draw_s:8.3f} s   {draw_s / hash_s:,.0f}x")
    print(f"verify the published file      {verify_s:8.3f} s   {verify_s / hash_s:,.0f}x")


if __name__ == "__main__":
    main()
