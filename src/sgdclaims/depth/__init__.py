"""Partly-linear variants trained side by side and read back (Pinson et al., Sec. 2-3,
App. A; shared/CLAIMS.md, depth_wave):

- `grouped`: the members of a grouped model on the same batches at one learning rate, with
  the divergence rule per member, recording accuracy, predictions, validation loss and
  train-mode preactivation means at evaluations (`train_members`, `MemberSchedule`);
- `members`: the optimiser (`MemberSGD`), eval-mode logits and losses per member, train-mode
  preactivation means (`train_mode_preactivations`);
- `divergence`: smoothing, the persistent divergence point d(k), t_neg(l), Spearman's rho
  with its shuffle null;
- `images`: the validation split, test subset, image side, standardisation, augmentation.
"""

from sgdclaims.depth.divergence import (
    NEGATIVE_MEAN,
    divergence_step,
    first_negative_step,
    rank_correlations,
    shuffle_p,
    smooth,
)
from sgdclaims.depth.grouped import MemberSchedule, train_members
from sgdclaims.depth.images import augment_batch, image_splits
from sgdclaims.depth.members import (
    MemberSGD,
    evaluate_members,
    member_losses,
    train_mode_preactivations,
)

__all__ = [
    "NEGATIVE_MEAN",
    "MemberSGD",
    "MemberSchedule",
    "augment_batch",
    "divergence_step",
    "evaluate_members",
    "first_negative_step",
    "image_splits",
    "member_losses",
    "rank_correlations",
    "shuffle_p",
    "smooth",
    "train_members",
    "train_mode_preactivations",
]
