"""The canvas's drawing (fabric.js objects, as streamlit-drawable-canvas hands them over) as
pen strokes for `Recognizer.predict` and `read_number`: no Streamlit here, so it is tested on its own."""

from __future__ import annotations

import numpy as np


def pen_strokes(objects: list[dict], scale: float) -> list[np.ndarray]:
    """The freehand strokes, in the order drawn, as (x, y) points in the image's pixels (the
    canvas's times `scale`). Each path command ends at a point the pen passed; a path moved,
    scaled or turned with the toolbar's edit tool is placed where it now stands (fabric.js keeps
    the path as drawn, and its centre, scale and angle apart)."""
    strokes = []
    for drawn in objects:
        try:
            points = _placed_points(drawn)
        except (TypeError, ValueError, KeyError):
            continue  # not a stroke this reads: the number is read from the image, which is what was drawn
        if points is not None:
            strokes.append(scale * points)
    return strokes


def _placed_points(drawn: dict) -> np.ndarray | None:
    """One object's points where it stands on the canvas; None if it is no freehand stroke."""
    commands = [c for c in drawn.get("path") or [] if len(c) >= 3] if str(drawn.get("type")).lower() == "path" else []
    if not commands:
        return None  # a shape, or a closing "Z" alone
    points = np.array([command[-2:] for command in commands], dtype=np.float64)
    if drawn.get("originX") == drawn.get("originY") == "center":
        corners = np.array([xy for c in commands for xy in zip(c[1::2], c[2::2], strict=True)], dtype=np.float64)
        drawn_centre = (corners.min(axis=0) + corners.max(axis=0)) / 2
        turn = np.radians(float(drawn.get("angle", 0.0)))
        rotation = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
        stretched = (points - drawn_centre) * np.array([drawn.get("scaleX", 1.0), drawn.get("scaleY", 1.0)], dtype=np.float64)
        points = np.array([drawn["left"], drawn["top"]], dtype=np.float64) + stretched @ rotation.T
    return points
