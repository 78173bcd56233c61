"""Near-duplicate groups: connected components of the graph of matching document pairs.

The components come from SciPy (``scipy.sparse.csgraph.connected_components`` on the sparse
pair graph); this module only keeps the groups of two or more and orders them.

Example:
    >>> connected_groups(5, [(0, 1), (1, 3)])
    [[0, 1, 3]]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def connected_groups(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups (of 2 or more) of ``0..n-1`` joined by ``edges``, each sorted, ordered by their
    smallest member.

    Raises:
        ValueError: An edge names a document outside ``0..n-1``.
    """
    pairs = np.asarray(list(edges), dtype=np.int64).reshape(-1, 2)  # (E, 2)
    if len(pairs) and (pairs.min() < 0 or pairs.max() >= n):
        raise ValueError(f"an edge names a document outside 0..{n - 1}")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")  # members of a component stay in index order
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    return sorted(([int(i) for i in g] for g in groups if len(g) > 1), key=lambda g: g[0])
