"""Several trained networks as one model: their logits averaged, in one ONNX file.

Networks trained with different seeds make different mistakes; averaging their scores fixes
some of each one's. The members run side by side inside one ONNX graph on the same input, so
the recognizer, the command line and the app use an ensemble exactly as they use one network
(one file, one card, one call). Like `digitrec export`, the result is calibrated and measured
on itself, and gets its own not-a-digit detector, fitted on the members' features side by side.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnx
from onnx import compose, helper, numpy_helper

from digitrec import nondigit
from digitrec.card import load_verified_card, sha256_file
from digitrec.export import finish_model
from digitrec.files import write_bytes_atomically


def averaged(members: list[onnx.ModelProto], input_name: str, output_name: str) -> onnx.ModelProto:
    """One graph: every member on the same input, `output_name` the mean of their outputs."""
    graph_nodes, initializers, outputs, features = [], [], [], []
    for i, member in enumerate(members):
        feature = nondigit.feature_name(member)
        logits_only = onnx.utils.Extractor(member).extract_model([input_name], [output_name])
        prefixed = compose.add_prefix(logits_only, f"m{i}/")
        for node in prefixed.graph.node:  # every member reads the one shared input
            node.input[:] = [input_name if name == f"m{i}/{input_name}" else name for name in node.input]
        graph_nodes += prefixed.graph.node
        initializers += prefixed.graph.initializer
        outputs.append(f"m{i}/{output_name}")
        features.append(f"m{i}/{feature}")
    initializers.append(numpy_helper.from_array(np.array(1 / len(members), dtype=np.float32), "ensemble.weight"))
    graph_nodes += [
        helper.make_node("Sum", outputs, ["ensemble.sum"]),
        helper.make_node("Mul", ["ensemble.sum", "ensemble.weight"], [output_name]),
        helper.make_node("Concat", features, [nondigit.FEATURES], axis=1),  # for the detector
    ]
    first = members[0]
    graph = helper.make_graph(
        graph_nodes,
        "ensemble",
        [i for i in first.graph.input if i.name == input_name],
        [o for o in first.graph.output if o.name == output_name],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=first.opset_import, ir_version=first.ir_version)
    onnx.checker.check_model(model)
    return model


def export_ensemble(
    member_paths: list[Path],
    target: Path,
    data_dir: str | os.PathLike | None = None,
    pen_data: str | os.PathLike | None = None,
) -> Path:
    """Write the members' average to `target` with a card: calibrated, measured, with a detector.

    The members must share their input, their output and their validation split (so the
    ensemble's validation is still data none of them trained on)."""
    cards, models = [], []
    for path in member_paths:
        card, onnx_bytes = load_verified_card(Path(path))
        cards.append(card)
        models.append(onnx.load_from_string(onnx_bytes))
    first = cards[0]
    for key in ("input", "output", "output_name", "pen_data"):
        if any(card.get(key) != first.get(key) for card in cards):
            raise ValueError(f"the members differ in {key!r}: an ensemble needs the same for all")
    if len({card["training"]["settings"]["validation_size"] for card in cards}) > 1:
        raise ValueError("the members were validated on different splits; train them with the same --validation-size")

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.stem}.staging.") as staging:
        model_path = Path(staging) / target.name
        write_bytes_atomically(model_path, averaged(models, first["input"]["name"], first["output_name"]).SerializeToString())
        card = {
            "onnx": model_path.name,
            "sha256": sha256_file(model_path),
            "size_bytes": model_path.stat().st_size,
            "input": first["input"],
            "output": first["output"],
            "output_name": first["output_name"],
            "temperature": 1.0,
            "architecture": "ensemble of " + " + ".join(card["architecture"] for card in cards) + " (mean of logits)",
            "parameters": sum(card["parameters"] for card in cards),
            "training": {
                "command": " && ".join(card["training"]["command"] or "?" for card in cards),
                "settings": first["training"]["settings"],
                "members": [
                    {key: card[key] for key in ("onnx", "sha256", "parameters", "training", "metrics")} for card in cards
                ],
            },
            "data": first["data"],
            "pen_data": first["pen_data"],
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        finish_model(card, model_path, target, first["training"]["settings"]["validation_size"], data_dir, pen_data)
    return target
