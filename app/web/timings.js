// sam3.cpp web UI — the timings card: upload, the server's encoding (and its stages), the last pick (click mode) and
// the last segment request (round trip, the server's stages, each prompt's stages), as a <dl>.
//   session: {encodeMs, timings}; result: app.js's result {roundTripMs, raw, prompts}; pick: {ms, timings} or null.

function nice(key) { return key.replace(/_/g, ' '); }

export function renderTimings(dl, { loaded, uploadMs, session, result, pick }) {
  dl.replaceChildren();
  const row = (label, ms, cls = '') => {
    const dt = document.createElement('dt');
    dt.textContent = label;
    if (cls) dt.className = cls;
    const dd = document.createElement('dd');
    dd.textContent = ms == null || Number.isNaN(Number(ms)) ? '—' : `${Number(ms).toFixed(Number(ms) < 10 ? 1 : 0)} ms`;
    if (cls) dd.className = cls;
    dl.append(dt, dd);
  };
  if (!loaded) { row('Nothing measured yet', null); return; }
  row('Upload', uploadMs);
  row('Image encoding (server)', session?.encodeMs ?? null);
  const st = session?.timings;
  if (st) for (const [k, v] of Object.entries(st)) if (k !== 'encode' && typeof v === 'number') row(nice(k), v, 'sub');
  if (pick) {
    row('Pick request (round trip)', pick.ms);
    for (const [k, v] of Object.entries(pick.timings || {})) if (typeof v === 'number') row(`pick: ${nice(k)}`, v, 'sub');
  }
  const r = result;
  if (!r) return;
  row('Segment request (round trip)', r.roundTripMs);
  const server = r.raw.timings_ms;
  if (server && typeof server === 'object') {
    for (const [k, v] of Object.entries(server)) if (typeof v === 'number') row(`server: ${nice(k)}`, v, 'sub');
  } else if (typeof r.raw.processing_time_ms === 'number') {
    row('server: processing', r.raw.processing_time_ms, 'sub');
  }
  for (const p of r.prompts) {
    const t = p.timings;
    if (!t) continue;
    row(`${p.text ? `“${p.text}”` : 'boxes alone'}${p.cached ? ' (cached)' : ''}`, t.total ?? null);
    for (const [k, v] of Object.entries(t)) if (k !== 'total' && typeof v === 'number') row(nice(k), v, 'sub');
  }
}
