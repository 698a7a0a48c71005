"""What a projector shows of a lesson in presenter mode, measured in the browser (issue 22 point 1).

`measure(page)` returns, for the current viewport:
* ``figure``: the lesson's main figure (the block with class ``st-key-lesson-figure``, made by
  ui/charts.main_figure): its top and bottom in px and the share of its height that is on
  screen without scrolling (``None`` when the page has no main figure; ``count`` how many);
* ``min_text``: the smallest rendered font size of visible text in the main column that is on
  screen (outside charts), with the text that has it;
* ``min_chart``: the smallest font size of the visible chart text (plotly's SVG text: ticks,
  axis titles, legend, annotations) in the main figure;
* ``overlaps``: pairs of on-screen element boxes (Streamlit's element containers, none inside
  the other) drawn over each other by more than 2 px each way.

`main_chart_fallback=True` takes the first plotly chart as the figure when no block is marked
(only for measuring pages from before the marker existed).
"""
from __future__ import annotations

PRESENTER_JS = r"""(fallback) => {
  const vh = window.innerHeight, vw = window.innerWidth;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main) return {error: 'no main column'};
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let a = el; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.display === 'none' || s.visibility === 'hidden' || s.opacity === '0') return false;
    }
    if (el.closest('details:not([open]) [data-testid="stExpanderDetails"]')) return false;
    return true;
  };
  let figs = [...main.querySelectorAll('.st-key-lesson-figure')];
  const count = figs.length;
  if (!figs.length && fallback) figs = [...main.querySelectorAll('[data-testid="stPlotlyChart"]')].filter(shown).slice(0, 1);
  let figure = null;
  if (figs.length) {
    const r = figs[0].getBoundingClientRect();
    const vis = Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    figure = {top: Math.round(r.top + window.scrollY), bottom: Math.round(r.bottom + window.scrollY),
              height: Math.round(r.height), share: r.height > 0 ? vis / r.height : 0};
  }
  // text: every element with its own non-blank text node, visible and on screen
  let minText = {px: 999, text: ''};
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.nodeValue.replace(/[\u200b-\u200d\ufeff]/g, '').trim()) continue;   // blank or zero-width only
    const el = n.parentElement;
    if (!el || el.closest('svg') || el.closest('.katex-mathml') || el.closest('style,script')) continue;
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.bottom <= 0 || r.top >= vh || r.right <= 0 || r.left >= vw) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < minText.px) minText = {px, text: n.nodeValue.trim().slice(0, 50), where: (el.closest('[data-testid]') || el).getAttribute('data-testid')};
  }
  let minChart = {px: 999, text: ''};
  const chartRoot = figs.length ? figs[0] : main;
  chartRoot.querySelectorAll('[data-testid="stPlotlyChart"] svg text').forEach((t) => {
    if (!t.textContent.trim() || !shown(t)) return;
    const px = parseFloat(getComputedStyle(t).fontSize);
    if (px < minChart.px) minChart = {px, text: t.textContent.trim().slice(0, 40)};
  });
  // overlaps between on-screen element boxes (leaves of Streamlit's layout)
  // what is drawn of a box: its rectangle clipped by every ancestor that clips (a scroll box)
  const drawn = (el) => {
    const b = el.getBoundingClientRect();
    let r = {left: b.left, right: b.right, top: b.top, bottom: b.bottom};
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (/(auto|scroll|hidden|clip)/.test(s.overflow + s.overflowX + s.overflowY)) {
        const c = a.getBoundingClientRect();
        r = {left: Math.max(r.left, c.left), right: Math.min(r.right, c.right),
             top: Math.max(r.top, c.top), bottom: Math.min(r.bottom, c.bottom)};
      }
    }
    return r;
  };
  const boxes = [...main.querySelectorAll('[data-testid="stElementContainer"]')].filter(shown).map((el) => {
    return {el, r: drawn(el)};
  }).filter(({r}) => r.bottom > 0 && r.top < vh && r.bottom - r.top > 0 && r.right - r.left > 0);
  const overlaps = [];
  const label = (el) => {
    const key = el.closest('[class*="st-key-"]');
    const k = key ? [...key.classList].find(c => c.startsWith('st-key-')) : '';
    const inner = el.querySelector('[data-testid]');
    return (inner ? inner.getAttribute('data-testid') : 'element') + (k ? ' ' + k : '') + ' "' + (el.innerText || '').trim().slice(0, 30) + '"';
  };
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.el.contains(b.el) || b.el.contains(a.el)) continue;
    const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
    const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
    if (w > 2 && h > 2) overlaps.push(`${label(a.el)} and ${label(b.el)} overlap ${Math.round(w)}x${Math.round(h)} px`);
  }
  return {figure, count, min_text: minText, min_chart: minChart, overlaps: overlaps.slice(0, 5)};
}"""


MIN_SHARE, MIN_TEXT_PX, MIN_CHART_PX = 0.8, 20.0, 16.0   # issue 22 point 1's targets


def measure(page, main_chart_fallback: bool = False) -> dict:
    return page.evaluate(PRESENTER_JS, main_chart_fallback)


def presenter_problems(m: dict, height: int) -> list[str]:
    """What a projector audience would miss, from one measure() of the first screen."""
    fig = m["figure"]
    if m["count"] != 1 or fig is None:
        return [f"{m['count']} main figures (want exactly 1: ui/charts.main_figure)"]
    out = []
    if fig["top"] >= height:
        out.append(f"main figure starts below the fold at y = {fig['top']} px")
    if fig["share"] < MIN_SHARE:
        out.append(f"only {fig['share']:.0%} of the main figure on screen ({fig['top']}-{fig['bottom']} px)")
    if m["min_text"]["px"] < MIN_TEXT_PX - 0.01:
        out.append(f"text at {m['min_text']['px']} px: {m['min_text']}")
    if m["min_chart"]["px"] < MIN_CHART_PX - 0.01:
        out.append(f"chart text at {m['min_chart']['px']} px: {m['min_chart']}")
    return out + m["overlaps"]
