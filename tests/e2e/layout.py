"""Layout checks run inside the browser: what a projector audience would see as broken.

`layout_problems(page)` returns readable strings for
* elements that stick out of the main column (to the right of it) or make the page scroll
  sideways, unless they sit inside a box that scrolls on purpose;
* plotly tick labels of one axis that overlap each other, and a chart title cut by the edge;
* formulas wider than the column, and titles or labels cut with an ellipsis;
* button labels cut with an ellipsis, multiselect chips that run past the box, and code
  boxes whose lines run past the right edge.
"""
from __future__ import annotations

LAYOUT_JS = r"""() => {
  const out = [];
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main) return ['no main column'];
  const mr = main.getBoundingClientRect();
  const name = (el) => {
    const t = el.closest('[data-testid]');
    const id = t ? t.getAttribute('data-testid') : el.tagName;
    const key = el.closest('[class*="st-key-"]');
    const k = key ? ' ' + [...key.classList].find(c => c.startsWith('st-key-')) : '';
    return id + k;
  };
  // inside a box that scrolls or clips sideways and itself fits the column: not sticking out
  const contained = (el) => {
    for (let a = el.parentElement; a && a !== main; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (/(auto|scroll|hidden|clip)/.test(s.overflowX) && a.getBoundingClientRect().right <= mr.right + 2) return true;
    }
    return false;
  };
  const seen = new Set();
  for (const el of main.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const s = getComputedStyle(el);
    if (s.visibility === 'hidden' || s.display === 'none') continue;
    if (el.closest('.katex-mathml')) continue;               // visually hidden MathML copy
    if (el instanceof SVGElement && el.ownerSVGElement) continue;  // inside a chart: checked below
    if (el.closest('[data-testid="stExpanderDetails"]') && !el.closest('details[open]')) continue;
    if (r.right > mr.right + 2 && !contained(el)) {
      const n = name(el);
      if (!seen.has(n)) { seen.add(n); out.push(`sticks out ${Math.round(r.right - mr.right)} px: ${n}`); }
    }
  }
  // text cut with an ellipsis: lesson titles in the sidebar, labels in the main column
  document.querySelectorAll('[data-testid="stSidebarNav"] span, [data-testid="stMainBlockContainer"] p, '
                            + '[data-testid="stMainBlockContainer"] label, [data-testid="stMetricValue"] div, '
                            + '[data-testid="stMetricDelta"] div').forEach((el) => {
    const s = getComputedStyle(el);
    if (s.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1)
      out.push(`text cut with an ellipsis: "${el.innerText.slice(0, 60)}"`);
  });
  // a button label cut with an ellipsis (its column is too narrow for it)
  main.querySelectorAll('[data-testid="stBaseButton-primary"], [data-testid="stBaseButton-secondary"], '
                        + '[data-testid="stBaseButton-tertiary"]').forEach((b) => {
    for (const el of [b, ...b.querySelectorAll('*')]) {
      if (getComputedStyle(el).textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) {
        out.push(`button label cut: "${b.innerText.trim().slice(0, 60)}"`); break;
      }
    }
  });
  // chips of a multiselect that run past its box (hidden behind a fade, reached by scrolling)
  main.querySelectorAll('[data-testid="stMultiSelectTagsContainer"]').forEach((t) => {
    if (t.getBoundingClientRect().width > 0 && t.scrollWidth > t.clientWidth + 1) {
      const key = t.closest('[class*="st-key-"]');
      out.push(`multiselect chips cut: ${key ? [...key.classList].find(c => c.startsWith('st-key-')) : t.innerText}`);
    }
  });
  // a code box whose lines run past its right edge (a sideways scrollbar nobody sees on a projector)
  main.querySelectorAll('[data-testid="stCode"] pre').forEach((pre) => {
    if (pre.scrollWidth > pre.clientWidth + 2 && !(pre.closest('details') && !pre.closest('details[open]')))
      out.push(`code box cut on the right: "${(pre.innerText || '').split('\n')[0].slice(0, 40)}"`);
  });
  // a formula wider than the column is cut (its scrollbar is easy to miss on a projector)
  main.querySelectorAll('[data-testid="stMarkdownContainer"] .katex-display, [data-testid="stMarkdownContainer"] .katex-html').forEach((el) => {
    const box = el.closest('[data-testid="stMarkdownContainer"]');
    let cut = el.getBoundingClientRect().right > box.getBoundingClientRect().right + 2;
    for (let a = el; a && !cut; a = a.parentElement) {
      if (a.scrollWidth > a.clientWidth + 2 && getComputedStyle(a).overflowX !== 'visible') cut = true;
      if (a === box) break;
    }
    if (cut)
      out.push(`formula cut: ${(el.innerText || '').replace(/\s+/g, ' ').slice(0, 40)}`);
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 2)
    out.push(`page scrolls sideways (${document.documentElement.scrollWidth} > ${window.innerWidth})`);
  // plotly: tick labels of one axis must not overlap
  document.querySelectorAll('.js-plotly-plot').forEach((plot, pi) => {
    const key = name(plot);
    plot.querySelectorAll('g.xaxislayer-above, g.yaxislayer-above').forEach((layer) => {
      const texts = [...layer.querySelectorAll('text')].filter(t => t.getBoundingClientRect().width > 0);
      const rot = texts.map(t => /rotate\((-?[\d.]+)/.exec(t.getAttribute('transform') || ''));
      if (texts.length > 1 && rot.every(m => m && Math.abs(parseFloat(m[1])) > 1)) {
        // rotated labels: their boxes always overlap; what matters is the gap ACROSS the text
        const a = Math.abs(parseFloat(rot[0][1])) * Math.PI / 180;
        const font = parseFloat(getComputedStyle(texts[0]).fontSize);
        const xs = texts.map(t => t.getBoundingClientRect().right).sort((p, q) => p - q);
        for (let i = 1; i < xs.length; i++)
          if ((xs[i] - xs[i - 1]) * Math.sin(a) < 0.8 * font) { out.push(`overlapping tick labels in ${key}`); return; }
        return;
      }
      const boxes = texts.map(t => t.getBoundingClientRect());
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i], b = boxes[j];
        const ox = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const oy = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (ox > 2 && oy > 2) { out.push(`overlapping tick labels in ${key}`); return; }
      }
    });
    const title = plot.querySelector('.gtitle');
    if (title) {
      const t = title.getBoundingClientRect(), p = plot.getBoundingClientRect();
      if (t.left < p.left - 1 || t.right > p.right + 1) out.push(`chart title cut in ${key}`);
    }
  });
  return [...new Set(out)];
}"""


def layout_problems(page) -> list[str]:
    return page.evaluate(LAYOUT_JS)
