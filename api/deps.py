"""Dependencies of the routes, as ``Annotated`` aliases."""

from typing import Annotated

from fastapi import Depends, Request

from infra.settings import Settings
from services.backend import Backend


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


BackendDep = Annotated[Backend, Depends(get_backend)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
