"""Models of the five papers, one module each (see the module docstrings for the sources)."""

from sgdclaims.models.cnn import PaperCNN
from sgdclaims.models.linear import LinearClassifier
from sgdclaims.models.mlp import MLP
from sgdclaims.models.seeding import seeded
from sgdclaims.models.vit import small_vit

__all__ = ["MLP", "LinearClassifier", "PaperCNN", "seeded", "small_vit"]
