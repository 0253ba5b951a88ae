// sam3.cpp web UI — the page's state and its wiring. One image at a time: it is uploaded once (a server session
// encodes it in the background), then every change of the prompts (concepts, example boxes) runs a segmentation
// of that session. The server is asked for every instance scoring above a low floor, so that the threshold
// slider filters on the client without a request; only below the floor is the same request sent again (the server
// answers it from its cache of the prompts' raw outputs, without running the model). The click mode (one object
// from clicks, pick.js) shares the image, the results list and the downloads.
import { Api, ApiError } from './api.js';
import { parseMask, rleBounds } from './rle.js';
import { jpegOrientation } from './exif.js';
import { instanceColor, semanticColor, paintMasks, paintSemantic, paintHover, drawOverlay, exportPng } from './render.js';
import { Picker, PICK_COLOR } from './pick.js';
import { renderResultList } from './results_list.js';
import { renderTimings } from './timings.js';

const $ = (id) => document.getElementById(id);
const api = new Api();

// Threshold sent with a segment request (instances are the queries with score > threshold, strictly): the slider
// filters on the client from there up. Not 0, because every one of the full model's 200 queries would then come
// back with a full-size mask (seconds of up-sampling, megabytes of JSON) when nearly all score far below anything
// worth showing; below it the request is repeated at 0 (the server's re-threshold cache: no model run).
const REQUEST_FLOOR = 0.05;
const POLL_MS = 200;        // session status polling while the image encodes
const MIN_BOX_SCREEN_PX = 4; // a smaller drag is a click, not a box

const state = {
  file: null, name: '', image: null, w: 0, h: 0,
  session: null,            // {id, status, progress, encodeMs, error}
  loadToken: 0,             // bumps on every new image: stale uploads and polls stop
  uploadMs: null,
  concepts: [],             // [{id, text}]
  activeConcept: null,      // id of the concept new boxes go with
  boxes: [],                // [{x0, y0, x1, y1, positive, concept: id | null}], image pixels
  nextId: 1,
  boxMode: 'positive',
  result: null,             // see setResult()
  resultStale: false,
  threshold: 0.5,
  show: { masks: true, boxes: true, semantic: false },
  hoverKey: null,
  drawing: null,            // box being dragged: {x0, y0, x1, y1, positive, pick}
  mode: 'concepts',         // 'concepts' | 'click' (pick.js)
  pickSupported: true,      // the server's model has the interactive weights (/health "pick")
  pickIdMap: null,          // the pick layer's id map (paintMasks)
  keptItems: [],            // the kept objects of click mode as list / overlay items (keptChanged)
  scale: 1,
  inFlight: false, pending: false,
  idMap: null,
};

// Click mode (pick.js): the object being clicked out and the kept ones.
const picker = new Picker({
  api,
  session: () => state.session,
  imageSize: () => ({ w: state.w, h: state.h }),
  reupload: () => startUpload(state.loadToken),
  onChange: pickChanged,
  onKept: keptChanged,
  report: reportError,
});

// ---------------------------------------------------------------------------------------------------------
// Server status and settings

async function checkHealth() {
  const el = $('server-status');
  try {
    const h = await api.health();
    const parts = [h.model && basename(h.model), h.config, h.precision && `${h.precision} (${h.isa})`,
                   h.threads && `${h.threads} threads`].filter(Boolean);
    const q = h.queue?.length ?? h.queue_length;
    if (q) parts.push(`${q} queued`);
    el.textContent = parts.length ? parts.join(' · ') : 'Server ready';
    el.title = JSON.stringify(h, null, 1);
    el.dataset.state = 'ok';
    setPickSupported(h.pick !== false);
  } catch (e) {
    el.dataset.state = 'error';
    if (e.status === 401 || e.status === 403) {
      el.textContent = 'API key needed';
      $('settings').open = true;
      $('api-key').focus();
    } else {
      el.textContent = 'Server unreachable';
      el.title = e.message;
    }
  }
}

function basename(p) { return String(p).split(/[\\/]/).pop(); }

$('api-key').value = api.key;
$('settings-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  api.setKey($('api-key').value);
  $('settings').open = false;
  checkHealth();
  if (state.file && (!state.session || state.session.status === 'failed')) startUpload();
});

// ---------------------------------------------------------------------------------------------------------
// Messages

let toastTimer = 0;
function toast(msg, kind = 'error') {
  const t = $('toast');
  t.textContent = msg;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 9000 : 4000);
}
$('toast').addEventListener('click', () => { $('toast').hidden = true; });

function reportError(e, what) {
  console.error(what, e);
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    $('settings').open = true;
    $('api-key').focus();
    toast(`${what}: the server needs a valid API key (Settings, top right).`);
  } else {
    toast(`${what}: ${e.message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading an image

async function loadFile(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith('image/')) {
    toast(`"${file.name}" is not an image.`);
    return;
  }
  let image;
  try {
    image = await createImageBitmap(file);
  } catch {
    toast(`This browser cannot read "${file.name || 'the image'}" as an image.`);
    return;
  }
  const token = ++state.loadToken;
  const old = state.session;
  if (old && old.id) api.deleteSession(old.id).catch(() => {});
  Object.assign(state, {
    file, name: file.name || 'pasted image', image, w: image.width, h: image.height, session: null,
    uploadMs: null, boxes: [], result: null, resultStale: false, hoverKey: null, drawing: null,
    idMap: new Uint16Array(image.width * image.height), pickIdMap: new Uint16Array(image.width * image.height),
    keptItems: [],
  });
  picker.reset();
  $('dropzone').hidden = true;
  $('viewer').hidden = false;
  $('image-name').textContent = state.name;
  $('image-size').textContent = `${image.width} × ${image.height}`;
  for (const id of ['image-canvas', 'semantic-canvas', 'mask-canvas', 'pick-canvas', 'hover-canvas']) {
    const c = $(id);
    c.width = image.width;
    c.height = image.height;
  }
  $('image-canvas').getContext('2d').drawImage(image, 0, 0);
  clearLayers();
  fitCanvas();
  renderBoxes();
  renderResults();
  pickChanged();
  updateTimings();
  await startUpload(token);
}

// JPEG and PNG go as they are (the server decodes them like the reference pipeline). Anything else the browser
// can read, and a JPEG whose EXIF says to rotate it (the server would not, the browser does), is sent as the PNG
// of what the browser shows, so that boxes and masks line up with the picture on screen.
async function uploadBlob() {
  const f = state.file;
  const head = new Uint8Array(await f.slice(0, 4).arrayBuffer());
  const isPng = head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
  const isJpeg = head[0] === 0xff && head[1] === 0xd8;
  if (isPng) return { blob: f, name: f.name || 'image.png' };
  let why = 'a format the server does not read';
  if (isJpeg) {
    const o = jpegOrientation(await f.slice(0, 256 * 1024).arrayBuffer());
    if (o === 1) return { blob: f, name: f.name || 'image.jpg' };
    why = `an EXIF rotation (orientation ${o})`;
  }
  const c = document.createElement('canvas');
  c.width = state.w;
  c.height = state.h;
  c.getContext('2d').drawImage(state.image, 0, 0);
  const blob = await new Promise((res) => c.toBlob(res, 'image/png'));
  if (!blob) throw new Error('the browser could not convert the image to PNG');
  toast(`This image has ${why}: it is sent as shown, as a PNG.`, 'info');
  return { blob, name: (f.name || 'image').replace(/\.[^.]*$/, '') + '.png' };
}

async function startUpload(token = state.loadToken) {
  showEncoding('Uploading…', null);
  state.session = { id: null, status: 'uploading' };
  updateSegmentButton();
  try {
    const { blob, name } = await uploadBlob();
    const t0 = performance.now();
    const r = await api.createSession(blob, name);
    if (token !== state.loadToken) { api.deleteSession(r.session_id).catch(() => {}); return; }
    state.uploadMs = performance.now() - t0;
    state.session = { id: r.session_id, status: 'encoding', progress: null, width: r.width, height: r.height };
    if (r.width !== state.w || r.height !== state.h) {
      toast(`The server sees this image as ${r.width} × ${r.height}, the browser as ${state.w} × ${state.h} ` +
            '(an EXIF rotation?). Boxes and masks may not line up.', 'info');
    }
    await pollSession(token);
  } catch (e) {
    if (token !== state.loadToken) return;
    state.session = { id: null, status: 'failed', error: e.message };
    showEncoding(`Upload failed: ${e.message}`, 0, true);
    reportError(e, 'Upload failed');
  }
  updateSegmentButton();
}

async function pollSession(token) {
  const t0 = performance.now();
  for (;;) {
    if (token !== state.loadToken) return;
    const s = await api.session(state.session.id);
    if (token !== state.loadToken) return;
    state.session.status = s.status;
    state.session.progress = s.progress ?? null;
    if (s.status === 'ready') {
      state.session.encodeMs = s.timings_ms?.encode ?? s.encode_ms ?? null;
      state.session.timings = s.timings_ms ?? null;
      hideEncoding();
      updateTimings();
      updateSegmentButton();
      if (buildPrompts().length) requestSegment();
      picker.schedule();
      return;
    }
    if (s.status === 'failed') {
      state.session.error = s.error || 'unknown error';
      showEncoding(`Encoding failed: ${state.session.error}`, 0, true);
      toast(`The server could not encode the image: ${state.session.error}`);
      return;
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const p = typeof s.progress === 'number' ? (s.progress > 1 ? s.progress / 100 : s.progress) : null;
    showEncoding(s.queued ? `Waiting for the model to be free… (${secs} s)`
                          : `Encoding image…${p != null ? ` ${Math.round(p * 100)}%` : ''} (${secs} s)`, s.queued ? null : p);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function showEncoding(text, progress, failed = false) {
  $('encode-overlay').hidden = false;
  $('encode-overlay').classList.toggle('failed', failed);
  $('encode-text').textContent = text;
  const bar = $('encode-progress');
  if (progress == null) bar.removeAttribute('value');
  else bar.value = progress;
}

function hideEncoding() { $('encode-overlay').hidden = true; }

// File picking, drag and drop (anywhere on the page), paste.
$('dropzone').addEventListener('click', () => $('file-input').click());
$('dropzone').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); $('file-input').click(); }
});
$('new-image').addEventListener('click', () => $('file-input').click());
$('file-input').addEventListener('change', () => {
  const f = $('file-input').files[0];
  $('file-input').value = '';
  loadFile(f);
});
let dragDepth = 0;
document.addEventListener('dragenter', (ev) => {
  if (![...(ev.dataTransfer?.types || [])].includes('Files')) return;
  ++dragDepth;
  document.body.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  if (dragDepth > 0 && --dragDepth === 0) document.body.classList.remove('dragging');
});
document.addEventListener('dragover', (ev) => ev.preventDefault());
document.addEventListener('drop', (ev) => {
  ev.preventDefault();
  dragDepth = 0;
  document.body.classList.remove('dragging');
  const f = [...(ev.dataTransfer?.files || [])].find((x) => x.type.startsWith('image/')) || ev.dataTransfer?.files[0];
  if (f) loadFile(f);
});
document.addEventListener('paste', (ev) => {
  const f = [...(ev.clipboardData?.files || [])].find((x) => x.type.startsWith('image/'));
  if (f) { ev.preventDefault(); loadFile(f); }
});

// ---------------------------------------------------------------------------------------------------------
// Concepts (chips) and example boxes

function addConcepts(text) {
  const parts = text.split(',').map((s) => s.trim().replace(/\s+/g, ' ')).filter(Boolean);
  let added = false;
  for (const t of parts) {
    const existing = state.concepts.find((c) => c.text.toLowerCase() === t.toLowerCase());
    if (existing) { state.activeConcept = existing.id; continue; }
    const c = { id: state.nextId++, text: t };
    // Boxes drawn before any concept was typed go with the first concept.
    if (state.concepts.length === 0) for (const b of state.boxes) if (b.concept == null) b.concept = c.id;
    state.concepts.push(c);
    state.activeConcept = c.id;
    added = true;
  }
  renderChips();
  renderBoxes();
  if (added) promptsChanged();
}

function removeConcept(id) {
  state.concepts = state.concepts.filter((c) => c.id !== id);
  state.boxes = state.boxes.filter((b) => b.concept !== id);
  if (state.activeConcept === id) state.activeConcept = state.concepts.length ? state.concepts.at(-1).id : null;
  renderChips();
  renderBoxes();
  promptsChanged();
}

function renderChips() {
  const ul = $('chips');
  ul.replaceChildren();
  for (const c of state.concepts) {
    const li = document.createElement('li');
    li.className = 'chip' + (c.id === state.activeConcept ? ' active' : '');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip-label';
    b.textContent = c.text;
    b.setAttribute('aria-pressed', String(c.id === state.activeConcept));
    b.title = 'Select: new boxes go with this concept';
    b.addEventListener('click', () => { state.activeConcept = c.id; renderChips(); renderBoxes(); });
    const x = document.createElement('button');
    x.type = 'button';
    x.className = 'chip-remove';
    x.textContent = '×';
    x.setAttribute('aria-label', `Remove ${c.text}`);
    x.addEventListener('click', () => { removeConcept(c.id); $('concept-input').focus(); });
    li.append(b, x);
    ul.appendChild(li);
  }
  const active = state.concepts.find((c) => c.id === state.activeConcept);
  $('box-target').textContent = active ? `“${active.text}”` : 'no concept yet: the boxes alone';
}

const conceptInput = $('concept-input');
conceptInput.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') {
    ev.preventDefault();
    if (conceptInput.value.trim()) { addConcepts(conceptInput.value); conceptInput.value = ''; }
    else requestSegment();
  } else if (ev.key === 'Backspace' && conceptInput.value === '' && state.concepts.length) {
    removeConcept(state.concepts.at(-1).id);
  }
});
conceptInput.addEventListener('input', () => {
  if (conceptInput.value.includes(',')) {
    const parts = conceptInput.value.split(',');
    const rest = parts.pop();
    addConcepts(parts.join(','));
    conceptInput.value = rest.trimStart();
  }
  updateSegmentButton();
});
$('chips-input').addEventListener('click', (ev) => { if (ev.target === $('chips-input')) conceptInput.focus(); });

function setBoxMode(mode) {
  state.boxMode = mode;
  $('mode-positive').setAttribute('aria-checked', String(mode === 'positive'));
  $('mode-negative').setAttribute('aria-checked', String(mode === 'negative'));
}
$('mode-positive').addEventListener('click', () => setBoxMode('positive'));
$('mode-negative').addEventListener('click', () => setBoxMode('negative'));
$('box-mode').addEventListener('keydown', (ev) => {
  if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(ev.key)) {
    ev.preventDefault();
    setBoxMode(state.boxMode === 'positive' ? 'negative' : 'positive');
    $(state.boxMode === 'positive' ? 'mode-positive' : 'mode-negative').focus();
  }
});

function conceptText(id) { return state.concepts.find((c) => c.id === id)?.text ?? null; }

function renderBoxes() {
  const ul = $('box-list');
  ul.replaceChildren();
  state.boxes.forEach((b, i) => {
    const li = document.createElement('li');
    li.className = b.positive ? 'pos' : 'neg';
    const kind = document.createElement('span');
    kind.className = 'box-kind';
    kind.textContent = b.positive ? '+ include' : '− exclude';
    const coords = document.createElement('span');
    coords.className = 'box-coords';
    coords.textContent = `${Math.round(b.x0)}, ${Math.round(b.y0)} → ${Math.round(b.x1)}, ${Math.round(b.y1)}`;
    coords.title = 'x0, y0 → x1, y1 in image pixels';
    li.append(kind, coords);
    if (state.concepts.length) {
      const sel = document.createElement('select');
      sel.setAttribute('aria-label', `Concept of box ${i + 1}`);
      for (const c of state.concepts) sel.add(new Option(c.text, String(c.id), false, c.id === b.concept));
      sel.add(new Option('(boxes alone)', '', false, b.concept == null));
      sel.addEventListener('change', () => { b.concept = sel.value ? Number(sel.value) : null; redrawOverlay(); promptsChanged(); });
      li.appendChild(sel);
    }
    const x = document.createElement('button');
    x.type = 'button';
    x.className = 'icon-btn';
    x.textContent = '×';
    x.setAttribute('aria-label', `Remove box ${i + 1}`);
    x.addEventListener('click', () => { state.boxes.splice(i, 1); renderBoxes(); promptsChanged(); });
    li.appendChild(x);
    ul.appendChild(li);
  });
  if (state.boxes.length > 1) {
    const li = document.createElement('li');
    li.className = 'clear-row';
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn btn-quiet';
    b.textContent = 'Remove all boxes';
    b.addEventListener('click', () => { state.boxes = []; renderBoxes(); promptsChanged(); });
    li.appendChild(b);
    ul.appendChild(li);
  }
  redrawOverlay();
}

// The request's prompts: one per concept (with its boxes), plus one for boxes that go with no concept.
function buildPrompts() {
  const box = (b) => ({ box: [b.x0, b.y0, b.x1, b.y1].map((v) => Math.round(v * 10) / 10), label: b.positive });
  const prompts = state.concepts.map((c) => {
    const p = { text: c.text };
    const bs = state.boxes.filter((b) => b.concept === c.id);
    if (bs.length) p.boxes = bs.map(box);
    return p;
  });
  const alone = state.boxes.filter((b) => b.concept == null);
  if (alone.length) prompts.push({ boxes: alone.map(box) });
  return prompts;
}

// ---------------------------------------------------------------------------------------------------------
// Segmenting

let changeTimer = 0;
function promptsChanged() {
  state.resultStale = true;
  updateSegmentButton();
  clearTimeout(changeTimer);
  changeTimer = setTimeout(() => { if (buildPrompts().length) requestSegment(); }, 120);
}

function updateSegmentButton() {
  const btn = $('segment-btn');
  const hasPrompts = buildPrompts().length > 0 || conceptInput.value.trim() !== '';
  const s = state.session;
  btn.disabled = !state.file || !hasPrompts || !s || s.status === 'failed';
  btn.textContent = state.result && !state.resultStale ? 'Segment again' : 'Segment';
  if (!state.file) setStatus('');
  else if (!hasPrompts && !state.inFlight) setStatus('Add a concept or draw a box.');
}

function setStatus(text) { $('segment-status').textContent = text; }

$('segment-btn').addEventListener('click', () => {
  if (conceptInput.value.trim()) { addConcepts(conceptInput.value); conceptInput.value = ''; }
  requestSegment();
});

// Runs now, or once the running request (or the image encoding) is done; several changes in a row give one run.
function requestSegment() {
  const s = state.session;
  if (!s || !buildPrompts().length) return;
  if (s.status !== 'ready') {
    state.pending = true;
    if (s.status !== 'failed') setStatus('Will segment as soon as the image is encoded…');
    return;
  }
  if (state.inFlight) { state.pending = true; return; }
  runSegment();
}

async function runSegment(retried = false) {
  const prompts = buildPrompts();
  const token = state.loadToken;
  state.inFlight = true;
  state.pending = false;
  setStatus('Segmenting…');
  $('segment-btn').setAttribute('aria-busy', 'true');
  const threshold = state.threshold < REQUEST_FLOOR ? 0 : REQUEST_FLOOR;
  const body = { prompts, threshold, semantic: true };
  const t0 = performance.now();
  try {
    const r = await api.segment(state.session.id, body);
    if (token !== state.loadToken) return;
    const ms = performance.now() - t0;
    setResult(r, prompts, ms, threshold);
    setStatus(`Done in ${Math.round(ms)} ms.`);
  } catch (e) {
    if (token !== state.loadToken) return;
    if (e instanceof ApiError && e.status === 404 && !retried) {
      // The server dropped the session (it keeps a bounded number): upload the image again and retry once.
      setStatus('The server forgot this image; uploading it again…');
      state.inFlight = false;
      await startUpload(token);
      if (state.session?.status === 'ready') { state.pending = false; state.inFlight = true; await runSegment(true); }
      return;
    }
    setStatus('Segmentation failed.');
    reportError(e, 'Segmentation failed');
  } finally {
    if (token === state.loadToken) {
      state.inFlight = false;
      $('segment-btn').removeAttribute('aria-busy');
      updateSegmentButton();
      if (state.pending) requestSegment();
    }
  }
}

// Keeps the server's answer and prepares it for drawing: masks parsed into runs, a colour per instance (by
// score, best first, so the strongest get the most distinct colours), a label and a rank within its prompt.
function setResult(resp, sentPrompts, roundTripMs, requestThreshold) {
  const prompts = (resp.prompts || []).map((p, pi) => {
    const sent = sentPrompts[pi] || {};
    const text = p.text ?? p.prompt?.text ?? sent.text ?? '';
    const label = text || 'boxes';
    const instances = (p.instances || []).map((inst, ii) => {
      let runs = null, maskArea = null;
      if (inst.mask) {
        const m = parseMask(inst.mask);
        if (m.h !== state.h || m.w !== state.w) throw new Error(`mask size ${m.w}x${m.h} is not the image's`);
        runs = m.runs;
        maskArea = m.area;
      }
      return {
        key: `${pi}:${ii}`, prompt: pi, index: ii, score: inst.score, box: inst.box, runs, maskArea,
        area: inst.area ?? maskArea ?? 0, query: inst.query, label, color: '', rank: 0, bounds: undefined,
      };
    });
    [...instances].sort((a, b) => b.score - a.score).forEach((inst, r) => { inst.rank = r + 1; });
    let semantic = null;
    if (p.semantic && p.semantic.counts !== undefined) semantic = { ...parseMask(p.semantic), color: '' };
    return { text, label, sent, instances, semantic, cached: !!p.cached, timings: p.timings_ms ?? null };
  });
  const all = prompts.flatMap((p) => p.instances).sort((a, b) => b.score - a.score);
  all.forEach((inst, i) => { inst.color = instanceColor(i); });
  prompts.forEach((p, i) => { if (p.semantic) p.semantic.color = semanticColor(i); });
  state.result = { raw: resp, prompts, all, roundTripMs, requestThreshold };
  state.resultStale = false;
  state.hoverKey = null;
  const hasSemantic = prompts.some((p) => p.semantic);
  $('show-semantic').disabled = !hasSemantic;
  $('show-semantic').parentElement.title = hasSemantic ? '' : 'The server sent no semantic mask';
  paintSemanticLayer();
  renderResults();
  updateTimings();
  updateSegmentButton();
}

function visibleInstances() {
  if (!state.result) return [];
  return state.result.all.filter((inst) => inst.score > state.threshold);
}

// What the image and the list show: the concept instances above the threshold, then the kept objects (click mode,
// always shown). Kept objects are items like instances: {key: "pick:<id>", kept, runs, box, area, score, label}.
function shownItems() { return [...visibleInstances(), ...state.keptItems]; }

function findItem(key) {
  if (key == null) return null;
  return state.result?.all.find((v) => v.key === key) ?? state.keptItems.find((v) => v.key === key) ?? null;
}

// "child 2" for a concept instance (its rank within its prompt), the typed label for a kept object.
function itemName(v) { return v.kept ? v.label : `${v.label} ${v.rank}`; }

// ---------------------------------------------------------------------------------------------------------
// Drawing the results

function clearLayers() {
  for (const id of ['semantic-canvas', 'mask-canvas', 'pick-canvas', 'hover-canvas']) {
    const c = $(id);
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
  }
}

function paintSemanticLayer() {
  const c = $('semantic-canvas');
  const sem = state.result ? state.result.prompts.map((p) => p.semantic).filter(Boolean) : [];
  paintSemantic(c.getContext('2d'), state.w, state.h, sem);
  c.hidden = !state.show.semantic;
}

let renderQueued = false;
function renderResults() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderResultsNow();
  });
}

function renderResultsNow() {
  const vis = visibleInstances();
  const shown = shownItems();
  const withMask = shown.filter((v) => v.runs);
  const c = $('mask-canvas');
  if (state.image) {
    const edge = Math.max(1, Math.round(1.5 / state.scale));
    paintMasks(c.getContext('2d'), state.idMap, state.w, state.h, withMask, edge);
    state.maskIds = withMask;  // idMap values are 1 + index into this list
  }
  c.hidden = !state.show.masks;
  if (state.hoverKey && !shown.some((v) => v.key === state.hoverKey)) state.hoverKey = null;
  paintHoverLayer();
  redrawOverlay();
  renderList(vis);
  const n = state.result ? state.result.all.length : 0;
  const t = state.threshold.toFixed(2);
  const floor = state.result ? state.result.requestThreshold : 0;
  $('result-summary').textContent = !state.result
    ? 'No results yet.'
    : n === 0
      ? `The model found nothing scoring above ${floor}.`
      : vis.length === 0
        ? `None of the ${n} candidates scores above ${t}: lower the threshold.`
        : `${vis.length} of ${n} candidates score above ${t}.`;
  $('result-summary').title = state.result ? `Candidates: the instances scoring above ${floor}` : '';
  $('download-json').disabled = !state.result && !state.keptItems.length;
  $('download-png').disabled = !state.image;
}

function redrawOverlay() {
  if (!state.image) return;
  const hovered = state.hoverKey;
  const clicking = state.mode === 'click';
  // The example boxes belong to the concepts: shown in that mode only.
  const promptBoxes = clicking ? [] : state.boxes.map((b) => ({ ...b, label: conceptText(b.concept) ?? '' }));
  const step = picker.last();
  drawOverlay($('overlay'), {
    w: state.w, h: state.h, scale: state.scale,
    results: shownItems().map((v) => ({ key: v.key, color: v.color, box: v.box, label: itemName(v), score: v.score })),
    showBoxes: state.show.boxes, prompts: promptBoxes, drawing: state.drawing, hoverKey: hovered,
    pick: clicking ? { points: step ? step.points : [], box: step ? step.box : null, color: PICK_COLOR } : null,
  });
  $('canvas-wrap').classList.toggle('has-hover', hovered != null);
}

function paintHoverLayer() {
  const inst = findItem(state.hoverKey);
  if (inst && inst.runs && inst.bounds === undefined) inst.bounds = rleBounds(inst.runs, state.h);
  paintHover($('hover-canvas').getContext('2d'), state.w, state.h, inst && inst.runs && state.show.masks ? inst : null);
}

function renderList(vis) {
  renderResultList($('instance-list'), {
    kept: state.keptItems, prompts: state.result ? state.result.prompts : null, visible: vis, hoverKey: state.hoverKey,
    name: itemName, canRefine: state.pickSupported, onRefine: refineInstance,
    onRemoveKept: (v) => picker.removeKept(v.kept.id),
  });
}

function setHover(key, fromCanvas = false) {
  if (key === state.hoverKey) return;
  state.hoverKey = key;
  paintHoverLayer();
  redrawOverlay();
  for (const li of $('instance-list').querySelectorAll('li.instance')) {
    const on = li.dataset.key === key;
    li.classList.toggle('hovered', on);
    if (on && fromCanvas) li.scrollIntoView({ block: 'nearest' });
  }
}

const list = $('instance-list');
list.addEventListener('mouseover', (ev) => {
  const li = ev.target.closest('li.instance');
  if (li) setHover(li.dataset.key);
});
list.addEventListener('mouseleave', () => setHover(null));
list.addEventListener('focusin', (ev) => {
  const li = ev.target.closest('li.instance');
  if (li) setHover(li.dataset.key);
});
list.addEventListener('focusout', () => setHover(null));

// Threshold and display toggles: client-side only.
$('threshold').addEventListener('input', () => {
  state.threshold = Number($('threshold').value);
  $('threshold-value').textContent = state.threshold.toFixed(2);
  // Below what the server was asked for: ask again at 0 (answered from the server's cache, no model run).
  if (state.result && !state.resultStale && state.threshold < state.result.requestThreshold) requestSegment();
  renderResults();
});
for (const [id, key] of [['show-masks', 'masks'], ['show-boxes', 'boxes'], ['show-semantic', 'semantic']]) {
  $(id).addEventListener('change', () => {
    state.show[key] = $(id).checked;
    $('semantic-canvas').hidden = !state.show.semantic;
    renderResults();
  });
}

// ---------------------------------------------------------------------------------------------------------
// Pointer on the image: drag draws a box, hover highlights the instance under the pointer

const overlay = $('overlay');

function imagePoint(ev) {
  const r = overlay.getBoundingClientRect();
  const x = ((ev.clientX - r.left) / r.width) * state.w;
  const y = ((ev.clientY - r.top) / r.height) * state.h;
  return [Math.max(0, Math.min(state.w, x)), Math.max(0, Math.min(state.h, y))];
}

overlay.addEventListener('pointerdown', (ev) => {
  const clicking = state.mode === 'click';
  if (!state.image || !(ev.button === 0 || (clicking && ev.button === 2))) return;
  ev.preventDefault();
  overlay.setPointerCapture(ev.pointerId);
  const [x, y] = imagePoint(ev);
  if (clicking) {
    // A press in click mode: a point when released where it started, a box once dragged. The right button or Alt
    // make a negative point (never a box).
    state.drawing = { x0: x, y0: y, x1: x, y1: y, pick: true, negative: ev.button === 2 || ev.altKey };
  } else {
    const positive = state.boxMode === 'positive' && !ev.altKey && !ev.shiftKey;
    state.drawing = { x0: x, y0: y, x1: x, y1: y, positive };
  }
  setHover(null);
  redrawOverlay();
});

// Click mode: no context menu on the image (the right button is a negative click).
overlay.addEventListener('contextmenu', (ev) => { if (state.mode === 'click') ev.preventDefault(); });

overlay.addEventListener('pointermove', (ev) => {
  if (!state.image) return;
  const [x, y] = imagePoint(ev);
  if (state.drawing) {
    if (state.drawing.negative) return;
    state.drawing.x1 = x;
    state.drawing.y1 = y;
    redrawOverlay();
    return;
  }
  setHover(hitTest(x, y), true);
});

overlay.addEventListener('pointerup', (ev) => {
  const d = state.drawing;
  if (!d) return;
  state.drawing = null;
  const [x, y] = imagePoint(ev);
  if (d.pick) {
    finishPickGesture(d, x, y);
    return;
  }
  d.x1 = x;
  d.y1 = y;
  const b = { x0: Math.min(d.x0, d.x1), y0: Math.min(d.y0, d.y1), x1: Math.max(d.x0, d.x1), y1: Math.max(d.y0, d.y1) };
  if ((b.x1 - b.x0) * state.scale >= MIN_BOX_SCREEN_PX && (b.y1 - b.y0) * state.scale >= MIN_BOX_SCREEN_PX) {
    state.boxes.push({ ...b, positive: d.positive, concept: state.activeConcept });
    renderBoxes();
    promptsChanged();
  } else {
    redrawOverlay();
  }
});

// Click mode: a press released within a few screen pixels is a click (at the press), a drag in both directions a
// box; a negative press is always a click.
function finishPickGesture(d, x, y) {
  const dx = Math.abs(x - d.x0) * state.scale, dy = Math.abs(y - d.y0) * state.scale;
  if (d.negative || (dx < MIN_BOX_SCREEN_PX && dy < MIN_BOX_SCREEN_PX)) {
    picker.addPoint(d.x0, d.y0, !d.negative);
  } else if (dx >= MIN_BOX_SCREEN_PX && dy >= MIN_BOX_SCREEN_PX) {
    picker.setBox([Math.min(d.x0, x), Math.min(d.y0, y), Math.max(d.x0, x), Math.max(d.y0, y)]);
  } else {
    redrawOverlay();  // a drag along one axis: neither a click nor a box
  }
}

overlay.addEventListener('pointercancel', () => { state.drawing = null; redrawOverlay(); });
overlay.addEventListener('pointerleave', () => { if (!state.drawing) setHover(null); });
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && state.drawing) { state.drawing = null; redrawOverlay(); return; }
  if (state.mode !== 'click' || !state.image || ev.defaultPrevented) return;
  const t = ev.target;
  const typing = (t instanceof HTMLInputElement && !['checkbox', 'range', 'radio'].includes(t.type)) ||
                 t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || !!t?.isContentEditable;
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && !ev.shiftKey && !ev.altKey && ev.key.toLowerCase() === 'z' && !typing) {
    ev.preventDefault();
    picker.undo();
  } else if (ev.key === 'Enter' && !mod && (!typing || t.id === 'pick-label') && !(t instanceof HTMLButtonElement)) {
    ev.preventDefault();
    keepPick();
  } else if (ev.key === 'Escape' && (!typing || t.id === 'pick-label')) {
    clearPick();
  } else if (!typing && !mod && !ev.altKey && /^[1-9]$/.test(ev.key)) {
    picker.choose(Number(ev.key) - 1);
  }
});

// The topmost visible instance at image pixel (x, y): from the mask id map, else the smallest box around it.
function hitTest(x, y) {
  if (!state.result) return null;
  const xi = Math.min(state.w - 1, Math.floor(x)), yi = Math.min(state.h - 1, Math.floor(y));
  if (state.show.masks && state.maskIds) {
    const id = state.idMap[yi * state.w + xi];
    if (id) return state.maskIds[id - 1].key;
  }
  if (!state.show.boxes) return null;
  let best = null, bestArea = Infinity;
  for (const v of shownItems()) {
    const [x0, y0, x1, y1] = v.box;
    const a = (x1 - x0) * (y1 - y0);
    if (x >= x0 && x <= x1 && y >= y0 && y <= y1 && a < bestArea) { best = v.key; bestArea = a; }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// Click mode (pick.js): the mode switch, the pick layer, the card, keeping and the kept objects

function setMode(mode) {
  if (mode === 'click' && !state.pickSupported) return;
  const clicking = mode === 'click';
  state.mode = mode;
  state.drawing = null;
  $('mode-concepts').setAttribute('aria-checked', String(!clicking));
  $('mode-click').setAttribute('aria-checked', String(clicking));
  for (const el of document.querySelectorAll('.concept-card')) el.hidden = clicking;
  $('pick-card').hidden = !clicking;
  $('stage-hint').hidden = clicking;
  $('pick-hint').hidden = !clicking;
  $('results-step').textContent = clicking ? '2' : '3';
  overlay.setAttribute('aria-label', clicking
    ? 'Image: click on an object to segment it, Alt+click or right click to exclude, drag for a box'
    : 'Image with results; drag to draw a box');
  $('canvas-wrap').classList.toggle('click-mode', clicking);
  pickChanged();
}
$('mode-concepts').addEventListener('click', () => setMode('concepts'));
$('mode-click').addEventListener('click', () => setMode('click'));
$('mode-switch').addEventListener('keydown', (ev) => {
  if (!['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(ev.key)) return;
  ev.preventDefault();
  setMode(state.mode === 'click' ? 'concepts' : 'click');
  $(state.mode === 'click' ? 'mode-click' : 'mode-concepts').focus();
});

function setPickSupported(ok) {
  if (ok === state.pickSupported) return;
  state.pickSupported = ok;
  const b = $('mode-click');
  b.disabled = !ok;
  b.title = ok ? 'Segment one object by clicking on it'
               : 'The server\'s model has no interactive weights (tracker.*): start it with a checkpoint that has them';
  if (!ok && state.mode === 'click') setMode('concepts');
  renderResults();  // the "Refine" buttons
}

// The object being clicked out changed: its mask layer, the overlay (points, box), the card, the timings.
function pickChanged() {
  paintPickLayer();
  renderPickCard();
  redrawOverlay();
  updateTimings();
}

function paintPickLayer() {
  const c = $('pick-canvas');
  c.hidden = state.mode !== 'click';
  if (!state.image) return;
  const m = picker.shownMask();
  const edge = Math.max(1, Math.round(2 / state.scale));
  paintMasks(c.getContext('2d'), state.pickIdMap, state.w, state.h,
             m ? [{ runs: m.runs, area: m.area, color: PICK_COLOR }] : [], edge);
  c.dataset.area = m ? String(m.area) : '0';
}

function keepPick() {
  if (!picker.shownStep() || picker.busy()) return;
  picker.keep($('pick-label').value.trim().replace(/\s+/g, ' '));
  $('pick-label').value = '';
}
$('pick-keep').addEventListener('click', keepPick);
$('pick-undo').addEventListener('click', () => picker.undo());
$('pick-clear').addEventListener('click', clearPick);

// Clear: the object and its label (which "Refine" may have filled in) go.
function clearPick() {
  picker.clear();
  $('pick-label').value = '';
}
$('pick-candidates').addEventListener('keydown', (ev) => picker.candidateKey(ev));

function renderPickCard() {
  picker.renderCard({ imageLoaded: !!state.image, sessionReady: state.session?.status === 'ready' });
}

// The kept objects as items of the results list and the image (colours after the concept instances' palette).
function keptChanged() {
  state.keptItems = picker.kept.map((k) => ({
    key: `pick:${k.id}`, kept: k, runs: k.mask.runs, box: k.mask.box, area: k.mask.area, maskArea: k.mask.area,
    score: k.mask.score, label: k.label, color: instanceColor(19 + k.id), rank: 0, bounds: undefined,
  }));
  renderResults();
  renderPickCard();
}

// "Refine" on a concept instance: click mode, a new object seeded with the instance's box (and its concept as label).
function refineInstance(v) {
  setMode('click');
  picker.startFromBox(v.box);
  $('pick-label').value = v.label === 'boxes' ? '' : v.label;
}

// ---------------------------------------------------------------------------------------------------------
// Layout: the image fits the stage, the layers follow it

function fitCanvas() {
  if (!state.image) return;
  const area = $('canvas-area');
  const aw = area.clientWidth, ah = area.clientHeight;
  const s = Math.min(aw / state.w, ah / state.h, 4);
  if (!(s > 0)) return;
  const changed = Math.abs(s - state.scale) > 1e-6;
  state.scale = s;
  const wrap = $('canvas-wrap');
  wrap.style.width = `${Math.floor(state.w * s)}px`;
  wrap.style.height = `${Math.floor(state.h * s)}px`;
  if (changed) renderResults();
}
new ResizeObserver(() => fitCanvas()).observe($('canvas-area'));

// ---------------------------------------------------------------------------------------------------------
// Timings

function updateTimings() {
  const ps = picker.shownStep();
  renderTimings($('timings'), {
    loaded: !!state.file, uploadMs: state.uploadMs, session: state.session, result: state.result,
    pick: ps && picker.lastMs != null ? { ms: picker.lastMs, timings: ps.pick.timings } : null,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Downloads

function download(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

function stem() { return state.name.replace(/\.[^.]*$/, '') || 'image'; }

// The server's answer with the instances at the current threshold (as on screen), then the kept objects of click
// mode, one prompt each ("task": "pick", with its label, clicks and box; docs/pick.md).
function resultJson() {
  let raw;
  if (state.result) {
    raw = structuredClone(state.result.raw);
    const t = state.threshold;
    for (const p of raw.prompts || []) {
      if (Array.isArray(p.instances)) p.instances = p.instances.filter((i) => i.score > t);
      if ('threshold' in p) p.threshold = t;
    }
    raw.threshold = t;
  } else {
    raw = { schema: 'sam3.segment/1', image: { width: state.session?.width ?? state.w, height: state.session?.height ?? state.h },
            prompts: [] };
  }
  if (picker.kept.length) raw.prompts = [...(raw.prompts || []), ...picker.keptPrompts()];
  return raw;
}

$('download-json').addEventListener('click', () => {
  if (!state.result && !picker.kept.length) return;
  download(new Blob([JSON.stringify(resultJson(), null, 2)], { type: 'application/json' }), `${stem()}.sam3.json`);
});

$('download-png').addEventListener('click', async () => {
  try {
    const blob = await exportPng({
      image: state.image, w: state.w, h: state.h,
      semanticCanvas: state.show.semantic && state.result ? $('semantic-canvas') : null,
      maskCanvas: state.show.masks ? $('mask-canvas') : null,
      results: shownItems().map((v) => ({ color: v.color, box: v.box, label: itemName(v), score: v.score })),
      showBoxes: state.show.boxes,
    });
    download(blob, `${stem()}.sam3.png`);
  } catch (e) {
    reportError(e, 'Could not make the PNG');
  }
});

// ---------------------------------------------------------------------------------------------------------

renderChips();
updateSegmentButton();
renderPickCard();
checkHealth();
