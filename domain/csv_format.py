"""The workshop CSV format: one row per expression of interest."""

from collections.abc import Mapping

from domain.model import ExpressionOfInterest

CSV_COLUMNS: tuple[str, ...] = (
    "eoi_id",
    "workshop_id",
    "workshop_title",
    "workshop_date",
    "solution_id",
    "solution_title",
    "focus_area",
    "provider_institution",
    "provider_country",
    "provider_contact_name",
    "provider_contact_email",
    "adopter_institution",
    "adopter_country",
    "adopter_contact_name",
    "adopter_contact_email",
    "language",
    "interest_statement",
    "submitted_at",
)


def eoi_from_row(row: Mapping[str, str]) -> ExpressionOfInterest:
    """Build an EOI from one CSV row; raises pydantic.ValidationError on bad fields."""
    missing = [c for c in CSV_COLUMNS if c not in row]
    if missing:
        raise KeyError(f"missing columns: {', '.join(missing)}")
    language = row["language"] or "en"
    return ExpressionOfInterest.model_validate(
        {
            "id": row["eoi_id"],
            "workshop": {
                "id": row["workshop_id"],
                "title": row["workshop_title"],
                "date": row["workshop_date"],
            },
            "solution": {
                "id": row["solution_id"],
                "title": row["solution_title"],
                "focus_area": row["focus_area"],
                "provider": {
                    "name": row["provider_institution"],
                    "country": row["provider_country"],
                },
                "contact": {
                    "name": row["provider_contact_name"],
                    "email": row["provider_contact_email"],
                    "language": language,
                },
            },
            "adopter": {
                "institution": {
                    "name": row["adopter_institution"],
                    "country": row["adopter_country"],
                },
                "contact": {
                    "name": row["adopter_contact_name"],
                    "email": row["adopter_contact_email"],
                    "language": language,
                },
            },
            "interest_statement": row["interest_statement"],
            "submitted_at": row["submitted_at"],
        }
    )
