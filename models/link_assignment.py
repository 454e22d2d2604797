"""Which objects of one time point pair with which of another: the least-cost assignment
over candidate pairs (a linear assignment, as LAP trackers solve it), keeping only the pairs
that are clearly better than any pairing without them (``time_links``)."""

from __future__ import annotations

import numpy as np

NO_PAIR = 1e9  # (the cost of a pair that is not a candidate)
CLEAR_MARGIN = 0.2  # a pairing this many diameters cheaper than any without the pair
MAX_CHECKED_GROUP = 120  # objects in a group of candidates checked pair by pair
MAX_ASSIGNED_GROUP = 600  # beyond this many, the cheapest clear pairs first (no assignment)


def assigned(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, unpaired: float):
    """(row, col) pairs of the least-cost assignment over the candidate pairs ``(rows[k],
    cols[k])`` of cost ``cost[k]``, each row and column paired at most once and each left
    unpaired at a cost of ``unpaired``, each kept only where clear (``_clear``); solved per
    group of candidates that share objects (small groups, however many objects a time point
    holds)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not len(rows):
        return []
    n_rows, n_cols = int(rows.max()) + 1, int(cols.max()) + 1
    graph = coo_matrix((np.ones(len(rows)), (rows, n_rows + cols)),
                       shape=(n_rows + n_cols,) * 2)  # fmt: skip
    _, group = connected_components(graph, directed=False)
    found = []
    order = np.argsort(group[rows], kind="stable")
    starts = np.flatnonzero(np.diff(group[rows][order], prepend=-1))
    for members in np.split(order, starts[1:]):
        group_rows, row_index = np.unique(rows[members], return_inverse=True)
        group_cols, col_index = np.unique(cols[members], return_inverse=True)
        if len(members) == 1:  # (most groups: one free object on each side)
            found.append((int(group_rows[0]), int(group_cols[0])))
            continue
        n, m = len(group_rows), len(group_cols)
        if n + m > MAX_ASSIGNED_GROUP:  # (a crowd moving far: the assignment's cost is cubic)
            found += [(int(group_rows[r]), int(group_cols[c]))
                      for r, c in _clear_best_first(row_index, col_index, cost[members])]
            continue
        # Rows and columns may each stay unpaired: an n x m block of the pairs' costs,
        # bordered by an unpaired choice for every row and every column.
        matrix = np.full((n + m, m + n), NO_PAIR)
        matrix[row_index, col_index] = cost[members]
        matrix[np.arange(n), m + np.arange(n)] = unpaired
        matrix[n + np.arange(m), np.arange(m)] = unpaired
        matrix[n:, m:] = 0.0  # (unpaired with unpaired: nothing)
        chosen = linear_sum_assignment(matrix)
        best = float(matrix[chosen].sum())
        for r, c in zip(*chosen):
            if r < n and c < m and _clear(matrix, (n, m), r, c, best):
                found.append((int(group_rows[r]), int(group_cols[c])))
    return found


def _clear_best_first(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray):
    """For groups too big to assign: the cheapest pairs first, each taken when both objects
    are free and its cost is :data:`CLEAR_MARGIN` below every other candidate of either."""
    def second_best(index: np.ndarray) -> dict[int, float]:
        out: dict[int, list[float]] = {}
        for key, value in zip(index.tolist(), cost.tolist()):
            out.setdefault(key, []).append(value)
        return {key: sorted(values)[1] if len(values) > 1 else np.inf for key, values in out.items()}

    row_next, col_next = second_best(rows), second_best(cols)
    taken_rows, taken_cols, found = set(), set(), []
    for k in np.argsort(cost, kind="stable"):
        r, c = int(rows[k]), int(cols[k])
        if r in taken_rows or c in taken_cols:
            continue
        if min(row_next[r], col_next[c]) - cost[k] >= CLEAR_MARGIN:
            found.append((r, c))
            taken_rows.add(r)
            taken_cols.add(c)
    return found


def _assignment_cost(matrix: np.ndarray) -> float:
    from scipy.optimize import linear_sum_assignment

    return float(matrix[linear_sum_assignment(matrix)].sum())


def _clear(matrix: np.ndarray, size: tuple[int, int], r: int, c: int, best: float) -> bool:
    """Whether the pair (r, c) of the least-cost assignment (cost ``best``) of ``matrix``
    (``size``: its rows and columns of objects, bordered as ``assigned`` builds it) is
    clearly better than any assignment in which r or c pairs with another object: by
    :data:`CLEAR_MARGIN` diameters at least. Where crowded objects move far, two ways of
    pairing them cost about the same, and a guess would give an object another's id: it
    gets a new id instead. (In a group too big for an assignment per pair, the pair must be
    that much cheaper than each object's next candidate.)"""
    n, m = size
    if matrix.shape[0] > MAX_CHECKED_GROUP:
        others = np.concatenate([np.delete(matrix[r, :m], c), np.delete(matrix[:n, c], r)])
        return bool(others.size == 0 or others.min() - matrix[r, c] >= CLEAR_MARGIN)
    for unpaired in ((r, m + r), (n + c, c)):  # r, then c, made to pair with another
        saved = matrix[r, c], matrix[unpaired]
        matrix[r, c] = matrix[unpaired] = NO_PAIR
        try:
            if _assignment_cost(matrix) - best < CLEAR_MARGIN:
                return False
        finally:
            matrix[r, c], matrix[unpaired] = saved
    return True
