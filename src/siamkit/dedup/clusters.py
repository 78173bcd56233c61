"""Near-duplicate groups: connected components of the graph of matching document pairs.

Example:
    >>> connected_groups(5, [(0, 1), (1, 3)])
    [[0, 1, 3]]
"""

from __future__ import annotations

from collections.abc import Iterable


def connected_groups(n: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Groups (of 2 or more) of ``0..n-1`` joined by ``edges``, each sorted, ordered by their
    smallest member (union-find with path halving)."""
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])
