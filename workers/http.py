"""The HTTP application, composed: the JSON API (api/) and the pages for people (web/: the
partners' pages and the Secretariat's console) on one FastAPI app. Both edges are leaves; the
app every process serves (`matchmaker api`, `matchmaker dev`, the tests and benchmarks) is
built here."""

from datetime import timedelta

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.app import create_api
from api.throttle import PARTNER_FORMS, SharedLimiter
from infra.settings import Settings
from infra.signing import PartnerLinks
from services.backend import Backend
from web import console, match_page, partner
from web.assets import STATIC_DIR, STATIC_PATH


def create_app(settings: Settings, *, backend: Backend) -> FastAPI:
    """The whole HTTP application over a backend the caller built (and will close)."""
    app = create_api(settings, backend=backend)
    # partner pages: HTML, outside the JSON API's schema, their signed link the credential
    app.state.partner_links = PartnerLinks(
        settings.link_secrets, grace=timedelta(days=settings.link_grace_days)
    )
    sessions = backend.sessions if backend is not None else None
    app.state.respond_limiter = SharedLimiter(
        sessions, scope=PARTNER_FORMS, limit=settings.partner_answers_per_minute
    )
    app.include_router(partner.router)
    app.include_router(match_page.router)
    console.install(app)  # the Secretariat's pages: HTML, a session cookie the credential
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="static")
    return app
