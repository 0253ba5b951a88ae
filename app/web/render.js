// sam3.cpp web UI — drawing: instance masks (one colour each, outlined), the semantic mask, the hovered
// instance, boxes and score labels (SVG over the image), and the same picture flattened into a PNG.
//
// Masks stay run-length encoded (rle.js); they are painted straight from the runs into an id map at the image's
// own resolution (pixel -> 1 + index of the topmost visible instance), which also answers "what is under the
// pointer" in O(1).
import { forEachForeground } from './rle.js';

// Distinct colours (Sasha Trubetskoy's list, reordered so neighbours differ most), then golden-angle hues.
const PALETTE = [
  '#e6194b', '#3cb44b', '#4363d8', '#ffe119', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#469990',
  '#9a6324', '#dcbeff', '#800000', '#aaffc3', '#000075', '#fabed4', '#808000', '#ffd8b1', '#a9a9a9', '#fffac8',
];

export function instanceColor(rank) {
  if (rank < PALETTE.length) return PALETTE[rank];
  const hue = (rank * 137.508) % 360;
  return `hsl(${hue.toFixed(1)} 80% 55%)`;
}

// CSS colour -> [r, g, b] (through a 1x1 canvas, so any CSS syntax works).
const rgbCache = new Map();
export function colorRgb(css) {
  let v = rgbCache.get(css);
  if (!v) {
    const c = new OffscreenCanvas(1, 1).getContext('2d');
    c.fillStyle = css;
    c.fillRect(0, 0, 1, 1);
    const d = c.getImageData(0, 0, 1, 1).data;
    v = [d[0], d[1], d[2]];
    rgbCache.set(css, v);
  }
  return v;
}

// Black or white text on a colour, by luminance.
export function textOn(css) {
  const [r, g, b] = colorRgb(css);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? '#111' : '#fff';
}

const FILL_ALPHA = 110;   // mask interior (of 255): the image stays readable through it
const EDGE_ALPHA = 240;   // mask outline

// Paints the visible instances into `ctx` (a canvas of the image's size) and fills idMap (Uint16Array, w*h).
// Instances are painted largest first so that small ones stay on top. `edge`: outline width in image pixels.
export function paintMasks(ctx, idMap, w, h, instances, edge) {
  idMap.fill(0);
  const order = instances.map((_, i) => i).sort((a, b) => instances[b].area - instances[a].area);
  for (const i of order) {
    const id = i + 1;
    forEachForeground(instances[i].runs, h, (x, y0, y1) => {
      for (let y = y0, p = y0 * w + x; y < y1; ++y, p += w) idMap[p] = id;
    });
  }
  const img = ctx.createImageData(w, h);
  const px = new Uint32Array(img.data.buffer);
  // little-endian RGBA: 0xAABBGGRR
  const fill = instances.map((inst) => packed(colorRgb(inst.color), FILL_ALPHA));
  const line = instances.map((inst) => packed(colorRgb(inst.color), EDGE_ALPHA));
  const d = Math.max(1, edge | 0);
  for (let y = 0; y < h; ++y) {
    const row = y * w;
    for (let x = 0; x < w; ++x) {
      const p = row + x;
      const id = idMap[p];
      if (!id) continue;
      const isEdge =
        x < d || x >= w - d || y < d || y >= h - d ||
        idMap[p - d] !== id || idMap[p + d] !== id || idMap[p - d * w] !== id || idMap[p + d * w] !== id;
      px[p] = isEdge ? line[id - 1] : fill[id - 1];
    }
  }
  ctx.putImageData(img, 0, 0);
}

function packed([r, g, b], a) {
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

// Semantic masks get their own colours (white first), drawn as hatching, so they read apart from instances.
const SEMANTIC_PALETTE = ['#ffffff', '#00e5ff', '#ff4dff', '#ffe600', '#7dff4d', '#ff8c1a'];
export function semanticColor(i) { return SEMANTIC_PALETTE[i % SEMANTIC_PALETTE.length]; }

// The semantic masks of the prompts, hatched in their colours.
export function paintSemantic(ctx, w, h, semantics) {
  const img = ctx.createImageData(w, h);
  const px = new Uint32Array(img.data.buffer);
  for (const s of semantics) {
    const c = colorRgb(s.color);
    const solid = packed(c, 70), stripe = packed(c, 210);
    forEachForeground(s.runs, h, (x, y0, y1) => {
      for (let y = y0; y < y1; ++y) px[y * w + x] = ((x + y) >> 3) & 1 ? stripe : solid;
    });
  }
  ctx.putImageData(img, 0, 0);
}

// The hovered instance alone, drawn strongly, on its own canvas (only its bounding region is touched).
export function paintHover(ctx, w, h, inst) {
  ctx.clearRect(0, 0, w, h);
  if (!inst || !inst.bounds) return;
  const [x0, y0, x1, y1] = inst.bounds;
  const bw = x1 - x0, bh = y1 - y0;
  const img = ctx.createImageData(bw, bh);
  const px = new Uint32Array(img.data.buffer);
  const c = packed(colorRgb(inst.color), 190);
  forEachForeground(inst.runs, h, (x, a, b) => {
    for (let y = a; y < b; ++y) px[(y - y0) * bw + (x - x0)] = c;
  });
  ctx.putImageData(img, x0, y0);
}

// Where the score labels go: above each box (inside it when the box touches the top), always on the image, and
// moved down past the labels placed before (results come best first) so that none hides another.
//   items: [{box, tw}] in image units; th: label height -> [{tx, ty}]
export function placeLabels(items, w, h, th) {
  const placed = [];
  return items.map(({ box, tw }) => {
    const [x0, y0] = box;
    const tx = Math.min(Math.max(0, x0), Math.max(0, w - tw));
    let ty = Math.min(Math.max(0, y0 - th >= 0 ? y0 - th : y0), Math.max(0, h - th));
    for (let tries = 0; tries < 12; ++tries) {
      const hit = placed.find((p) => tx < p.tx + p.tw && p.tx < tx + tw && ty < p.ty + th && p.ty < ty + th);
      if (!hit) break;
      const below = hit.ty + th;
      if (below + th > h) break;
      ty = below;
    }
    placed.push({ tx, ty, tw });
    return { tx, ty };
  });
}

const SVG = 'http://www.w3.org/2000/svg';
function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// Rebuilds the SVG overlay. `scale`: screen pixels per image pixel (text and strokes keep their screen size).
//   results: visible instances {key, color, box, label, score}; prompts: drawn boxes {x0, y0, x1, y1, positive,
//   label}; drawing: the box being dragged or null ({..., pick: true}: a click-mode box); hoverKey: the highlighted
//   instance; pick: the object being clicked out (click mode) or null: {points: [{x, y, positive}], box: [x0, y0,
//   x1, y1] | null, color}.
export function drawOverlay(svg, { w, h, scale, results, showBoxes, prompts, drawing, hoverKey, pick = null }) {
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.replaceChildren();
  const u = 1 / scale;  // one screen pixel in image units
  const font = 12 * u;
  if (showBoxes) {
    const g = el('g', { class: 'results' }, svg);
    const th = 16 * u;
    const texts = results.map((r) => `${r.label} ${r.score.toFixed(2)}`);
    const widths = texts.map((t) => (t.length * 6.6 + 8) * u);
    const spots = placeLabels(results.map((r, i) => ({ box: r.box, tw: widths[i] })), w, h, th);
    results.forEach((r, i) => {
      const [x0, y0, x1, y1] = r.box;
      const hovered = r.key === hoverKey;
      const dim = hoverKey != null && !hovered;
      const grp = el('g', { class: 'result' + (hovered ? ' hovered' : '') + (dim ? ' dim' : ''), 'data-key': r.key }, g);
      el('rect', {
        x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0), fill: 'none', stroke: r.color,
        'stroke-width': (hovered ? 3 : 2) * u,
      }, grp);
      const text = texts[i], tw = widths[i];
      const { tx, ty } = spots[i];
      el('rect', { x: tx, y: ty, width: tw, height: th, fill: r.color, rx: 2 * u }, grp);
      const t = el('text', {
        x: tx + 4 * u, y: ty + th - 4 * u, 'font-size': font, fill: textOn(r.color), 'font-family': 'system-ui, sans-serif',
        'font-weight': '600',
      }, grp);
      t.textContent = text;
    });
  }
  if (pick) drawPick(svg, pick, drawing && drawing.pick ? drawing : null, u);
  const pg = el('g', { class: 'prompt-boxes' }, svg);
  const drawn = drawing && !drawing.pick ? [...prompts, { ...drawing, label: '', drawing: true }] : prompts;
  for (const b of drawn) {
    const color = b.positive ? '#22c55e' : '#ef4444';
    const x0 = Math.min(b.x0, b.x1), y0 = Math.min(b.y0, b.y1);
    const bw = Math.abs(b.x1 - b.x0), bh = Math.abs(b.y1 - b.y0);
    el('rect', { x: x0, y: y0, width: bw, height: bh, fill: 'none', stroke: '#000', 'stroke-opacity': 0.55,
                 'stroke-width': 4 * u }, pg);
    el('rect', { x: x0, y: y0, width: bw, height: bh, fill: b.positive ? 'rgba(34,197,94,0.08)' : 'rgba(239,68,68,0.12)',
                 stroke: color, 'stroke-width': 2 * u, 'stroke-dasharray': `${6 * u} ${4 * u}` }, pg);
    const badge = (b.positive ? '+' : '−') + (b.label ? ` ${b.label}` : '');
    const tw = (badge.length * 6.6 + 8) * u, th = 16 * u;
    el('rect', { x: x0, y: y0 + bh, width: tw, height: th, fill: color, rx: 2 * u }, pg);
    const t = el('text', { x: x0 + 4 * u, y: y0 + bh + th - 4 * u, 'font-size': font, fill: '#fff',
                           'font-family': 'system-ui, sans-serif', 'font-weight': '700' }, pg);
    t.textContent = badge;
  }
}

// Click mode: the object's box (solid, in the pick colour), the box being dragged, and the clicks (green +, red −).
function drawPick(svg, pick, drawing, u) {
  const g = el('g', { class: 'pick' }, svg);
  const boxes = [];
  if (pick.box) boxes.push({ b: pick.box, cls: 'pick-box' });
  if (drawing) {
    boxes.push({ b: [Math.min(drawing.x0, drawing.x1), Math.min(drawing.y0, drawing.y1),
                     Math.max(drawing.x0, drawing.x1), Math.max(drawing.y0, drawing.y1)], cls: 'pick-box drawing' });
  }
  for (const { b, cls } of boxes) {
    const [x0, y0, x1, y1] = b;
    const r = { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0), fill: 'none' };
    el('rect', { ...r, stroke: '#000', 'stroke-opacity': 0.55, 'stroke-width': 4 * u }, g);
    el('rect', { ...r, class: cls, stroke: pick.color, 'stroke-width': 2 * u,
                 ...(cls.includes('drawing') ? { 'stroke-dasharray': `${6 * u} ${4 * u}` } : {}) }, g);
  }
  pick.points.forEach((p, i) => {
    const pg = el('g', { class: `pick-point ${p.positive ? 'pos' : 'neg'}`, 'data-index': String(i) }, g);
    el('circle', { cx: p.x, cy: p.y, r: 7 * u, fill: p.positive ? '#16a34a' : '#dc2626', stroke: '#fff',
                   'stroke-width': 2 * u }, pg);
    const d = 3.5 * u;  // the + / − glyph
    const glyph = `M${p.x - d} ${p.y}H${p.x + d}` + (p.positive ? `M${p.x} ${p.y - d}V${p.y + d}` : '');
    el('path', { d: glyph, stroke: '#fff', 'stroke-width': 2 * u, 'stroke-linecap': 'round' }, pg);
  });
}

// The picture as shown (image, semantic mask, instance masks, boxes and labels) at the image's resolution -> PNG.
export function exportPng({ image, w, h, semanticCanvas, maskCanvas, results, showBoxes }) {
  const c = document.createElement('canvas');
  c.width = w;
  c.height = h;
  const ctx = c.getContext('2d');
  ctx.drawImage(image, 0, 0, w, h);
  if (semanticCanvas) ctx.drawImage(semanticCanvas, 0, 0);
  if (maskCanvas) ctx.drawImage(maskCanvas, 0, 0);
  if (showBoxes) {
    const s = Math.max(1, Math.min(w, h) / 600);  // label size grows with the image
    ctx.font = `600 ${Math.round(13 * s)}px system-ui, sans-serif`;
    ctx.textBaseline = 'bottom';
    const th = 18 * s;
    const texts = results.map((r) => `${r.label} ${r.score.toFixed(2)}`);
    const widths = texts.map((t) => ctx.measureText(t).width + 8 * s);
    const spots = placeLabels(results.map((r, i) => ({ box: r.box, tw: widths[i] })), w, h, th);
    for (const r of results) {
      const [x0, y0, x1, y1] = r.box;
      ctx.lineWidth = 2 * s;
      ctx.strokeStyle = r.color;
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
    }
    results.forEach((r, i) => {
      const text = texts[i], tw = widths[i];
      const { tx, ty } = spots[i];
      ctx.fillStyle = r.color;
      ctx.fillRect(tx, ty, tw, th);
      ctx.fillStyle = textOn(r.color);
      ctx.fillText(text, tx + 4 * s, ty + th - 3 * s);
    });
  }
  return new Promise((resolve, reject) =>
    c.toBlob((b) => (b ? resolve(b) : reject(new Error('the browser could not encode the PNG'))), 'image/png'));
}
