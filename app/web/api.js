// sam3.cpp web UI — the HTTP API of `sam3 serve` (docs/server.md): sessions (upload once, segment or pick many
// times), health, errors as JSON {error}. With --api-key every API call (/health, /v1/*) carries "Authorization:
// Bearer <key>"; the UI's own files are public, so the page loads and asks for the key.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;  // HTTP status, 0 when the server could not be reached
  }
}

const KEY_STORAGE = 'sam3.apiKey';

export class Api {
  constructor(base = '') {
    this.base = base;
    this.key = sessionStorage.getItem(KEY_STORAGE) || '';
  }

  setKey(key) {
    this.key = key.trim();
    if (this.key) sessionStorage.setItem(KEY_STORAGE, this.key);
    else sessionStorage.removeItem(KEY_STORAGE);
  }

  async request(method, path, body) {
    const headers = {};
    if (this.key) headers.Authorization = `Bearer ${this.key}`;
    let payload = body;
    if (body !== undefined && !(body instanceof FormData) && !(body instanceof Blob)) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(this.base + path, { method, headers, body: payload });
    } catch (e) {
      throw new ApiError(0, `The server did not answer (${e.message}). Is "sam3 serve" still running?`);
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (!res.ok) {
      const msg = (data && (data.error?.message || data.error)) || text || res.statusText;
      throw new ApiError(res.status, `${msg} (HTTP ${res.status})`);
    }
    if (data === null && text) throw new ApiError(res.status, `The server sent something that is not JSON: ${text.slice(0, 80)}`);
    return data;
  }

  health() { return this.request('GET', '/health'); }

  // -> {session_id, width, height}; the image is encoded in the background.
  createSession(blob, filename) {
    const form = new FormData();
    form.append('image', blob, filename || 'image');
    return this.request('POST', '/v1/sessions', form);
  }

  // -> {status: "encoding" | "ready" | "failed", queued, progress, error?, width, height, timings_ms? (encode, ...)}
  session(id) { return this.request('GET', `/v1/sessions/${encodeURIComponent(id)}`); }

  segment(id, body) { return this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/segment`, body); }

  // One object from clicks: {points: [{x, y, label}], box?, mask_from?, mask_index?, multimask?}
  //   -> {pick_id, prompts: [{task: "pick", best, object_score, instances: [{score, box, area, mask}]}], ...}
  pick(id, body) { return this.request('POST', `/v1/sessions/${encodeURIComponent(id)}/pick`, body); }

  deleteSession(id) { return this.request('DELETE', `/v1/sessions/${encodeURIComponent(id)}`); }
}
