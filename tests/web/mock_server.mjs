// A stand-in for `sam3 serve` for working on the web UI without a model: serves app/web and answers the API with
// made-up instances (ellipse masks, COCO RLE), a slow "encoding" with progress, and a semantic mask; picks (click
// mode) answer ellipses around the clicks or in the box (3 sizes for a single click).
//   node tests/web/mock_server.mjs [port]        then open http://127.0.0.1:<port>/
// Not used by the ctest (ui.test.mjs runs against the real server); kept for UI work.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rleEncode, rleToString } from '../../app/web/rle.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, '../../app/web');
const port = Number(process.argv[2] || 8099);
const ENCODE_MS = 1500;
const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

const sessions = new Map();
let nextId = 1;

function imageSize(buf) {
  if (buf[0] === 0x89 && buf[1] === 0x50) return { w: buf.readUInt32BE(16), h: buf.readUInt32BE(20) };
  if (buf[0] === 0xff && buf[1] === 0xd8) {
    let p = 2;
    while (p < buf.length) {
      if (buf[p] !== 0xff) { ++p; continue; }
      const m = buf[p + 1];
      const len = buf.readUInt16BE(p + 2);
      if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) return { h: buf.readUInt16BE(p + 5), w: buf.readUInt16BE(p + 7) };
      p += 2 + len;
    }
  }
  throw new Error('not a JPEG or PNG');
}

// The file part of a multipart body (enough for one field).
function multipartFile(body, type) {
  const b = /boundary=(?:"([^"]+)"|([^;]+))/.exec(type);
  if (!b) return body;
  const sep = Buffer.from('--' + (b[1] || b[2]));
  const start = body.indexOf(sep);
  const headEnd = body.indexOf('\r\n\r\n', start);
  const end = body.indexOf(sep, headEnd);
  return body.subarray(headEnd + 4, end - 2);
}

function json(res, code, obj) {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(obj));
}

function ellipse(w, h, cx, cy, rx, ry) {
  const m = new Uint8Array(w * h);
  for (let y = Math.max(0, Math.floor(cy - ry)); y < Math.min(h, cy + ry); ++y)
    for (let x = Math.max(0, Math.floor(cx - rx)); x < Math.min(w, cx + rx); ++x)
      if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1) m[y * w + x] = 1;
  return m;
}

function segment(s, req) {
  const t0 = Date.now();
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const prompts = req.prompts.map((p, pi) => {
    seed = 7 + pi * 101 + (p.text || '').length * 13 + (p.boxes?.length || 0) * 7;
    const sem = new Uint8Array(s.w * s.h);
    const instances = [];
    for (let q = 0; q < 20; ++q) {
      const score = rand() ** 2.5;
      if (!(score > (req.threshold ?? 0.5))) continue;
      const cx = rand() * s.w, cy = rand() * s.h, rx = 10 + rand() * s.w / 6, ry = 10 + rand() * s.h / 6;
      const m = ellipse(s.w, s.h, cx, cy, rx, ry);
      let area = 0;
      for (let i = 0; i < m.length; ++i) if (m[i]) { ++area; if (score > 0.5) sem[i] = 1; }
      instances.push({ query: q, score, box: [cx - rx, cy - ry, cx + rx, cy + ry], area,
                       mask: { size: [s.h, s.w], counts: rleToString(rleEncode(m, s.h, s.w)) } });
    }
    const out = { text: p.text || '', boxes: p.boxes || [], threshold: req.threshold, instances,
                  timings_ms: { text: 3, fusion_encoder: 20, decoder: 15, mask_head: 30, postprocess: 5, total: 73 } };
    if (req.semantic !== false) out.semantic = { size: [s.h, s.w], counts: rleToString(rleEncode(sem, s.h, s.w)) };
    return out;
  });
  const ms = Date.now() - t0;
  return { schema: 'sam3.segment/1', image: { width: s.w, height: s.h }, prompts,
           timings_ms: { segment: ms, queue_wait: 0, total: ms }, processing_time_ms: ms };
}

function pick(s, id, req) {
  const pts = req.points || [];
  for (const p of pts) if (!(p.x >= 0 && p.y >= 0 && p.x <= s.w && p.y <= s.h)) throw new Error('point outside the image');
  if (req.mask_from && !s.picks.has(req.mask_from)) throw new Error(`mask_from: no pick '${req.mask_from}'`);
  const pos = pts.filter((p) => p.label !== 0 && p.label !== false);
  let cx, cy, rx, ry;
  if (req.box) {
    const [x0, y0, x1, y1] = req.box;
    [cx, cy, rx, ry] = [(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2];
  } else if (pos.length) {
    cx = pos.reduce((a, p) => a + p.x, 0) / pos.length;
    cy = pos.reduce((a, p) => a + p.y, 0) / pos.length;
    rx = 40 + 20 * pos.length;
    ry = 30 + 15 * pos.length;
  } else {
    [cx, cy, rx, ry] = [s.w / 2, s.h / 2, s.w / 5, s.h / 5];
  }
  const shrink = 1 / (1 + 0.25 * (pts.length - pos.length));  // negative clicks make it smaller
  const single = pts.length === 1 && !req.box && !req.mask_from;
  const scales = (req.multimask ?? single) ? [0.5, 1, 1.8] : [1];
  const instances = scales.map((k, i) => {
    const m = ellipse(s.w, s.h, cx, cy, rx * k * shrink, ry * k * shrink);
    let area = 0;
    for (const v of m) area += v;
    return { score: [0.62, 0.81, 0.55][i] ?? 0.8, box: [cx - rx * k, cy - ry * k, cx + rx * k, cy + ry * k], area,
             mask: { size: [s.h, s.w], counts: rleToString(rleEncode(m, s.h, s.w)) } };
  });
  const pickId = `pick-${++s.nextPick}`;
  s.picks.add(pickId);
  const best = instances.reduce((b, x, i) => (x.score > instances[b].score ? i : b), 0);
  return { schema: 'sam3.segment/1', session_id: id, pick_id: pickId, image: { width: s.w, height: s.h },
           prompts: [{ task: 'pick', multimask: instances.length > 1, object_score: 0.9, object_score_logit: 2.2, best,
                       instances, timings_ms: { neck: s.nextPick === 1 ? 120 : 0, decoder: 40, postprocess: 8, total: 50 } }],
           timings_ms: { pick: 50, queue_wait: 0, total: 50 }, processing_time_ms: 50 };
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    try {
      if (req.method === 'GET' && url.pathname === '/health') {
        return json(res, 200, { status: 'ok', model: 'mock.pt', config: 'mock', dtype: 'f32', threads: 2, pick: true,
                                queue: { length: 0, capacity: 8, busy: false } });
      }
      if (req.method === 'POST' && url.pathname === '/v1/sessions') {
        const img = multipartFile(body, req.headers['content-type'] || '');
        const { w, h } = imageSize(img);
        const id = `s${nextId++}`;
        sessions.set(id, { w, h, t0: Date.now(), picks: new Set(), nextPick: 0 });
        return json(res, 201, { session_id: id, width: w, height: h, status: 'encoding' });
      }
      const m = /^\/v1\/sessions\/([^/]+)(\/segment|\/pick)?$/.exec(url.pathname);
      if (m) {
        const s = sessions.get(m[1]);
        if (!s) return json(res, 404, { error: `no session '${m[1]}'` });
        const p = Math.min(1, (Date.now() - s.t0) / ENCODE_MS);
        if (req.method === 'GET' && !m[2]) {
          return json(res, 200, p < 1 ? { session_id: m[1], status: 'encoding', queued: false, progress: p, width: s.w, height: s.h }
                                      : { session_id: m[1], status: 'ready', progress: 1, width: s.w, height: s.h,
                                          timings_ms: { encode: ENCODE_MS, preprocess: 5, window_blocks: 1000, global_blocks: 480, neck: 15 } });
        }
        if (req.method === 'DELETE' && !m[2]) { sessions.delete(m[1]); return json(res, 200, { session_id: m[1], deleted: true }); }
        if (req.method === 'POST' && m[2]) {
          if (p < 1) return json(res, 409, { error: 'still encoding' });
          if (m[2] === '/pick') return json(res, 200, pick(s, m[1], JSON.parse(body.toString())));
          return json(res, 200, segment(s, JSON.parse(body.toString())));
        }
      }
      if (req.method === 'GET') {
        const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
        const f = path.join(webDir, rel);
        if (f.startsWith(webDir) && fs.existsSync(f) && fs.statSync(f).isFile()) {
          res.writeHead(200, { 'Content-Type': MIME[path.extname(f)] || 'application/octet-stream' });
          return res.end(fs.readFileSync(f));
        }
      }
      json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (e) {
      json(res, 400, { error: e.message });
    }
  });
});
server.listen(port, '127.0.0.1', () => console.log(`mock sam3 serve on http://127.0.0.1:${port}/`));
