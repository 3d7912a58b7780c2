"""The vendored libraries are the files VENDORED.md names, byte for byte, and are served."""

import hashlib
import re
from pathlib import Path

from web.assets import STATIC_DIR as STATIC

VENDOR = STATIC / "vendor"
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha>[0-9a-f]{64})` \|$", re.M)


def _listed() -> dict[str, str]:
    return {m["file"]: m["sha"] for m in ROW.finditer((VENDOR / "VENDORED.md").read_text())}


def test_every_vendored_file_has_the_recorded_sha256():
    listed = _listed()
    assert "htmx-2.0.11.min.js" in listed
    for name, sha in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha, name


def test_no_unlisted_script_is_served():
    scripts = {p.name for p in Path(VENDOR).glob("*.js")}
    assert scripts == set(_listed())


def test_the_console_loads_htmx_from_the_app_itself():
    base = (STATIC.parent / "templates" / "console" / "base.html").read_text()
    assert "static_url('vendor/htmx-2.0.11.min.js')" in base
    assert "http://" not in base and "https://" not in base
