"""Dependencies of the routes, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Header, Request

from infra.settings import Settings
from services.backend import Backend

IDEMPOTENCY_KEY_MAX = 200


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX,
        pattern=r"^[\x20-\x7e]+$",
        description=(
            "Names this request (printable ASCII, at most 200 characters): sent again with "
            "the same key, the request answers the first one's result and changes nothing "
            "more. A fresh UUID per intended change is a good key."
        ),
    ),
]
