"""The networks, selectable by name.

`compact` is the default: chosen by measurement for accuracy per second of CPU training
(see BENCHMARKS.md). `original` is the architecture the product was first described with,
kept as a baseline to compare against.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from digitrec.config import DEFAULT_ARCHITECTURE


def conv_bn(
    in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1, padding: int | None = None
) -> nn.Sequential:
    """Convolution, batch norm, ReLU; 'same' padding unless told otherwise."""
    padding = kernel_size // 2 if padding is None else padding
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN layers with a skip connection (projected when the shape changes)."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn(in_channels, out_channels, 3, stride),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.skip = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.skip(x))


class OriginalNet(nn.Module):
    """7x7 conv (64), residual blocks with batch norm, global average pooling,
    dense 256 -> 128 with dropout 0.4 -> 0.3, 10 outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 64, kernel_size=7),
            ResidualBlock(64, 64),
            ResidualBlock(64, 128, stride=2),
            ResidualBlock(128, 256, stride=2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(
            nn.Linear(256, 256),
            nn.ReLU(inplace=True),
            nn.Dropout(0.4),
            nn.Linear(256, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class CompactNet(nn.Module):
    """Two stages of small 3x3 convolutions, each ending in a learned 5x5 stride-2
    downsampling, then a 4x4 convolution to a 128-d code: the well-tried MNIST layout.
    Most of its work is done at 14x14 and below, which is where CPU time buys the most
    accuracy (measured in BENCHMARKS.md)."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(1, 32, padding=0),  # 26x26
            conv_bn(32, 32, padding=0),  # 24x24
            conv_bn(32, 32, kernel_size=5, stride=2),  # 12x12
            nn.Dropout(0.4),
            conv_bn(32, 64, padding=0),  # 10x10
            conv_bn(64, 64, padding=0),  # 8x8
            conv_bn(64, 64, kernel_size=5, stride=2),  # 4x4
            nn.Dropout(0.4),
            conv_bn(64, 128, kernel_size=4, padding=0),  # 1x1
            nn.Flatten(),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.4), nn.Linear(128, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


ARCHITECTURES: dict[str, Callable[[], nn.Module]] = {
    "compact": CompactNet,
    "original": OriginalNet,
}


def build_model(name: str = DEFAULT_ARCHITECTURE) -> nn.Module:
    """Build an untrained network by its name (see `ARCHITECTURES`)."""
    if name not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[name]()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def load_best_network(checkpoint_path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """The best weights a `digitrec train` checkpoint holds, as a network on the CPU, and the
    checkpoint itself: a missing, wrong or damaged file is a clear error, not a traceback."""
    path = Path(checkpoint_path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist; train first with `digitrec train`")
    try:
        ckpt = torch.load(path, weights_only=False, map_location="cpu")
        network = build_model(ckpt["config"]["architecture"])
        network.load_state_dict(ckpt["best"]["state"])
    except Exception as e:
        raise ValueError(f"{path} is not a `digitrec train` checkpoint with trained weights ({e})") from e
    return network.eval(), ckpt
