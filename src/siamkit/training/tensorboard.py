"""Training curves for TensorBoard (``siamkit train --log tensorboard``).

Each epoch's record (loss, learning rate, images/s, the validation metrics) is written as
scalars under ``RUN/tensorboard/``; a refit run writes its selection phase under
``RUN/selection/tensorboard/``. View them with ``tensorboard --logdir RUN``. Needs the
``tensorboard`` extra (``pip install 'siamkit[tensorboard]'``); ``metrics.json`` holds the same
numbers either way.

Example:
    >>> log = TensorBoardLog(Path("runs/fmnist"))
    >>> log({"epoch": 1, "train_loss": 0.42, "lr": 1e-3, "images_per_second": 1300.0})
    >>> log.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

FOLDER = "tensorboard"
EXTRA = "pip install 'siamkit[tensorboard]'"
SCALARS = {"train_loss": "train/loss", "lr": "train/lr", "images_per_second": "train/images_per_s"}


class TensorBoardLog:
    """Writes one epoch record at a time as TensorBoard scalars.

    Args:
        run_dir: The run directory; events go to ``run_dir/tensorboard``.

    Raises:
        ValueError: tensorboard is not installed; names the extra.
    """

    def __init__(self, run_dir: Path) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ValueError(f"--log tensorboard needs the tensorboard package: {EXTRA}") from None
        self.path = Path(run_dir) / FOLDER
        self._writer = SummaryWriter(log_dir=str(self.path))

    def __call__(self, record: Mapping[str, Any]) -> None:
        """Write ``record``'s numbers at its ``epoch``: train/loss, train/lr,
        train/images_per_s and every number under ``val`` as val/NAME."""
        step = int(record["epoch"])
        for key, tag in SCALARS.items():
            if isinstance(record.get(key), int | float):
                self._writer.add_scalar(tag, float(record[key]), step)
        val = record.get("val")
        if isinstance(val, Mapping):
            for name, value in val.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    self._writer.add_scalar(f"val/{name}", float(value), step)
        self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self._writer.close()
