"""The overview: the network summary, a funnel chart per workshop, the matches that need the
Secretariat (attention, stalled), each a link to its page."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from domain.access import Role
from domain.reports import FunnelRow, StageStep
from store.tables import MatchRow
from tests.support import record_eoi
from tests.web.console.support import signed_in
from web.console.charts import funnel_chart


def test_a_funnel_chart_labels_every_bar_and_describes_every_number():
    row = FunnelRow(
        key="ws-1",
        matches=10,
        open=6,
        steps=[
            StageStep(stage="follow_up", reached=10, conversion=None, median_days=None),
            StageStep(stage="field_visit", reached=4, conversion=0.4, median_days=3),
            StageStep(stage="adaptation", reached=1, conversion=0.25, median_days=None),
            StageStep(stage="outcome", reached=0, conversion=0.0, median_days=None),
            StageStep(stage="completed", reached=0, conversion=None, median_days=None),
        ],
        close_reasons={},
    )
    chart = funnel_chart(row, title="Funnel of workshop ws-1")
    assert [b.label for b in chart.bars] == [
        "Follow up", "Field visit", "Adaptation", "Outcome", "Completed"
    ]  # fmt: skip
    assert [b.width for b in chart.bars] == [300, 120, 30, 0, 0]
    assert chart.bars[1].text == "4 (40% of the step before)"
    assert chart.bars[4].text == "0"  # none reached the step before
    assert chart.description.startswith("10 matches, 6 open. Follow up: 10; Field visit: 4, 40%")


async def test_the_overview_shows_the_network_the_funnels_and_what_needs_attention(
    browser, console_app
):
    sessions = console_app.state.backend.sessions
    calm, urgent, still = [e async for e in _three(sessions)]
    async with sessions() as session:
        await session.execute(
            update(MatchRow).where(MatchRow.id == urgent.match_id).values(needs_attention=True)
        )
        old = datetime.now(UTC) - timedelta(days=45)
        await session.execute(
            update(MatchRow)
            .where(MatchRow.id == still.match_id)
            .values(created_at=old, last_moved_at=old)
        )
        await session.commit()
    await signed_in(browser, sessions, Role.VIEWER)
    page = await browser.get("/console")
    assert page.status_code == 200, page.text
    html = page.text
    attention = html.split('id="attention"')[1].split("</section>")[0]
    assert f'href="/console/matches/{urgent.match_id}"' in attention
    assert calm.match_id not in attention
    stalled = html.split('id="stalled"')[1].split("</section>")[0]
    assert f'href="/console/matches/{still.match_id}"' in stalled
    assert urgent.match_id not in stalled
    assert "<dt>Expressions of interest</dt><dd>3</dd>" in html
    assert '<svg class="chart"' in html and 'role="img"' in html
    assert f'<title id="funnel-1-title">Funnel of workshop {calm.workshop.id}</title>' in html
    assert "3 matches, 3 open. Follow up: 3" in html


async def _three(sessions):  # type: ignore[no-untyped-def]
    for _ in range(3):
        yield await record_eoi(sessions)
