"""`matchmaker mail preview`: any email, in any language, from the sample match."""

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from activities.samples import KINDS
from infra.i18n import full_date
from workers.cli import app

RUNNER = CliRunner()


def _preview(*args: str):
    return RUNNER.invoke(app, ["mail", "preview", *args])


def test_a_preview_prints_the_subject_and_the_text_in_the_language_asked():
    result = _preview("introduction_adopter", "--lang", "fr")
    assert result.exit_code == 0, result.output
    first, blank, *body = result.output.splitlines()
    assert first.startswith("Subject: Votre intérêt pour «") and blank == ""
    in_two_weeks = datetime.now(UTC).date() + timedelta(days=14)
    text = " ".join(" ".join(body).split())
    assert f"d’ici le {full_date(in_two_weeks, 'fr')}, soit dans 14 jours" in text
    assert "<html" not in result.output


def test_a_preview_of_a_reminder_in_html():
    result = _preview("check_in", "--lang", "ru", "--html", "--round", "3", "--days-left", "2")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Subject: Напоминание 2: ")
    assert '<html lang="ru">' in result.output and "через 2 дня" in result.output


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_previews(kind):
    assert _preview(kind, "--lang", "es").exit_code == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [(["nope"], "'nope' is not one of"), (["thanks", "--lang", "de"], "'de' is not one of")],
)
def test_an_unknown_kind_or_language_is_refused_with_the_choices(args, says):
    result = _preview(*args)
    assert result.exit_code == 2 and says in " ".join(result.output.split())
