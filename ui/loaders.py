"""The process-wide cached model loaders (READ-ONLY models shared by every session), the
first-run conversion that runs in its own thread, the instruct-model picker, and the cache of
greedy generations of those shared models."""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections import OrderedDict

import streamlit as st

from lessons import models


# --------------------------------------------------------------------------- cached models
# st.cache_resource keeps ONE copy per process (shared by every session): never mutate
# these. Training pages must work on models.session_copy(...) kept in st.session_state.
@st.cache_resource(show_spinner="Loading all-MiniLM-L6-v2 ...")
def minilm(device: str = "cpu") -> models.LoadedModel:
    return models.load_minilm(device)


@st.cache_resource(show_spinner="Loading SmolLM2-135M-Instruct ...")
def _smollm2(device: str) -> models.LoadedModel:
    # No progress callback and no element calls in here: Streamlit records the element
    # calls of a cached function and replays them on every cache hit, so a bar created
    # outside would be replayed into sessions that never had it (CacheReplayClosureError).
    # The first-run conversion happens before this is called, with its own bar.
    return models.load_smollm2(device)


def smollm2(device: str = "cpu") -> models.LoadedModel:
    """SmolLM2-135M-Instruct, shared and READ-ONLY. On the very first run of a fresh
    install it first converts the shipped GGUF (once per machine, with a progress bar that
    every waiting session sees), then loads through the cache."""
    if not models.smollm2_cache_is_valid():
        _CONVERSION.run_with_progress()
    return _smollm2(device)


# The first-run conversion runs in ONE process-wide worker thread, so that a learner who
# leaves the page does not abort it and a second session waits for the same job instead
# of starting its own. The page only polls it and draws the bar.
def _first_run_hint() -> str:
    """The SmolLM2 conversion's cost as bench/startup.py last measured it (assets/measured)."""
    from lessons.core import measured

    run = measured.read("startup").get("runs", {}).get("default", {})
    took = (f", {run['smollm2_convert_s']:.0f} s when measured on {run['machine'].split(',')[0]} ({run['date']})"
            if run.get("smollm2_convert_s") else "")
    return f"once per machine: well under a minute of CPU{took}; longer while the machine is busy"


FIRST_RUN_HINT = _first_run_hint()
QWEN_FIRST_RUN_HINT = ("once per machine: joining and checking the 491 MB file, then converting it; "
                       "a few minutes of CPU, longer while the machine is busy")


class _Conversion:
    def __init__(self, convert, is_valid, name: str, hint: str) -> None:
        self.convert, self.is_valid, self.name, self.hint = convert, is_valid, name, hint
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.frac, self.msg, self.t0 = 0.0, "Starting ...", 0.0
        self.error: BaseException | None = None

    def report(self, frac: float, msg: str) -> None:
        self.frac, self.msg = min(max(frac, 0.0), 1.0), msg

    def start(self) -> threading.Thread:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.error, self.t0 = None, time.time()
                self.report(0.0, "Starting ...")

                def work() -> None:
                    try:
                        self.convert(self.report)
                    except BaseException as exc:  # shown to every waiting session
                        self.error = exc

                self.thread = threading.Thread(target=work, name=f"{self.name}-convert", daemon=True)
                self.thread.start()
            return self.thread

    def shown_fraction(self) -> float:
        """The long de-quantization step reports nothing while it runs: move the bar
        slowly towards the step's end so that it visibly lives (never past it)."""
        if 0.15 <= self.frac < 0.80:
            t = time.time() - self.t0
            return self.frac + (0.80 - self.frac) * (1 - math.exp(-t / 90))
        return self.frac

    def run_with_progress(self) -> None:
        """Start (or join) the conversion and draw its bar until it ends; errors become
        ModelUnavailable (a message for the page)."""
        job = self.start()
        bar = st.progress(0.0, text=f"First run: converting {self.name} from its GGUF file ...")
        while job.is_alive():
            elapsed = int(time.time() - self.t0)
            bar.progress(self.shown_fraction(),
                         text=f"First run: converting {self.name} ({self.hint}). {self.msg} "
                              f"{elapsed // 60}:{elapsed % 60:02d} elapsed.")
            job.join(0.5)
        bar.empty()
        err = self.error
        if isinstance(err, models.ModelUnavailable):
            raise err
        if err is not None or not self.is_valid():
            raise models.ModelUnavailable(f"Converting {self.name} failed ({type(err).__name__}: {err}). "
                                          "Reload the page to try again.")


_CONVERSION = _Conversion(models.convert_smollm2, models.smollm2_cache_is_valid, "SmolLM2", FIRST_RUN_HINT)
_QWEN_CONVERSION = _Conversion(models.convert_qwen, lambda: models.cache_is_valid(models.qwen_cache_path()),
                               "Qwen2.5-Coder-0.5B", QWEN_FIRST_RUN_HINT)


@st.cache_resource(show_spinner="Loading Qwen2.5-Coder-0.5B-Instruct ...")
def _qwen(device: str) -> models.LoadedModel:
    return models.load_qwen(device)   # no element calls in here (see _smollm2)


def qwen(device: str = "cpu") -> models.LoadedModel:
    """The optional Qwen2.5-Coder-0.5B-Instruct, shared and READ-ONLY; ModelUnavailable
    (with how to install it) when it is not installed."""
    if not models.qwen_available():
        raise models.ModelUnavailable(models.QWEN_INSTALL)
    if not models.cache_is_valid(models.qwen_cache_path()):
        _QWEN_CONVERSION.run_with_progress()
    return _qwen(device)


# --------------------------------------------------------------------------- instruct model picker
QWEN_CHOICE = "Qwen2.5-Coder-0.5B-Instruct (stronger, slower)"
SMOL_CHOICE = "SmolLM2-135M-Instruct (fast)"


def instruct_choice(key: str) -> str:
    """The instruct-model picker of the Week 3 application pages: Qwen by default when it
    is installed, SmolLM2 selectable for speed. Without Qwen it says how to add it."""
    if not models.qwen_available():
        st.caption(f"🧩 {models.QWEN_INSTALL}")
        return SMOL_CHOICE
    return st.selectbox("Instruct model", [QWEN_CHOICE, SMOL_CHOICE], key=key,
                        help="Qwen2.5-Coder-0.5B (494M parameters) follows instructions, steps and "
                             "formats far better; SmolLM2-135M answers about 4x faster.")


def instruct_model(choice: str, device: str = "cpu") -> models.LoadedModel:
    """Load what :func:`instruct_choice` returned (raises ModelUnavailable)."""
    return qwen(device) if choice == QWEN_CHOICE else smollm2(device)


def instruct_name(choice: str) -> str:
    """The name a class-run worker loads the chosen instruct model by (records.worker_model)."""
    return "qwen" if choice == QWEN_CHOICE else "smollm2"


@st.cache_resource(show_spinner="Fingerprinting the model for the run's key ...", max_entries=4)
def instruct_fingerprints(choice: str, device: str, threads: int = 1) -> dict:
    """The chosen instruct model's part of a generation job's key (records.instruct_fingerprints),
    hashed once per process and device: every learner's key names it."""
    from lessons.core import records

    return records.instruct_fingerprints(instruct_name(choice), instruct_model(choice, device), threads)


@st.cache_resource(show_spinner="Loading the GPT-2 tokenizer ...")
def gpt2_tokenizer():
    return models.load_gpt2_tokenizer()


@st.cache_resource(show_spinner="Loading the tiny Shakespeare GPT ...")
def tiny_gpt(device: str = "cpu") -> models.LoadedModel:
    return models.load_tiny_gpt(device)


@st.cache_resource(show_spinner="Loading an instruction-tuned tiny GPT ...")
def instruction_tuned(name: str, device: str = "cpu") -> models.LoadedModel:
    return models.load_instruction_tuned(name, device)


@st.cache_resource(show_spinner="Loading a model from the Hugging Face hub ...", max_entries=2)
def hub_model(model_id: str, device: str = "cpu") -> models.LoadedModel:
    return models.load_hub_model(model_id, device)


# A small process-wide LRU instead of st.cache_data: a generation cut short by the time
# limit (a busy server) must NOT be cached and replayed to everybody.
_GEN_CACHE: "OrderedDict[tuple, dict]" = OrderedDict()
_GEN_LOCK = threading.Lock()
_GEN_MAX = 400


def generate(prompt: str, max_new_tokens: int, max_seconds: float, stop: tuple, model_name: str,
             device: str, llm) -> dict:
    """Greedy, bounded generation, cached by prompt: a replayed demo is instant."""
    key = (prompt, int(max_new_tokens), tuple(stop), model_name, device)
    with _GEN_LOCK:
        if key in _GEN_CACHE:
            _GEN_CACHE.move_to_end(key)
            return dict(_GEN_CACHE[key])
    from lessons.core import generate as core_generate   # torch: imported on first use, not for Home

    g = dataclasses.asdict(core_generate.generate(llm, prompt, max_new_tokens, max_seconds, stop))
    if g["stopped_by"] != "time limit":
        with _GEN_LOCK:
            _GEN_CACHE[key] = g
            while len(_GEN_CACHE) > _GEN_MAX:
                _GEN_CACHE.popitem(last=False)
    return dict(g)
