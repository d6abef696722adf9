"""Random distortions of whole batches of images, as tensors, during training.

Geometry (rotation, zoom, shear, translation, elastic wobble) is one `grid_sample` call for
the batch; stroke width, brightness and noise are cheap tensor ops. Input and output are
float batches (B, 1, H, W) in [0, 1], white digit on black.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from digitrec.config import AugmentConfig


def _affine_matrices(n: int, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    def uniform(scale: float) -> torch.Tensor:
        return (torch.rand(n, generator=gen, device=gen.device) * 2 - 1) * scale

    angle = uniform(math.radians(cfg.rotation_deg))
    scale = 1 + uniform(cfg.zoom)
    shear = uniform(cfg.shear)
    # affine_grid maps output to input coordinates, so the inverse of the wanted transform:
    # dividing by the scale makes the digit larger for scale > 1.
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3, device=gen.device)
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = -sin + shear * cos
    theta[:, 1, 0] = sin
    theta[:, 1, 1] = cos + shear * sin
    theta[:, :, 2] = torch.stack([uniform(2 * cfg.translate), uniform(2 * cfg.translate)], dim=1)
    return theta


def _elastic_field(n: int, size: int, pixels: float, gen: torch.Generator) -> torch.Tensor:
    """Smooth displacement (n, size, size, 2) in grid units: coarse noise, upsampled."""
    coarse = torch.randn(n, 2, 4, 4, generator=gen, device=gen.device) * (2 * pixels / size)
    return F.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=True).permute(0, 2, 3, 1)


def _change_stroke_width(images: torch.Tensor, fraction: float, gen: torch.Generator) -> torch.Tensor:
    """Blend some images towards a dilated (bolder) or eroded (thinner) copy by a random amount."""
    n = images.shape[0]
    bolder = F.max_pool2d(images, 3, stride=1, padding=1)
    thinner = -F.max_pool2d(-images, 3, stride=1, padding=1)
    amount = torch.rand(n, 1, 1, 1, generator=gen, device=gen.device)
    choice = torch.rand(n, 1, 1, 1, generator=gen, device=gen.device)
    target = torch.where(choice < fraction / 2, bolder, torch.where(choice < fraction, thinner, images))
    return images + amount * (target - images)


def augment_batch(images: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Return a randomly distorted copy of a (B, 1, H, W) batch in [0, 1], on the generator's device."""
    n, _, h, w = images.shape
    grid = F.affine_grid(_affine_matrices(n, cfg, gen), [n, 1, h, w], align_corners=False)
    if cfg.elastic > 0:
        grid = grid + _elastic_field(n, h, cfg.elastic, gen)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.stroke_width > 0:
        out = _change_stroke_width(out, cfg.stroke_width, gen)
    out = out * (1 - torch.rand(n, 1, 1, 1, generator=gen, device=gen.device) * cfg.brightness)
    noise = torch.randn(out.shape, generator=gen, device=gen.device)
    out = out + noise * (torch.rand(n, 1, 1, 1, generator=gen, device=gen.device) * cfg.noise)
    return out.clamp_(0, 1)
