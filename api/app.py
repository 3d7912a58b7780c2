"""The HTTP API: thin handlers over intake, the Temporal client and the read model."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from activities.store import repository
from activities.store.engine import make_engine, make_sessionmaker
from api.intake import ConflictingEoiError, submit_eoi
from api.lifecycle import router as lifecycle_router
from api.schemas import (
    EoiAccepted,
    EoiCreate,
    ErrorResponse,
    MatchDetail,
    MatchList,
    MatchRead,
)
from domain.enums import FocusArea, MatchStatus, Stage
from workers.settings import Settings
from workers.temporal import connect

logger = structlog.get_logger()


def _field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    out = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        out.append({"field": ".".join(loc) or "body", "message": error.get("msg", "invalid")})
    return out


def create_app(settings: Settings, *, client: Client | None = None) -> FastAPI:
    """Build the FastAPI application; the Temporal client connects lazily unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url)
        app.state.sessions = make_sessionmaker(engine)
        app.state.engine = engine
        app.state.client = client or await connect(
            settings.temporal_target, settings.temporal_namespace, lazy=True
        )
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Matchmaker",
        version="0.1.0",
        description="Match lifecycle engine of the South-South Network for Public Service Innovation",
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body = ErrorResponse(detail="invalid request", errors=_field_errors(list(exc.errors())))
        return JSONResponse(status_code=422, content=body.model_dump())

    @app.exception_handler(RPCError)
    async def _temporal_down(_request: Request, exc: RPCError) -> JSONResponse:
        logger.warning("temporal call failed", error=str(exc), status=str(exc.status))
        body = ErrorResponse(detail=f"workflow service unavailable: {exc.message}")
        return JSONResponse(status_code=503, content=body.model_dump())

    async def session(request: Request) -> AsyncIterator[AsyncSession]:
        async with request.app.state.sessions() as s:
            yield s

    Session = Annotated[AsyncSession, Depends(session)]

    @app.get("/healthz", tags=["operations"])
    async def healthz(request: Request, response: Response, db: Session) -> dict[str, str]:
        """Answer 200 only when Temporal and the database are reachable."""
        checks: dict[str, str] = {}
        try:
            await db.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means unhealthy
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            ok = await request.app.state.client.service_client.check_health()
            checks["temporal"] = "ok" if ok else "not serving"
        except Exception as exc:  # noqa: BLE001
            checks["temporal"] = f"unreachable: {type(exc).__name__}"
        healthy = all(v == "ok" for v in checks.values())
        response.status_code = (
            status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
        )
        return {"status": "ok" if healthy else "unavailable", **checks}

    @app.post(
        "/api/eois",
        status_code=status.HTTP_201_CREATED,
        response_model=EoiAccepted,
        responses={
            200: {"model": EoiAccepted, "description": "this EOI had been submitted before"},
            409: {"model": ErrorResponse},
            422: {"model": ErrorResponse},
        },
        tags=["intake"],
    )
    async def create_eoi(eoi: EoiCreate, request: Request, response: Response) -> EoiAccepted:
        """Validate an expression of interest and start its match workflow (once)."""
        try:
            result = await submit_eoi(
                request.app.state.client, eoi=eoi, task_queue=settings.task_queue
            )
        except ConflictingEoiError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        if not result.created:
            response.status_code = status.HTTP_200_OK
        logger.info(
            "eoi submitted", eoi_id=eoi.id, match_id=result.match_id, created=result.created
        )
        return EoiAccepted(
            match_id=result.match_id,
            workflow_id=result.workflow_id,
            eoi_id=eoi.id,
            created=result.created,
            links={
                "match": f"/api/matches/{result.match_id}",
                "temporal_ui": f"http://127.0.0.1:{settings.temporal_ui_port}/namespaces/"
                f"{settings.temporal_namespace}/workflows/{result.workflow_id}",
            },
        )

    @app.get("/api/matches", response_model=MatchList, tags=["matches"])
    async def list_matches(
        db: Session,
        stage: Stage | None = None,
        status_: Annotated[MatchStatus | None, Query(alias="status")] = None,
        focus_area: FocusArea | None = None,
        workshop_id: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> MatchList:
        """List matches, newest first, filtered by stage, status, focus area or workshop."""
        rows, total = await repository.list_matches(
            db,
            stage=stage,
            status=status_,
            focus_area=focus_area,
            workshop_id=workshop_id,
            limit=limit,
            offset=offset,
        )
        return MatchList(
            items=[MatchRead.model_validate(r, from_attributes=True) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @app.get(
        "/api/matches/{match_id}",
        response_model=MatchDetail,
        responses={404: {"model": ErrorResponse}},
        tags=["matches"],
    )
    async def get_match(match_id: str, db: Session) -> MatchDetail:
        """Return one match with its history and the emails sent for it."""
        row = await repository.get_match(db, match_id=match_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no match with id {match_id!r}")
        history = await repository.list_history(db, match_id=match_id)
        emails = await repository.list_outbox(db, match_id=match_id)
        return MatchDetail.model_validate(
            {
                **MatchRead.model_validate(row, from_attributes=True).model_dump(),
                "history": [h.__dict__ for h in history],
                "emails": [e.__dict__ for e in emails],
            }
        )

    app.include_router(lifecycle_router)
    return app
