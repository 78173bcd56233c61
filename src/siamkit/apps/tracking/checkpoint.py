"""A tracker run on disk: ``model.safetensors`` + ``config.json`` + ``metrics.json``.

``config.json`` holds the network's sizes (``widths``, ``exemplar_size``, ``search_size``), the
online :class:`~siamkit.apps.tracking.tracker.TrackerParams` and the training configuration, so
``siamkit track --model RUN`` rebuilds exactly what was trained. A bare ``.safetensors`` file
also loads: the widths are read from the tensor shapes and the sizes are the defaults.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import torch
from safetensors.torch import load_file, save_file

from siamkit.apps.tracking.network import EXEMPLAR_SIZE, SEARCH_SIZE, SiamFC, SiamFCEncoder
from siamkit.apps.tracking.tracker import TrackerParams
from siamkit.run.files import write_json

WEIGHTS = "model.safetensors"


class LoadedTracker(NamedTuple):
    """A network with its online parameters and what was saved beside it."""

    net: SiamFC
    params: TrackerParams
    config: dict[str, Any]
    metrics: dict[str, Any]


def build_net(widths: tuple[int, int, int, int], exemplar_size: int, search_size: int) -> SiamFC:
    """A SiamFC network of the given encoder widths and crop sizes."""
    return SiamFC(SiamFCEncoder(widths), exemplar_size, search_size)


def _widths(net: SiamFC) -> list[int]:
    return [m.out_channels for m in net.encoder.modules() if isinstance(m, torch.nn.Conv2d)]


def save_tracker(
    folder: str | Path,
    net: SiamFC,
    params: TrackerParams,
    train: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Write a run folder atomically (beside its place, then renamed over it)."""
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    weights = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    save_file(weights, str(tmp / WEIGHTS))
    config = {
        "network": {
            "widths": _widths(net),
            "exemplar_size": net.exemplar_size,
            "search_size": net.search_size,
        },
        "tracker": params.model_dump(),
        "train": train or {},
    }
    write_json(tmp / "config.json", config)
    write_json(tmp / "metrics.json", metrics or {})
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(tmp, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def load_tracker(path: str | Path) -> LoadedTracker:
    """Load a run folder from ``siamkit tracker train`` or a bare ``.safetensors`` file.

    Raises:
        ValueError: Nothing loadable at ``path``; the message says how to make a run.

    Example (a run folder saved here from an untrained network):
        >>> from siamkit.apps.tracking.tracker import SiamFCTracker
        >>> save_tracker("runs/tracker", SiamFC(), TrackerParams(window_influence=0.3))
        PosixPath('runs/tracker')
        >>> loaded = load_tracker("runs/tracker")
        >>> tracker = SiamFCTracker(loaded.net, loaded.params)
        >>> loaded.params.window_influence, loaded.config["network"]
        (0.3, {'widths': [16, 32, 32, 32], 'exemplar_size': 63, 'search_size': 127})
    """
    path = Path(path)
    weights = path / WEIGHTS if path.is_dir() else path
    if not weights.is_file():
        raise ValueError(
            f"no tracker model at {path}: pass a run folder from `siamkit tracker train --out "
            f"RUN` (holding {WEIGHTS}) or a .safetensors file"
        )
    state = load_file(str(weights))
    config: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    if (weights.parent / "config.json").is_file():
        config = json.loads((weights.parent / "config.json").read_text())
        if (weights.parent / "metrics.json").is_file():
            metrics = json.loads((weights.parent / "metrics.json").read_text())
    network = config.get("network", {})
    convs = sorted(
        (k for k in state if k.startswith("encoder.layers.") and k.endswith(".weight")
         and state[k].ndim == 4),
        key=lambda k: int(k.split(".")[2]),
    )  # fmt: skip
    widths = tuple(int(state[k].shape[0]) for k in convs)
    if len(widths) != 4:
        raise ValueError(
            f"{weights} is not a SiamFC tracker (found {len(widths)} conv layers, expected 4)"
        )
    net = build_net(
        (widths[0], widths[1], widths[2], widths[3]),
        int(network.get("exemplar_size", EXEMPLAR_SIZE)),
        int(network.get("search_size", SEARCH_SIZE)),
    )
    net.load_state_dict(state)
    params = TrackerParams(**config.get("tracker", {}))
    return LoadedTracker(net.eval(), params, config, metrics)
