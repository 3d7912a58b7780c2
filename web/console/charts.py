"""Charts as server-side SVG: pure functions from the report's numbers to the shapes and
words of a chart, which a Jinja2 macro (``console/_charts.html``) writes out as SVG with a
<title>, a <desc> that says every number, and a text label on every bar."""

from dataclasses import dataclass

from domain.reports import FunnelRow

BAR_HEIGHT = 26
GAP = 10
LABEL_WIDTH = 110
BAR_SPACE = 300
VALUE_WIDTH = 190
WIDTH = LABEL_WIDTH + BAR_SPACE + VALUE_WIDTH


def stage_label(stage: str) -> str:
    """``field_visit`` → ``Field visit``."""
    return stage.replace("_", " ").capitalize()


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio:.0%}"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    text: str  # the number and the conversion, as the bar's label says them


@dataclass(frozen=True)
class FunnelChart:
    title: str
    description: str
    width: int
    height: int
    label_width: int
    bar_height: int
    bars: list[Bar]


def funnel_chart(row: FunnelRow, *, title: str) -> FunnelChart:
    """A horizontal bar per stage of the funnel: how many matches reached it, and the share of
    the stage before that did (the conversion)."""
    top = max([step.reached for step in row.steps] + [1])
    bars, said = [], []
    for index, step in enumerate(row.steps):
        label = stage_label(step.stage)
        if index == 0 or step.conversion is None:  # the first, or none before it
            text = f"{step.reached:,}"
            said.append(f"{label}: {step.reached:,}")
        else:
            text = f"{step.reached:,} ({percent(step.conversion)} of the step before)"
            said.append(f"{label}: {step.reached:,}, {percent(step.conversion)} of the step before")
        bars.append(
            Bar(
                label=label,
                value=step.reached,
                y=index * (BAR_HEIGHT + GAP),
                width=round(BAR_SPACE * step.reached / top, 1),
                text=text,
            )
        )
    return FunnelChart(
        title=title,
        description=f"{row.matches:,} matches, {row.open:,} open. " + "; ".join(said) + ".",
        width=WIDTH,
        height=len(bars) * (BAR_HEIGHT + GAP) - GAP,
        label_width=LABEL_WIDTH,
        bar_height=BAR_HEIGHT,
        bars=bars,
    )
