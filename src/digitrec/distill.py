"""Distillation: a network that learns from an ensemble of trained networks as well as from labels.

Averaging networks trained with different seeds beats each of them on MNIST test (BENCHMARKS.md),
but an ensemble costs one network's time per member at every prediction. A single network trained
to match the ensemble's softened scores, on the same augmented batches, keeps part of that gain at
no cost when predicting (Hinton, Vinyals and Dean, 2015, "Distilling the knowledge in a neural
network"). The teachers run as one vectorised call (`torch.func`), so on a GPU six of them cost
about what one does.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, stack_module_state

from digitrec.model import load_best_network


class Teachers:
    """Several trained networks that answer one batch together with their mean logits."""

    def __init__(self, networks: list[nn.Module]) -> None:
        if not networks:
            raise ValueError("distillation needs at least one teacher")
        networks = [n.eval() for n in networks]
        self.params, self.buffers = stack_module_state(networks)
        self.shape = copy.deepcopy(networks[0]).to("meta")  # the layout the stacked weights fill in

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        def one(params: dict, buffers: dict, x: torch.Tensor) -> torch.Tensor:
            return functional_call(self.shape, (params, buffers), (x,))

        return torch.vmap(one, in_dims=(0, 0, None))(self.params, self.buffers, images).mean(0)


def load_teachers(checkpoint_paths: tuple[str, ...], validation_size: int, device: torch.device) -> Teachers:
    """Teachers from training checkpoints. They must have held out the same validation images as
    the student, or the student's validation score would measure what the teachers memorised."""
    networks = []
    for path in checkpoint_paths:
        network, ckpt = load_best_network(path, device)
        if ckpt["config"]["validation_size"] != validation_size:
            raise ValueError(
                f"{path} held out {ckpt['config']['validation_size']} validation images, this run {validation_size}:"
                " its teacher has seen this run's validation images; train them with the same --validation-size"
            )
        networks.append(network)
    return Teachers(networks)


def distillation_loss(
    logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor, weight: float, temperature: float
) -> torch.Tensor:
    """(1 - weight) x cross-entropy with the labels + weight x T^2 x KL(teachers || student) at
    temperature T: a higher T shows the student which wrong digits the teachers found close."""
    hard = F.cross_entropy(logits, labels)
    soft = F.kl_div(
        F.log_softmax(logits / temperature, dim=1),
        F.log_softmax(teacher_logits / temperature, dim=1),
        log_target=True,
        reduction="batchmean",
    )
    return (1 - weight) * hard + weight * temperature**2 * soft
