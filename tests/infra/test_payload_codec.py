"""The payload codec: AES-GCM per payload, key id in the metadata, rotation, pass-through."""

import base64
import json

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload

from infra.payload_codec import (
    DEV_KEY_FILE,
    ENCODING,
    KEY_ID,
    EncryptionCodec,
    PayloadDecryptionError,
    PayloadKeyError,
    new_key_text,
    parse_key,
)
from infra.settings import Settings
from infra.temporal import data_converter, payload_keys

SECRET = {"name": "Aigerim Nurlanovna", "email": "aigerim@example.kz"}


def plain() -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(SECRET).encode())


async def test_a_payload_is_sealed_with_the_newest_key_and_opens_again():
    old, new = parse_key(new_key_text("k1")), parse_key(new_key_text("k2"))
    codec = EncryptionCodec([new, old])
    [sealed] = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID] == b"k2"
    assert b"Aigerim" not in sealed.SerializeToString() and b"aigerim" not in sealed.data
    assert await codec.decode([sealed]) == [plain()]


async def test_each_payload_gets_its_own_nonce():
    codec = EncryptionCodec([parse_key(new_key_text("k1"))])
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:12] != second.data[:12] and first.data != second.data


async def test_rotation_old_payloads_open_with_an_older_key_in_the_list():
    old = parse_key(new_key_text("2025"))
    [sealed_before] = await EncryptionCodec([old]).encode([plain()])
    rotated = EncryptionCodec([parse_key(new_key_text("2026")), old])
    assert await rotated.decode([sealed_before]) == [plain()]
    [sealed_after] = await rotated.encode([plain()])
    assert sealed_after.metadata[KEY_ID] == b"2026"


async def test_an_unknown_key_id_fails_clearly():
    [sealed] = await EncryptionCodec([parse_key(new_key_text("gone"))]).encode([plain()])
    codec = EncryptionCodec([parse_key(new_key_text("k9"))])
    with pytest.raises(PayloadDecryptionError, match="key 'gone', which is not configured"):
        await codec.decode([sealed])


async def test_a_wrong_key_or_an_altered_payload_fails_clearly():
    codec = EncryptionCodec([parse_key(new_key_text("k1"))])
    [sealed] = await codec.encode([plain()])
    impostor = EncryptionCodec([parse_key(new_key_text("k1"))])
    with pytest.raises(PayloadDecryptionError, match="does not open"):
        await impostor.decode([sealed])
    altered = Payload()
    altered.CopyFrom(sealed)
    altered.data = sealed.data[:-1] + bytes([sealed.data[-1] ^ 1])
    with pytest.raises(PayloadDecryptionError, match="altered"):
        await codec.decode([altered])


async def test_payloads_never_encrypted_pass_through():
    codec = EncryptionCodec([parse_key(new_key_text("k1"))])
    assert await codec.decode([plain()]) == [plain()]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nocolon", "reads 'id:base64key'"),
        ("bad id!:AAAA", "reads 'id:base64key'"),
        ("k1:not base64!", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "5 bytes; AES takes 16, 24 or 32"),
    ],
)
def test_malformed_keys_are_refused_with_what_is_accepted(text, message):
    with pytest.raises(PayloadKeyError, match=message):
        parse_key(text)
    with pytest.raises(ValidationError, match=message):
        Settings(payload_keys=text)


def test_settings_read_keys_newest_first_and_refuse_a_repeated_id():
    first, second = new_key_text("b"), new_key_text("a")
    settings = Settings(payload_keys=f"{first}, {second}")
    assert [k.id for k in payload_keys(settings)] == ["b", "a"]
    with pytest.raises(ValidationError, match="key id twice"):
        Settings(payload_keys=f"{first},{first}")
    assert first.split(":")[1] not in repr(settings)


def test_production_refuses_missing_payload_keys():
    with pytest.raises(ValidationError, match="MATCHMAKER_PAYLOAD_KEYS must be set"):
        Settings(env="production", signing_secret="x" * 48, payload_keys=[])
    assert Settings(
        env="production",
        signing_secret="x" * 48,
        payload_keys=new_key_text("p"),
        public_base_url="https://matchmaker.ssn4psi.org",
    )


async def test_dev_makes_one_key_under_the_data_dir_readable_by_its_owner(tmp_path):
    settings = Settings(env="dev", data_dir=tmp_path / "data", payload_keys=[])
    [key] = payload_keys(settings)
    path = tmp_path / "data" / DEV_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    assert payload_keys(settings) == [key]  # made once, read back
    converter = data_converter(settings)
    payloads = await converter.encode([SECRET])
    assert b"Aigerim" not in payloads[0].SerializeToString()
    assert await data_converter(settings).decode(payloads, [dict]) == [SECRET]
    assert list((tmp_path / "data").iterdir()) == [path]  # no staging file left behind
