"""The partner pages in the language of the party's contact (English for any other), from the
catalogs of ``web/locale`` (see docs/languages.md)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.core import negotiate_locale
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from infra.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    format_locale,
    jinja_filters,
    language_of,
    long_date,
    number,
    translations,
)
from web.assets import static_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:  # noqa: N802 (the name pybabel extracts)
    """Mark a page title or message for the catalog; the page translates it as it renders
    (``{{ message | translate }}``); a message built with details stays as it is."""
    return message


@dataclass(frozen=True)
class Said:
    """A message with details, worded in the reader's language as the page renders: ``msgid``
    is marked ``N_`` and has ``%(name)s`` placeholders; a parameter that is itself Said is
    translated too, a date is written the locale's way. ``str()`` is the English."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return (
            self.msgid % {k: str(v) for k, v in self.params.items()} if self.params else self.msgid
        )


def translator(language: str) -> Callable[[Any], str]:
    """The ``translate`` filter of a language: a marked message or a Said in its words (any
    other text as it is)."""
    catalog = translations(LOCALE_DIR, language)

    def translate(value: Any) -> str:
        if isinstance(value, Said):
            params = {k: _param(v) for k, v in value.params.items()}
            text = catalog.gettext(value.msgid)
            return text % params if params else text
        return catalog.gettext(value) if isinstance(value, str) else str(value)

    def _param(value: Any) -> str:
        if isinstance(value, Said):
            return translate(value)
        if isinstance(value, date):
            return long_date(value, language)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return number(value, language)
        return str(value)

    return translate


def plural_count(value: float, language: str) -> int:
    """The whole number that picks the plural form a language gives ``value`` (gettext counts
    in whole numbers): 2.5 days is "2,5 jours", "2,5 дня" (as 2), "1,5 jour" (as 1) by the
    language's plural rules (CLDR, from Babel); a whole value is itself."""
    if float(value).is_integer():
        return int(value)
    rule = Locale.parse(format_locale(language)).plural_form
    category = rule(value)
    # Russian's fractions ("other") take the genitive singular, the form of 2 (дня)
    return next((n for n in range(200) if rule(n) == category), 2)


@cache
def templates_for(language: str) -> Jinja2Templates:
    """The pages' templates with one language's catalog and formats (built once, on first use)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    catalog = translations(LOCALE_DIR, language)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters["translate"] = translator(language)  # escaped like any value, unlike _()
    env.filters.update(jinja_filters(language))
    env.filters["plural_count"] = lambda v: plural_count(v, language)
    env.filters["strong"] = lambda v: Markup("<strong>%s</strong>") % v
    from web.history import told  # the history's words use Said, defined here

    env.globals["told"] = told
    env.globals["static_url"] = static_url
    return Jinja2Templates(env=env)


def accepted_language(header: str | None) -> str | None:
    """The best of the pages' languages for a browser's Accept-Language header ("fr-CH,
    fr;q=0.9, en;q=0.8" → "fr"), None when it accepts none of them. The header is only split
    and ranked by its q-values here; Babel matches the tags (a regional one speaks its
    language, an alias its own)."""
    ranked = []
    for order, item in enumerate((header or "").split(",")[:32]):
        tag, *params = (part.strip() for part in item.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, order, tag))
    best = negotiate_locale([tag for *_, tag in sorted(ranked)], LANGUAGES, sep="-")
    return language_of(best) if best else None


def contact_language(view: Any) -> str | None:
    """The language of the contact of the party whose link opened a page of the match (the
    current contact: the Secretariat may have changed it); None without one."""
    contacts = getattr(getattr(view, "state", None), "contacts", None)
    contact = contacts.get(view.party) if contacts and view is not None else None
    return language_of(contact.language) if contact is not None else None


def page_language(context: dict[str, Any], accept_language: str | None = None) -> str:
    """The language of a partner page: the one it was given (the link's contact's, read
    for a page of no match; the form's, for the page after an answer, which does not read the
    match), else its match's contact's, else the browser's best (``accept_language``, the
    header), else English."""
    if context.get("language"):
        return language_of(str(context["language"]))
    return (
        contact_language(context.get("page"))
        or accepted_language(accept_language)
        or DEFAULT_LANGUAGE
    )
