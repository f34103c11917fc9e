"""Models of the five papers, one module each (see the module docstrings for the sources)."""

from sgdclaims.models.basenet import BaseNet, basenet18_layers, narrow_layers, partly_linear_mask
from sgdclaims.models.cnn import PaperCNN
from sgdclaims.models.lenet import LeNet50
from sgdclaims.models.linear import LinearClassifier
from sgdclaims.models.mlp import MLP
from sgdclaims.models.resnet import SwitchResNet50
from sgdclaims.models.seeding import seeded
from sgdclaims.models.vit import small_vit

__all__ = [
    "MLP",
    "BaseNet",
    "LeNet50",
    "LinearClassifier",
    "PaperCNN",
    "SwitchResNet50",
    "basenet18_layers",
    "narrow_layers",
    "partly_linear_mask",
    "seeded",
    "small_vit",
]
