"""Page-layer helpers shared by every page: the device picker, the process-wide cached
model loaders (READ-ONLY models), safe handling of learner text, and progress bars.

Only this package and pages/ import streamlit; lessons/ stays pure Python.
"""
from __future__ import annotations

from typing import NoReturn

import logging
import math
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from lessons import course, models

DEVICE_KEY = "device_choice"
DEVICE_PREF = "device_pref"
MAX_TEXT_CHARS = 2000


# --------------------------------------------------------------------------- device
def device() -> str:
    """The device chosen in the sidebar ('auto' resolves to cuda > mps > cpu)."""
    choice = st.session_state.get(DEVICE_PREF, "auto")
    try:
        return models.pick_device(choice)
    except models.ModelUnavailable:
        return models.pick_device(None)


def _remember_device() -> None:
    st.session_state[DEVICE_PREF] = st.session_state[DEVICE_KEY]


def sidebar() -> None:
    # The choice is kept under a plain session key too: a run that ends early (stop_page() on
    # empty input) draws no sidebar, and Streamlit forgets the state of undrawn widgets.
    with st.sidebar:
        opts = ["auto"] + models.available_devices()
        pref = st.session_state.get(DEVICE_PREF, "auto")
        st.selectbox(
            "Compute device",
            opts,
            index=opts.index(pref) if pref in opts else 0,
            key=DEVICE_KEY,
            on_change=_remember_device,
            help="auto picks cuda, then mps (Apple), then cpu. Every lesson runs on a laptop CPU.",
        )
        st.caption(f"Running on **{models.describe_device(device())}**")


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
FIRST_RUN_HINT = ("once per machine: about 20 s of CPU time, measured 21 s on one core of a "
                  "shared 2-core VM; longer while the machine is busy")
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


# --------------------------------------------------------------------------- training queue
# One fair FIFO queue per server (ui/jobs.py): nobody is refused, everybody sees their place.
def training_slot(label: str | None = None, expected_s: float | None = None):
    """Use around any training job or long generation: ``with training_slot() as ok: if ok:``.

    Waits in the server's queue (position, ETA and a Leave-the-queue button on the page), then
    runs the body with the job's torch thread budget. Any rerun while waiting (a widget, the
    page's Stop button) gives up the place. ``ok`` is always True once the body runs. A body
    that raises an Exception frees the slot and shows "Training stopped by an error" (no
    traceback); the page carries on below the ``with``.
    ``label`` names the kind of job for the ETA (default: the calling page's file name);
    ``expected_s`` is the caller's own estimate of the run's length, if it has one."""
    if label is None:   # the calling page's url name (its widget-key prefix), e.g. "ppo"
        caller = Path(sys._getframe(1).f_code.co_filename)
        lesson = course.parse_header(caller) if caller.suffix == ".py" and caller.exists() else None
        label = lesson.url if lesson is not None else caller.stem
    return _queued(label, expected_s)


@contextmanager
def _queued(label: str, expected_s: float | None):
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui import jobs

    ctx = get_script_run_ctx()
    owner = ctx.session_id if ctx is not None else f"thread-{threading.get_ident()}"
    sched, budget = jobs.scheduler(), jobs.budget()
    ui: dict = {}

    def on_wait(place: jobs.Place) -> None:
        if not ui:   # drawn on the first wait only: a free slot shows nothing at all
            holder = st.empty()
            with holder.container(border=True):
                ui["msg"] = st.empty()
                st.button("✖ Leave the queue", key=f"{label}.leave-queue",
                          help="Gives up your place; press Train again to rejoin at the back.")
            ui["holder"] = holder
        ahead = place.position - 1
        ui["msg"].info(
            f"⏳ **Waiting for a training slot: you are number {place.position} in the queue** "
            f"({ahead} ahead of you, {place.running} running; this server runs "
            f"{budget.describe()}). Expected start: {jobs.format_eta(place.eta_s)}. "
            "Your run starts by itself; moving a widget here gives up your place."
        )

    try:
        with sched.slot(owner, label, expected_s, on_wait=on_wait):
            if ui:
                ui["holder"].empty()
            yield True
    except Exception as exc:  # noqa: BLE001 - the job failed: say so, free the slot, keep the page
        # (Streamlit's Stop/rerun are BaseExceptions and pass through untouched.)
        # The message may quote learner text: escaped, never rendered as markdown. The full
        # traceback goes to the server log for the teacher.
        logging.getLogger("genai_lab.jobs").error("training job %r failed", label, exc_info=exc)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        st.error(f"Training stopped by an error: {md_escape(first)} ({type(exc).__name__}). "
                 "Its training slot is free again: change a setting and try again.")


def use_interactive_threads() -> None:
    """Called at the start of every script run: an ordinary rerun computes on the
    interactive thread budget (torch's count is per thread and seeded by the last setter)."""
    torch = sys.modules.get("torch")
    if torch is not None:
        from ui import jobs

        n = jobs.budget().interactive_threads
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def stop_requested() -> bool:
    """True once the learner clicked something (the Stop button included) while this script
    run is still going: Streamlit will end the run at its next element call. A training loop
    asks this before each weight update, so that no step is applied after Stop."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        state = getattr(getattr(ctx, "script_requests", None), "_state", None)
        return state is not None and getattr(state, "name", "CONTINUE") != "CONTINUE"
    except Exception:  # a Streamlit without these internals: fall back to the next element call
        return False


# --------------------------------------------------------------------------- memory
def release_memory() -> None:
    """Hand freed heap memory back to the OS after a script run (glibc keeps it otherwise:
    a lesson that builds big temporary tensors would leave the server's RSS high). Also starts,
    once per process, the janitor that frees what learners who LEFT had trained."""
    _malloc_trim()
    _start_janitor()


def _malloc_trim() -> None:
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows): nothing to do
        pass


JANITOR_EVERY_S = 30.0
_JANITOR: list = []
_JANITOR_LOCK = threading.Lock()


def expire_closed_sessions() -> int | None:
    """Drop the sessions whose browser left more than server.disconnectedSessionTTL (120 s) ago.

    Streamlit keeps a closed session for a reconnect, in a TTL cache that removes expired
    entries only when it is next written or its length is asked; with nobody arriving, what
    the leavers trained stayed in memory. A length query reaps them (streamlit 1.67's
    runtime/caching/ttl_cache.py). Returns the sessions still kept, None if unavailable."""
    try:
        from streamlit.runtime import Runtime

        return len(Runtime.instance()._session_mgr._session_storage._cache)
    except Exception:  # noqa: BLE001 - internals of another Streamlit version: skip, never fail
        return None


def _janitor() -> None:
    import gc

    kept_before = None
    while True:
        time.sleep(JANITOR_EVERY_S)
        kept = expire_closed_sessions()
        gc.collect()          # sessions hold reference cycles (callbacks, widgets)
        _malloc_trim()
        if kept != kept_before:   # one line in the server log when the count changes
            print(f"[genai-lab janitor] closed sessions kept for reconnect: {kept}", file=sys.stderr, flush=True)
            kept_before = kept


def _start_janitor() -> None:
    with _JANITOR_LOCK:
        if not _JANITOR:
            t = threading.Thread(target=_janitor, name="genai-lab-janitor", daemon=True)
            t.start()
            _JANITOR.append(t)


# --------------------------------------------------------------------------- learner text
def clean_text(text: str | None, *, max_chars: int = MAX_TEXT_CHARS, what: str = "text",
               allow_empty: bool = False) -> str | None:
    """Validate learner input. Returns the text, or None after showing a clear message.
    The text is never rendered as HTML anywhere (use st.text/st.code/st.dataframe, or
    markdown-escape it with :func:`md_escape`)."""
    text = (text or "").replace("\x00", "")
    if not text.strip():
        if allow_empty:
            return ""
        st.info(f"Type some {what} to start.")
        return None
    if len(text) > max_chars:
        st.warning(f"The {what} is {len(text):,} characters long; only the first {max_chars:,} are used.")
        text = text[:max_chars]
    return text


_MD_SPECIAL = "\\`*_{}[]()#+-.!|<>~$:"


def md_escape(text: str) -> str:
    """Escape text for st.markdown so learner input is shown literally (no HTML, no markdown)."""
    return "".join("\\" + c if c in _MD_SPECIAL else c for c in text)


class PageStopped(BaseException):
    """Raised by :func:`stop_page`; app.py catches it around the page. A BaseException so that a
    page's own ``except Exception`` cannot swallow it (like Streamlit's StopException)."""


def stop_page() -> NoReturn:
    """End this page's run here (after showing a message), like ``st.stop()``, but let app.py
    still draw what follows every page: the sidebar, the questions, the share link and the poll.
    ``st.stop()`` cannot do that: it leaves a STOP request that ends every later element call of
    the run, app.py's included. Pages and ui/ use this instead of ``st.stop()``."""
    raise PageStopped()


def show_model_error(exc: Exception) -> None:
    st.error(str(exc))


def model_or_stop(loader, *args):
    """`loader(*args)` (one of the cached loaders above), or a clear message on the page and
    the end of this run when the model is unavailable. Never a traceback."""
    try:
        return loader(*args)
    except models.ModelUnavailable as exc:
        show_model_error(exc)
        stop_page()


def try_this(*ideas: str) -> None:
    """A consistent 'Try this' box of small experiments."""
    with st.expander("🧪 Try this", expanded=False):
        for idea in ideas:
            st.markdown(f"- {idea}")


def step_axis(last_step, title: str | None = "step") -> dict:
    """Axis settings for training steps (whole numbers): while a live chart has only a few
    steps, plotly's automatic ticks would read "1, 1.5, 2, 2.5"; up to 10 steps every step
    gets a tick, beyond that plotly's own spacing is kept with whole-number labels.
    ``title=None`` leaves the title alone (subplots titled on one row only)."""
    out: dict = {"tickformat": "d"}
    if title is not None:
        out["title_text"] = title
    if last_step is None or last_step <= 10:
        out.update(tick0=0, dtick=1)
    return out


def log_axis(values) -> dict:
    """Plotly axis settings for a log axis with readable, plain-number ticks (1-2-5 per
    decade; powers of ten over a wide range; denser over a narrow one) instead of plotly's
    default minor labels ("4, 3, 2, 1000, 9"). ``values``: the numbers the axis will show."""
    import math

    vals = [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]
    if not vals:
        return dict(type="log")
    lo, hi = min(vals) / 1.05, max(vals) * 1.05
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    for per_decade in ((1,), (1, 2, 5), (1, 1.5, 2, 3, 4, 5, 7)):
        ticks = [m * 10.0 ** e for e in range(e0, e1 + 1) for m in per_decade if lo <= m * 10.0 ** e <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) < 2:   # a narrow range: three log-spaced values, two significant figures
        ticks = [float(f"{lo * (hi / lo) ** f:.2g}") for f in (0.1, 0.5, 0.9)]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:,.0f}" if t >= 1 else f"{t:g}" for t in ticks])


_LABEL_SPOTS = ("top center", "bottom center", "middle right", "middle left",
                "top right", "top left", "bottom right", "bottom left")


def place_scatter_labels(fig, xs, ys, labels) -> None:
    """Apply :func:`label_layout` to a plotly scatter whose traces carry ``labels`` as text:
    each label beside its point, or, in a tight cluster, as an annotation on a leader line."""
    at = lambda x, y: (round(float(x), 5), round(float(y), 5))   # noqa: E731 - points by position
    layout = label_layout(xs, ys, labels)
    spot = {at(x, y): place for x, y, place in zip(xs, ys, layout)}
    fig.for_each_trace(lambda t: t.update(
        textposition=[spot.get(at(x, y), ("top center", None))[0] or "top center" for x, y in zip(t.x, t.y)],
        text=[lab if spot.get(at(x, y), ("", None))[1] is None else "" for lab, x, y in zip(t.text, t.x, t.y)]))
    for x, y, lab, (_, off) in zip(xs, ys, labels, layout):
        if off is not None:
            fig.add_annotation(x=x, y=y, text=lab, ax=off[0], ay=off[1], showarrow=True, arrowhead=0,
                               arrowwidth=1, arrowcolor="#999", font=dict(size=12, color="#555"))


def label_layout(xs, ys, labels, *, width_px: float = 760, height_px: float = 460,
                 font_px: float = 12) -> list[tuple]:
    """Where each label of a labelled scatter goes, so that labels overlap neither each other
    nor the other markers nor the plot's edge (greedy, densest points first). Per point either
    ``(textposition, None)``, a plotly spot next to the point, or ``(None, (dx, dy))``: the label
    moves out of a tight cluster on a thin leader line, ``dx, dy`` pixels away (y down; plotly's
    annotation ``ax``/``ay``). The plot is assumed ``width_px`` x ``height_px`` (the narrow
    1280-px projector case); on a wider screen the labels only get more room."""
    import math

    n = len(xs)
    if n == 0:
        return []
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = width_px / ((x1 - x0) or 1.0)
    sy = height_px / ((y1 - y0) or 1.0)
    pts = [((x - x0) * sx, (y1 - y) * sy) for x, y in zip(xs, ys)]   # pixels, y down
    h, gap, r = font_px * 1.25, 6.0, 6.0

    def width(i: int) -> float:
        return 0.6 * font_px * len(str(labels[i]))

    def box(i: int, spot: str) -> tuple:
        px, py = pts[i]
        w = width(i)
        v, u = spot.split()
        left = {"center": px - w / 2, "right": px + gap, "left": px - gap - w}[u]
        top = {"top": py - gap - h, "bottom": py + gap, "middle": py - h / 2}[v]
        return left, top, left + w, top + h

    def moved(i: int, dx: float, dy: float) -> tuple:
        cx, cy, w = pts[i][0] + dx, pts[i][1] + dy, width(i)
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2

    def hits(a, b) -> float:
        return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))

    dots = [(px - r, py - r, px + r, py + r) for px, py in pts]
    frame = (0.0, -h, width_px, height_px + h)

    def cost(i: int, b: tuple) -> float:
        outside = (b[2] - b[0]) * (b[3] - b[1]) - hits(b, frame)   # a label past the plot's edge is cut
        return sum(hits(b, p) for p in placed) + sum(hits(b, d) for j, d in enumerate(dots) if j != i) + 10 * outside

    crowd = [sum(abs(pts[i][0] - p[0]) < 80 and abs(pts[i][1] - p[1]) < 40 for p in pts) for i in range(n)]
    placed: list[tuple] = []
    out: list[tuple] = [("top center", None)] * n
    for i in sorted(range(n), key=lambda j: -crowd[j]):
        c, spot = min(((cost(i, box(i, sp)), sp) for sp in _LABEL_SPOTS), key=lambda t: t[0])
        if c == 0:
            out[i] = (spot, None)
            placed.append(box(i, spot))
            continue
        # No free spot beside the point: try further out, on a leader line, nearest first.
        best = (c, (spot, None), box(i, spot))
        for radius in (34, 50, 66, 82, 98):
            for k in range(16):
                a = 2 * math.pi * k / 16
                dx, dy = radius * math.cos(a), radius * math.sin(a)
                b = moved(i, dx, dy)
                cb = cost(i, b)
                if cb < best[0]:
                    best = (cb, (None, (round(dx), round(dy))), b)
            if best[0] == 0:
                break
        out[i] = best[1]
        placed.append(best[2])
    return out
