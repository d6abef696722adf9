"""Training settings, free of torch so the command line can show their defaults cheaply."""

from __future__ import annotations

from dataclasses import dataclass, field

MNIST_MEAN = 0.1307  # the network's input is (pixels / 255 - MNIST_MEAN) / MNIST_STD
MNIST_STD = 0.3081
DEFAULT_ARCHITECTURE = "compact"
ARCHITECTURE_NAMES = ("compact", "original")  # built by digitrec.model; named here without torch


@dataclass(frozen=True)
class AugmentConfig:
    rotation_deg: float = 11.5
    zoom: float = 0.10  # scale in [1 - zoom, 1 + zoom]
    shear: float = 0.10
    translate: float = 0.10  # fraction of the image side
    elastic: float = 0.6  # pixels of smooth random displacement (std)
    stroke_width: float = 0.5  # fraction of images made thinner or bolder
    brightness: float = 0.2  # peak intensity scaled into [1 - brightness, 1]
    noise: float = 0.05  # std of added Gaussian noise, drawn per image in [0, noise]


@dataclass
class TrainConfig:
    architecture: str = DEFAULT_ARCHITECTURE
    epochs: int = 20
    batch_size: int = 128
    lr: float = 0.003  # peak of the one-cycle schedule (AdamW)
    weight_decay: float = 0.02
    label_smoothing: float = 0.0
    ema_decay: float = 0.999
    validation_size: int = 5000
    patience: int = 10  # annealing epochs without a lower validation loss before stopping
    seed: int = 0
    train_limit: int | None = None  # train on the first N training images only (quick runs, tests)
    evals_per_epoch: int = 1  # validation checks per epoch (benchmarks want finer timing)
    pen_sources: tuple[str, ...] = ()  # UNIPEN writer groups whose rendered digits join MNIST in training
    pen_copies: int = 4  # renderings of each pen-drawn digit (canvas, pen width, size, place)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
