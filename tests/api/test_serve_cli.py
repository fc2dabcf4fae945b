"""`trailhouse serve` starts the app on the given port; nothing answers without a token."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.conftest import Tokens
from trailhouse.lake import Lake


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_cli_answers_only_with_a_token(lake: Lake, tokens: Tokens) -> None:
    port = _free_port()
    exe = str(Path(sys.executable).with_name("trailhouse"))
    proc = subprocess.Popen(
        [exe, "serve", "--port", str(port), "--lake", lake.root],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                anonymous = httpx.get(url + "/api/me", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "trailhouse serve did not start within 30 s"
                time.sleep(0.2)
        assert anonymous.status_code == 401
        me = httpx.get(url + "/api/me", headers={"Authorization": f"Bearer {tokens.alice}"}, timeout=10)
        assert me.status_code == 200 and me.json()["user"] == "alice"
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert out.decode().startswith(f"Trailhouse on {url}/ (lake {lake.root}); sign in with an API token.")
