"""What a training run shows while it runs: the epoch's progress bar (rank 0's console) and
the line each epoch ends with, printed and appended to ``OUT/train.log``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def epoch_progress(enabled: bool, console: Console) -> Progress:
    """The progress bar of one epoch: description, bar, batches done of all, elapsed time and
    an ``info`` field (running loss, throughput, miner statistics) the loop updates.

    Args:
        enabled: Show it (rank 0 with progress asked for); a disabled one draws nothing.
        console: Where it draws.
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[info]}"),
        console=console,
        disable=not enabled,
        transient=False,
    )


def log_epoch(console: Console, run_dir: Path, record: dict[str, Any], improved: bool) -> None:
    """Print the line an epoch ends with (loss, throughput, validation ROC-AUC and P@1) and
    append it to ``run_dir/train.log``.

    Args:
        console: Where it prints.
        run_dir: The run directory.
        record: The epoch's record (``epoch``, ``train_loss``, ``images_per_second``, ``val``).
        improved: The epoch is the best so far (its checkpoint became ``best``).
    """
    val = record.get("val")
    line = f"epoch {record['epoch']}: loss {record['train_loss']:.4f}, " + (
        f"{record['images_per_second']:,.0f} img/s"
    )
    if val:
        line += f"; val ROC-AUC {val['roc_auc']:.4f}, P@1 {val['precision_at_1']:.4f}"
    line += " (best so far)" if improved else ""
    console.print(line)
    with (run_dir / "train.log").open("a") as f:
        f.write(line + "\n")
