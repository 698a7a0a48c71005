"""Models from the Hugging Face hub: an id check that admits no path or URL, and a loader
that never runs remote code or unpickles weights."""
from __future__ import annotations

import os
import re

from lessons.models.importing import loading
from lessons.models.paths import ModelUnavailable
from lessons.models.readonly import LoadedModel, freeze


# --------------------------------------------------------------------------- hub models
# One part of a hub id: letters, digits, '-', '_', '.', not starting or ending with '-' or '.'
# (huggingface_hub's own rule). With at most one '/', no '..' and no '--' this admits no path,
# no URL and no drive letter.
_HUB_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?")
# What a hub model may bring: configs, safetensors weights, tokenizer files. No pickled
# weights (*.bin, *.pt) and no Python files, so loading one can never run code.
HUB_FILES = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "tokenizer*"]


def check_hub_id(model_id: str | None) -> str:
    """The stripped id if it is a Hugging Face hub id ('owner/name' or a bare name such as
    'gpt2'), else ModelUnavailable. A pure string check: it touches no file and no network,
    and the refusal never echoes the learner's text."""
    mid = (model_id or "").strip()
    if not mid:
        raise ModelUnavailable("Type a model id such as 'gpt2' or 'HuggingFaceTB/SmolLM2-360M-Instruct'.")
    parts = mid.split("/")
    if (len(mid) > 200 or len(parts) > 2 or ".." in mid or "--" in mid or mid.endswith(".git")
            or not all(_HUB_PART.fullmatch(p) for p in parts)):
        raise ModelUnavailable(
            "That does not look like a model id: use a Hugging Face hub id, 'owner/name' (for "
            "example 'HuggingFaceTB/SmolLM2-360M-Instruct') or a bare name such as 'gpt2'. "
            "Local paths, URLs and '..' are not accepted."
        )
    return mid


def load_hub_model(model_id: str, device: str = "cpu") -> LoadedModel:
    """Any causal LM id from the Hugging Face hub, never running remote code.

    The id is checked first (:func:`check_hub_id`: no paths, no URLs), then resolved by
    huggingface_hub into its hub cache folder (downloading only configs, safetensors and
    tokenizer files, and only when HF_HUB_OFFLINE is off), and transformers loads THAT folder
    with trust_remote_code=False and safetensors only. So a learner's text never reaches the
    file system as a path. Offline with a cold cache it raises ModelUnavailable with a message
    fit for the page."""
    model_id = check_hub_id(model_id)   # before any import or file access

    import torch
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id=model_id, repo_type="model", allow_patterns=HUB_FILES)
        with loading():
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tok = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                folder, trust_remote_code=False, local_files_only=True, use_safetensors=True,
                dtype=torch.float32, attn_implementation="eager",
            )
    except Exception as exc:  # network, missing cache, unknown id, unsupported architecture
        offline = os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0", "false", "False")
        hint = (
            " The app runs offline (HF_HUB_OFFLINE=1), so only models already in your local "
            "Hugging Face cache can load. Unset HF_HUB_OFFLINE with internet access to download."
            if offline
            else " Check the id, your internet connection, or your local Hugging Face cache."
        )
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300].rstrip(".")
        raise ModelUnavailable(f"Could not load '{model_id}': {first}.{hint}") from exc
    freeze(model).to(device)
    return LoadedModel(model_id, model, tok, device)
