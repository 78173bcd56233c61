"""Gallery fixtures: a transparent vector embedder, and a real PostgreSQL server on loopback."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from siamkit.data.inputs import load_inputs
from siamkit.models.spec import ModelSpec


class VectorEmbedder:
    """An Embedder whose embedding of a vector is the vector times a fixed matrix.

    With ``scale=None`` the embedding is the input itself, so expected distances can be worked
    out by hand; ``load`` reads ``.npy`` / ``.csv`` files like a vector run does.
    """

    kind = "vector"

    def __init__(
        self,
        dim: int = 4,
        distance: str = "euclidean",
        seed: int | None = None,
        threshold: float = 1.0,
    ) -> None:
        self.embedding_dim = dim
        self.distance = distance
        self.threshold = threshold
        rng = np.random.default_rng(seed)
        self.matrix = (
            np.eye(dim, dtype=np.float32)
            if seed is None
            else rng.normal(size=(dim, dim)).astype(np.float32)
        )
        self.fingerprint = f"vector-{dim}-{seed}"
        self.calls = 0

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        x = np.asarray(inputs, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != self.embedding_dim:
            raise ValueError(f"inputs of shape {x.shape} do not fit (N, {self.embedding_dim})")
        self.calls += 1
        return x @ self.matrix

    def load(self, sources: Sequence[str]) -> tuple[npt.NDArray[np.float32], list[str]]:
        spec = ModelSpec(
            encoder="mlp", input_shape=[self.embedding_dim], kind="vector", embedding_dim=4
        )
        x, names = load_inputs(list(sources), spec)
        return x.numpy(), names


class TextEmbedder:
    """An Embedder of texts: counts of the letters a-d (enough to tell test texts apart)."""

    kind = "text"
    embedding_dim = 4
    distance = "euclidean"
    threshold = 1.5
    fingerprint = "letters"

    def embed(self, inputs: npt.NDArray[np.float32] | Sequence[str]) -> npt.NDArray[np.float32]:
        if isinstance(inputs, np.ndarray):
            raise ValueError("this text model embeds texts, not arrays")
        return np.array([[t.count(c) for c in "abcd"] for t in inputs], dtype=np.float32).reshape(
            -1, 4
        )


@pytest.fixture
def vec() -> VectorEmbedder:
    return VectorEmbedder()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server from Debian's packages on a free loopback port; yields its base URL.

    initdb refuses to run as root, so as root the server runs as the ``postgres`` user.
    """
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not bins:
        pytest.skip(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(Debian package postgresql; `make data` installs it)"
        )
    bindir = Path(bins[-1]).parent
    root = Path(tempfile.mkdtemp(prefix="siamkit-pg-"))
    data, log = root / "data", root / "server.log"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [
            *as_user,
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(log),
            "-o",
            opts,
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server: str) -> str:
    """A fresh, empty database on the test server."""
    import psycopg

    name = f"g_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"
