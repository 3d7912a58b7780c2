"""Temporal: the one data converter, client construction, namespace set-up, PyPI binaries."""

import dataclasses
import os
import sysconfig
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
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

from infra.payload_codec import (
    EncryptionCodec,
    PayloadKey,
    PayloadKeyError,
    dev_key,
    parse_key,
)
from infra.settings import Settings


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


def payload_keys(settings: Settings) -> list[PayloadKey]:
    """The configured payload keys, newest first; in dev without any, the stack's own key."""
    if settings.payload_keys:
        return [parse_key(key.get_secret_value()) for key in settings.payload_keys]
    if settings.env != "dev":  # Settings refuses this already; never fall back silently
        raise PayloadKeyError("MATCHMAKER_PAYLOAD_KEYS must be set outside dev mode")
    return [dev_key(settings.data_dir)]


def payload_codec(settings: Settings) -> EncryptionCodec:
    """The codec that seals payloads with the settings' keys (the codec server uses it too)."""
    return EncryptionCodec(payload_keys(settings))


def data_converter(settings: Settings) -> DataConverter:
    """The one data converter of every client, worker, replayer, test and benchmark: pydantic
    models to JSON, then every payload encrypted (payloads stored unencrypted still open)."""
    return dataclasses.replace(pydantic_data_converter, payload_codec=payload_codec(settings))


def readable(text: str) -> Payload:
    """A payload the codec leaves alone: for workflow summaries the UI shows without the codec
    server. Only for text that holds no personal data."""
    return pydantic_data_converter.payload_converter.to_payloads([text])[0]


async def connect(settings: Settings, *, lazy: bool = False, **options: Any) -> Client:
    """Connect to the settings' Temporal with the project's data converter (lazily: on first
    call); ``options`` (runtime, interceptors: infra/telemetry.client_options) go to the client."""
    return await Client.connect(
        settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        lazy=lazy,
        **options,
    )


def search_attribute_flags(keys: tuple[SearchAttributeKey[Any], ...]) -> list[str]:
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
    client: Client, namespace: str, keys: tuple[SearchAttributeKey[Any], ...]
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
