"""The small vision transformer of Schouten & Toonen 2023, from torchvision's class."""

from __future__ import annotations

from torch import nn
from torchvision.models import VisionTransformer


def small_vit(
    in_shape: tuple[int, int, int],
    num_classes: int,
    *,
    patch_size: int = 4,
    num_layers: int = 4,
    num_heads: int = 4,
    hidden_dim: int = 64,
    mlp_dim: int = 128,
) -> VisionTransformer:
    """VisionTransformer(image_size=H, patch 4, 4 layers, 4 heads, hidden 64, mlp 128) whose
    patch projection takes the data's channel count (1 for MNIST, 3 for CIFAR-10)."""
    if len(in_shape) != 3 or in_shape[1] != in_shape[2]:
        raise ValueError(f"small_vit needs square images (C, H, H), got shape {in_shape}")
    channels, size, _ = in_shape
    if size % patch_size:
        raise ValueError(f"patch_size {patch_size} does not divide the image size {size}")
    if hidden_dim % num_heads:
        raise ValueError(f"num_heads {num_heads} does not divide hidden_dim {hidden_dim}")
    vit = VisionTransformer(
        image_size=size,
        patch_size=patch_size,
        num_layers=num_layers,
        num_heads=num_heads,
        hidden_dim=hidden_dim,
        mlp_dim=mlp_dim,
        num_classes=num_classes,
    )
    if channels != 3:
        vit.conv_proj = nn.Conv2d(channels, hidden_dim, kernel_size=patch_size, stride=patch_size)
        nn.init.trunc_normal_(vit.conv_proj.weight, std=(1.0 / (channels * patch_size**2)) ** 0.5)
        nn.init.zeros_(vit.conv_proj.bias)
    return vit
