"""One real `siamkit serve` process (uvicorn) on a free loopback port, and the CLI's refusals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from serving.service_fakes import KEY, png_bytes
from siamkit.cli.main import app as cli
from siamkit.index import Gallery


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_healthy(proc: subprocess.Popen[bytes], url: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}:\n{out}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("server did not become healthy in time")


@pytest.fixture()
def server(calibrated_run: Path, tmp_path: Path) -> Iterator[str]:
    Gallery.create(tmp_path / "g", calibrated_run).close()
    port = free_port()
    env = {**os.environ, "SIAMKIT_API_KEY": KEY}
    cmd = [sys.executable, "-m", "siamkit", "serve", str(calibrated_run), "--gallery",
           str(tmp_path / "g"), "--port", str(port), "--max-body-mb", "0.01", "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_a_real_server_answers_every_endpoint(server: str) -> None:
    a = png_bytes(np.tile(np.arange(8, dtype=np.uint8) * 30, (8, 1)))
    b = png_bytes(np.zeros((8, 8), np.uint8))
    with httpx.Client(base_url=server, timeout=30) as c:
        h = c.get("/healthz").json()
        assert h["status"] == "ok" and h["gallery_items"] == 0 and h["writable"] is True
        v = c.post("/verify", files={"a": ("a.png", a), "b": ("b.png", b)}).json()
        assert v["distance"] > 0 and isinstance(v["same"], bool) and 0 <= v["probability"] <= 1
        assert (
            c.post("/verify", files={"a": ("a.png", a), "b": ("a.png", a)}).json()["same"] is True
        )
        e = c.post("/embed", files=[("files", ("a.png", a)), ("files", ("b.png", b))]).json()
        assert len(e["embeddings"]) == 2 and e["embedding_dim"] == 16
        assert (
            c.post("/enroll", files={"files": ("a.png", a)}, data={"label": "ada"}).status_code
            == 401
        )
        r = c.post(
            "/enroll",
            files={"files": ("a.png", a)},
            data={"label": "ada"},
            headers={"X-API-Key": KEY},
        )
        assert r.status_code == 200, r.text
        (item,) = r.json()["ids"]
        ident = c.post("/identify", files={"file": ("a.png", a)}).json()
        assert ident["label"] == "ada" and ident["matches"][0]["id"] == item
        assert c.get(f"/items/{item}").json()["label"] == "ada"
        assert c.get(f"/similar/{item}").json() == {"id": item, "matches": []}
        big = c.post(
            "/embed",
            content=b"{" + b" " * 20_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"
        assert c.post("/embed", files={"files": ("x.png", b"junk")}).status_code == 422
        assert (
            c.delete(f"/items/{item}", headers={"Authorization": f"Bearer {KEY}"}).status_code
            == 200
        )
        assert c.get(f"/items/{item}").status_code == 404
        metrics = c.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'siamkit_requests_total{method="POST",path="/verify",status="200"} 2' in metrics.text
        assert c.get("/healthz").json()["gallery_items"] == 0  # still serving after all that


def test_the_cli_refuses_unprotected_write_mode(
    calibrated_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SIAMKIT_API_KEY", raising=False)
    runner = CliRunner()
    r = runner.invoke(cli, ["serve", str(calibrated_run)])
    assert r.exit_code == 2 and "SIAMKIT_API_KEY" in " ".join(r.output.split())
    r = runner.invoke(cli, ["serve", str(calibrated_run), "--host", "0.0.0.0", "--insecure-local"])
    assert r.exit_code == 2 and "loopback" in " ".join(r.output.split())
    monkeypatch.setenv("SIAMKIT_API_KEY", "short")
    r = runner.invoke(cli, ["serve", str(calibrated_run)])
    assert r.exit_code == 2 and "at least 16" in " ".join(r.output.split())
    monkeypatch.delenv("SIAMKIT_API_KEY")
    r = runner.invoke(cli, ["serve", str(calibrated_run.parent / "missing"), "--read-only"])
    assert r.exit_code == 2 and "not a finished siamkit run" in " ".join(r.output.split())
