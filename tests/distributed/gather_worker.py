"""Run by ``torchrun --nproc-per-node 2``: the siamkit DDP step on shares of one batch.

Writes ``OUT/rank{R}.pt`` with, per loss, the loss value and the gradients after DDP's
all-reduce; tests/distributed/test_ddp_gather.py compares them with one process on the
whole batch. Also checks embed_all(distributed=True) and on_main's error sharing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from siamkit.dist import dist_info, on_main, shard_bounds
from siamkit.models.embed import embed_all
from siamkit.training.distributed import gather_batch, process_group, share_weight, wrap_ddp
from siamkit.training.objective import guards_duplicates
from siamkit.training.step import Turned, batch_loss, with_rotation_classes

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cases


def main(out: Path) -> None:
    torch.set_num_threads(1)
    with process_group(torch.device("cpu")) as info:
        assert info.world_size == 2, info
        x, labels = cases.batch()
        mine = shard_bounds(len(x), info.rank, info.world_size)
        xr, yr = x[mine], labels[mine]
        result: dict[str, object] = {}
        for name in cases.LOSSES:
            model, loss_fn = cases.network(), cases.loss(name)
            ddp = wrap_ddp(model, loss_fn, torch.device("cpu"))
            guard = guards_duplicates(loss_fn)
            if name == "nt_xent":  # self-supervised: two views, each item its own class
                v1, v2 = cases.views(xr)
                rows = torch.arange(len(xr)).repeat(2)
                gb = gather_batch(
                    ddp(torch.cat([v1, v2])), rows, xr if guard else None, rows, item_labels=True
                )
            else:
                gb = gather_batch(ddp(xr), yr, xr if guard else None)
            value = batch_loss(loss_fn, gb.embeddings, gb.labels, None, gb.inputs_equal)
            value.backward()
            grads = {f"model.{k}": p.grad.clone() for k, p in model.named_parameters()}
            grads |= {f"loss.{k}": p.grad.clone() for k, p in loss_fn.named_parameters()}
            result[name] = {"value": value.detach(), "grads": grads}
        # rotation: the metric loss on the gathered batch, the rotation term on this share
        # (a second forward outside DDP), weighted as the trainer does
        model, loss_fn = cases.network(), cases.rotation_loss()
        ddp = wrap_ddp(model, loss_fn, torch.device("cpu"))
        gb = gather_batch(ddp(xr), yr)
        value = batch_loss(loss_fn, gb.embeddings, gb.labels, None)
        k, xt = cases.turned(x)
        rot = loss_fn.weight * loss_fn.rotation(model.embed(xt[mine]), k[mine])
        (value + rot * share_weight(len(xr), torch.device("cpu"))).backward()
        grads = {f"model.{k}": p.grad.clone() for k, p in model.named_parameters()}
        grads |= {f"loss.{k}": p.grad.clone() for k, p in loss_fn.named_parameters()}
        result["rotation"] = {"grads": grads}
        # rotation classes: this share's turned items join the metric loss before gathering
        model, loss_fn = cases.network(), cases.rotation_loss()
        ddp = wrap_ddp(model, loss_fn, torch.device("cpu"))
        turned = Turned(k[mine], xt[mine], model.embed(xt[mine]))
        emb, joint, inputs, rows = with_rotation_classes(ddp(xr), yr, None, xr, turned)
        gb = gather_batch(emb, joint, inputs, rows)
        value = batch_loss(loss_fn, gb.embeddings, gb.labels, None, gb.inputs_equal)
        rot = loss_fn.weight * loss_fn.rotation(turned.embeddings, turned.turns)
        (value + rot * share_weight(len(xr), torch.device("cpu"))).backward()
        grads = {f"model.{k}": p.grad.clone() for k, p in model.named_parameters()}
        grads |= {f"loss.{k}": p.grad.clone() for k, p in loss_fn.named_parameters()}
        result["rotation_classes"] = {"value": value.detach(), "grads": grads}
        for name in ("contrastive", "multi_similarity"):  # --no-gather-negatives
            model, loss_fn = cases.network(), cases.loss(name)
            ddp = wrap_ddp(model, loss_fn, torch.device("cpu"))
            value = loss_fn(ddp(xr), yr)  # this process's share only
            (value * share_weight(len(xr), torch.device("cpu"))).backward()
            grads = {f"model.{k}": p.grad.clone() for k, p in model.named_parameters()}
            result[f"{name}/local"] = {"value": value.detach(), "grads": grads}
        result["embed_all"] = embed_all(cases.network(), x, batch_size=2, distributed=True)
        result["embed_few"] = embed_all(cases.network(), x[:1], distributed=True)

        def refuse() -> None:
            raise ValueError("refused on rank 0")

        try:
            on_main(refuse)
            result["on_main_error"] = None
        except ValueError as e:
            result["on_main_error"] = str(e)
        result["rank"] = dist_info().rank
        torch.save(result, out / f"rank{info.rank}.pt")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
