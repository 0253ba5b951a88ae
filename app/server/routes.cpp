// sam3.cpp — HTTP handlers: health, sessions (create / status / delete / segment), one-shot segment, the OpenAPI
// document and the embedded web UI; API-key and CORS checks before routing; every error as {"error": message}.
#include "routes.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <stdexcept>

#include "core/timer.h"  // ms_since (header only)
#include "http_error.h"
#include "pick_request.h"
#include "request_guard.h"
#include "requests.h"
#include "web_assets.h"  // app/web: the table cmake/embed_web.cmake generates

namespace sam3::server {

namespace {

using httplib::Request;
using httplib::Response;
using Json = nlohmann::ordered_json;

void send_json_text(Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "application/json");
}

// Invalid UTF-8 (e.g. a session id from "/v1/sessions/%ff" echoed in a message) becomes U+FFFD instead of making
// dump() throw.
void send_json(Response& res, int status, const Json& j) {
  send_json_text(res, status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void send_error(Response& res, int status, const std::string& message, const Json& extra = nullptr) {
  Json j{{"error", message}};
  if (extra.is_object())
    for (const auto& [k, v] : extra.items()) j[k] = v;
  if (status == 503 || status == 429) res.set_header("Retry-After", "1");
  send_json(res, status, j);
}

const char* reason(int status) {
  switch (status) {
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 408: return "request timeout";
    case 411: return "length required";
    case 413: return "payload too large";
    case 414: return "URI too long";
    case 415: return "unsupported media type";
    case 416: return "range not satisfiable";
    case 429: return "too many requests";
    case 500: return "internal server error";
    case 503: return "service unavailable";
    default: return "error";
  }
}

// Runs a handler, turning every exception into a JSON error: nothing a request does may end the process.
httplib::Server::Handler guarded(std::function<void(const Request&, Response&)> h) {
  return [h = std::move(h)](const Request& req, Response& res) {
    try {
      h(req, res);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.what(), e.extra);
    } catch (const std::bad_alloc&) {
      send_error(res, 503, "out of memory");
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sam3 serve: %s %s: internal error: %s\n", req.method.c_str(), req.path.c_str(), e.what());
      send_error(res, 500, std::string("internal error: ") + e.what());
    }
  };
}

// Waits for a worker task's result; a task dropped because the server is stopping reads as 503.
template <class R>
R wait_for(std::future<R>& fut) {
  try {
    return fut.get();
  } catch (const std::future_error&) {
    throw HttpError(503, "the server is stopping");
  }
}

bool same_key(const std::string& a, const std::string& b) {  // constant time in the key's content
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

bool needs_key(const std::string& path) { return path == "/health" || path.rfind("/v1/", 0) == 0; }

bool has_key(const Request& req, const std::string& key) {
  const std::string auth = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (auth.size() > bearer.size() && auth.compare(0, bearer.size(), bearer) == 0 &&
      same_key(auth.substr(bearer.size()), key))
    return true;
  return req.has_header("X-API-Key") && same_key(req.get_header_value("X-API-Key"), key);
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

int64_t proc_status_kib(const char* field) {  // VmRSS / VmHWM from /proc/self/status, KiB (0 if unavailable)
  std::ifstream f("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') return std::atoll(line.c_str() + n + 1);
  return 0;
}

std::shared_ptr<Session> find_session(ServerContext& ctx, const std::string& id) {
  std::shared_ptr<Session> s = ctx.store.find(id);
  if (s) return s;
  if (ctx.store.was_evicted(id))
    throw HttpError(404, "session " + id + " was evicted (least recently used beyond --max-sessions or "
                         "--max-session-memory); create it again");
  throw HttpError(404, "unknown session " + id);
}

// The uploaded image of a request: the multipart field `field`, or (if allowed) the raw body.
RgbImage upload_from(ServerContext& ctx, const Request& req, const char* field, bool raw_body_allowed) {
  const UploadLimits limits{ctx.opts.max_upload_bytes(), ctx.opts.max_pixels, &ctx.decode_budget};
  if (req.is_multipart_form_data()) {
    auto it = req.files.find(field);
    if (it == req.files.end())
      throw HttpError(400, std::string("multipart upload without the field '") + field + "' (the image)");
    return decode_upload(it->second.content, limits, std::string("field '") + field + "'");
  }
  if (!raw_body_allowed)
    throw HttpError(400, "expected multipart/form-data with the fields 'image' and 'request'");
  return decode_upload(req.body, limits, "request body");
}

Json encode_timings_json(const Session::Snapshot& s) {
  const EncodeTimings& t = s.timings;
  return Json{{"queue_wait", s.queue_ms},          {"encode", t.total_ms},          {"preprocess", t.preprocess_ms},
              {"patch_embed", t.patch_embed_ms},   {"window_blocks", t.window_blocks_ms},
              {"global_blocks", t.global_blocks_ms}, {"neck", t.neck_ms}};
}

// The worker's side of a session: encode its image, then keep the state (or the error).
void encode_session(WorkerContext& w, Session& s, std::shared_ptr<RgbImage>& image, Clock::time_point queued,
                    SessionStore& store) {
  if (s.closed()) return;  // deleted or evicted while queued
  s.set_started(ms_since(queued));
  try {
    EncodeParams ep = encode_default_params();
    ep.n_threads = w.n_threads;
    ep.progress = [&s](float f) { s.set_progress(f); };
    ImageEmbedding emb = w.model->encode(image->view(), ep);
    image.reset();  // the pixels are not needed any more
    if (s.closed()) return;
    ImageState state(w.model);
    state.set_embedding(emb);
    store.set_ready(s, std::move(state));
  } catch (const std::exception& e) {
    image.reset();
    s.set_failed(e.what());
  }
}

// One answer may make at most this many mask pixels (kept instances x image pixels, all its prompts together). The
// library holds each mask as runs (encoded from a per-thread scratch bitmap as it is made), so this bounds the
// up-sampling work and the size of the answer rather than bitmaps in memory. A low threshold on a large image can
// ask for far more (32 prompts x 200 queries x 12 MP = 77 G pixels): that is a 413 asking for a higher threshold,
// decided from the instance count before any mask is made.
constexpr int64_t kMaxAnswerMaskPixels = int64_t{1} << 29;  // 512 Mi pixels

// Fills in the instance masks of results computed without them (from their raw outputs, at their threshold), after
// checking that all of them together stay within kMaxAnswerMaskPixels. Runs on the worker.
void add_masks(std::vector<PromptResult>& results, int n_threads) {
  int64_t pixels = 0, instances = 0;
  for (const PromptResult& r : results) {
    instances += static_cast<int64_t>(r.instances.size());
    pixels += static_cast<int64_t>(r.instances.size()) * r.image_width * r.image_height;
  }
  if (pixels > kMaxAnswerMaskPixels)
    throw HttpError(413, "this answer would hold " + std::to_string(instances) + " instance masks of " +
                             std::to_string(results.empty() ? 0 : results[0].image_width) + "x" +
                             std::to_string(results.empty() ? 0 : results[0].image_height) + " pixels (" +
                             std::to_string(pixels >> 20) + " Mi pixels; the limit is " +
                             std::to_string(kMaxAnswerMaskPixels >> 20) +
                             " Mi): raise the threshold or send fewer prompts");
  for (PromptResult& r : results) {
    if (r.instances.empty()) continue;
    PromptResult with = rethreshold(r, r.threshold, n_threads, /*masks=*/true);
    for (size_t k = 0; k < r.instances.size(); ++k) r.instances[k].mask = std::move(with.instances[k].mask);
  }
}

// Runs prompts on the worker: library errors caused by the request (a text the tokenizer rejects, ...) are 400s.
// The session's state gives its prompt scratch back afterwards: an idle session holds only its embedding (what the
// session store accounts for).
SegmentResult run_segment(ImageState& state, const std::vector<Prompt>& prompts, float threshold, int n_threads) {
  struct ReleaseScratch {
    ImageState& s;
    ~ReleaseScratch() { s.release_scratch(); }
  } release{state};
  SegmentParams p = segment_default_params();
  p.n_threads = n_threads;
  p.threshold = threshold;
  p.masks = false;     // made afterwards by add_masks, within the answer's mask budget
  p.semantic = true;  // kept with the raw outputs, dropped from the answer unless asked for
  try {
    return segment(state, prompts, p);
  } catch (const std::runtime_error& e) {  // sam3::Error
    throw HttpError(400, e.what());
  }
}

// The library's result document plus what the server adds (see docs/server.md): the session, the per-prompt cache
// flags, the semantic masks only when asked for, the server's timings and processing_time_ms.
std::string result_json(const SegmentResult& r, std::vector<bool> cached, bool semantic, const std::string& session_id,
                        std::vector<std::pair<std::string, double>> timings) {
  ResultJsonParams p = result_json_default_params();
  p.semantic = semantic;
  p.session_id = session_id;
  p.cached = std::move(cached);
  p.timings_ms = std::move(timings);
  p.processing_time = true;
  return result_to_json(r, p);
}

// ---- handlers -------------------------------------------------------------------------------------------------

void health(ServerContext& ctx, const Request&, Response& res) {
  const SessionStore::Stats st = ctx.store.stats();
  send_json(res, 200,
            Json{{"status", "ok"},
                 {"model", ctx.model.path},
                 {"config", ctx.model.config_name},
                 {"dtype", join(ctx.model.weight_dtypes, ", ")},
                 {"precision", ctx.model.precision},
                 {"isa", ctx.model.isa},
                 {"input_size", ctx.model.input_size},
                 {"pick", ctx.model.pick},
                 {"threads", ctx.worker.n_threads()},
                 {"http_threads", ctx.opts.http_threads},
                 {"queue", Json{{"length", ctx.worker.queue_length()},
                                {"capacity", ctx.worker.capacity()},
                                {"busy", ctx.worker.busy()}}},
                 {"sessions", Json{{"count", st.count},
                                   {"max", ctx.store.max_sessions()},
                                   {"memory_bytes", st.memory_bytes},
                                   {"max_memory_bytes", ctx.store.max_bytes()},
                                   {"evicted", st.evicted}}},
                 {"memory", Json{{"rss_bytes", proc_status_kib("VmRSS") * 1024},
                                 {"peak_rss_bytes", proc_status_kib("VmHWM") * 1024}}},
                 {"uptime_s", ms_since(ctx.started) * 1e-3}});
}

void create_session(ServerContext& ctx, const Request& req, Response& res) {
  const auto t0 = Clock::now();
  auto image = std::make_shared<RgbImage>(upload_from(ctx, req, "image", /*raw_body_allowed=*/true));
  const double decode_ms = ms_since(t0);
  // Reserve the larger of the pixels and the embedding they become (see Session).
  const int64_t reserve = std::max(static_cast<int64_t>(image->rgb.size()), ctx.model.embedding_bytes);
  const ClientQuota quota{req.remote_addr, static_cast<size_t>(ctx.opts.max_sessions_per_client),
                          static_cast<size_t>(ctx.opts.max_encodes_per_client)};
  std::string over_quota;
  std::shared_ptr<Session> s = ctx.store.create(image->width, image->height, reserve, quota, &over_quota);
  if (!s && !over_quota.empty()) throw HttpError(429, over_quota);
  if (!s)
    throw HttpError(503, "every session slot (--max-sessions " + std::to_string(ctx.store.max_sessions()) +
                             ", --max-session-memory) is taken by images still being encoded; retry later");
  SessionStore& store = ctx.store;
  const auto queued = Clock::now();
  const bool ok = ctx.worker.try_submit([s, image, queued, &store](WorkerContext& w) mutable {
    encode_session(w, *s, image, queued, store);
  });
  if (!ok) {
    ctx.store.remove(s->id);
    throw HttpError(503, "the inference queue is full (--queue-size " + std::to_string(ctx.worker.capacity()) +
                             "); retry later");
  }
  send_json(res, 201,
            Json{{"session_id", s->id},
                 {"width", s->width},
                 {"height", s->height},
                 {"status", "encoding"},
                 {"timings_ms", Json{{"decode", decode_ms}}}});
}

void get_session(ServerContext& ctx, const Request& req, Response& res) {
  std::shared_ptr<Session> s = find_session(ctx, req.matches[1]);
  const Session::Snapshot snap = s->snapshot();
  Json j{{"session_id", s->id},
         {"width", s->width},
         {"height", s->height},
         {"status", status_name(snap.status)},
         {"queued", snap.status == SessionStatus::Encoding && !snap.started},
         {"progress", std::round(snap.progress * 1000.0) / 1000.0}};
  if (snap.status == SessionStatus::Failed) j["error"] = snap.error;
  j["memory_bytes"] = snap.memory_bytes;
  j["cached_prompts"] = snap.cached_prompts;
  if (snap.status == SessionStatus::Ready) j["timings_ms"] = encode_timings_json(snap);
  send_json(res, 200, j);
}

void delete_session(ServerContext& ctx, const Request& req, Response& res) {
  const std::string id = req.matches[1];
  if (!ctx.store.remove(id)) {
    find_session(ctx, id);  // throws the right 404
  }
  send_json(res, 200, Json{{"session_id", id}, {"deleted", true}});
}

// A session that prompts can use now: still encoding or failed -> 409 with its status (and progress).
void require_ready(Session& s) {
  const Session::Snapshot snap = s.snapshot();
  if (snap.status == SessionStatus::Encoding)
    throw HttpError(409,
                    "session " + s.id + " is still encoding (" +
                        std::to_string(static_cast<int>(snap.progress * 100)) + "%); poll GET /v1/sessions/" + s.id +
                        " until its status is ready",
                    Json{{"status", "encoding"},
                         {"progress", std::round(snap.progress * 1000.0) / 1000.0},
                         {"queued", !snap.started}});
  if (snap.status == SessionStatus::Failed)
    throw HttpError(409, "encoding session " + s.id + " failed: " + snap.error, Json{{"status", "failed"}});
}

void segment_session(ServerContext& ctx, const Request& req, Response& res) {
  const auto t0 = Clock::now();
  const SegmentRequest sr = parse_segment_request(req.body);
  std::shared_ptr<Session> s = find_session(ctx, req.matches[1]);
  require_ready(*s);

  // Prompts seen before on this session are answered from their kept raw outputs; the others go to the worker.
  const size_t n = sr.prompts.size();
  std::vector<std::shared_ptr<const PromptResult>> cached(n);
  std::vector<Prompt> todo;
  std::vector<std::string> todo_keys;
  for (size_t i = 0; i < n; ++i) {
    const std::string key = sr.prompts[i].cache_key();
    cached[i] = s->cached(key);
    if (!cached[i]) {
      todo.push_back(sr.prompts[i].to_prompt(s->width, s->height, prompt_field(i)));
      todo_keys.push_back(key);
    }
  }
  // One worker task for the whole request: the new prompts run on the model, the seen ones are re-thresholded from
  // their kept outputs, and every mask is made within the answer's budget (add_masks). Re-thresholding is admitted
  // through the queue like other work, never run on the HTTP thread.
  struct Out {
    SegmentResult result;
    double queue_ms = 0, segment_ms = 0, rethreshold_ms = 0;
  };
  const auto queued = Clock::now();
  const float threshold = sr.threshold;
  SessionStore& store = ctx.store;
  auto fut = ctx.worker.try_call([s, todo, todo_keys, cached, threshold, queued, &store](WorkerContext& w) {
    Out o;
    o.queue_ms = ms_since(queued);
    if (s->closed()) throw HttpError(404, "session " + s->id + " was deleted or evicted");
    SegmentResult fresh;
    if (!todo.empty()) {
      fresh = run_segment(s->state(), todo, threshold, w.n_threads);
      store.keep_prompt_cache(*s, static_cast<int64_t>(s->state().prompt_cache_bytes()));
      for (size_t i = 0; i < todo_keys.size(); ++i)
        store.keep_result(*s, todo_keys[i], Session::cache_entry(fresh.prompts[i]));
    }
    o.segment_ms = fresh.total_ms;
    const auto t_re = Clock::now();
    o.result.image_width = s->width;
    o.result.image_height = s->height;
    o.result.total_ms = fresh.total_ms;
    size_t next_fresh = 0;
    for (size_t i = 0; i < cached.size(); ++i) {
      if (cached[i]) {
        o.result.prompts.push_back(rethreshold(*cached[i], threshold, w.n_threads, /*masks=*/false));
      } else {
        o.result.prompts.push_back(std::move(fresh.prompts[next_fresh++]));
      }
    }
    add_masks(o.result.prompts, w.n_threads);
    o.rethreshold_ms = ms_since(t_re);
    return o;
  });
  if (!fut)
    throw HttpError(503, "the inference queue is full (--queue-size " + std::to_string(ctx.worker.capacity()) +
                             "); retry later");
  Out o = wait_for(*fut);
  SegmentResult& all = o.result;
  std::vector<bool> from_cache(n);
  for (size_t i = 0; i < n; ++i) from_cache[i] = cached[i] != nullptr;
  send_json_text(res, 200,
                 result_json(all, std::move(from_cache), sr.semantic, s->id,
                             {{"segment", o.segment_ms},
                              {"queue_wait", o.queue_ms},
                              {"rethreshold", o.rethreshold_ms},
                              {"total", ms_since(t0)}}));
}

// POST /v1/sessions/{id}/pick: one object from clicks / a box / an earlier pick's mask (docs/server.md).
void pick_session(ServerContext& ctx, const Request& req, Response& res) {
  const auto t0 = Clock::now();
  PickRequest pr = parse_pick_request(req.body);
  if (!ctx.model.pick)
    throw HttpError(400, "the model " + ctx.model.path +
                             " has no interactive weights (tracker.sam_prompt_encoder.*, tracker.sam_mask_decoder.*): "
                             "pick needs a checkpoint that has them");
  std::shared_ptr<Session> s = find_session(ctx, req.matches[1]);
  require_ready(*s);
  if (!pr.mask_from.empty()) {
    int n_masks = 0;
    if (!s->pick_logits(pr.mask_from, pr.mask_index, &pr.prompt.mask_logits, &n_masks))
      throw HttpError(400, "mask_from: session " + s->id + " has no pick '" + pr.mask_from + "' (it keeps its last " +
                               std::to_string(Session::kMaxPicks) + " picks)");
    if (pr.prompt.mask_logits.empty())
      throw HttpError(400, "mask_index " + std::to_string(pr.mask_index) + ": pick '" + pr.mask_from + "' has " +
                               std::to_string(n_masks) + " masks");
  }
  struct Done {
    PickResult result;
    std::string pick_id;
    double queue_ms = 0;
  };
  const auto queued = Clock::now();
  SessionStore& store = ctx.store;
  const PickPrompt prompt = pr.prompt;
  auto fut = ctx.worker.try_call([s, prompt, queued, &store](WorkerContext& w) {
    Done d;
    d.queue_ms = ms_since(queued);
    if (s->closed()) throw HttpError(404, "session " + s->id + " was deleted or evicted");
    ImageState& state = s->state();
    struct ReleaseScratch {
      ImageState& st;
      ~ReleaseScratch() { st.release_scratch(); }
    } release{state};
    PickParams pp = pick_default_params();
    pp.n_threads = w.n_threads;
    try {
      d.result = pick(state, prompt, pp);
    } catch (const std::runtime_error& e) {  // sam3::Error: the request's fault (a point outside the image, ...)
      throw HttpError(400, e.what());
    }
    d.pick_id = store.keep_pick(*s, d.result, static_cast<int64_t>(state.pick_bytes()));
    return d;
  });
  if (!fut)
    throw HttpError(503, "the inference queue is full (--queue-size " + std::to_string(ctx.worker.capacity()) +
                             "); retry later");
  Done d = wait_for(*fut);
  ResultJsonParams p = result_json_default_params();
  p.session_id = s->id;
  p.timings_ms = {{"pick", d.result.timings.total_ms}, {"queue_wait", d.queue_ms}, {"total", ms_since(t0)}};
  p.processing_time = true;
  const Json doc = Json::parse(pick_result_to_json(d.result, p));
  Json out;
  for (const auto& [k, v] : doc.items()) {
    out[k] = v;
    if (k == "session_id") out["pick_id"] = d.pick_id;
  }
  send_json(res, 200, out);
}

void segment_oneshot(ServerContext& ctx, const Request& req, Response& res) {
  const auto t0 = Clock::now();
  if (!req.is_multipart_form_data())
    throw HttpError(400, "expected multipart/form-data with the fields 'image' and 'request'");
  auto rq = req.files.find("request");
  if (rq == req.files.end()) throw HttpError(400, "multipart upload without the field 'request' (the prompts JSON)");
  const SegmentRequest sr = parse_segment_request(rq->second.content);
  auto image = std::make_shared<const RgbImage>(upload_from(ctx, req, "image", /*raw_body_allowed=*/false));
  const double decode_ms = ms_since(t0);
  std::vector<Prompt> prompts;
  for (size_t i = 0; i < sr.prompts.size(); ++i)
    prompts.push_back(sr.prompts[i].to_prompt(image->width, image->height, prompt_field(i)));
  struct Out {
    SegmentResult result;
    double queue_ms = 0, encode_ms = 0;
  };
  const auto queued = Clock::now();
  const float threshold = sr.threshold;
  auto fut = ctx.worker.try_call([image, prompts, threshold, queued](WorkerContext& w) {
    Out o;
    o.queue_ms = ms_since(queued);
    EncodeParams ep = encode_default_params();
    ep.n_threads = w.n_threads;
    ImageState state(w.model);
    state.set_embedding(w.model->encode(image->view(), ep));
    o.encode_ms = state.embedding().timings().total_ms;
    o.result = run_segment(state, prompts, threshold, w.n_threads);
    add_masks(o.result.prompts, w.n_threads);
    return o;
  });
  if (!fut)
    throw HttpError(503, "the inference queue is full (--queue-size " + std::to_string(ctx.worker.capacity()) +
                             "); retry later");
  Out o = wait_for(*fut);
  send_json_text(res, 200,
                 result_json(o.result, {}, sr.semantic, "",
                             {{"decode", decode_ms},
                              {"queue_wait", o.queue_ms},
                              {"encode", o.encode_ms},
                              {"segment", o.result.total_ms},
                              {"total", ms_since(t0)}}));
}

void static_asset(const Request& req, Response& res) {
  std::string path = req.matches[1];
  if (path.empty()) path = "index.html";
  for (size_t i = 0; i < sam3_web_assets_count; ++i) {
    const WebAsset& a = sam3_web_assets[i];
    if (path == a.path) {
      res.set_header("Cache-Control", "no-cache");
      res.set_content(reinterpret_cast<const char*>(a.data), a.size, a.mime);
      return;
    }
  }
  throw HttpError(404, "no such path: " + req.path);
}

}  // namespace

void register_routes(httplib::Server& svr, ServerContext& ctx) {
  // Before routing: CORS (preflights answered here, without the key) and the API key.
  GuardConfig guard{ctx.opts.host, ctx.opts.allowed_hosts, ctx.opts.cors_origin,
                    ctx.opts.max_upload_bytes() + kMultipartOverhead};
  svr.set_pre_routing_handler([&ctx, guard](const Request& req, Response& res) {
    const ServerOptions& o = ctx.opts;
    auto refuse = [&](const Refusal& r) {
      if (!o.cors_origin.empty()) res.set_header("Access-Control-Allow-Origin", o.cors_origin);
      send_error(res, r.status, r.message);
      return httplib::Server::HandlerResponse::Handled;
    };
    if (const Refusal r = check_origin(guard, req); r.status != 0) return refuse(r);
    if (!o.cors_origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", o.cors_origin);
      if (o.cors_origin != "*") res.set_header("Vary", "Origin");
      if (req.method == "OPTIONS") {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Content-Type, Authorization, X-API-Key");
        res.set_header("Access-Control-Max-Age", "600");
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    if (!o.api_key.empty() && needs_key(req.path) && !has_key(req, o.api_key)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(res, 401, "missing or wrong API key (send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (const Refusal r = check_body(guard, req); r.status != 0) return refuse(r);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib produces itself (unknown path, body too large, bad request line) get a JSON body too.
  svr.set_error_handler([&ctx](const Request&, Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413)
      send_error(res, 413, "request body too large (the image limit is --max-upload-mb " +
                               std::to_string(ctx.opts.max_upload_mb) + " MiB)");
    else
      send_error(res, res.status, reason(res.status));
  });
  svr.set_exception_handler([](const Request&, Response& res, std::exception_ptr) {
    send_error(res, 500, "internal error");
  });

  auto bind = [&ctx](void (*h)(ServerContext&, const Request&, Response&)) {
    return guarded([&ctx, h](const Request& req, Response& res) { h(ctx, req, res); });
  };
  const std::string session = R"(/v1/sessions/([^/]+))";
  svr.Get("/health", bind(health));
  svr.Get("/openapi.json", guarded([&ctx](const Request&, Response& res) {
            res.set_content(ctx.openapi, "application/json");
          }));
  svr.Post("/v1/sessions", bind(create_session));
  svr.Get(session, bind(get_session));
  svr.Delete(session, bind(delete_session));
  svr.Post(session + "/segment", bind(segment_session));
  svr.Post(session + "/pick", bind(pick_session));
  svr.Post("/v1/segment", bind(segment_oneshot));
  svr.Get(R"(/(.*))", guarded(static_asset));  // the web UI; last, so the API paths win
}

}  // namespace sam3::server
