"""The codec server: Temporal's codec JSON both ways, for staff and admins only, CORS to the UI."""

import base64
import json

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads

from domain.access import Role
from infra.payload_codec import ENCODING, EncryptionCodec, new_key_text, parse_key
from infra.temporal import data_converter, payload_codec
from tests.support import (
    bearer,
    http,
    settings_for_tests,
    sqlite_database_url,  # noqa: F401  (not SQL: SQLite alone)
)
from workers.codec_server import create_codec_app

UI = "http://127.0.0.1:8233"
SECRET = {"name": "Aigerim Nurlanovna", "email": "aigerim@example.kz"}


def body(*payloads: Payload) -> str:
    return json_format.MessageToJson(Payloads(payloads=list(payloads)))


def payloads_of(text: str) -> list[Payload]:
    return list(json_format.Parse(text, Payloads()).payloads)


@pytest.fixture
def settings():
    return settings_for_tests(codec_ui_token="ui-token-" + "x" * 24, codec_max_body_bytes=4096)


@pytest.fixture
def app(settings, sessions):
    return create_codec_app(settings, codec=payload_codec(settings), sessions=sessions)


async def test_round_trip_for_staff_and_the_workers_payloads_decode(app, settings, sessions):
    headers = await bearer(sessions, Role.STAFF)
    [plain] = data_converter(settings).payload_converter.to_payloads([SECRET])
    async with http(app, headers=headers) as client:
        encoded = await client.post("/encode", content=body(plain))
        assert encoded.status_code == 200, encoded.text
        [sealed] = payloads_of(encoded.text)
        assert sealed.metadata["encoding"] == ENCODING and b"Aigerim" not in sealed.data
        decoded = await client.post("/decode", content=encoded.text)
        assert decoded.status_code == 200 and payloads_of(decoded.text) == [plain]
        # what a worker stored, as the UI sends it: base64 in JSON
        [stored] = await data_converter(settings).encode([SECRET])
        shown = await client.post("/decode", content=body(stored))
        [opened] = payloads_of(shown.text)
        assert json.loads(opened.data) == SECRET
        assert base64.b64encode(b"Aigerim").decode() not in body(stored)


async def test_a_request_without_a_staff_or_admin_key_is_refused(app, sessions):
    async with http(app) as client:
        missing = await client.post("/decode", content=body())
        assert missing.status_code == 401 and "Authorization: Bearer" in missing.json()["detail"]
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = await client.post("/decode", content=body(), headers={"Authorization": "Bearer x"})
        assert wrong.status_code == 401
        viewer = await client.post(
            "/decode", content=body(), headers=await bearer(sessions, Role.VIEWER)
        )
        assert viewer.status_code == 403 and "staff or admin" in viewer.json()["detail"]
        admin = await client.post("/decode", content=body(), headers=await bearer(sessions))
        assert admin.status_code == 200


async def test_the_ui_token_path_opens_only_with_the_configured_token(app, settings):
    [stored] = await data_converter(settings).encode([SECRET])
    async with http(app) as client:
        ok = await client.post(f"/ui/ui-token-{'x' * 24}/decode", content=body(stored))
        assert ok.status_code == 200 and json.loads(payloads_of(ok.text)[0].data) == SECRET
        bad = await client.post(f"/ui/ui-token-{'y' * 24}/decode", content=body(stored))
        assert bad.status_code == 401 and "Aigerim" not in bad.text


async def test_an_address_that_keeps_guessing_is_refused_for_a_while(settings, sessions):
    app = create_codec_app(
        settings_for_tests(codec_ui_token="ui-token-" + "x" * 24, api_auth_failures_per_minute=3),
        codec=payload_codec(settings),
        sessions=sessions,
    )
    staff = await bearer(sessions, Role.STAFF)
    async with http(app) as client:
        guesses = [
            await client.post("/decode", content=body(), headers={"Authorization": "Bearer x"}),
            await client.post(f"/ui/ui-token-{'y' * 24}/decode", content=body()),
            await client.post("/decode", content=body(), headers={"Authorization": "Bearer z"}),
        ]
        assert [g.status_code for g in guesses] == [401, 401, 401]
        # past the bound, even a right key or token waits: nothing is looked at
        for refused in (
            await client.post("/decode", content=body(), headers=staff),
            await client.post(f"/ui/ui-token-{'x' * 24}/decode", content=body()),
        ):
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["retry-after"]) >= 1
            assert "too many failed authentications" in refused.json()["detail"]


async def test_cors_answers_the_ui_origin_only(app, sessions):
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    async with http(app) as client:
        allowed = await client.options("/decode", headers={"Origin": UI, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == UI
        assert "authorization" in allowed.headers["access-control-allow-headers"].lower()
        other = await client.options(
            "/decode", headers={"Origin": "https://evil.example", **preflight}
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers
        headers = {"Origin": "https://evil.example", **await bearer(sessions, Role.STAFF)}
        post = await client.post("/decode", content=body(), headers=headers)
        assert "access-control-allow-origin" not in post.headers
        refused = await client.post("/decode", content=body(), headers={"Origin": UI})
        assert refused.status_code == 401  # the UI can read why
        assert refused.headers["access-control-allow-origin"] == UI


async def test_bad_bodies_get_clear_errors(app, settings, sessions):
    headers = await bearer(sessions, Role.STAFF)
    other_key = EncryptionCodec([parse_key(new_key_text("retired"))])
    [unknown] = await other_key.encode(
        data_converter(settings).payload_converter.to_payloads(["x"])
    )
    async with http(app, headers=headers) as client:
        big = await client.post("/decode", content="x" * 5000)
        assert big.status_code == 413 and "4096 bytes" in big.json()["detail"]

        async def chunks():
            for _ in range(5):
                yield b"x" * 1000

        streamed = await client.post("/decode", content=chunks())
        assert streamed.status_code == 413
        malformed = await client.post("/decode", content="{not json")
        assert malformed.status_code == 400 and '"payloads"' in malformed.json()["detail"]
        retired = await client.post("/decode", content=body(unknown))
        assert retired.status_code == 422 and "'retired'" in retired.json()["detail"]


def test_the_dev_stack_wires_its_ui_to_the_codec_server(tmp_path):
    from infra.settings import Settings
    from workers.dev import DevPorts, _temporal_command, _with_codec_wiring

    ports = DevPorts(temporal=7233, ui=9233, api=8000, smtp=1025, codec=9081)
    settings = _with_codec_wiring(Settings(data_dir=tmp_path), ports)
    token = settings.codec_ui_token.get_secret_value()
    assert len(token) >= 32 and settings.codec_cors_origins == [
        "http://127.0.0.1:9233",
        "http://localhost:9233",
    ]
    command = _temporal_command(settings, ports)
    flag = command.index("--ui-codec-endpoint")
    assert command[flag + 1] == f"http://127.0.0.1:9081/ui/{token}"
    again = _with_codec_wiring(Settings(data_dir=tmp_path), ports)
    assert again.codec_ui_token.get_secret_value() != token  # fresh each run
    chosen = Settings(data_dir=tmp_path, codec_cors_origins="https://ui.example")
    assert _with_codec_wiring(chosen, ports).codec_cors_origins == ["https://ui.example"]


def test_payload_key_prints_a_key_the_settings_accept():
    from typer.testing import CliRunner

    from infra.settings import Settings
    from workers.cli import app

    result = CliRunner().invoke(app, ["payload-key", "2026"])
    assert result.exit_code == 0, result.output
    key = result.output.strip()
    assert parse_key(key).id == "2026" and len(parse_key(key).secret) == 32
    assert Settings(payload_keys=key).payload_keys
    refused = CliRunner().invoke(app, ["payload-key", "no spaces"])
    assert refused.exit_code == 2
