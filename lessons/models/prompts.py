"""The system message a chat template adds by itself, so prompts can pass it explicitly."""
from __future__ import annotations

import re


DEFAULT_SYSTEM = "You are a helpful assistant."  # for a chat template without a default of its own
_SYSTEM_RE = re.compile(r"<\|im_start\|>system\n(.*?)<\|im_end\|>", re.S)


def default_system(tokenizer) -> str:
    """The system message a model's chat template inserts by itself when a prompt has none
    (Qwen: "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."; SmolLM2:
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face"). Prompts pass it
    EXPLICITLY, so what the page shows as the prompt is what the model was trained with and
    nothing is added behind the learner's back; DEFAULT_SYSTEM when the template has none."""
    try:
        text = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False)
    except Exception:  # no chat template (tiny GPT, a base model)
        return DEFAULT_SYSTEM
    m = _SYSTEM_RE.search(text if isinstance(text, str) else "")
    return m.group(1).strip() if m else DEFAULT_SYSTEM
