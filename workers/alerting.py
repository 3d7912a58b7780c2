"""`matchmaker alertmanager-config`: Alertmanager's configuration from the stack's settings.

The deployment's alerts (deploy/alerts.yml) go by email over the same SMTP relay as the
partners' mail, to ``alert_email``. Alertmanager reads YAML, and JSON is YAML: written with
``json`` every value is quoted correctly, whatever a password holds."""

import json
from typing import Any

from infra.settings import Settings

RECEIVER = "operators"


def alertmanager_config(settings: Settings) -> dict[str, Any]:
    """Route every alert to the operators' address; pages repeat hourly, tickets every 12 h."""
    smtp: dict[str, Any] = {
        "smtp_smarthost": f"{settings.smtp_host}:{settings.smtp_port}",
        "smtp_from": str(settings.mail_from),
        "smtp_hello": settings.smtp_host,
        # starttls: Alertmanager asks for STARTTLS; tls: port 465 is implicit TLS to it
        "smtp_require_tls": settings.smtp_tls == "starttls",
    }
    if settings.smtp_username:
        smtp["smtp_auth_username"] = settings.smtp_username
    if settings.smtp_password is not None:
        smtp["smtp_auth_password"] = settings.smtp_password.get_secret_value()
    return {
        "global": smtp,
        "route": {
            "receiver": RECEIVER,
            "group_by": ["alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [{"matchers": ['severity="page"'], "repeat_interval": "1h"}],
        },
        "receivers": [
            {
                "name": RECEIVER,
                "email_configs": [
                    {
                        "to": str(settings.alert_email or settings.secretariat_email),
                        "send_resolved": True,
                    }
                ],
            }
        ],
    }


def render(settings: Settings) -> str:
    return json.dumps(alertmanager_config(settings), indent=2) + "\n"
