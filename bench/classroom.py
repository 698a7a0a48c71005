"""A classroom against one real server: N learners speak Streamlit's own websocket protocol.

    .venv/bin/python bench/classroom.py --learners 30 --trainers 6      # starts its own server
    .venv/bin/python bench/classroom.py --url http://127.0.0.1:8501     # an existing server
    .venv/bin/python bench/classroom.py --replicas 2    # 2 processes behind HAProxy (deploy/haproxy.cfg)
    .venv/bin/python bench/classroom.py --together 30 --settings 5     # a whole class presses Train
    GENAI_LAB_SHARE_RUNS=off .venv/bin/python bench/classroom.py --together 30 --settings 5   # no sharing

Each learner is one websocket session on /_stcore/stream, exactly what a browser tab opens:
it sends BackMsg rerun requests (page switches, widget values from the widgets the server
drew) and reads the ForwardMsg stream until the run's `script_finished`. With think times
between actions, each learner opens lessons, moves sliders, types prompts and presses the
page's buttons; `--trainers` of them go to the PPO page, build the default reward model and
press Train with the page's defaults (a class run in the server's worker processes:
ui/class_runs.py). ``--together N``: N learners instead press Train within ``--press-window-s``
(60 s), spread over ``--settings K`` distinct settings (the PPO page's seed 0 .. K-1; K = 1: everyone
on the defaults), then go on wandering. The server gets a fresh progress database, so no run is
replayed from an earlier bench's record.

Prints ONE JSON object:
* interaction_p50_s / _p95_s: seconds from a learner's action to the end of that script run
  (what the learner waits for), training runs excluded.
* train_jobs, train_wait_p95_s (press Train -> the run's first progress bar, i.e. the time in
  the queue), train_run_p95_s, train_outcomes_reached (share of finished PPO runs that reached
  the page's target: its own "Reached win-rate 0.8 (mean of 3 steps)" line, with KL <= 20 nats).
* decoder_default: the model the decoder pickers open with (the optional Qwen when installed
  and not switched off with GENAI_LAB_QWEN=off, else SmolLM2): it sets both speed and memory.
* with --together: train_done_p95_s / _max_s (press -> the run's end on the learner's page),
  train_refused (a full queue), train_failed, runs_started (distinct runs the workers trained),
  final_numbers_equal (every learner with the same settings saw the same "Run finished" line), and
  share (GENAI_LAB_SHARE_RUNS of the server).
* server_cpu_s: the web process (summed over --replicas); workers_cpu_s: the class-run worker
  processes (alive at the end; with --replicas, every replica's own).
* exceptions: Streamlit exception elements seen (plus protocol errors), with the first few.
* page_cpu (with --page-cpu): the web process's script-thread CPU per page and for whole runs
  (bench/_probe/sitecustomize.py), costliest first: where a busy server's time goes.
* server_rss_mb (peak, the web processes and their workers together), rss_start_mb (after warm-up, before learners), rss_after_leave_mb
  (after every learner disconnected and Streamlit dropped their sessions).
Loopback only; every loop is bounded by --minutes and per-run timeouts.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from bench._server import RssSampler, workers, workers_cpu  # noqa: E402

# Lessons a class opens (light and model-backed ones); learners wander among them.
LESSONS = ["tokens", "embeddings", "positional", "self-attention", "next-token", "sampling",
           "prompts-inference", "scaling-laws", "rouge-bleu", "attention-maps", "quantization",
           "lora", "preferences-reward"]
PROMPTS = ["The capital of France is", "Once upon a time", "Explain attention in one line.",
           "日本語のテキスト 🤖", "<b>not html</b>", "def add(a, b):"]
SKIP_KEYS = ("device_choice",)   # the sidebar's device picker
TRAIN_PAGE, TARGET_WIN_RATE, KL_BOUND = "ppo", 0.8, 20.0
RUN_TIMEOUT_S, TRAIN_TIMEOUT_S = 180, 1200


def pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(q * len(xs)))], 3)


class Stats:
    def __init__(self):
        self.interactions: list[float] = []
        self.train_waits: list[float] = []
        self.train_runs: list[float] = []
        self.outcomes: list[bool] = []
        self.misses: list[str] = []          # what the page said when a job missed its target
        self.train_jobs = 0
        self.done: list[float] = []           # --together: press -> the run's end
        self.finals: dict[int, set] = {}      # settings index -> the "Run finished" lines seen
        self.refused = 0
        self.failed = 0
        self.exceptions: list[str] = []
        self.by_page: dict[str, list[float]] = {}


class Learner:
    """One browser tab, reduced to its protocol."""

    def __init__(self, base: str, stats: Stats, rng: random.Random):
        self.ws_url = base.replace("http", "ws", 1) + "/_stcore/stream"
        self.stats, self.rng = stats, rng
        self.pages: dict[str, str] = {}     # url path -> page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, tuple[str, object]] = {}   # id -> (kind, proto)
        self.values: dict[str, object] = {}               # id -> WidgetState (persistent)
        self.texts: list[str] = []
        self.page = "home"

    # ---- protocol
    async def run_script(self, ws, *, page: str | None = None, trigger: str | None = None,
                         timeout: float = RUN_TIMEOUT_S, on_msg=None) -> float:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        if page is not None:
            cs.page_script_hash = self.pages.get(page, "")
            cs.page_name = page
            self.page = page or "home"
            self.values.clear()
        else:
            cs.page_script_hash = self.page_hash
        for wid, state in self.values.items():
            cs.widget_states.widgets.append(state)
        if trigger is not None:
            w = cs.widget_states.widgets.add()
            w.id, w.trigger_value = trigger, True
        t0 = time.perf_counter()
        await ws.send(msg.SerializeToString())
        self.widgets, self.texts = {}, []
        deadline = t0 + timeout
        while True:
            raw = await asyncio.wait_for(ws.recv(), timeout=max(deadline - time.perf_counter(), 0.1))
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                self._element(fm.delta.new_element)
                if on_msg is not None:
                    on_msg(fm.delta.new_element)
            elif kind == "script_finished":
                if fm.script_finished in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR):
                    if page and page in self.pages and self.page_hash != self.pages[page]:
                        self.stats.exceptions.append(f"bench: page {page!r} did not open")
                    return time.perf_counter() - t0

    def _element(self, el) -> None:
        kind = el.WhichOneof("type")
        if kind == "exception":
            # the page and the last frames: a class-sized failure must be findable from the report
            frames = " | ".join(line.strip() for line in list(el.exception.stack_trace)[-4:])
            self.stats.exceptions.append(f"page {self.page!r}: {el.exception.type}: {el.exception.message[:200]}"
                                         + (f" at {frames[:600]}" if frames else ""))
        elif kind in ("slider", "text_area", "text_input", "button", "selectbox", "radio", "number_input"):
            proto = getattr(el, kind)
            if proto.id and not any(k in proto.id for k in SKIP_KEYS) and not getattr(proto, "disabled", False):
                self.widgets[proto.id] = (kind, proto)
        elif kind in ("alert", "markdown", "progress"):
            body = getattr(el, kind)
            self.texts.append(getattr(body, "body", "") or getattr(body, "text", ""))

    # ---- what a learner does
    def _move_something(self):
        """A widget state for a random slider / text box, or None."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        cands = [(wid, k, p) for wid, (k, p) in self.widgets.items() if k in ("slider", "text_area", "text_input")]
        if not cands:
            return None
        wid, kind, p = self.rng.choice(cands)
        st = WidgetState(id=wid)
        if kind == "slider" and p.options:
            st.string_array_value.data.append(self.rng.choice(list(p.options)))
        elif kind == "slider":
            n = int(round((p.max - p.min) / p.step)) if p.step else 0
            v = p.min + self.rng.randint(0, max(n, 0)) * (p.step or 0)
            st.double_array_value.data.append(min(v, p.max))
        else:
            text = self.rng.choice(PROMPTS)
            st.string_value = text[: p.max_chars] if getattr(p, "max_chars", 0) else text
        return st

    async def act(self, ws) -> None:
        r = self.rng.random()
        if r < 0.25 or not self.widgets:
            took = await self.run_script(ws, page=self.rng.choice(LESSONS))
        else:
            st = self._move_something()
            buttons = [wid for wid, (k, p) in self.widgets.items() if k == "button"
                       and not re.search(r"train|build|start|stop|leave", p.label, re.I)]
            if st is not None and r < 0.8:
                self.values[st.id] = st
                took = await self.run_script(ws)
            elif buttons:
                took = await self.run_script(ws, trigger=self.rng.choice(buttons))
            else:
                took = await self.run_script(ws)
        self.stats.interactions.append(took)
        self.stats.by_page.setdefault(self.page, []).append(took)

    async def train(self, ws, seed: int | None = None) -> None:
        """PPO page: one-click reward model if needed, then Train with the page's defaults (and,
        with ``seed``, the seed widget set to it: one of the --together settings)."""
        self.stats.interactions.append(await self.run_script(ws, page=TRAIN_PAGE))
        build = self._button(r"Build the default")
        if build:
            await self.run_script(ws, trigger=build, timeout=TRAIN_TIMEOUT_S)
            await self.run_script(ws, timeout=TRAIN_TIMEOUT_S)   # the page's st.rerun()
        train = self._button(r"^▶ Train$|^Train$")
        if train is None:
            self.stats.exceptions.append("bench: no Train button on the PPO page")
            return
        if seed is not None:
            from streamlit.proto.WidgetStates_pb2 import WidgetState

            wid = next((w for w, (k, p) in self.widgets.items() if k == "number_input" and p.label == "seed"), None)
            if wid is None:
                self.stats.exceptions.append("bench: no seed widget on the PPO page")
                return
            st = WidgetState(id=wid)
            st.double_value = float(seed)
            self.values[wid] = st
            self.stats.interactions.append(await self.run_script(ws))
            train = self._button(r"^▶ Train$|^Train$")
        self.stats.train_jobs += 1
        t0, first = time.perf_counter(), [None]

        def seen(el):
            # the run's first step on the page (a class run's bar reads "PPO step 1/60 ..."; before
            # that it says where the run waits): the queue wait
            if first[0] is None and el.WhichOneof("type") == "progress" and re.search(r"step [1-9]\d*/", el.progress.text):
                first[0] = time.perf_counter() - t0

        total = await self.run_script(ws, trigger=train, timeout=TRAIN_TIMEOUT_S, on_msg=seen)
        self.stats.done.append(total)
        if any("queue is full" in t for t in self.texts):
            self.stats.refused += 1
        if any(t.startswith("The PPO run stopped") for t in self.texts):
            self.stats.failed += 1
        if seed is not None:
            # the numbers, not the wall seconds (two runs of one key take the same path at different speeds)
            self.stats.finals.setdefault(seed, set()).update(re.sub(r"\b\d+ s\b", "N s", t) for t in self.texts
                                                             if t.startswith("Run finished"))
        wait = first[0] if first[0] is not None else total
        self.stats.train_waits.append(wait)
        self.stats.train_runs.append(total - wait)
        done = [t for t in self.texts if t.startswith("Run finished")]
        # the page's own verdict: "Reached win-rate 0.8 (mean of 3 steps) at step N", within the KL bound
        # that bench/outcomes.py states (one batch's win-rate, 32 samples, is too noisy to judge by)
        kl = re.search(r"KL ([0-9.]+) nats", done[-1]) if done else None
        ok = (bool(done) and f"Reached win-rate {TARGET_WIN_RATE:g}" in done[-1]
              and kl is not None and float(kl.group(1)) <= KL_BOUND)
        self.stats.outcomes.append(ok)
        if not ok:
            self.stats.misses.append(done[-1][:300] if done else "no 'Run finished' message: " + " | ".join(self.texts[-3:])[:300])

    def _button(self, pattern: str) -> str | None:
        for wid, (k, p) in self.widgets.items():
            if k == "button" and re.search(pattern, p.label):
                return wid
        return None

    async def session(self, minutes: float, think_s: float, trainer: bool, start_delay: float,
                      press_at: float | None = None, seed: int | None = None) -> None:
        """``press_at``: seconds after arriving at which this learner presses Train (--together)."""
        await asyncio.sleep(start_delay)
        try:
            async with connect(self.ws_url, subprotocols=["streamlit"], max_size=None,
                               open_timeout=60, ping_interval=None) as ws:
                self.stats.interactions.append(await self.run_script(ws, page=""))
                end = time.perf_counter() + minutes * 60
                if press_at is not None:
                    await asyncio.sleep(press_at)
                    await self.train(ws, seed)
                elif trainer:
                    await asyncio.sleep(self.rng.uniform(0, think_s))
                    await self.train(ws)
                while time.perf_counter() < end:
                    await asyncio.sleep(self.rng.expovariate(1 / think_s))
                    await self.act(ws)
        except Exception as exc:  # noqa: BLE001 - counted and reported, never hidden
            self.stats.exceptions.append(f"protocol: {type(exc).__name__}: {exc}"[:200])


async def classroom(url: str, args, sampler: RssSampler, warm_urls: list[str] | None = None) -> dict:
    stats = Stats()
    rng = random.Random(args.seed)
    # Warm-up: one learner opens the lessons once per server process (model loads happen once
    # per process; behind HAProxy each replica is warmed directly).
    for wurl in warm_urls or [url]:
        warm = Learner(wurl, Stats(), random.Random(0))
        async with connect(warm.ws_url, subprotocols=["streamlit"], max_size=None, ping_interval=None) as ws:
            for page in ["", *LESSONS, TRAIN_PAGE]:
                await warm.run_script(ws, page=page, timeout=600)
    await asyncio.sleep(3)
    rss_start = sampler.now()
    sampler.start()
    learners = [Learner(url, stats, random.Random(rng.random())) for _ in range(args.learners)]
    t0 = time.perf_counter()
    if args.together:   # everyone arrives at once, then N press Train within the window
        await asyncio.gather(*(l.session(args.minutes, args.think_s, False, 0.0,
                                         press_at=rng.uniform(0, args.press_window_s) if i < args.together else None,
                                         seed=i % args.settings if i < args.together else None)
                               for i, l in enumerate(learners)))
    else:
        await asyncio.gather(*(l.session(args.minutes, args.think_s, i < args.trainers, rng.uniform(0, args.ramp_s))
                               for i, l in enumerate(learners)))
    wall = time.perf_counter() - t0
    sampler.stop.set()
    # Sessions end when their websocket closes; Streamlit keeps a closed session for reconnects
    # (server.disconnectedSessionTTL, 120 s), then the app's janitor (ui/runtime.py, every 30 s)
    # drops it and what it trained. RSS is read after that.
    await asyncio.sleep(args.leave_wait_s)
    rss_after = sampler.now()
    # And once more after the next learner's visit (a script run ends with malloc_trim).
    nxt = Learner(url, stats, random.Random(1))
    async with connect(nxt.ws_url, subprotocols=["streamlit"], max_size=None, ping_interval=None) as ws:
        await nxt.run_script(ws, page="")
    await asyncio.sleep(2)
    rss_next = sampler.now()
    return {
        "learners": args.learners, "trainers": args.trainers, "minutes": args.minutes,
        "interactions": len(stats.interactions),
        "interaction_p50_s": pct(stats.interactions, 0.5), "interaction_p95_s": pct(stats.interactions, 0.95),
        "interaction_max_s": pct(stats.interactions, 1.0),
        "train_jobs": stats.train_jobs, "train_finished": len(stats.outcomes),
        "train_wait_p95_s": pct(stats.train_waits, 0.95), "train_run_p95_s": pct(stats.train_runs, 0.95),
        "train_outcomes_reached": round(sum(stats.outcomes) / len(stats.outcomes), 3) if stats.outcomes else None,
        "train_miss_samples": stats.misses[:3],
        "slowest_pages_p95_s": dict(sorted(((p, pct(v, 0.95)) for p, v in stats.by_page.items()),
                                           key=lambda kv: -kv[1])[:5]),
        **({"together": args.together, "settings": args.settings, "press_window_s": args.press_window_s,
            "train_done_p50_s": pct(stats.done, 0.5), "train_done_p95_s": pct(stats.done, 0.95),
            "train_done_max_s": pct(stats.done, 1.0), "train_refused": stats.refused, "train_failed": stats.failed,
            "final_numbers_equal": all(len(v) == 1 for v in stats.finals.values()) and len(stats.finals) == args.settings,
            "share": os.environ.get("GENAI_LAB_SHARE_RUNS", "on")} if args.together else {}),
        "exceptions": len(stats.exceptions), "exception_samples": stats.exceptions[:5],
        "server_rss_mb": round(max(sampler.peak, rss_start or 0), 1) if sampler.pid else None,
        "rss_start_mb": None if rss_start is None else round(rss_start, 1),
        "rss_after_leave_mb": None if rss_after is None else round(rss_after, 1),
        "rss_after_next_visit_mb": None if rss_next is None else round(rss_next, 1),
        "wall_s": round(wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--learners", type=int, default=30)
    ap.add_argument("--trainers", type=int, default=6)
    ap.add_argument("--minutes", type=float, default=3.0, help="how long each learner stays")
    ap.add_argument("--think-s", type=float, default=6.0, help="mean think time between actions")
    ap.add_argument("--ramp-s", type=float, default=20.0, help="learners arrive over this many seconds")
    ap.add_argument("--leave-wait-s", type=float, default=170.0, help="wait after everyone left, then read RSS")
    ap.add_argument("--url", help="an existing server (RSS then unknown unless --pid)")
    ap.add_argument("--pid", type=int, help="the existing server's process id, for RSS")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--together", type=int, default=0,
                    help="this many learners press Train within --press-window-s (a whole class), instead of --trainers")
    ap.add_argument("--settings", type=int, default=5, help="--together: distinct settings (seeds 0..K-1)")
    ap.add_argument("--press-window-s", type=float, default=60.0)
    ap.add_argument("--replicas", type=int, default=1,
                    help="app processes behind the shipped HAProxy config on loopback (one process is "
                         "bound by Python's GIL to about one core; RSS and CPU are summed over them)")
    ap.add_argument("--save", action="store_true",
                    help="also merge the figures into assets/measured/classroom.json (the README's table)")
    ap.add_argument("--label", default="", help="what else was different in this run (for the README's table)")
    ap.add_argument("--page-cpu", action="store_true",
                    help="also report the web process's script CPU per page (bench/_probe/sitecustomize.py; one process)")
    args = ap.parse_args()
    if args.trainers > args.learners or args.together > args.learners:
        ap.error("--trainers and --together cannot exceed --learners")
    if args.together:
        args.trainers = 0
    cpu0 = os.times()
    if args.url:
        out = asyncio.run(classroom(args.url.rstrip("/"), args, RssSampler(args.pid)))
    elif args.replicas > 1:
        import psutil

        from tests.e2e.server import haproxy_cluster

        with tempfile.TemporaryDirectory() as tmp, haproxy_cluster(args.replicas, Path(tmp)) as (url, _, reps):
            pids = [proc.pid for _, proc in reps]      # each replica starts its own class-run workers
            rss = RssSampler(pids + [w.pid for w in workers(pids)])
            out = asyncio.run(classroom(url, args, rss, warm_urls=[u for u, _ in reps]))
            out.update(server_cpu_s=round(sum(sum(psutil.Process(p).cpu_times()[:2]) for p in pids), 1),
                       **workers_cpu(pids))
        out["replicas"] = args.replicas
    else:
        from tests.e2e.server import streamlit_server

        tmp_dir = tempfile.TemporaryDirectory()
        tmp = tmp_dir.name
        env = {"GENAI_LAB_DB_URL": f"sqlite:///{tmp}/classroom.sqlite"}
        if args.page_cpu:
            env.update(GENAI_LAB_PAGE_CPU=f"{tmp}/page_cpu.json", PYTHONPATH=os.pathsep.join(
                [str(ROOT / "bench" / "_probe"), *filter(None, [os.environ.get("PYTHONPATH")])]))
        with tmp_dir, streamlit_server(timeout=180, env=env) as (url, proc):
            import psutil

            out = asyncio.run(classroom(url, args, RssSampler([proc.pid, *(w.pid for w in workers([proc.pid]))])))
            out.update(server_cpu_s=round(sum(psutil.Process(proc.pid).cpu_times()[:2]), 1), **workers_cpu([proc.pid]))
            if args.page_cpu:
                time.sleep(2.5)                                   # the probe's last write
                out["page_cpu"] = json.loads(Path(f"{tmp}/page_cpu.json").read_text(encoding="utf-8"))
    from lessons import models

    out["decoder_default"] = "Qwen2.5-Coder-0.5B" if models.qwen_available() else "SmolLM2-135M"
    c = os.times()
    out["bench_cpu_s"] = round(c.user - cpu0.user + c.system - cpu0.system, 1)
    out["cores"] = os.cpu_count()
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out))
    if args.save:
        from bench._timing import save

        who = (f"{args.together} press Train within {args.press_window_s:.0f} s over {args.settings} settings, "
               f"sharing {os.environ.get('GENAI_LAB_SHARE_RUNS', 'on')}" if args.together else f"{args.trainers} training")
        run = f"{args.learners} learners ({who}), {args.replicas} process" + "es" * (args.replicas > 1)
        save("classroom", run + (f", {args.label}" if args.label else ""),
             {**out, "learners": args.learners, "trainers": args.trainers, "minutes": args.minutes,
              "label": args.label}, "bench/classroom.py --save")


if __name__ == "__main__":
    main()
