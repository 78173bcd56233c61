"""Load on the REST service: 32 concurrent clients against /verify and /identify, with and
without micro-batching, beside the same requests sent one at a time.

Loopback only and bounded: the server is a `siamkit serve` subprocess on a free 127.0.0.1 port
(read-only, so no key is involved), each scenario runs for ``--seconds`` and stops; the script
refuses anything but a loopback host. The gallery holds ``--items`` items (default 10,000):
digits images with a little noise, embedded by the run's model and enrolled in one go.

Scenarios, for each endpoint (JSON bodies with base64 PNGs, prepared before the clock starts):
  * ``batched, wait 2 ms``: ``--clients`` clients, max batch 64, a batch waits up to 2 ms
  * ``batched, no wait``: the same, max wait 0: a batch is what queued while the model ran
  * ``unbatched``: ``--clients`` clients, ``--max-batch 1`` (one model call per request)
  * ``one client``: a single client (max batch 64, no wait): requests served one at a time

    python bench/service_load.py                               # 32 clients x 30 s, 10k items
    python bench/service_load.py --run runs/x --items 300 --seconds 1 --clients 4   # smoke

Client and server share the machine's cores, so requests/s is what this machine serves with the
client running on it. One JSON line per scenario goes to ``--out``
(default bench/results/service-load.jsonl) and a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


def train_run(out: Path) -> Path:
    """A small digits run (conv encoder, 3 epochs), calibrated; about 20 s on 2 cores."""
    from siamkit.evaluation.calibrated_run import calibrate_run
    from siamkit.training import TrainConfig, train

    cfg = TrainConfig(data="digits", train_classes="0-4", eval_classes="5-9", epochs=3,
                      embedding_dim=32, out=str(out), seed=0)  # fmt: skip
    train(cfg, progress=False)
    calibrate_run(out, num_pairs=5000)
    return out


def model_images(n: int, shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """``n`` images ``(n, C, H, W)`` in [0, 1] for a model of input ``shape``: the 1,797 digits
    resized to (H, W) (noisy copies past 1,797), and 1,000 identity labels."""
    import torch.nn.functional as F

    from siamkit.data import load_data

    c, h, w = shape
    x = F.interpolate(
        load_data("digits").x, size=(h, w), mode="bilinear"
    ).numpy()  # (1797, 1, H, W)
    rng = np.random.default_rng(seed)
    idx = np.arange(n) % len(x)
    noise = (idx >= len(x))[:, None, None, None] * rng.normal(0, 0.05, (n, 1, h, w))
    imgs = np.clip(x[idx] + noise, 0, 1).astype(np.float32)
    imgs = np.repeat(imgs, c, axis=1)  # (n, C, H, W)
    return imgs, [f"person{i % 1000}" for i in range(n)]


def prepare_run(run: Path | None, tmp: Path) -> Path:
    """The run to serve: a calibrated copy of ``run`` (the original is not touched), or a new
    small digits run."""
    import shutil

    from siamkit.evaluation.calibrated_run import calibrate_run
    from siamkit.run import Calibration

    if run is None:
        return train_run(tmp / "run")
    copy = tmp / "run"
    shutil.copytree(run, copy, ignore=shutil.ignore_patterns("last"))
    if Calibration.load(copy) is None:
        calibrate_run(copy, num_pairs=5000)
    return copy


def build_gallery(run: Path, folder: Path, items: int) -> None:
    from siamkit.index import Gallery
    from siamkit.index.run_embedder import RunEmbedder

    emb = RunEmbedder(run)
    x, labels = model_images(items, emb.input_shape)
    vectors = np.concatenate([emb.embed(x[i : i + 2048]) for i in range(0, len(x), 2048)])
    with Gallery.create(folder, run) as g:
        g.enroll_embeddings(vectors, labels, fingerprint=emb.fingerprint)


def png_b64(img: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    pixels = (img.transpose(1, 2, 0) * 255).round().astype(np.uint8)  # (H, W, C)
    Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def bodies(endpoint: str, shape: tuple[int, ...], count: int = 256) -> list[bytes]:
    x, _ = model_images(2000, shape, seed=1)
    rng = np.random.default_rng(2)
    out = []
    for _ in range(count):
        i, j = rng.integers(0, len(x), 2)
        if endpoint == "/verify":
            body: dict[str, Any] = {"a": {"image_base64": png_b64(x[i])},
                                    "b": {"image_base64": png_b64(x[j])}}  # fmt: skip
        else:
            body = {"input": {"image_base64": png_b64(x[i])}, "k": 5}
        out.append(json.dumps(body).encode())
    return out


class Server:
    """``siamkit serve`` in a subprocess on a free loopback port."""

    def __init__(
        self, run: Path, gallery: Path, max_batch: int, max_wait_ms: float, host: str, threads: int
    ) -> None:
        self.port = free_port(host)
        self.url = f"http://{host}:{self.port}"
        cmd = [sys.executable, "-m", "siamkit", "serve", str(run), "--gallery", str(gallery),
               "--host", host, "--port", str(self.port), "--read-only", "--max-batch",
               str(max_batch), "--max-wait-ms", str(max_wait_ms), "--num-threads", str(threads),
               "--log-level", "warning"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if k != "SIAMKIT_API_KEY"}
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def wait(self, timeout: float = 120.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{out}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not start in time")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for this bench.

    Requests are prepared bytes and responses are read by ``Content-Length``, so the client's
    own cost per request is a few tens of microseconds and the machine's cores go to the server
    (a general client such as httpx spends about as much CPU per request as the server does).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    @staticmethod
    def request(host: str, method: str, path: str, body: bytes = b"") -> bytes:
        head = (f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")  # fmt: skip
        return head.encode() + body

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one prepared request; returns (status, body). Reconnects when needed."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length)
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def load(
    url: str, endpoint: str, payloads: list[bytes], clients: int, seconds: float
) -> dict[str, Any]:
    """``clients`` closed-loop clients for ``seconds``: each sends its next request when the
    previous answer arrives. Returns latencies and status counts."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    raws = [Connection.request(host, "POST", endpoint, p) for p in payloads]
    metrics_req = Connection.request(host, "GET", "/metrics")
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    conns = [Connection(host, int(port)) for _ in range(clients)]
    for raw in raws[:4]:  # warm-up, not counted
        await conns[0].send(raw)
    before = _batch_totals((await conns[0].send(metrics_req))[1].decode())
    end = time.perf_counter() + seconds

    async def client(c: int) -> None:
        nonlocal errors
        i = c
        while time.perf_counter() < end:
            t = time.perf_counter()
            try:
                status, _ = await asyncio.wait_for(conns[c].send(raws[i % len(raws)]), 30)
                statuses[status] = statuses.get(status, 0) + 1
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                errors += 1
                conns[c].close()
            latencies.append(time.perf_counter() - t)
            i += clients

    start = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    wall = time.perf_counter() - start
    after = _batch_totals((await conns[0].send(metrics_req))[1].decode())
    for conn in conns:
        conn.close()
    lat = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "wall_s": wall,
        "rps": len(latencies) / wall,
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "status": {str(k): v for k, v in sorted(statuses.items())},
        "5xx": sum(v for k, v in statuses.items() if k >= 500),
        "connection_errors": errors,
        "mean_batch": (after[0] - before[0]) / (after[1] - before[1])
        if after[1] > before[1]
        else None,
    }


def _batch_totals(metrics: str) -> tuple[float, float]:
    """(items, model calls) so far, from the service's /metrics."""
    vals = dict(
        line.rsplit(" ", 1)
        for line in metrics.splitlines()
        if line.startswith("siamkit_batch_size_")
    )
    return float(vals.get("siamkit_batch_size_sum", 0)), float(
        vals.get("siamkit_batch_size_count", 0)
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--run",
        type=Path,
        help="A run (a calibrated copy is served); default: train a small digits run.",
    )
    ap.add_argument("--items", type=int, default=10_000, help="Gallery size.")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30.0, help="Per scenario (at most 120).")
    ap.add_argument("--host", default="127.0.0.1", help="Loopback address to serve on.")
    ap.add_argument("--endpoints", default="/verify,/identify")
    ap.add_argument("--num-threads", type=int, default=1, help="Server's torch threads.")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "service-load.jsonl")
    args = ap.parse_args()
    from siamkit.serving import is_loopback

    if not is_loopback(args.host):
        ap.error(
            f"--host must be a loopback address (this bench never leaves the machine); got {args.host}"
        )
    if (
        not 0 < args.seconds <= 120
        or not 1 <= args.clients <= 256
        or not 1 <= args.items <= 1_000_000
    ):
        ap.error(
            "keep it bounded: 0 < --seconds <= 120, 1 <= --clients <= 256, 1 <= --items <= 1e6"
        )
    rows = []
    with tempfile.TemporaryDirectory(prefix="siamkit-load-") as tmp:
        from siamkit.index.run_embedder import RunEmbedder

        run = prepare_run(args.run, Path(tmp))
        shape = RunEmbedder(run).input_shape
        t = time.perf_counter()
        build_gallery(run, Path(tmp) / "gallery", args.items)
        print(
            f"gallery of {args.items} items built in {time.perf_counter() - t:.1f}s",
            file=sys.stderr,
        )
        endpoints = [e for e in args.endpoints.split(",") if e]
        payloads = {e: bodies(e, shape) for e in endpoints}
        scenarios = [
            ("batched, wait 2 ms", 64, 2.0, args.clients),
            ("batched, no wait", 64, 0.0, args.clients),
            ("unbatched", 1, 0.0, args.clients),
            ("one client", 64, 0.0, 1),
        ]
        for name, max_batch, wait, clients in scenarios:
            server = Server(
                run, Path(tmp) / "gallery", max_batch, wait, args.host, args.num_threads
            )
            try:
                server.wait()
                for e in endpoints:
                    res = asyncio.run(load(server.url, e, payloads[e], clients, args.seconds))
                    row = {"endpoint": e, "scenario": name, "max_batch": max_batch,
                           "max_wait_ms": wait, "clients": clients, "threads": args.num_threads,
                           "items": args.items, "seconds": args.seconds, **res,
                           "machine": f"{platform.machine()}, {os.cpu_count()} cores"}  # fmt: skip
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr)
            finally:
                server.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    print(
        "| endpoint | scenario | clients | max batch | requests | req/s | p50 ms | p99 ms | mean batch | 5xx |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        mb = "-" if r["mean_batch"] is None else f"{r['mean_batch']:.1f}"
        print(
            f"| {r['endpoint']} | {r['scenario']} | {r['clients']} | {r['max_batch']} | {r['requests']:,} | "
            f"{r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {mb} | {r['5xx']} |"
        )


if __name__ == "__main__":
    main()
