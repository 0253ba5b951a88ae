// sam3.cpp — `sam3 serve` main loop: model, worker, sessions, HTTP server, signals.
#include "server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "openapi.h"
#include "routes.h"

namespace sam3::server {

namespace {

// Blocks SIGINT/SIGTERM (and SIGPIPE: a client that hangs up must not end the process) in the calling thread and
// in every thread it starts afterwards; restores the previous mask when it goes out of scope.
class SignalMask {
 public:
  SignalMask() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~SignalMask() {
    // Drop a SIGPIPE left pending by a closed connection before unblocking (it would end the process now).
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SignalMask(const SignalMask&) = delete;
  SignalMask& operator=(const SignalMask&) = delete;

 private:
  sigset_t set_, old_;
};

}  // namespace

int run_server(const ServerOptions& opts) {
  const SignalMask mask;  // before any thread is started, so that they all inherit it

  ModelParams mp = model_default_params();
  mp.config_path = opts.config_path;
  mp.dtype = opts.dtype;
  std::shared_ptr<const Model> model = Model::load(opts.model_path, mp);
  const int n_threads = opts.n_threads > 0 ? opts.n_threads : default_thread_count();

  Worker worker(model, n_threads, static_cast<size_t>(opts.queue_size), opts.test_hold_file);
  SessionStore store(static_cast<size_t>(opts.max_sessions), opts.max_session_bytes());
  ServerContext ctx{opts, model->info(), worker, store, openapi_json()};

  httplib::Server svr;
  const size_t http_threads = static_cast<size_t>(opts.http_threads);
  svr.new_task_queue = [http_threads] { return new httplib::ThreadPool(http_threads); };
  // Room for the upload plus the multipart framing and the request JSON; the exact upload limit is checked per
  // field (413 with a message). A body beyond this is refused by httplib with 413 before it is read.
  svr.set_payload_max_length(static_cast<size_t>(opts.max_upload_bytes() + kMultipartOverhead));
  // One request per connection: an answer given before the body was read (401, 404, 413, ...) must not leave that
  // body on the connection to be parsed as the next request (request smuggling behind a pooling proxy).
  svr.set_keep_alive_max_count(1);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a second server would silently share a port
  // that is already taken instead of failing.
  socket_t listen_sock = INVALID_SOCKET;
  svr.set_socket_options([&listen_sock](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_sock = sock;
  });
  svr.set_read_timeout(opts.timeout_s, 0);  // per read: a client silent this long is dropped
  svr.set_write_timeout(opts.timeout_s, 0);
  register_routes(svr, ctx);

  const int port = opts.port == 0 ? svr.bind_to_any_port(opts.host) : (svr.bind_to_port(opts.host, opts.port)
                                                                          ? opts.port
                                                                          : -1);
  if (port < 0)
    throw std::runtime_error("cannot listen on " + opts.host + ":" + std::to_string(opts.port) +
                " (address in use, or not an address of this machine)");
  // httplib listens with a backlog of 5; with one request per connection, bursts of new connections would overflow
  // it (dropped connections under load). listen() again on the bound socket only raises the backlog.
  if (listen_sock != INVALID_SOCKET) ::listen(listen_sock, SOMAXCONN);
  if (!ctx.model.precision_note.empty())
    std::fprintf(stderr, "sam3 serve: note: %s\n", ctx.model.precision_note.c_str());
  std::printf("sam3 serve: listening on http://%s:%d (model %s, %s on %s, %d inference threads, queue %d, sessions "
              "%d / %lld MiB%s)\n",
              opts.host.c_str(), port, ctx.model.config_name.c_str(), ctx.model.precision.c_str(),
              ctx.model.isa.c_str(), n_threads, opts.queue_size, opts.max_sessions,
              static_cast<long long>(opts.max_session_memory_mb), opts.api_key.empty() ? "" : ", API key required");
  std::fflush(stdout);

  // SIGINT/SIGTERM: drop the waiting tasks, let the running one finish, stop the HTTP server.
  std::atomic<bool> done{false};
  std::thread signals([&] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      const int sig = sigtimedwait(&set, nullptr, &tick);
      if (sig == SIGINT || sig == SIGTERM) {
        std::fprintf(stderr, "sam3 serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        worker.stop();
        svr.stop();
        return;
      }
    }
  });
  const bool ok = svr.listen_after_bind();
  done.store(true);
  signals.join();
  worker.stop();
  std::fprintf(stderr, "sam3 serve: stopped\n");
  return ok ? 0 : 1;
}

}  // namespace sam3::server
