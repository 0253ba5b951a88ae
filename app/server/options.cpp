// sam3.cpp — `sam3 serve` options (CLI11).
#include "options.h"

#include <CLI/CLI.hpp>

namespace sam3::server {

void add_server_options(CLI::App& app, ServerOptions& o) {
  app.add_option("-m,--model", o.model_path, "checkpoint (.pt or .safetensors)")->required();
  app.add_option("--config", o.config_path, "config document (JSON); default: from the file, else preset 'sam3'");
  app.add_option("--dtype", o.dtype,
                 "compute precision: f32 (exact), bf16, int8, or auto (bf16 where the CPU has bf16 units, else f32)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "f32", "bf16", "int8"}));
  app.add_option("--host", o.host, "address to bind (loopback by default; 0.0.0.0 exposes the server)")
      ->capture_default_str();
  app.add_option("--port", o.port, "TCP port (0: any free port; the bound port is printed)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", o.n_threads, "inference threads (0: one per online CPU)")
      ->capture_default_str()
      ->check(CLI::Range(0, 4096));
  app.add_option("--http-threads", o.http_threads, "HTTP connection threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--max-sessions", o.max_sessions, "sessions kept (least recently used evicted beyond)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-session-memory", o.max_session_memory_mb,
                 "MiB for all sessions together (least recently used evicted beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app.add_option("--max-upload-mb", o.max_upload_mb, "largest image upload, MiB (larger: 413)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  app.add_option("--max-pixels", o.max_pixels, "largest image, width x height (larger: 413)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--max-decode-memory", o.max_decode_memory_mb,
                 "MiB that uploads being decoded at once may take (estimated from their headers; more: 503)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 30));
  app.add_option("--queue-size", o.queue_size, "tasks waiting for the inference worker (more: 503)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--api-key", o.api_key,
                 "require this key on every API call ('Authorization: Bearer KEY' or 'X-API-Key: KEY'); "
                 "default: $SAM3_API_KEY")
      ->envname("SAM3_API_KEY");
  app.add_option("--cors-origin", o.cors_origin, "allow cross-origin API calls from this origin (e.g. '*')");
  app.add_option("--allowed-host", o.allowed_hosts,
                 "a name clients may reach the server by (the Host header), besides --host (and localhost on "
                 "loopback); repeatable; '*': any")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--max-sessions-per-client", o.max_sessions_per_client,
                 "sessions one client (remote address) may hold; more: 429 (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--max-encodes-per-client", o.max_encodes_per_client,
                 "images one client (remote address) may have waiting for or in their encode; more: 429 (0: no limit)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1 << 20));
  app.add_option("--timeout", o.timeout_s,
                 "seconds a client may stay silent while sending a request or reading an answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  // Not in --help: the server tests hold the worker with it to see a session that is still encoding (worker.h).
  app.add_option("--test-hold-file", o.test_hold_file)->group("");
}

}  // namespace sam3::server
