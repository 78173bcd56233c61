"""Cross-process negatives: 2 gloo processes, each holding a share of one batch, against one
process on the whole batch (the reference): same loss value, same gradients after DDP."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from siamkit.data.identical import identical_inputs
from siamkit.dist import shard_bounds
from siamkit.models.embed import embed_all
from siamkit.training.objective import guards_duplicates

from . import cases
from .helpers import torchrun


@pytest.fixture(scope="module")
def ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("gather")
    torchrun([str(Path(__file__).with_name("gather_worker.py")), str(out)])
    return [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(2)]


def _single_process(name: str) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """One process, the whole (concatenated) batch: the trainer's single-process step."""
    x, labels = cases.batch()
    model, loss_fn = cases.network(), cases.loss(name)
    eq = identical_inputs(x) if guards_duplicates(loss_fn) else None
    if name == "nt_xent":
        v1, v2 = cases.views(x)
        emb = model.embed(torch.cat([v1, v2]))
        labels = torch.arange(len(x)).repeat(2)
        eq = None if eq is None else eq.repeat(2, 2)
    else:
        emb = model.embed(x)
    value = loss_fn(emb, labels) if eq is None else loss_fn(emb, labels, inputs_equal=eq)
    value.backward()
    grads = {f"model.{k}": p.grad for k, p in model.named_parameters()}
    grads |= {f"loss.{k}": p.grad for k, p in loss_fn.named_parameters()}
    return value.detach(), grads


@pytest.mark.parametrize("name", cases.LOSSES)
def test_gathered_loss_and_gradients_equal_one_process(ranks: list[dict], name: str) -> None:
    value, grads = _single_process(name)
    for r in ranks:
        got = r[name]
        assert torch.allclose(got["value"], value, rtol=1e-5, atol=1e-6), (name, got["value"])
        assert got["grads"].keys() == grads.keys()
        for k, g in grads.items():
            assert torch.allclose(got["grads"][k], g, rtol=1e-4, atol=1e-6), (name, k)


@pytest.mark.parametrize("name", ["contrastive", "multi_similarity"])
def test_without_gathering_each_process_has_its_own_loss(ranks: list[dict], name: str) -> None:
    # reference: one process per share; DDP's gradient is their mean weighted by share size
    x, labels = cases.batch()
    shares = [shard_bounds(len(x), r, 2) for r in range(2)]
    weighted: dict[str, torch.Tensor] = {}
    for r, share in enumerate(shares):
        model, loss_fn = cases.network(), cases.loss(name)
        value = loss_fn(model.embed(x[share]), labels[share])
        assert torch.allclose(ranks[r][f"{name}/local"]["value"], value.detach(), atol=1e-6)
        (value * len(labels[share]) / len(x)).backward()
        for k, p in model.named_parameters():
            weighted[f"model.{k}"] = weighted.get(f"model.{k}", 0) + p.grad
    for r in ranks:
        for k, g in weighted.items():
            assert torch.allclose(r[f"{name}/local"]["grads"][k], g, rtol=1e-4, atol=1e-6), k


def test_rotation_term_of_each_share_adds_up_to_one_process(ranks: list[dict]) -> None:
    # one process: metric loss + w·CE over the whole batch; the two shares (5 and 4 items)
    # each add their own mean, weighted by their size, and DDP averages the gradients
    x, labels = cases.batch()
    model, loss_fn = cases.network(), cases.rotation_loss()
    k, xt = cases.turned(x)
    value = loss_fn(model.embed(x), labels)
    (value + loss_fn.weight * loss_fn.rotation(model.embed(xt), k)).backward()
    grads = {f"model.{n}": p.grad for n, p in model.named_parameters()}
    grads |= {f"loss.{n}": p.grad for n, p in loss_fn.named_parameters()}
    assert any(n.startswith("loss.rotation") for n in grads)
    for r in ranks:
        assert r["rotation"]["grads"].keys() == grads.keys()
        for n, g in grads.items():
            assert torch.allclose(r["rotation"]["grads"][n], g, rtol=1e-4, atol=1e-6), n


def test_rotation_classes_gathered_equal_one_process(ranks: list[dict]) -> None:
    # one process: the metric loss over the batch and its turned copies, each (class, turn) a
    # class, guarded over both; plus w·CE. Gathered, the rows come in another order (rank 0's
    # own and turned, then rank 1's), which the loss does not depend on.
    x, labels = cases.batch()
    model, loss_fn = cases.network(), cases.rotation_loss()
    k, xt = cases.turned(x)
    emb_t = model.embed(xt)
    both = torch.cat([x, xt])
    value = loss_fn(
        torch.cat([model.embed(x), emb_t]),
        torch.cat([labels * 4, labels * 4 + k]),
        inputs_equal=identical_inputs(both),
    )
    (value + loss_fn.weight * loss_fn.rotation(emb_t, k)).backward()
    grads = {f"model.{n}": p.grad for n, p in model.named_parameters()}
    grads |= {f"loss.{n}": p.grad for n, p in loss_fn.named_parameters()}
    for r in ranks:
        got = r["rotation_classes"]
        assert torch.allclose(got["value"], value.detach(), rtol=1e-5, atol=1e-6)
        for n, g in grads.items():
            assert torch.allclose(got["grads"][n], g, rtol=1e-4, atol=1e-6), n


def test_duplicate_across_processes_changes_the_loss() -> None:
    # the guard matters in this batch: without it the loss differs, so the test above checks it
    x, labels = cases.batch()
    loss_fn = cases.loss("contrastive")
    emb = cases.network().embed(x)
    guarded = loss_fn(emb, labels, inputs_equal=identical_inputs(x))
    assert identical_inputs(x)[1, 6] and labels[1] != labels[6]
    assert not torch.isclose(guarded, loss_fn(emb, labels))


def test_distributed_embedding_equals_one_process(ranks: list[dict]) -> None:
    x, _ = cases.batch()
    ref = embed_all(cases.network(), x)
    for r in ranks:
        assert torch.allclose(r["embed_all"], ref, atol=1e-6)
        assert torch.allclose(r["embed_few"], ref[:1], atol=1e-6)  # one item, two processes


def test_rank0_error_reaches_every_process(ranks: list[dict]) -> None:
    assert [r["on_main_error"] for r in ranks] == ["refused on rank 0"] * 2
    assert [r["rank"] for r in ranks] == [0, 1]
