"""Classify test embeddings from labelled training embeddings: k-NN vote or nearest prototype.

Both classifiers are brute force over row chunks of the test set, so memory stays at
``O(chunk_size * N)`` on top of the inputs; scores come from scikit-learn.

Example:
    >>> from sklearn.datasets import load_digits
    >>> x, y = load_digits(return_X_y=True)  # 64-d pixel vectors as embeddings
    >>> emb, labels = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    >>> train_emb, train_y, test_emb, test_y = emb[::2], labels[::2], emb[1::2], labels[1::2]
    >>> pred = knn_classify(train_emb, train_y, test_emb, k=5, distance="cosine")
    >>> m = classification_metrics(test_y, pred)
    >>> round(m.accuracy, 3), round(m.macro_f1, 3)
    (0.979, 0.979)
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from torch import Tensor

from siamkit.distances import Distance, get_distance


class PrototypeClassification(NamedTuple):
    """Output of :func:`prototype_classify`.

    Attributes:
        predictions: ``(M,)`` predicted labels (values of ``train_y``).
        probabilities: ``(M, C)`` softmax over the classes; column ``c`` is the class
            ``torch.unique(train_y)[c]`` (labels in increasing order). Rows sum to 1.
    """

    predictions: Tensor
    probabilities: Tensor


class ClassificationMetrics(NamedTuple):
    """Scores of predicted labels.

    Attributes:
        accuracy: Share of items predicted right.
        macro_f1: F1 averaged over the classes present in the true or predicted labels,
            each class weighing the same (a class never predicted scores 0).
    """

    accuracy: float
    macro_f1: float


def knn_classify(
    train_emb: Tensor,
    train_y: Tensor,
    test_emb: Tensor,
    k: int = 5,
    distance: str | Distance = "euclidean",
    chunk_size: int = 1024,
) -> Tensor:
    """Majority vote of the ``k`` closest training items.

    Ties in the vote go to the tied class whose closest member among the ``k`` neighbours
    is closest (so with ``k = 2`` and two different labels, the nearest neighbour wins).
    scikit-learn's ``KNeighborsClassifier`` breaks the same ties by the smallest label
    instead; without vote ties the two agree. Ties in distance at the ``k``-th place are
    broken arbitrarily by ``torch.topk``.

    Args:
        train_emb: ``(N, D)`` labelled embeddings.
        train_y: ``(N,)`` integer labels.
        test_emb: ``(M, D)`` embeddings to classify.
        k: Neighbours that vote, ``1 <= k <= N``.
        distance: A :class:`~siamkit.distances.Distance` or its registered name.
        chunk_size: Test rows handled at a time.

    Returns:
        ``(M,)`` predicted labels, same dtype as ``train_y``.

    Example:
        >>> knn_classify(torch.tensor([[0.0], [1.0], [9.0]]), torch.tensor([0, 0, 1]),
        ...              torch.tensor([[8.0]]), k=1)
        tensor([1])
    """
    dist = get_distance(distance)
    train_y = _check_train(train_emb, train_y, test_emb)
    if not 1 <= k <= len(train_emb):
        raise ValueError(
            f"k must be between 1 and the number of training items ({len(train_emb)}), got {k}"
        )
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    classes, y_idx = torch.unique(train_y, return_inverse=True)  # (C,), (N,)
    out = torch.empty(len(test_emb), dtype=torch.long, device=train_y.device)
    for s in range(0, len(test_emb), chunk_size):
        block = dist.closeness(dist.matrix(test_emb[s : s + chunk_size], train_emb))  # (c, N)
        nbr = block.topk(k, dim=1, sorted=True).indices  # (c, k), closest first
        nbr_cls = y_idx[nbr]  # (c, k)
        votes = torch.zeros(len(nbr), len(classes), dtype=torch.long, device=nbr.device)
        votes.scatter_add_(1, nbr_cls, torch.ones_like(nbr_cls))  # (c, C)
        tied = votes == votes.max(dim=1, keepdim=True).values  # (c, C)
        # The first neighbour (closest) whose class is among the most voted.
        first = tied.gather(1, nbr_cls).int().argmax(dim=1)  # (c,)
        out[s : s + chunk_size] = nbr_cls.gather(1, first.unsqueeze(1)).squeeze(1)
    return classes[out]


def prototype_classify(
    train_emb: Tensor,
    train_y: Tensor,
    test_emb: Tensor,
    distance: str | Distance = "euclidean",
    temperature: float = 1.0,
    chunk_size: int = 1024,
) -> PrototypeClassification:
    """Nearest class prototype (mean training embedding), with softmax class probabilities.

    ``probabilities[i, c] = softmax_c(closeness(test_i, prototype_c) / temperature)``, where
    closeness is the negative distance, or the similarity itself for a similarity
    (Snell et al. 2017, "Prototypical Networks for Few-shot Learning", eq. 2).

    Args:
        train_emb: ``(N, D)`` labelled embeddings.
        train_y: ``(N,)`` integer labels.
        test_emb: ``(M, D)`` embeddings to classify.
        distance: A :class:`~siamkit.distances.Distance` or its registered name.
        temperature: Divides the logits; smaller is sharper (> 0).
        chunk_size: Test rows handled at a time.

    Returns:
        A :class:`PrototypeClassification`: predictions ``(M,)`` and probabilities ``(M, C)``
        with columns in the order of ``torch.unique(train_y)``.

    Example:
        >>> train_emb = torch.tensor([[0.0], [1.0], [9.0], [10.0]])
        >>> train_y, test_emb = torch.tensor([0, 0, 1, 1]), torch.tensor([[4.0]])
        >>> pred, prob = prototype_classify(train_emb, train_y, test_emb, "euclidean", 1.0)
        >>> pred, prob  # prototypes 0.5 and 9.5, at distances 3.5 and 5.5
        (tensor([0]), tensor([[0.8808, 0.1192]]))
    """
    dist = get_distance(distance)
    train_y = _check_train(train_emb, train_y, test_emb)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    classes, y_idx = torch.unique(train_y, return_inverse=True)  # (C,), (N,)
    sums = train_emb.new_zeros(len(classes), train_emb.shape[1])
    sums.index_add_(0, y_idx, train_emb)
    counts = torch.bincount(y_idx, minlength=len(classes)).to(train_emb.dtype)  # (C,)
    prototypes = sums / counts.unsqueeze(1)  # (C, D)
    probs = [
        torch.softmax(
            dist.closeness(dist.matrix(test_emb[s : s + chunk_size], prototypes)) / temperature,
            dim=1,
        )  # (c, C)
        for s in range(0, len(test_emb), chunk_size)
    ]
    probabilities = torch.cat(probs) if probs else test_emb.new_zeros(0, len(classes))
    return PrototypeClassification(classes[probabilities.argmax(dim=1)], probabilities)


def classification_metrics(
    y_true: Tensor | np.ndarray, y_pred: Tensor | np.ndarray
) -> ClassificationMetrics:
    """Accuracy and macro-averaged F1, by scikit-learn.

    Args:
        y_true: ``(M,)`` true labels.
        y_pred: ``(M,)`` predicted labels.

    Returns:
        A :class:`ClassificationMetrics`.

    Example:
        >>> classification_metrics(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]))
        ClassificationMetrics(accuracy=0.666..., macro_f1=0.666...)
    """
    t, p = _numpy(y_true), _numpy(y_pred)
    if t.ndim != 1 or t.shape != p.shape or len(t) == 0:
        raise ValueError(
            "y_true and y_pred must be non-empty 1-D arrays of the same length; got shapes "
            f"{t.shape} and {p.shape}"
        )
    return ClassificationMetrics(
        accuracy=float(accuracy_score(t, p)),
        macro_f1=float(f1_score(t, p, average="macro", zero_division=0)),
    )


def classify_and_score(
    train_emb: Tensor,
    train_y: Tensor,
    test_emb: Tensor,
    test_y: Tensor,
    method: Literal["knn", "prototype"] = "knn",
    distance: str | Distance = "euclidean",
    k: int = 5,
    temperature: float = 1.0,
) -> ClassificationMetrics:
    """Classify ``test_emb`` with :func:`knn_classify` or :func:`prototype_classify` and score it.

    Args:
        train_emb: ``(N, D)`` labelled embeddings.
        train_y: ``(N,)`` integer labels.
        test_emb: ``(M, D)`` embeddings to classify.
        test_y: ``(M,)`` their true labels.
        method: ``"knn"`` (uses ``k``) or ``"prototype"`` (uses ``temperature``, which does
            not change the predictions).
        distance: A :class:`~siamkit.distances.Distance` or its registered name.

    Returns:
        A :class:`ClassificationMetrics`.

    Example:
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)
        >>> x, y = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
        >>> m = classify_and_score(x[::2], y[::2], x[1::2], y[1::2], "prototype", "cosine")
        >>> round(m.accuracy, 3)
        0.9
    """
    if method == "knn":
        pred = knn_classify(train_emb, train_y, test_emb, k=k, distance=distance)
    elif method == "prototype":
        pred = prototype_classify(train_emb, train_y, test_emb, distance, temperature).predictions
    else:
        raise ValueError(f"unknown classification method {method!r}; choose one of: knn, prototype")
    return classification_metrics(test_y, pred)


def _check_train(train_emb: Tensor, train_y: Tensor, test_emb: Tensor) -> Tensor:
    train_y = torch.as_tensor(train_y, device=train_emb.device)
    if train_emb.dim() != 2 or test_emb.dim() != 2:
        raise ValueError(
            f"embeddings must be 2-D (N, D); got train {tuple(train_emb.shape)} and test "
            f"{tuple(test_emb.shape)}"
        )
    if len(train_emb) == 0:
        raise ValueError("no training embeddings to classify from")
    if train_y.dim() != 1 or len(train_y) != len(train_emb):
        raise ValueError(
            f"train_y must be 1-D with one label per training embedding ({len(train_emb)}); "
            f"got shape {tuple(train_y.shape)}"
        )
    return train_y


def _numpy(x: Tensor | np.ndarray) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x)
