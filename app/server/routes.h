// sam3.cpp — the HTTP API of `sam3 serve` (docs/server.md): the handlers, and the checks every request goes
// through first (API key, CORS). Handlers run on HTTP threads: they parse, check, hand model work to the worker,
// wait for it and format the answer; they never run the model themselves.
#pragma once
#include <chrono>
#include <string>

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
};

void register_routes(httplib::Server& svr, ServerContext& ctx);

}  // namespace sam3::server
