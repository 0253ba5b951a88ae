// sam3.cpp — the HTTP API of `sam3 serve` (docs/server.md): the handlers, and the checks every request goes
// through first (API key, CORS). Handlers run on HTTP threads: they parse, check, hand model work to the worker,
// wait for it and format the answer; they never run the model themselves.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

#include "decode_budget.h"
#include "options.h"
#include "session_store.h"
#include "worker.h"

namespace httplib {
class Server;
}

namespace sam3::server {

struct ServerContext {
  const ServerOptions& opts;
  Model::Info model;  // read once at start (/health, session memory reservations)
  Worker& worker;
  SessionStore& store;
  std::string openapi;  // the OpenAPI document (JSON text)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  DecodeBudget decode_budget{opts.max_decode_bytes()};  // uploads decoded on HTTP threads reserve memory here
};

// Room for the multipart framing and the request JSON next to an upload of --max-upload-mb.
constexpr int64_t kMultipartOverhead = int64_t{1} << 20;

void register_routes(httplib::Server& svr, ServerContext& ctx);

}  // namespace sam3::server
