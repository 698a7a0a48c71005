"""Which device a model runs on: cuda > mps > cpu, unless the learner or $GENAI_LAB_DEVICE
says otherwise."""
from __future__ import annotations

import os

from lessons.models.paths import ModelUnavailable


# --------------------------------------------------------------------------- device
def available_devices() -> list[str]:
    """Devices usable here, best first: cuda, then mps, then cpu."""
    import torch

    devs = []
    if torch.cuda.is_available():
        devs.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devs.append("mps")
    devs.append("cpu")
    return devs


def pick_device(override: str | None = None) -> str:
    """cuda > mps > cpu, unless ``override`` (or $GENAI_LAB_DEVICE) names an available one."""
    override = override or os.environ.get("GENAI_LAB_DEVICE") or None
    devs = available_devices()
    if override and override != "auto":
        if override not in devs:
            raise ModelUnavailable(f"Device '{override}' is not available here (have: {', '.join(devs)}).")
        return override
    return devs[0]


def describe_device(device: str) -> str:
    import torch

    if device == "cuda":
        return f"cuda ({torch.cuda.get_device_name(0)})"
    if device == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"
