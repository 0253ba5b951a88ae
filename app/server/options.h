// sam3.cpp — `sam3 serve` options: what the server loads, where it listens and the limits that keep it bounded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace sam3::server {

struct ServerOptions {
  std::string model_path;      // -m: checkpoint (.pt or .safetensors)
  std::string config_path;     // --config: config JSON (empty: from the weights file, else preset "sam3")
  std::string dtype = "auto";  // --dtype: compute precision (f32, bf16, int8, auto: ModelParams::dtype)
  std::string host = "127.0.0.1";  // loopback unless asked otherwise
  int port = 8080;             // 0: any free port (the bound port is printed)
  int n_threads = 0;           // inference threads of the worker (0: one per online CPU)
  int http_threads = 16;       // HTTP connection threads (parse requests, format responses, never run the model)
  int max_sessions = 8;        // sessions kept; the least recently used beyond this are evicted
  int64_t max_session_memory_mb = 2048;  // memory of all sessions together (embeddings, cached raw outputs, pixels)
  int64_t max_upload_mb = 32;  // largest accepted image upload
  int64_t max_pixels = 50'000'000;  // largest accepted image (width x height), checked from the header
  int queue_size = 8;          // tasks waiting for the worker; more -> 503
  std::string api_key;         // non-empty: every API call must carry it (Authorization: Bearer / X-API-Key)
  std::string cors_origin;     // non-empty: Access-Control-Allow-Origin for the API (and CORS preflights)
  std::vector<std::string> allowed_hosts;  // more names the Host header may give (request_guard.h); "*": any
  int64_t max_decode_memory_mb = 1024;  // memory all uploads being decoded at once may take (decode_budget.h)
  int max_sessions_per_client = 0;  // sessions one client (remote address) may hold; 0: no limit
  int max_encodes_per_client = 0;   // of them, still encoding; 0: no limit
  int timeout_s = 10;          // idle time allowed while reading a request or writing an answer
  std::string test_hold_file;  // tests only (hidden --test-hold-file): the worker starts no task while it exists

  int64_t max_upload_bytes() const { return max_upload_mb * 1024 * 1024; }
  int64_t max_session_bytes() const { return max_session_memory_mb * 1024 * 1024; }
  int64_t max_decode_bytes() const { return max_decode_memory_mb * 1024 * 1024; }
};

// Registers every option on a CLI11 app (used by `sam3 serve`).
void add_server_options(CLI::App& app, ServerOptions& o);

}  // namespace sam3::server
