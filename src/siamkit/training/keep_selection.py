"""``--keep-selection``: the final model of a refit run embeds with the selection model beside
the refit one (:mod:`siamkit.models.ensemble`), an ensemble at no extra training.

:func:`siamkit.training.refit.train_with_refit` joins them after the refit, before it fits the
operating point on the joined embedding; ``RUN/last`` stays the refit model's last epoch.
Measured: docs/benchmarks.md, "--keep-selection".
"""

from __future__ import annotations

from typing import cast

from siamkit.models.ensemble import ConcatEncoder
from siamkit.models.spec import build_model
from siamkit.run.checkpoint import LoadedRun, save_checkpoint
from siamkit.run.config import TrainConfig


def keeps_selection(config: TrainConfig, final: LoadedRun) -> bool:
    """Whether the final model embeds with the selection model beside it
    (``--keep-selection``). Not for runs whose embeddings are not normalised, whose distance
    or verification head is sized to one model's embedding (mahalanobis, the Koch head), or
    whose best checkpoint already joins them (a resumed run)."""
    spec = final.spec
    # a learned distance, or the Koch head that verification uses, is sized to one model
    sized = spec.distance == "mahalanobis" or final.config.loss == "koch"
    return config.keep_selection and spec.normalize and not sized and spec.members == 1


def join_selection(final: LoadedRun, selection: LoadedRun, members: list[str]) -> LoadedRun:
    """The refit model and the selection model as one (:mod:`siamkit.models.ensemble`),
    saved as ``RUN/best`` with ``members`` (where each came from) in its metrics; ``RUN/last``
    stays the refit model's last epoch."""
    spec = final.spec.model_copy(
        update={"members": 2, "embedding_dim": 2 * final.spec.embedding_dim}
    )
    model = build_model(spec)
    refit_part, selection_part = cast(ConcatEncoder, model.encoder).members
    refit_part.load_state_dict(final.model.encoder.state_dict())
    selection_part.load_state_dict(selection.model.encoder.state_dict())
    model.eval()
    metrics = {**final.metrics, "members": members}
    save_checkpoint(final.run_dir / "best", model, final.config, spec, metrics)
    return final._replace(model=model, spec=spec, metrics=metrics)
