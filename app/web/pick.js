// sam3.cpp web UI — click mode: one object from clicks (POST /v1/sessions/{id}/pick, docs/server.md). A click adds a
// positive point, Alt+click or a right click a negative one, a drag sets the object's box; after each of them the
// object's mask is asked for again, with the previous pick's mask as the model's mask input (`mask_from`, and
// `mask_index` for the candidate chosen), as in the official demos. A single click gives 3 candidates (it is
// ambiguous: the part, the object, the group): the best one is shown and the user may choose another. "Keep" adds
// the object to the kept list (with a label), which app.js shows with the results and puts in the downloads.
//
// The steps of the object being clicked out are a stack: each holds the prompt after one action (points, box) and,
// once the server answered, its pick (masks, chosen candidate). Undo pops a step and shows the previous pick again
// without a request. One request at a time: a step added meanwhile is sent when the running one is answered (with
// the newest pick as its mask input).
import { ApiError } from './api.js';
import { parseMask } from './rle.js';

export const PICK_COLOR = '#00a3ff';

const round1 = (v) => Math.round(v * 10) / 10;

export class Picker {
  //   api: the Api; session(): app.js's session {id, status, width, height} or null; imageSize(): {w, h} of the
  //   image as shown; reupload(): uploads the image again (the server forgot the session), resolves when ready or
  //   failed; onChange(): redraw (pick layer, overlay, card); onKept(): the kept list changed; report(e, what).
  constructor({ api, session, imageSize, reupload, onChange, onKept, report }) {
    Object.assign(this, { api, session, imageSize, reupload, onChange, onKept, report });
    this.steps = [];
    this.kept = [];      // [{id, label, mask: {runs, area, box, score, rle}, points, box, objectScore, pickId}]
    this.nextKept = 1;
    this.inFlight = null;
    this.token = 0;      // bumps on a new image: answers for the old one are dropped
    this.lastMs = null;  // round trip of the last answer
    this.error = '';
  }

  // A new image: nothing carries over.
  reset() {
    ++this.token;
    this.steps = [];
    this.kept = [];
    this.inFlight = null;
    this.error = '';
    this.lastMs = null;
  }

  last() { return this.steps.at(-1) || null; }

  // The step whose pick is on screen: the newest that has one (while a request runs, the previous mask stays).
  shownStep() {
    for (let i = this.steps.length - 1; i >= 0; --i) if (this.steps[i].pick) return this.steps[i];
    return null;
  }

  // The mask on screen: {runs, area, box, score, rle} or null.
  shownMask() {
    const s = this.shownStep();
    return s ? s.pick.masks[s.pick.chosen] : null;
  }

  busy() { return this.inFlight !== null; }
  hasPrompt() { const s = this.last(); return !!s && (s.points.length > 0 || !!s.box); }

  // ---- actions

  addPoint(x, y, positive) {
    const prev = this.last();
    this.push({ points: [...(prev ? prev.points : []), { x, y, positive }], box: prev ? prev.box : null });
  }

  setBox(box) {
    const prev = this.last();
    this.push({ points: prev ? [...prev.points] : [], box });
  }

  // A pick seeded with a box (a concept instance's "refine"): a fresh object.
  startFromBox(box) {
    this.clear(false);
    this.setBox(box.map(Number));
  }

  push(step) {
    this.error = '';
    this.steps.push({ ...step, pick: null });
    this.onChange();
    this.schedule();
  }

  undo() {
    if (!this.steps.length) return;
    this.steps.pop();
    this.error = '';
    this.onChange();
    this.schedule();  // the step now on top may never have been answered (clicks faster than the server)
  }

  clear(redraw = true) {
    this.steps = [];
    this.error = '';
    if (redraw) this.onChange();
  }

  choose(k) {
    const s = this.shownStep();
    if (!s || k < 0 || k >= s.pick.masks.length || s.pick.chosen === k) return;
    s.pick.chosen = k;
    this.onChange();
  }

  // Adds the mask on screen to the kept objects; the next click starts a new object.
  keep(label) {
    const s = this.shownStep();
    if (!s) return null;
    const obj = {
      id: this.nextKept++, label: label || `object ${this.nextKept - 1}`, mask: s.pick.masks[s.pick.chosen],
      points: s.points.map((p) => ({ ...p })), box: s.box, objectScore: s.pick.objectScore, pickId: s.pick.id,
    };
    this.kept.push(obj);
    this.clear();
    this.onKept();
    return obj;
  }

  removeKept(id) {
    this.kept = this.kept.filter((k) => k.id !== id);
    this.onKept();
  }

  // ---- requests

  // Sends the newest step if it has no answer yet, nothing runs and the image is encoded (app.js calls this again
  // when the encoding is done).
  schedule() {
    const s = this.last();
    const sess = this.session();
    if (this.inFlight || !s || s.pick || !this.hasPrompt() || !sess || sess.status !== 'ready') return;
    this.run(s);
  }

  // The request body for step `s`: its points and box in the server's pixels, the previous answered pick as mask.
  body(s, withMask) {
    const sess = this.session();
    const { w, h } = this.imageSize();
    const sx = sess.width ? sess.width / w : 1, sy = sess.height ? sess.height / h : 1;
    const body = { points: s.points.map((p) => ({ x: round1(p.x * sx), y: round1(p.y * sy), label: p.positive ? 1 : 0 })) };
    if (s.box) body.box = [s.box[0] * sx, s.box[1] * sy, s.box[2] * sx, s.box[3] * sy].map(round1);
    if (withMask) {
      const i = this.steps.indexOf(s);
      for (let j = i - 1; j >= 0; --j) {
        const p = this.steps[j].pick;
        if (p && p.session === sess.id) {
          body.mask_from = p.id;
          body.mask_index = p.chosen;
          break;
        }
      }
    }
    return body;
  }

  async run(s) {
    const token = this.token;
    this.inFlight = s;
    this.onChange();
    let withMask = true, reuploaded = false;
    try {
      for (;;) {
        const sess = this.session();
        const body = this.body(s, withMask);
        const t0 = performance.now();
        try {
          const r = await this.api.pick(sess.id, body);
          if (token !== this.token) return;
          this.lastMs = performance.now() - t0;
          s.pick = this.parse(r, sess.id);
          s.sent = body;
          this.error = '';
          return;
        } catch (e) {
          if (token !== this.token) return;
          if (e instanceof ApiError && e.status === 400 && body.mask_from && /mask_from/.test(e.message)) {
            withMask = false;  // the server no longer has that pick (it keeps the last 16): ask without it
            continue;
          }
          if (e instanceof ApiError && e.status === 404 && !reuploaded) {
            reuploaded = true;  // the server dropped the session: upload the image again, retry once
            await this.reupload();
            if (token !== this.token) return;
            if (this.session()?.status !== 'ready') throw e;
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      if (token !== this.token) return;
      this.error = e.message;
      this.report(e, 'Click to segment failed');
    } finally {
      if (token === this.token) {
        this.inFlight = null;
        this.onChange();
        if (!this.error) this.schedule();
      }
    }
  }

  // The server's answer -> {id, session, masks: [{runs, area, box, score, rle}], best, chosen, objectScore, timings}
  parse(r, sessionId) {
    const p = r.prompts[0];
    const { w, h } = this.imageSize();
    const masks = p.instances.map((inst) => {
      const m = parseMask(inst.mask);
      if (m.w !== w || m.h !== h) throw new Error(`mask size ${m.w}x${m.h} is not the image's`);
      return { runs: m.runs, area: inst.area, box: inst.box, score: inst.score, rle: inst.mask };
    });
    const best = Number.isInteger(p.best) && p.best >= 0 ? p.best : 0;
    return { id: r.pick_id, session: sessionId, masks, best, chosen: best, objectScore: p.object_score,
             multimask: !!p.multimask, timings: p.timings_ms ?? null };
  }

  // ---- the card (index.html #pick-card): status, candidates, buttons

  static describe(step) {
    const pos = step.points.filter((p) => p.positive).length, neg = step.points.length - pos;
    const parts = [];
    if (step.points.length) {
      parts.push(`${step.points.length} click${step.points.length > 1 ? 's' : ''}` +
                 (neg ? ` (${pos} +, ${neg} −)` : ''));
    }
    if (step.box) parts.push('a box');
    return parts.join(' and ');
  }

  renderCard({ imageLoaded, sessionReady }) {
    const $ = (id) => document.getElementById(id);
    const step = this.last(), shown = this.shownStep(), busy = this.busy();
    const card = $('pick-card');
    card.dataset.busy = String(busy);
    card.dataset.steps = String(this.steps.length);
    let text;
    if (!imageLoaded) text = 'Load an image, then click on an object in it.';
    else if (this.error) text = `The last click failed: ${this.error}`;
    else if (!step) {
      const n = this.kept.length;
      text = 'Click on an object in the image.' + (n ? ` (${n} object${n > 1 ? 's' : ''} kept.)` : '');
    }
    else if (!sessionReady) text = 'Waiting for the image to be encoded…';
    else if (busy || !shown) text = `${Picker.describe(step)}: segmenting…`;
    else {
      const m = this.shownMask();
      text = `${Picker.describe(step)}: ${m.area.toLocaleString()} px, predicted IoU ${m.score.toFixed(2)}`;
      if (shown.pick.objectScore != null && shown.pick.objectScore < 0.5) {
        text += ' (the model doubts there is an object here)';
      }
    }
    $('pick-status').textContent = text;
    const cands = $('pick-candidates');
    cands.replaceChildren();
    const many = !!shown && shown.pick.masks.length > 1;
    cands.hidden = !many;
    $('pick-candidates-hint').hidden = !many;
    if (many) {
      shown.pick.masks.forEach((m, k) => {
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'cand';
        b.setAttribute('role', 'radio');
        b.setAttribute('aria-checked', String(k === shown.pick.chosen));
        b.dataset.index = String(k);
        b.dataset.area = String(m.area);
        b.dataset.score = String(m.score);
        b.title = `Candidate ${k + 1}: ${m.area.toLocaleString()} pixels, predicted IoU ${m.score.toFixed(3)} ` +
                  `(key ${k + 1})`;
        const n = document.createElement('span');
        n.className = 'cand-n';
        n.textContent = String(k + 1);
        const sc = document.createElement('span');
        sc.className = 'cand-score';
        sc.textContent = `IoU ${m.score.toFixed(2)}${k === shown.pick.best ? ' ★' : ''}`;
        const ar = document.createElement('span');
        ar.className = 'cand-area muted';
        ar.textContent = `${m.area.toLocaleString()} px`;
        b.append(n, sc, ar);
        b.addEventListener('click', () => this.choose(k));
        cands.appendChild(b);
      });
    }
    $('pick-keep').disabled = !shown || busy;
    $('pick-undo').disabled = !step;
    $('pick-clear').disabled = !step;
    $('pick-label').placeholder = `object ${this.nextKept}`;
    $('pick-time').textContent = this.lastMs != null && shown ? `answered in ${Math.round(this.lastMs)} ms` : '';
  }

  // Arrow keys on the candidates (a radio group): the previous / next one.
  candidateKey(ev) {
    const s = this.shownStep();
    if (!s || !['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(ev.key)) return;
    ev.preventDefault();
    const n = s.pick.masks.length, d = ev.key === 'ArrowLeft' || ev.key === 'ArrowUp' ? -1 : 1;
    this.choose((s.pick.chosen + d + n) % n);
    document.querySelector('#pick-candidates [aria-checked="true"]')?.focus();
  }

  // ---- the kept objects in the downloaded JSON: one prompt each, as the pick endpoint answers it (task "pick")

  keptPrompts() {
    return this.kept.map((k) => {
      const p = { task: 'pick', label: k.label, pick_id: k.pickId,
                  points: k.points.map((q) => ({ x: round1(q.x), y: round1(q.y), label: q.positive ? 1 : 0 })) };
      if (k.box) p.box = k.box.map(round1);
      p.object_score = k.objectScore;
      p.instances = [{ score: k.mask.score, box: k.mask.box, area: k.mask.area, mask: k.mask.rle }];
      return p;
    });
  }
}
