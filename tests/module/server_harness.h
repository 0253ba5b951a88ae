// sam3.cpp — test harness for `sam3 serve`: starts the real binary on the tiny fixture model on loopback (port 0,
// the bound port read from its "listening on" line), gives httplib clients for it, stops it with SIGTERM.
// The binary: $SAM3_BIN if set, else the build's sam3 (SAM3_BIN_DEFAULT, set by CMake).
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fixture.h"

namespace sam3::test {

using Json = nlohmann::ordered_json;

inline std::string server_binary() {
  if (const char* env = std::getenv("SAM3_BIN"); env && *env) return env;
#ifdef SAM3_BIN_DEFAULT
  return SAM3_BIN_DEFAULT;
#else
  return "build/sam3";
#endif
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Peak and current resident memory of a process, KiB (/proc/<pid>/status VmHWM, VmRSS); 0 if gone.
inline int64_t proc_kib(pid_t pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.compare(0, field.size() + 1, field + ":") == 0) return std::atoll(line.c_str() + field.size() + 1);
  return 0;
}

class ServerProcess {
 public:
  // `extra`: options after `serve -m tiny --config tiny --port 0`; `env`: NAME=VALUE set for the server only;
  // `model` / `config`: other fixture files (golden-relative) to serve.
  explicit ServerProcess(const std::vector<std::string>& extra, const std::vector<std::string>& env = {},
                         const std::string& model = "tiny/sam3_random.pt",
                         const std::string& config = "tiny/config.json") {
    std::vector<std::string> args = {server_binary(), "serve", "-m", golden_path(model),
                                     "--config", golden_path(config), "--port", "0", "--dtype", "f32"};
    args.insert(args.end(), extra.begin(), extra.end());
    char log_template[] = "/tmp/sam3_serve_test_XXXXXX";
    const int log_fd = mkstemp(log_template);
    if (log_fd < 0) throw std::runtime_error("mkstemp failed");
    log_path_ = log_template;
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {  // child: stdout -> pipe, stderr -> log file
      dup2(out[1], 1);
      dup2(log_fd, 2);
      close(out[0]);
      close(out[1]);
      close(log_fd);
      for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));  // the child's own copy of `env`
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      std::perror("execv");
      _exit(127);
    }
    close(out[1]);
    close(log_fd);
    out_fd_ = out[0];
    // Read stdout until the "listening on" line (the model loads first: allow a generous minute).
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    const std::string marker = "listening on http://127.0.0.1:";
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 200) <= 0) continue;
      char buf[512];
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;  // the server exited
      text.append(buf, static_cast<size_t>(n));
      const size_t at = text.find(marker);
      if (at != std::string::npos && text.find('\n', at) != std::string::npos)
        port_ = std::atoi(text.c_str() + at + marker.size());
    }
    banner_ = text;
    if (port_ == 0) {
      stop();
      throw std::runtime_error("sam3 serve did not start; stdout: " + text + "\nstderr: " + log());
    }
  }
  ~ServerProcess() {
    stop();
    std::remove(log_path_.c_str());
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& banner() const { return banner_; }
  std::string log() const { return read_bytes(log_path_); }
  bool alive() {
    if (pid_ <= 0 || exit_status_ >= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  int64_t peak_rss_kib() const { return proc_kib(pid_, "VmHWM"); }

  httplib::Client client(int read_timeout_s = 60) const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(read_timeout_s, 0);
    c.set_write_timeout(30, 0);
    c.set_connection_timeout(10, 0);
    return c;
  }

  // SIGTERM and wait (SIGKILL after 60 s); the exit status (or 128 + signal), -1 if never started.
  int stop() {
    if (pid_ <= 0) return -1;
    if (exit_status_ >= 0) return exit_status_;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 600; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (exit_status_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      exit_status_ = 128 + SIGKILL;
    }
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  int exit_status_ = -1;
  std::string banner_, log_path_;
};

inline Json body_json(const httplib::Result& r) {
  if (!r) return Json();
  return Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

// POST /v1/sessions with a multipart image.
inline httplib::Result create_session(httplib::Client& c, const std::string& bytes, const std::string& name = "x.jpg",
                                      const httplib::Headers& headers = {}) {
  httplib::MultipartFormDataItems items = {{"image", bytes, name, "application/octet-stream"}};
  return c.Post("/v1/sessions", headers, items);
}

// Polls GET /v1/sessions/{id} until it is no longer encoding; the last status JSON (null on an HTTP failure).
inline Json wait_ready(httplib::Client& c, const std::string& id, double timeout_s = 120) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    auto r = c.Get(("/v1/sessions/" + id).c_str());
    if (!r || r->status != 200) return Json();
    Json j = body_json(r);
    if (j.value("status", "") != "encoding" || std::chrono::steady_clock::now() > deadline) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

inline httplib::Result post_json(httplib::Client& c, const std::string& path, const Json& body) {
  return c.Post(path.c_str(), body.dump(), "application/json");
}

// A segment result without what varies from run to run (timings, ids, cache flags): what must be identical.
inline Json stable_result(Json j) {
  j.erase("compute");  // the precision in use: checked on its own (ServerApi.SessionLifecycleAndResultsEqualTheLibrary)
  j.erase("timings_ms");
  j.erase("processing_time_ms");
  j.erase("session_id");
  if (j.contains("prompts"))
    for (Json& p : j["prompts"]) {
      p.erase("timings_ms");
      p.erase("cached");
    }
  return j;
}

// Equality of two JSON documents; on failure, the number of differences and the first one (as a JSON patch
// operation, truncated), not the whole documents (masks make them long).
inline ::testing::AssertionResult same_json(const Json& actual, const Json& expected) {
  if (actual == expected) return ::testing::AssertionSuccess();
  const Json patch = Json::diff(expected, actual);
  const std::string first = patch.empty() ? std::string("?") : patch[0].dump().substr(0, 400);
  return ::testing::AssertionFailure() << patch.size() << " difference(s) from the expected JSON; first: " << first;
}


// ---- raw HTTP: what httplib's client cannot send (headers without their body, chunked bodies, pipelining) ----

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One connection: sends `parts` (pausing between them, so that each arrives on its own), then reads until the server
// closes the connection or `timeout_s` passes. The text received; `closed` says whether the server closed it.
struct Exchange {
  std::string text;
  bool closed = false;
  double seconds = 0;
  int status() const { return text.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(text.c_str() + 9) : 0; }
  std::string body() const {
    const size_t at = text.find("\r\n\r\n");
    return at == std::string::npos ? "" : text.substr(at + 4);
  }
  size_t responses() const {
    size_t n = 0;
    for (size_t at = text.find("HTTP/1.1 "); at != std::string::npos; at = text.find("HTTP/1.1 ", at + 1)) ++n;
    return n;
  }
};

inline Exchange talk(int port, const std::vector<std::string>& parts, double timeout_s = 15) {
  Exchange ex;
  const auto t0 = Clock::now();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return ex;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (send(fd, parts[i].data(), parts[i].size(), MSG_NOSIGNAL) < 0) break;
  }
  while (seconds_since(t0) < timeout_s) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char buf[65536];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ex.closed = true;
      break;
    }
    ex.text.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  ex.seconds = seconds_since(t0);
  return ex;
}

inline std::string raw_headers(const std::string& request_line, int port, const std::vector<std::string>& extra) {
  std::string h = request_line + "\r\nHost: 127.0.0.1:" + std::to_string(port) + "\r\n";
  for (const std::string& e : extra) h += e + "\r\n";
  return h + "\r\n";
}

}  // namespace sam3::test
