"""Keyset paging of the match list: the order of each sort, the conditions that select the
rows after a page's last one (each a range its index can start from, so a deep page costs its
rows, not the rows before it), and the cursor of a page's last row."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_

from domain.enums import Stage
from domain.paging import Cursor, encode
from store.tables import MatchRow

STAGE_ORDER = case(
    {stage.value: position for position, stage in enumerate(Stage)}, value=MatchRow.stage
)
# every order ends newest first, then by id: the id makes it total (a cursor names one row)
TIE = (MatchRow.created_at.desc(), MatchRow.id.asc())
# matches without a deadline come last either way
ORDER = {
    "next_deadline": (MatchRow.next_deadline.asc().nulls_last(), *TIE),
    "-next_deadline": (MatchRow.next_deadline.desc().nulls_last(), *TIE),
    "created_at": (MatchRow.created_at.asc(), MatchRow.id.asc()),
    "-created_at": TIE,
    "updated_at": (MatchRow.updated_at.asc(), *TIE),
    "-updated_at": (MatchRow.updated_at.desc(), *TIE),
    "stage": (STAGE_ORDER.asc(), *TIE),
}
_FIELD = {
    "next_deadline": MatchRow.next_deadline,
    "updated_at": MatchRow.updated_at,
    "stage": STAGE_ORDER,
}


def cursor(row: MatchRow, *, sort: str, filters: str) -> str:
    """The cursor that continues a list after this row."""
    field = sort.lstrip("-")
    value: str | int | None = None
    if field == "stage":
        value = list(Stage).index(Stage(row.stage))
    elif field in _FIELD:
        moment = getattr(row, field)
        value = None if moment is None else moment.isoformat()
    return encode(
        Cursor(
            sort=sort,
            filters=filters,
            value=value,
            created_at=row.created_at.isoformat(),
            id=row.id,
        )
    )


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("after holds no time where one was expected") from None
    if moment.tzinfo is None:
        raise ValueError("after holds a time without its zone")
    return moment


def _tie(c: Cursor) -> Any:
    """After (created_at, id) in the tie-breakers' order: newest first, then by id."""
    created = _moment(c.created_at)
    return or_(
        MatchRow.created_at < created, and_(MatchRow.created_at == created, MatchRow.id > c.id)
    )


def after(c: Cursor) -> tuple[list[Any], bool]:
    """The conditions of the rows after the cursor's, and whether the matches without a
    deadline follow those rows (a deadline sort whose cursor had one: they come last, and
    are read by a second query from their start)."""
    sort = c.sort
    descending = sort.startswith("-")
    if sort in ("created_at", "-created_at"):
        created = _moment(c.created_at)
        if descending:
            return [MatchRow.created_at <= created, _tie(c)], False
        return [
            MatchRow.created_at >= created,
            or_(
                MatchRow.created_at > created,
                and_(MatchRow.created_at == created, MatchRow.id > c.id),
            ),
        ], False
    field = _FIELD[sort.lstrip("-")]
    if sort.endswith("next_deadline") and c.value is None:
        return [field.is_(None), _tie(c)], False
    if sort == "stage":
        if not isinstance(c.value, int):
            raise ValueError("after holds no stage where one was expected")
        value: Any = c.value
    else:
        if not isinstance(c.value, str):
            raise ValueError("after holds no time where one was expected")
        value = _moment(c.value)
    further = field < value if descending else field > value
    within = field <= value if descending else field >= value
    return [within, or_(further, and_(field == value, _tie(c)))], sort.endswith("next_deadline")
