"""Matches already under way when the Network adopts Matchmaker: start one at its current stage.

The stages it went through are recorded as ordinary ``stage_entered`` entries dated at their
milestones (marked ``imported``), so a report reads them as it reads any stage change; then
the prompt the current stage opens is asked, and the match goes on as any other."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.calendar import Calendar
from domain.enums import Stage
from domain.lifecycle.effects import Decision
from domain.lifecycle.run import ENTRY_PROMPT, STAGE_ORDER, Run, day_start
from domain.lifecycle.state import RULES_VERSION, MatchState
from domain.model import ExpressionOfInterest
from domain.policy import TimingPolicy

UNDER_WAY_STAGES = (Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME)
# The date each stage was entered, by the name the import formats give it.
MILESTONES: dict[Stage, str] = {
    Stage.FIELD_VISIT: "field_visit_on",
    Stage.ADAPTATION: "adaptation_on",
    Stage.OUTCOME: "outcome_on",
}


class ImportedHistory(BaseModel):
    """Where a match under way stands, and when it entered each stage it went through."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Literal[Stage.FIELD_VISIT, Stage.ADAPTATION, Stage.OUTCOME] = Field(
        description="the stage the match is in now"
    )
    field_visit_on: date | None = Field(
        default=None, description="when both partners agreed and the field visit was planned"
    )
    adaptation_on: date | None = Field(default=None, description="when the adaptation started")
    outcome_on: date | None = Field(default=None, description="when the outcome was reported")

    @model_validator(mode="after")
    def _consistent(self) -> "ImportedHistory":
        reached = STAGE_ORDER.index(self.stage)
        current = MILESTONES[self.stage]
        if getattr(self, current) is None:
            raise ValueError(f"{current} is required: the date the match entered {self.stage}")
        for stage, name in MILESTONES.items():
            if STAGE_ORDER.index(stage) > reached and getattr(self, name) is not None:
                raise ValueError(
                    f"{name} must be empty: the match has not reached {stage} (it is in "
                    f"{self.stage})"
                )
        dated = self.milestones()
        for (first, earlier), (then, later) in zip(dated, dated[1:], strict=False):
            if later < earlier:
                raise ValueError(
                    f"{MILESTONES[then]} ({later}) must not be before {MILESTONES[first]} "
                    f"({earlier})"
                )
        return self

    def milestones(self) -> list[tuple[Stage, date]]:
        """The stages entered, in order, with their dates (a remote exchange skips the visit)."""
        return [
            (stage, on)
            for stage, name in MILESTONES.items()
            if (on := getattr(self, name)) is not None
        ]

    def check_dates(self, *, submitted: date, today: date) -> str | None:
        """Say what is wrong with the dates against the EOI and today, or None."""
        for stage, on in self.milestones():
            if on < submitted:
                return (
                    f"{MILESTONES[stage]} ({on}) must not be before the EOI was submitted "
                    f"({submitted})"
                )
            if on > today:
                return f"{MILESTONES[stage]} ({on}) must not be after today ({today})"
        return None


def start_imported(
    eoi: ExpressionOfInterest,
    policy: TimingPolicy,
    at: datetime,
    imported: ImportedHistory,
    *,
    rules_version: int = RULES_VERSION,
    calendar: Calendar | None = None,
) -> Decision:
    """Open a match at its current stage with its past milestones as imported history."""
    state = MatchState.opened(eoi, policy, at, rules_version=rules_version, calendar=calendar)
    run = Run(state, min(eoi.submitted_at, at))
    run.record(
        "match_recorded",
        f"Match recorded from EOI {eoi.id} filed at {eoi.workshop.title} (imported)",
        eoi_id=eoi.id,
        workshop_id=eoi.workshop.id,
        imported=True,
    )
    for stage, on in imported.milestones():
        run.at = min(max(day_start(on), run.at), at)  # never before the last entry, nor after now
        previous, run.s.stage = run.s.stage, stage
        run.record(
            "stage_entered",
            f"{previous} → {stage}: imported history ({MILESTONES[stage]} {on})",
            imported=True,
        )
    run.at = at
    run.record(
        "match_imported",
        f"Imported under way, in {imported.stage}; Matchmaker follows it from here",
        stage=imported.stage,
        imported=True,
    )
    kind, party = ENTRY_PROMPT[imported.stage]
    run.open_prompt(kind, party)
    return run.decision()
