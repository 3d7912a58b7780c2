"""Languages of partners' emails and pages: gettext catalogs and locale formats (Babel).

Catalogs are the ``.po`` files under a package's ``locale/`` directory, compiled in memory the
first time a language is asked for (a few milliseconds, once per process): no compiled ``.mo``
is kept in git, so none can go stale against its ``.po`` or conflict at a merge."""

import gettext
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

DEFAULT_LANGUAGE = "en"
LANGUAGES = ("en", "fr", "es", "ru")

# English dates in the international day-month-year order ("3 March 2026").
_FORMAT_LOCALES = {"en": "en_GB"}


def language_of(code: str | None) -> str:
    """Return the supported language of a contact's language code ("fr", "fr-CA", "FR_fr"),
    or English when it is empty or not one Matchmaker speaks."""
    primary = (code or "").strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def catalog_path(locale_dir: Path, language: str, domain: str = "messages") -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=32)
def translations(locale_dir: Path, language: str) -> gettext.NullTranslations:
    """Return the translations of one language from its ``.po`` (fuzzy entries left out), or
    no translation at all (English, the language of the msgids) when there is no catalog."""
    path = catalog_path(locale_dir, language)
    if language == DEFAULT_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def format_locale(language: str) -> str:
    return _FORMAT_LOCALES.get(language, language)


def as_date(value: date | datetime | str) -> date:
    """Return a date from a date, a datetime or an ISO 8601 date or timestamp."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return datetime.fromisoformat(str(value)).date()


# French writes the first of the month as an ordinal: « le 1er mars », never « le 1 mars ».
_FIRST_OF_MONTH = {"fr": {"long": "d'er' MMMM y", "full": "EEEE d'er' MMMM y"}}


def _date(value: date | datetime | str, language: str, form: str) -> str:
    day = as_date(value)
    pattern = _FIRST_OF_MONTH.get(language, {}).get(form) if day.day == 1 else None
    return format_date(day, format=pattern or form, locale=format_locale(language))


def long_date(value: date | datetime | str, language: str) -> str:
    """3 March 2026, 3 mars 2026 (1er mars 2026), 3 de marzo de 2026, 3 марта 2026 г."""
    return _date(value, language, "long")


def full_date(value: date | datetime | str, language: str) -> str:
    """The long date with its weekday: Tuesday, 3 March 2026; mardi 3 mars 2026."""
    return _date(value, language, "full")


def number(value: float | int, language: str) -> str:
    """12,345 / 12 345 / 12.345 / 12 345."""
    return format_decimal(value, locale=format_locale(language))


def usd(value: float | int, language: str) -> str:
    """An amount in US dollars as the locale writes it: US$5,000.00 / 5 000,00 $US."""
    return format_currency(value, "USD", locale=format_locale(language))


def country(code: str, language: str) -> str:
    """The name of a country (ISO 3166 alpha-2) in the language: Kazakhstan, Казахстан."""
    name: str = Locale.parse(format_locale(language)).territories.get(code.upper(), code)
    return name


def days_until(deadline: date | datetime | str, today: date) -> int:
    """Whole days from today to the deadline (negative once it has passed)."""
    return (as_date(deadline) - today).days


def jinja_filters(language: str) -> dict[str, object]:
    """The locale filters every template of a language gets."""
    return {
        "long_date": lambda v: long_date(v, language),
        "full_date": lambda v: full_date(v, language),
        "number": lambda v: number(v, language),
        "usd": lambda v: usd(v, language),
        "country": lambda v: country(str(v), language),
    }
