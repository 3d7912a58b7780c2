"""Matches seeded straight into the store for the benchmarks of the read side (bench/monitor.py,
bench/console.py): bulk inserts of the tables the workflows write (workshops, institutions,
contacts, solutions, EOIs, matches with their milestones and history), along realistic paths
through the lifecycle; ``touch`` changes one match as a worker's record does."""

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, text

from domain.enums import CloseReason, FocusArea
from domain.reports import Milestones, advance
from store import funnel_cells, writes
from store.tables import (
    ContactRow,
    EoiRow,
    InstitutionRow,
    MatchRow,
    SolutionRow,
    WorkshopRow,
)

NOW = datetime.now(UTC).replace(microsecond=0)
COUNTRIES = [
    "BD",
    "RW",
    "KE",
    "BR",
    "IN",
    "ID",
    "MX",
    "ZA",
    "GH",
    "PH",
    "VN",
    "CO",
    "EG",
    "MA",
    "SN",
    "PE",
    "CL",
    "NG",
    "ET",
    "UG",
    "TZ",
    "NP",
    "LK",
    "PK",
    "TH",
]
WORDS = [
    "digital",
    "centres",
    "irembo",
    "land",
    "registry",
    "health",
    "payments",
    "tax",
    "school",
    "water",
    "permits",
    "identity",
    "pension",
    "census",
    "courts",
    "grievance",
]
# where a match stands: the stage it reached, and how it ended if it did
PATHS = [
    ("follow_up", None, 30),
    ("follow_up", "declined", 12),
    ("follow_up", "lapsed", 14),
    ("field_visit", None, 10),
    ("field_visit", "not_pursued", 6),
    ("adaptation", None, 9),
    ("adaptation", "abandoned", 4),
    ("outcome", None, 4),
    ("outcome", "completed", 11),
]
CHUNK = 2000


def _history(rng: random.Random, stage: str, reason: str | None) -> tuple[list[dict], datetime]:
    """The history kinds a match on this path records, at plausible dates."""
    start = NOW - timedelta(days=rng.uniform(1, 3 * 365))
    at, entries = start, [{"kind": "match_recorded", "stage": "follow_up", "occurred_at": start}]
    for step in ("field_visit", "adaptation", "outcome"):
        if ["follow_up", "field_visit", "adaptation", "outcome"].index(stage) < [
            "follow_up",
            "field_visit",
            "adaptation",
            "outcome",
        ].index(step):
            break
        at = min(at + timedelta(days=rng.uniform(3, 60)), NOW)
        entries.append({"kind": "stage_entered", "stage": step, "occurred_at": at})
        if step == "field_visit" and stage != "field_visit":
            entries.append(
                {"kind": "visit_recorded", "stage": step, "occurred_at": at, "data": {"held": True}}
            )
    if reason is not None:
        at = min(at + timedelta(days=rng.uniform(1, 40)), NOW)
        if reason == "completed":
            outcome = {
                "people_reached": rng.randint(100, 50000),
                "time_saved_days": 1.5,
                "cost_saved_usd": rng.choice([2.0, 3.5, 8.0]),
                "visits_saved": 1.0,
            }
            entries.append(
                {
                    "kind": "outcome_recorded",
                    "stage": stage,
                    "occurred_at": at,
                    "data": {"outcome": outcome},
                }
            )
        entries.append({"kind": "closed", "stage": stage, "occurred_at": at})
    return entries, start


def _matches(begin: int, n: int, workshops: int, solutions: int, rng: random.Random) -> list[dict]:
    weights = [w for *_, w in PATHS]
    rows = []
    for i in range(begin, begin + n):
        stage, reason, _ = rng.choices(PATHS, weights)[0]
        entries, start = _history(rng, stage, reason)
        milestones = advance(Milestones(), entries)
        closed = reason is not None
        waiting = rng.choice(["adopter", "provider", "adopter,provider", "secretariat"])
        attention = not closed and rng.random() < 0.05
        words = " ".join(rng.sample(WORDS, 3))
        rows.append(
            {
                "id": f"match-B{i:07d}",
                "eoi_id": f"B{i:07d}",
                "workflow_id": f"match-B{i:07d}",
                "workshop_id": f"ws-{i % workshops:04d}",
                "solution_id": f"sol-{i % solutions:03d}",
                "focus_area": list(FocusArea)[i % len(FocusArea)].value,
                "provider_country": COUNTRIES[i % 7],
                "adopter_country": rng.choice(COUNTRIES),
                "summary": f"Adopter {i} adapts {words}",
                "search_text": f"adopter {i} adapts {words}",
                "stage": "closed" if closed else stage,
                "status": ("completed" if reason == "completed" else "closed")
                if closed
                else ("needs_attention" if attention else "active"),
                "close_reason": CloseReason(reason).value if closed else None,
                "waiting_on": None if closed else waiting,
                "needs_attention": attention,
                "next_deadline": None if closed else NOW + timedelta(days=rng.uniform(-20, 40)),
                "created_at": start,
                "updated_at": start,
                **milestones.model_dump(),
            }
        )
    return rows


async def seed(sessions, *, matches: int, workshops: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    solutions = 60
    async with sessions() as session:
        await session.execute(
            insert(WorkshopRow),
            [
                {"id": f"ws-{w:04d}", "title": f"Workshop {w}", "held_on": date(2024, 1, 1)}
                for w in range(workshops)
            ],
        )
        await session.execute(
            insert(InstitutionRow),
            [
                {
                    "id": k + 1,
                    "name": f"Institution {k}",
                    "name_key": f"institution {k}",
                    "country": COUNTRIES[k % len(COUNTRIES)],
                }
                for k in range(400)
            ],
        )
        await session.execute(
            insert(ContactRow),
            [
                {
                    "id": k + 1,
                    "email": f"c{k}@example.org",
                    "name": f"Contact {k}",
                    "language": "en",
                }
                for k in range(400)
            ],
        )
        await session.execute(
            insert(SolutionRow),
            [
                {
                    "id": f"sol-{s:03d}",
                    "title": f"Solution {s}",
                    "focus_area": list(FocusArea)[s % 6].value,
                    "provider_institution_id": s + 1,
                    "provider_contact_id": s + 1,
                }
                for s in range(solutions)
            ],
        )
        for begin in range(0, matches, CHUNK):
            rows = _matches(begin, min(CHUNK, matches - begin), workshops, solutions, rng)
            await session.execute(
                insert(EoiRow.__table__),
                [
                    {
                        "id": r["eoi_id"],
                        "workshop_id": r["workshop_id"],
                        "solution_id": r["solution_id"],
                        "adopter_institution_id": 61 + int(r["eoi_id"][1:]) % 300,
                        "adopter_contact_id": 61 + int(r["eoi_id"][1:]) % 300,
                        "interest_statement": "",
                        "submitted_at": r["created_at"],
                        "payload": {},
                    }
                    for r in rows
                ],
            )
            await session.execute(insert(MatchRow.__table__), rows)
        await session.commit()
    async with sessions() as session:
        # the bulk inserts bypass the writers: the funnel's cells counted as the migration's
        # back-fill counts them
        await funnel_cells.rebuild(session)
        await session.commit()
    async with sessions() as session:
        await session.execute(text("ANALYZE"))
        await session.commit()


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def touch(sessions) -> None:  # type: ignore[no-untyped-def]
    """Change one match as a worker's record does (untimed): close it, or reopen it, through
    the writer (store.writes.update_match), which moves its funnel cells in the same unit of
    work."""
    async with sessions() as session:
        row = await session.get(MatchRow, "match-B0000000")
        closing = row.stage != "closed"
        await writes.update_match(
            session,
            match_id=row.id,
            stage="closed" if closing else "follow_up",
            status="closed" if closing else "active",
            next_deadline=None,
            close_reason="declined" if closing else None,
        )
        await session.commit()
