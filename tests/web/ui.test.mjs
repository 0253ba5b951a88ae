// Browser test of the web UI against the real `sam3 serve` on the tiny model: Debian's chromium (headless,
// /usr/bin/chromium) driven by playwright-core from npm (never a browser download).
//   SAM3_BIN=build/sam3 SAM3_WEB_WORK=build/web-test node tests/web/ui.test.mjs      (tests/web/run.sh does this)
// SAM3_WEB_WORK holds node_modules/playwright-core (npm ci of tests/web/package-lock.json) and receives the
// screenshot and downloads. Run from the repository root; fixtures are read in place from $SAM3_GOLDEN_DIR
// (default ../shared/golden).
//
// What it checks, in the order a user works:
//   the embedded UI is served (types, every asset), the server status shows the model; an image is uploaded and
//   encoded (the UI polls the session until ready); a concept typed and a positive box dragged on the image send
//   the prompts {text, boxes} the user gave; the instances listed equal a direct POST of the same prompts to the
//   session's segment endpoint (scores, boxes, areas, masks), at several thresholds; moving the slider changes
//   the count exactly as the scores say WITHOUT any new segment request (intercepted); the mask canvas paints
//   exactly the union of the visible masks (the browser's RLE decoding vs the server's C++ areas); hovering a mask
//   highlights its list entry; the semantic toggle; the JSON and PNG downloads; no page errors.
// Click mode (pick.js, POST /v1/sessions/{id}/pick): entering it (hint, no context menu on the image); a click gives
// the 3 candidates of a direct POST of the same request, the best shown; choosing another paints it; an Alt+click
// refines (2 points, mask_from = the first pick, mask_index = the candidate chosen) and the mask painted is the
// answer's; a drag sends a box; a right click a negative point; undo shows the previous mask again without a
// request; keep with a label lists the object (and paints it with the results); "Refine" on a concept instance
// starts a pick from its box; the JSON download holds the kept object's mask. The server runs the tiny_pvs
// checkpoint (tiny's detector plus the interactive weights); the one with --api-key runs tiny, which has none: its
// click mode is disabled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rleFromString, rleDecode } from '../../app/web/rle.js';

const root = process.cwd();
const sam3 = process.env.SAM3_BIN;
const work = path.resolve(process.env.SAM3_WEB_WORK || 'build/web-test');
const golden = path.resolve(process.env.SAM3_GOLDEN_DIR || '../shared/golden');
const image = path.join(golden, 'images/test_image.jpg');  // 1280x720, read in place
const W = 1280, H = 720;
const FLOOR = 0.05;  // app.js REQUEST_FLOOR: the threshold the UI asks for; the slider filters above it

// checkpoint: 'tiny_pvs' (the tiny detector plus the interactive weights: pick works) or 'tiny' (no pick).
function startServer(extra = [], checkpoint = 'tiny_pvs') {
  const files = checkpoint === 'tiny_pvs' ? ['tiny_pvs/sam3_pvs_random.pt', 'tiny_pvs/config.json']
                                          : ['tiny/sam3_random.pt', 'tiny/config.json'];
  const args = ['serve', '-m', path.join(golden, files[0]), '--config', path.join(golden, files[1]),
                '--port', '0', '--threads', '2', '--http-threads', '4', ...extra];
  const proc = spawn(sam3, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sam3 serve did not start within 60 s:\n${log}`)), 60000);
    const onData = (d) => {
      log += d;
      const m = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d) => { log += d; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sam3 serve exited (${code}):\n${log}`)); });
  });
  return { proc, ready, log: () => log };
}

// SIGTERM (the server finishes the running task and exits), SIGKILL after 10 s.
function stopServer(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.on('exit', () => { clearTimeout(timer); resolve(); });
    proc.kill('SIGTERM');
  });
}

async function api(base, method, p, body) {
  const r = await fetch(base + p, {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  const j = await r.json();
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(j)}`);
  return j;
}

// Every instance of a result, flattened: [{prompt, score, box, area, counts}]
function flat(result) {
  return result.prompts.flatMap((p, pi) => p.instances.map((i) => ({
    prompt: pi, score: i.score, box: i.box, area: i.area, counts: i.mask.counts })));
}
const byScore = (a, b) => b.score - a.score || a.prompt - b.prompt;

// Pixels of a canvas with a non-zero alpha (what a mask layer paints).
function painted(page, id) {
  return page.evaluate((canvasId) => {
    const c = document.getElementById(canvasId);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) ++n;
    return n;
  }, id);
}

function pngSize(buf) {
  assert.equal(buf.subarray(1, 4).toString(), 'PNG', 'a PNG signature');
  return { w: buf.readUInt32BE(16), h: buf.readUInt32BE(20) };
}

test('web UI against sam3 serve (tiny model) in chromium', { timeout: 240000 }, async (t) => {
  assert.ok(sam3 && fs.existsSync(sam3), `SAM3_BIN must name the sam3 binary (got ${sam3})`);
  assert.ok(fs.existsSync('/usr/bin/chromium'), '/usr/bin/chromium is missing: run scripts/setup.sh --deps');
  const require = createRequire(path.join(work, 'package.json'));
  const { chromium } = require('playwright-core');

  const server = startServer();
  let keyed = null;  // the second server, with --api-key
  let context = null;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sam3-web-chromium-'));
  t.after(async () => {  // also after a failure: nothing may outlive the test
    if (context) await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10000))]);
    await stopServer(server.proc);
    if (keyed) await stopServer(keyed.proc);
    fs.rmSync(profile, { recursive: true, force: true });
  });
  const base = await server.ready;
  console.log(`# server: ${base}`);

  // ---- the embedded files are served with their types
  const html = await fetch(base + '/');
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type'), /^text\/html/);
  const page0 = await html.text();
  assert.match(page0, /<script type="module" src="app.js">/);
  for (const [f, type] of [['app.js', /javascript/], ['api.js', /javascript/], ['rle.js', /javascript/], ['pick.js', /javascript/],
                           ['results_list.js', /javascript/], ['timings.js', /javascript/],
                           ['render.js', /javascript/], ['exif.js', /javascript/], ['style.css', /^text\/css/], ['favicon.svg', /svg/]]) {
    const r = await fetch(`${base}/${f}`);
    assert.equal(r.status, 200, f);
    assert.match(r.headers.get('content-type'), type, f);
    // (compared as a boolean: a stale binary would otherwise print both files whole)
    assert.ok(await r.text() === fs.readFileSync(path.join(root, 'app/web', f), 'utf8'),
              `${f} served is not app/web/${f}: is the sam3 binary older than the UI? (rebuild it)`);
  }

  // ---- the browser
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--no-first-run', '--disable-sync', '--disable-quic'],
    viewport: { width: 1400, height: 860 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const segmentRequests = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/segment$/.test(r.url())) segmentRequests.push(r); });
  const pickRequests = [];
  page.on('request', (r) => { if (r.method() === 'POST' && /\/pick$/.test(r.url())) pickRequests.push(r); });

  await page.goto(base + '/');
  await page.waitForSelector('#server-status[data-state="ok"]', { timeout: 15000 });
  assert.match(await page.textContent('#server-status'), /sam3_pvs_random\.pt/);

  // ---- upload: the UI creates a session and polls it until the encoding is done
  const created = page.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/sessions$/.test(r.url()));
  await page.setInputFiles('#file-input', image);
  const session = await (await created).json();
  assert.equal(session.width, W);
  assert.equal(session.height, H);
  const sid = session.session_id;
  await page.waitForSelector('#encode-overlay', { state: 'hidden', timeout: 60000 });
  const status = await api(base, 'GET', `/v1/sessions/${sid}`);
  assert.equal(status.status, 'ready');
  assert.match(await page.textContent('#timings'), /Image encoding \(server\)\s*[\d.]+ ms/);

  // ---- a concept, then a positive box dragged on the image (the fixtures' case-2 box around a child)
  const first = page.waitForResponse((r) => /\/segment$/.test(r.url()));
  await page.fill('#concept-input', 'child');
  await page.press('#concept-input', 'Enter');
  await first;
  const box = [359.7, 280.1, 492.8, 661.7];
  const ov = await page.locator('#overlay').boundingBox();
  const sx = ov.width / W, sy = ov.height / H;
  const withBox = page.waitForResponse((r) => /\/segment$/.test(r.url()) && !!r.request().postDataJSON().prompts[0].boxes);
  await page.mouse.move(ov.x + box[0] * sx, ov.y + box[1] * sy);
  await page.mouse.down();
  await page.mouse.move(ov.x + ((box[0] + box[2]) / 2) * sx, ov.y + ((box[1] + box[3]) / 2) * sy, { steps: 4 });
  await page.mouse.move(ov.x + box[2] * sx, ov.y + box[3] * sy, { steps: 4 });
  await page.mouse.up();
  const resp = await withBox;
  const sent = resp.request().postDataJSON();
  assert.equal(sent.prompts.length, 1);
  assert.equal(sent.prompts[0].text, 'child');
  assert.equal(sent.prompts[0].boxes.length, 1);
  assert.equal(sent.prompts[0].boxes[0].label, true, 'a plain drag is a positive box');
  assert.equal(sent.threshold, FLOOR, 'the UI asks for every instance above its floor');
  sent.prompts[0].boxes[0].box.forEach((v, i) => assert.ok(Math.abs(v - box[i]) < 2 / sx,
    `box coordinate ${i}: sent ${v}, dragged ${box[i]} (within 2 screen pixels)`));
  const uiResult = await resp.json();
  await page.waitForFunction(() => !document.querySelector('#segment-btn[aria-busy]'));
  await page.waitForTimeout(300);  // a second change in flight would show here
  const nRequests = segmentRequests.length;

  // The reference: the same prompts, straight to the API, at threshold 0 (every scored query).
  const all = flat(await api(base, 'POST', `/v1/sessions/${sid}/segment`,
                             { prompts: sent.prompts, threshold: 0, semantic: true })).sort(byScore);
  assert.ok(all.length >= 3, `the tiny model scores at least 3 queries above 0 (got ${all.length})`);
  assert.deepEqual(flat(uiResult).sort(byScore).map((i) => i.score),
                   all.filter((i) => i.score > FLOOR).map((i) => i.score), 'the UI got every instance above its floor');

  // What the UI shows at its current threshold == a direct POST at that threshold.
  async function checkAgainstApi(label) {
    const thr = Number(await page.inputValue('#threshold'));
    await page.waitForFunction((n) => document.querySelectorAll('#instance-list li.instance').length === n,
                                all.filter((i) => i.score > thr).length, { timeout: 5000 })
      .catch(() => {});
    const rows = await page.$$eval('#instance-list li.instance', (lis) => lis.map((li) => ({
      score: Number(li.dataset.score), box: JSON.parse(li.dataset.box), area: Number(li.dataset.area),
      maskArea: Number(li.dataset.maskArea) })));
    const direct = flat(await api(base, 'POST', `/v1/sessions/${sid}/segment`,
                                  { prompts: sent.prompts, threshold: thr })).sort(byScore);
    assert.equal(rows.length, direct.length, `${label}: instances listed at threshold ${thr}`);
    rows.sort((a, b) => b.score - a.score).forEach((r, i) => {
      assert.equal(r.score, direct[i].score, `${label}: score ${i}`);
      assert.deepEqual(r.box, direct[i].box, `${label}: box ${i}`);
      assert.equal(r.area, direct[i].area, `${label}: area ${i}`);
      assert.equal(r.maskArea, direct[i].area, `${label}: mask ${i} decoded in the browser has the server's area`);
    });
    const svgBoxes = await page.$$eval('#overlay g.result', (g) => g.length);
    assert.equal(svgBoxes, direct.length, `${label}: boxes drawn`);
    // The mask canvas paints exactly the union of the visible masks.
    const union = new Uint8Array(W * H);
    for (const d of direct) {
      const m = rleDecode(rleFromString(d.counts, H, W), H, W);
      for (let p = 0; p < m.length; ++p) union[p] |= m[p];
    }
    const expected = union.reduce((a, v) => a + v, 0);
    const painted = await page.evaluate(() => {
      const c = document.getElementById('mask-canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < d.length; i += 4) if (d[i]) ++n;
      return n;
    });
    assert.equal(painted, expected, `${label}: painted mask pixels == union of the visible masks`);
    console.log(`# ${label}: threshold ${thr.toFixed(2)}, ${rows.length} of ${all.length} instances, ` +
                `${painted} mask pixels, same as the API`);
    return { thr, rows, direct };
  }

  // ---- the threshold slider, by keyboard, down until a few instances show, then up; no new segment request
  const slider = page.locator('#threshold');
  await slider.focus();
  assert.equal(await page.inputValue('#threshold'), '0.5');
  await checkAgainstApi('initial');
  const target = Math.min(3, all.length);
  const sliderValue = async () => Number(await page.inputValue('#threshold'));
  const above = (thr) => all.filter((i) => i.score > thr).length;
  let steps = 0;
  for (let v = await sliderValue(); v > 0 && above(v) < target; v = await sliderValue()) {
    await page.keyboard.press('ArrowLeft');
    ++steps;
  }
  const low = await checkAgainstApi(`after ${steps} steps down`);
  assert.ok(low.rows.length >= target, 'instances visible after lowering the threshold');
  // Up until the count drops.
  let up = 0;
  while (above(await sliderValue()) === low.rows.length) {
    await page.keyboard.press('ArrowRight');
    ++up;
  }
  const high = await checkAgainstApi(`after ${up} steps up`);
  assert.ok(high.rows.length < low.rows.length, 'raising the threshold hides instances');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  const shown = await checkAgainstApi('back down');
  assert.equal(segmentRequests.length, nRequests, 'the slider made no segment request');

  // ---- hover: the smallest visible mask (painted on top) highlights its list entry
  const smallest = [...shown.direct].sort((a, b) => a.area - b.area)[0];
  const m = rleDecode(rleFromString(smallest.counts, H, W), H, W);
  let hx = -1, hy = -1;
  for (let p = 0; p < m.length && hx < 0; ++p) {
    const x = p % W, y = Math.floor(p / W);
    // a pixel well inside: its neighbours 3 px away are in the mask too
    if (m[p] && x > 3 && y > 3 && x < W - 3 && y < H - 3 && m[p - 3] && m[p + 3] && m[p - 3 * W] && m[p + 3 * W]) { hx = x; hy = y; }
  }
  if (hx >= 0) {
    await page.mouse.move(ov.x + (hx + 0.5) * sx, ov.y + (hy + 0.5) * sy);
    await page.waitForSelector('#instance-list li.instance.hovered', { timeout: 3000 });
    const hovered = await page.$eval('#instance-list li.instance.hovered', (li) => Number(li.dataset.score));
    assert.equal(hovered, smallest.score, 'hovering a mask highlights its list entry');
    assert.ok(await page.$eval('#canvas-wrap', (e) => e.classList.contains('has-hover')));
  } else {
    console.log('# hover: the smallest mask has no interior pixel; hover not checked');
  }
  // and the other way: hovering a list entry highlights the box on the image
  await page.hover('#instance-list li.instance >> nth=0');
  assert.equal(await page.$$eval('#overlay g.result.hovered', (g) => g.length), 1, 'list hover highlights one box');

  // ---- screenshot: a few instances, their boxes and scores, the drawn box
  await page.mouse.move(ov.x + ov.width + 50, ov.y + 10);
  const shot = path.join(work, 'web_ui.png');
  await page.screenshot({ path: shot });
  console.log(`# screenshot: ${shot}`);

  // ---- semantic mask toggle
  const semArea = (await api(base, 'POST', `/v1/sessions/${sid}/segment`,
                             { prompts: sent.prompts, threshold: 0, semantic: true })).prompts[0].semantic;
  assert.ok(semArea, 'the server sends the semantic mask when asked');
  assert.equal(await page.isHidden('#semantic-canvas'), true, 'semantic mask hidden by default');
  await page.check('#show-semantic');
  assert.equal(await page.isVisible('#semantic-canvas'), true, 'semantic mask shown when toggled');
  const semPainted = await page.evaluate(() => {
    const c = document.getElementById('semantic-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) ++n;
    return n;
  });
  assert.equal(semPainted, semArea.area, 'semantic pixels painted == the server\'s semantic area');

  // ---- downloads

  const [dlJson] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const jsonPath = path.join(work, 'web_ui_result.json');
  await dlJson.saveAs(jsonPath);
  const saved = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  assert.equal(flat(saved).length, shown.rows.length, 'the JSON holds the instances shown');
  assert.equal(saved.threshold, shown.thr);
  const [dlPng] = await Promise.all([page.waitForEvent('download'), page.click('#download-png')]);
  const pngPath = path.join(work, 'web_ui_overlay.png');
  await dlPng.saveAs(pngPath);
  assert.deepEqual(pngSize(fs.readFileSync(pngPath)), { w: W, h: H }, 'overlay PNG at the image size');
  console.log(`# downloads: ${jsonPath}, ${pngPath}`);

  assert.equal(segmentRequests.length, nRequests, 'no segment request after the prompts were set');

  // ---- the slider below the floor: one request at threshold 0, answered from the server's cache (no model run)
  const zero = page.waitForResponse((r) => /\/segment$/.test(r.url()));
  await slider.focus();
  await page.keyboard.press('Home');
  const zr = await zero;
  assert.equal(zr.request().postDataJSON().threshold, 0);
  assert.ok((await zr.json()).prompts.every((p) => p.cached === true), 'answered from the re-threshold cache');
  await page.waitForFunction(() => !document.querySelector('#segment-btn[aria-busy]'));
  await checkAgainstApi('slider at 0');
  await page.keyboard.press('End');
  await checkAgainstApi('slider at 1');
  assert.equal(segmentRequests.length, nRequests + 1, 'one request for the whole range below the floor');

  // ==== click mode ==========================================================================================
  assert.equal(pickRequests.length, 0, 'no pick request before click mode');
  assert.equal(await page.isVisible('#pick-card'), false, 'the pick card is hidden in concept mode');
  await page.click('#mode-click');
  assert.equal(await page.getAttribute('#mode-click', 'aria-checked'), 'true');
  assert.equal(await page.isVisible('#pick-card'), true, 'click mode shows the pick card');
  assert.equal(await page.isVisible('#pick-hint'), true, 'and its hint under the image');
  assert.equal(await page.isVisible('#concept-input'), false, 'the concept inputs are hidden in click mode');
  assert.equal(await page.evaluate(() => document.getElementById('overlay').dispatchEvent(
    new MouseEvent('contextmenu', { bubbles: true, cancelable: true, clientX: 10, clientY: 10 }))), false,
  'no context menu on the image in click mode (the right button is a negative click)');
  const pickCall = (body) => api(base, 'POST', `/v1/sessions/${sid}/pick`, body);
  const nextPick = () => page.waitForResponse((r) => r.request().method() === 'POST' && /\/pick$/.test(r.url()));
  const idle = () => page.waitForSelector('#pick-card[data-busy="false"]', { timeout: 30000 });
  const pov = await page.locator('#overlay').boundingBox();  // the image's place in click mode (other hint text)
  const psx = pov.width / W, psy = pov.height / H;
  const at = (x, y) => [pov.x + x * psx, pov.y + y * psy];
  const near = (got, want, what) => assert.ok(Math.abs(got - want) <= 2 / psx, `${what}: sent ${got}, clicked ${want}`);

  // ---- one click: 3 candidates, the server's, the best one painted
  let r = nextPick();
  await page.mouse.click(...at(470, 420));
  const p1 = await r;
  const b1 = p1.request().postDataJSON();
  assert.equal(b1.points.length, 1);
  near(b1.points[0].x, 470, 'click x');
  near(b1.points[0].y, 420, 'click y');
  assert.equal(b1.points[0].label, 1, 'a plain click is a positive point');
  assert.equal(b1.mask_from, undefined, 'the first click has no mask input');
  const a1 = await p1.json();
  const i1 = a1.prompts[0].instances;
  assert.equal(i1.length, 3, 'a single click gives 3 candidates');
  const d1 = (await pickCall(b1)).prompts[0];
  assert.deepEqual(i1.map((i) => [i.score, i.area, i.mask.counts]), d1.instances.map((i) => [i.score, i.area, i.mask.counts]),
                   'the UI got what a direct POST of its request gives');
  await idle();
  const cands = await page.$$eval('#pick-candidates .cand', (bs) => bs.map((b) => ({
    checked: b.getAttribute('aria-checked') === 'true', area: Number(b.dataset.area), score: Number(b.dataset.score) })));
  assert.deepEqual(cands.map((c) => c.area), i1.map((i) => i.area), 'the 3 candidates are offered');
  const best = a1.prompts[0].best;
  assert.deepEqual(cands.map((c) => c.checked), [0, 1, 2].map((k) => k === best), 'the best candidate is chosen first');
  assert.equal(await painted(page, 'pick-canvas'), i1[best].area, 'the pick layer paints the best candidate');
  // choose another one
  const other = best === 0 ? 2 : 0;
  await page.click(`#pick-candidates .cand >> nth=${other}`);
  assert.equal(await page.getAttribute(`#pick-candidates .cand >> nth=${other}`, 'aria-checked'), 'true');
  assert.equal(await painted(page, 'pick-canvas'), i1[other].area, 'choosing a candidate paints it');
  assert.equal(pickRequests.length, 1, 'choosing a candidate sends nothing');

  // ---- Alt+click: a negative point refining the chosen candidate
  r = nextPick();
  await page.keyboard.down('Alt');
  await page.mouse.click(...at(250, 150));
  await page.keyboard.up('Alt');
  const p2 = await r;
  const b2 = p2.request().postDataJSON();
  assert.deepEqual(b2.points.map((p) => p.label), [1, 0], 'Alt+click adds a negative point after the first');
  near(b2.points[1].x, 250, 'negative click x');
  assert.equal(b2.mask_from, a1.pick_id, 'the refinement sends the previous pick as mask_from');
  assert.equal(b2.mask_index, other, '... and the candidate chosen');
  const a2 = await p2.json();
  assert.equal(a2.prompts[0].instances.length, 1, 'a refinement gives one mask');
  const d2 = (await pickCall(b2)).prompts[0].instances[0];
  assert.equal(a2.prompts[0].instances[0].mask.counts, d2.mask.counts, 'the refined mask is the direct POST\'s');
  await idle();
  assert.equal(await page.isVisible('#pick-candidates'), false, 'no candidates for a refinement');
  const area2 = a2.prompts[0].instances[0].area;
  assert.equal(await painted(page, 'pick-canvas'), area2, 'the mask painted is the refined one');

  // ---- drag: the object's box (case 3's), sent with the points and the previous pick
  const pbox = [360, 280, 493, 662];
  r = nextPick();
  await page.mouse.move(...at(pbox[0], pbox[1]));
  await page.mouse.down();
  await page.mouse.move(...at((pbox[0] + pbox[2]) / 2, (pbox[1] + pbox[3]) / 2), { steps: 4 });
  await page.mouse.move(...at(pbox[2], pbox[3]), { steps: 4 });
  await page.mouse.up();
  const p3 = await r;
  const b3 = p3.request().postDataJSON();
  assert.ok(Array.isArray(b3.box), 'a drag sends a box');
  b3.box.forEach((v, k) => near(v, pbox[k], `box ${k}`));
  assert.equal(b3.points.length, 2, 'the box goes with the clicks');
  assert.equal(b3.mask_from, a2.pick_id);
  const a3 = await p3.json();
  await idle();
  const area3 = a3.prompts[0].instances[0].area;
  assert.equal(await painted(page, 'pick-canvas'), area3, 'the mask painted is the box pick\'s');
  assert.equal(await page.$$eval('#overlay .pick-box', (e) => e.length), 1, 'the box is drawn');

  // ---- right click: another negative point; then undo: the box pick again, without a request
  r = nextPick();
  await page.mouse.click(...at(600, 300), { button: 'right' });
  const b4 = (await r).request().postDataJSON();
  assert.deepEqual(b4.points.map((p) => p.label), [1, 0, 0], 'a right click is a negative point');
  await idle();
  const nPicks = pickRequests.length;
  await page.click('#pick-undo');
  await idle();
  assert.equal(await painted(page, 'pick-canvas'), area3, 'undo shows the previous mask');
  assert.equal(await page.$$eval('#overlay .pick-point', (e) => e.length), 2, 'undo removes the last point');
  assert.equal(pickRequests.length, nPicks, 'undo sends nothing');
  await page.keyboard.press('Control+z');  // and by keyboard: back to the Alt+click's mask
  await idle();
  assert.equal(await painted(page, 'pick-canvas'), area2, 'Ctrl+Z undoes the box');
  assert.equal(await page.$$eval('#overlay .pick-box', (e) => e.length), 0);
  // redo the box by dragging again (same request as before: the same answer)
  r = nextPick();
  await page.mouse.move(...at(pbox[0], pbox[1]));
  await page.mouse.down();
  await page.mouse.move(...at(pbox[2], pbox[3]), { steps: 6 });
  await page.mouse.up();
  const a3b = await (await r).json();
  await idle();
  assert.equal(a3b.prompts[0].instances[0].area, area3);
  const shotPick = path.join(work, 'web_ui_pick.png');
  await page.mouse.move(pov.x + pov.width + 50, pov.y + 10);
  await page.screenshot({ path: shotPick });

  // ---- keep, with a label: listed with the results, painted with them, the pick layer cleared
  await page.fill('#pick-label', 'my kid');
  await page.click('#pick-keep');
  await page.waitForSelector('#instance-list li.instance.kept');
  const kept = await page.$$eval('#instance-list li.instance.kept', (lis) => lis.map((li) => ({
    name: li.querySelector('.inst-name').textContent, area: Number(li.dataset.area), score: Number(li.dataset.score) })));
  assert.deepEqual(kept, [{ name: 'my kid', area: area3, score: a3b.prompts[0].instances[0].score }], 'the kept object is listed');
  assert.equal(await painted(page, 'pick-canvas'), 0, 'keeping clears the pick layer');
  assert.equal(await page.$$eval('#overlay .pick-point', (e) => e.length), 0, 'and the points');
  const keptMask = a3b.prompts[0].instances[0].mask;
  {
    const thr = Number(await page.inputValue('#threshold'));
    const union = new Uint8Array(W * H);
    for (const d of [...all.filter((i) => i.score > thr), { counts: keptMask.counts }]) {
      const m = rleDecode(rleFromString(d.counts, H, W), H, W);
      for (let q = 0; q < m.length; ++q) union[q] |= m[q];
    }
    assert.equal(await painted(page, 'mask-canvas'), union.reduce((a, v) => a + v, 0),
                 'the mask layer paints the visible instances and the kept object');
  }

  // ---- "Refine" on a concept instance: a new pick seeded with its box
  await page.click('#mode-concepts');
  await slider.focus();
  await page.keyboard.press('Home');  // every candidate visible (threshold 0: the result at 0 is already there)
  await page.waitForSelector('#instance-list li.instance:not(.kept) button.refine');
  const inst = await page.$eval('#instance-list li.instance:not(.kept)', (li) => JSON.parse(li.dataset.box));
  r = nextPick();
  await page.click('#instance-list li.instance:not(.kept) button.refine >> nth=0');
  const p5 = await r;
  const b5 = p5.request().postDataJSON();
  assert.equal(await page.getAttribute('#mode-click', 'aria-checked'), 'true', 'refine switches to click mode');
  assert.deepEqual(b5.points, [], 'refine starts from the box alone');
  assert.equal(b5.mask_from, undefined);
  b5.box.forEach((v, k) => assert.ok(Math.abs(v - inst[k]) <= 0.051, `refine box ${k}: ${v} vs the instance's ${inst[k]}`));
  await idle();
  assert.equal(await painted(page, 'pick-canvas'), (await p5.json()).prompts[0].instances[0].area,
               'the instance\'s box gives the mask painted');
  assert.equal(await page.inputValue('#pick-label'), 'child', 'the label defaults to the concept');
  await page.keyboard.press('Escape');  // clear (nothing kept)
  await idle();
  assert.equal(await painted(page, 'pick-canvas'), 0, 'Esc clears the pick');
  assert.equal(await page.inputValue('#pick-label'), '', 'and its label');

  // ---- the JSON download holds the kept object (its label, clicks, box and the server's mask)
  const [dlPick] = await Promise.all([page.waitForEvent('download'), page.click('#download-json')]);
  const pickJsonPath = path.join(work, 'web_ui_pick_result.json');
  await dlPick.saveAs(pickJsonPath);
  const withKept = JSON.parse(fs.readFileSync(pickJsonPath, 'utf8'));
  const kp = withKept.prompts.filter((p) => p.task === 'pick');
  assert.equal(kp.length, 1, 'one kept object in the download');
  assert.equal(kp[0].label, 'my kid');
  assert.equal(kp[0].points.length, 2);
  assert.equal(kp[0].instances.length, 1);
  assert.equal(kp[0].instances[0].mask.counts, keptMask.counts, 'the kept mask is the server\'s');
  assert.equal(kp[0].instances[0].area, area3);
  assert.ok(withKept.prompts.some((p) => p.text === 'child'), 'the concept results are in it too');
  console.log(`# click mode: ${pickRequests.length} pick requests; screenshot ${shotPick}`);

  // ---- a JPEG whose EXIF says "rotate 90°" (made here: a 64x32 canvas JPEG plus an APP1 segment) is shown
  // rotated by the browser, so the UI sends it upright, as a PNG of 32x64, for the masks to line up.
  const rotatedUpload = page.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/sessions$/.test(r.url()));
  await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 32;
    const g = c.getContext('2d');
    g.fillStyle = '#c33';
    g.fillRect(0, 0, 64, 32);
    const jpg = new Uint8Array(await (await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.9))).arrayBuffer());
    const exif = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1,
                  0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    const bytes = new Uint8Array([...jpg.subarray(0, 2), 0xff, 0xe1, 0, exif.length + 2, ...exif, ...jpg.subarray(2)]);
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'rotated.jpg', { type: 'image/jpeg' }));
    const input = document.getElementById('file-input');
    input.files = dt.files;
    input.dispatchEvent(new Event('change'));
  });
  const rotated = await rotatedUpload;
  const rs = await rotated.json();
  assert.deepEqual([rs.width, rs.height], [32, 64], 'the rotated JPEG reaches the server upright');
  await page.waitForSelector('#encode-overlay', { state: 'hidden', timeout: 30000 });
  assert.match(await page.textContent('#image-size'), /32 × 64/);

  // ---- with --api-key: the page (public) loads, says a key is needed, and works once it is given
  keyed = startServer(['--api-key', 'web-test-key'], 'tiny');
  const keyedBase = await keyed.ready;
  const page2 = await context.newPage();
  page2.on('pageerror', (e) => errors.push(`pageerror (api key page): ${e.message}`));
  await page2.goto(keyedBase + '/');
  await page2.waitForSelector('#server-status[data-state="error"]', { timeout: 15000 });
  assert.match(await page2.textContent('#server-status'), /API key needed/);
  assert.equal(await page2.$eval('#settings', (d) => d.open), true, 'the settings open to ask for the key');
  await page2.fill('#api-key', 'web-test-key');
  const healthWithKey = page2.waitForRequest((r) => r.url().endsWith('/health'));
  await page2.click('#settings-form button[type="submit"]');
  assert.equal((await healthWithKey).headers().authorization, 'Bearer web-test-key');
  await page2.waitForSelector('#server-status[data-state="ok"]', { timeout: 15000 });
  const keyedUpload = page2.waitForResponse((r) => r.request().method() === 'POST' && /\/v1\/sessions$/.test(r.url()));
  await page2.setInputFiles('#file-input', image);
  assert.equal((await keyedUpload).status(), 201, 'upload with the key accepted');
  await page2.waitForSelector('#encode-overlay', { state: 'hidden', timeout: 60000 });
  assert.equal(await page2.isDisabled('#mode-click'), true, 'no click mode with a model without interactive weights');

  assert.deepEqual(errors, [], 'no errors in the page');
});
