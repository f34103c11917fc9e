"""Control classifiers: predictions that keep one property of a classifier (its per-class
accuracy, or its test accuracy with a k-NN's errors) and drop the rest, so that a
statistic can be checked to fail where the claim's effect is absent (CLAIMS.md)."""

from __future__ import annotations

import torch


def control_predictions(
    y: torch.Tensor, l_pred: torch.Tensor, seed: int, num_classes: int = 2
) -> torch.Tensor:
    """The control classifier: exactly L's number of correct predictions in each class, but
    which examples are correct is a seeded random draw, independent of L's errors; a wrong
    prediction is a uniformly drawn other class."""
    gen = torch.Generator().manual_seed(seed)
    y_cpu, l_cpu = y.cpu(), l_pred.cpu()
    out = y_cpu.clone()
    for c in range(num_classes):
        members = torch.nonzero(y_cpu == c).flatten()
        correct = int((l_cpu[members] == c).sum())
        wrong = members[torch.randperm(len(members), generator=gen)[correct:]]
        shift = torch.randint(1, num_classes, (len(wrong),), generator=gen)
        out[wrong] = (c + shift) % num_classes
    return out.to(y.device)


#: reference-set sizes and neighbour counts searched for the accuracy-matched k-NN
KNN_SIZES = (8000, 4000, 2000, 1000, 500, 250, 125, 64, 32)
KNN_KS = (1, 3, 5, 9, 15, 25, 41, 63)


def matched_knn(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    target: float,
    *,
    seed: int = 0,
    num_classes: int = 2,
) -> tuple[torch.Tensor, dict[str, float]]:
    """A nonlinear classifier with a given test accuracy: k-nearest neighbours (Euclidean, raw
    inputs) on a seeded random reference subset of the training set, the (size, k) of the
    grid KNN_SIZES x KNN_KS whose test accuracy is closest to `target` (ties: more
    references, then fewer neighbours). Returns its test predictions and what was chosen."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(x_train), generator=gen).to(x_train.device)
    test = x_test.flatten(1)
    best: tuple[float, int, int, torch.Tensor] | None = None
    for size in sorted({min(s, len(x_train)) for s in KNN_SIZES}, reverse=True):
        ref = order[:size]
        k_max = min(max(KNN_KS), size)
        near = torch.cdist(test, x_train[ref].flatten(1)).topk(k_max, largest=False).indices
        labels = y_train[ref][near]
        votes = torch.nn.functional.one_hot(labels, num_classes).cumsum(dim=1)
        for k in (k for k in KNN_KS if k <= k_max):
            pred = votes[:, k - 1].argmax(dim=1)
            gap = abs((pred == y_test).float().mean().item() - target)
            if best is None or gap < best[0] - 1e-12:
                best = (gap, size, k, pred)
    assert best is not None
    gap, size, k, pred = best
    acc = (pred == y_test).float().mean().item()
    return pred, {"knn_acc": acc, "knn_references": float(size), "knn_k": float(k)}
