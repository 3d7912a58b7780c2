"""The partner pages in the language of the party's contact (English for any other), from the
catalogs of ``web/locale`` (see docs/languages.md)."""

from functools import cache
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from infra.i18n import DEFAULT_LANGUAGE, jinja_filters, language_of, translations

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts)
    """Mark a page title or message for the catalog; the page translates it as it renders
    (``{{ message | translate }}``); a message built with details stays as it is."""
    return message


@cache
def templates_for(language: str) -> Jinja2Templates:
    """The pages' templates with one language's catalog and formats (built once, on first use)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    catalog = translations(LOCALE_DIR, language)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.filters["translate"] = catalog.gettext  # escaped like any value, unlike _()
    env.filters.update(jinja_filters(language))
    env.filters["strong"] = lambda v: Markup("<strong>%s</strong>") % v
    return Jinja2Templates(env=env)


def page_language(context: dict[str, Any]) -> str:
    """The language of the contact of the party whose link opened the page (the current
    contact: the Secretariat may have changed it), or the one the page was given (the page
    after an answer, which does not read the match); English for a page of no match."""
    if context.get("language"):
        return language_of(str(context["language"]))
    view = context.get("page")
    contacts = getattr(getattr(view, "state", None), "contacts", None)
    contact = contacts.get(view.party) if contacts and view is not None else None
    return language_of(contact.language) if contact is not None else DEFAULT_LANGUAGE
