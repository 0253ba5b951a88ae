// sam3.cpp — checks on a request's line and headers before routing (see request_guard.h).
#include "request_guard.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "requests.h"  // kMaxRequestJsonBytes

namespace sam3::server {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_loopback(const std::string& name) {
  return name == "localhost" || name == "::1" || name.rfind("127.", 0) == 0;
}

bool is_wildcard(const std::string& name) { return name.empty() || name == "0.0.0.0" || name == "::"; }

bool host_allowed(const GuardConfig& cfg, const std::string& host_header) {
  const std::string name = host_name(host_header);
  for (const std::string& a : cfg.allowed_hosts)
    if (a == "*" || lower(a) == name) return true;
  const std::string bound = lower(cfg.host);
  if (is_wildcard(bound)) return cfg.allowed_hosts.empty();
  if (name == bound) return true;
  return is_loopback(bound) && is_loopback(name);
}

// Content-Length as a number; -1 when absent, -2 when malformed.
int64_t content_length(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return -1;
  if (req.get_header_value_count("Content-Length") != 1) return -2;
  const std::string v = req.get_header_value("Content-Length");
  if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return -2;
  return std::stoll(v);
}

}  // namespace

BodyKind body_kind(const std::string& method, const std::string& path) {
  if (method == "GET" || method == "HEAD" || method == "DELETE" || method == "OPTIONS") return BodyKind::None;
  if (method != "POST") return BodyKind::UnknownRoute;  // PUT, PATCH, ...: no route takes them
  if (path == "/v1/sessions" || path == "/v1/segment") return BodyKind::Upload;
  // /v1/sessions/{id}/segment and /v1/sessions/{id}/pick, {id} non-empty without '/'
  const std::string head = "/v1/sessions/";
  for (const std::string tail : {"/segment", "/pick"}) {
    if (path.size() > head.size() + tail.size() && path.compare(0, head.size(), head) == 0 &&
        path.compare(path.size() - tail.size(), tail.size(), tail) == 0 &&
        path.find('/', head.size()) == path.size() - tail.size())
      return BodyKind::Json;
  }
  return BodyKind::UnknownRoute;
}

std::string host_name(const std::string& host_header) {
  std::string h = lower(host_header);
  if (!h.empty() && h[0] == '[') {  // [v6]:port
    const size_t close = h.find(']');
    return close == std::string::npos ? h : h.substr(1, close - 1);
  }
  const size_t colon = h.find(':');
  if (colon != std::string::npos && h.find(':', colon + 1) == std::string::npos) h.resize(colon);  // name:port
  return h;
}

Refusal check_origin(const GuardConfig& cfg, const httplib::Request& req) {
  if (req.has_header("Host") && !host_allowed(cfg, req.get_header_value("Host")))
    return {403, "Host '" + req.get_header_value("Host") + "' is not this server's address (--host " + cfg.host +
                     "; add names with --allowed-host)"};
  if (req.has_header("Origin")) {
    const std::string origin = req.get_header_value("Origin");
    const bool same = req.has_header("Host") && (origin == "http://" + req.get_header_value("Host") ||
                                                 origin == "https://" + req.get_header_value("Host"));
    if (!same && cfg.cors_origin != "*" && origin != cfg.cors_origin)
      return {403, "cross-origin request from '" + origin + "' refused (allow it with --cors-origin)"};
  }
  return {};
}

Refusal check_body(const GuardConfig& cfg, const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding"))
    return {411, "Transfer-Encoding '" + req.get_header_value("Transfer-Encoding") +
                     "' is not accepted: send the body with a Content-Length"};
  if (req.has_header("Content-Encoding") && lower(req.get_header_value("Content-Encoding")) != "identity")
    return {415, "Content-Encoding '" + req.get_header_value("Content-Encoding") +
                     "' is not accepted: send the body uncompressed"};
  const int64_t length = content_length(req);
  if (length == -2) return {400, "malformed Content-Length"};
  switch (body_kind(req.method, req.path)) {
    case BodyKind::UnknownRoute:
      return {404, "no such path: " + req.method + " " + req.path};
    case BodyKind::None:
      if (length > 0) return {413, req.method + " " + req.path + " takes no request body"};
      break;
    case BodyKind::Json:
      if (length > static_cast<int64_t>(kMaxRequestJsonBytes))
        return {413, "the request JSON is " + std::to_string(length) + " bytes; the limit is " +
                         std::to_string(kMaxRequestJsonBytes)};
      break;
    case BodyKind::Upload:
      if (length > cfg.max_upload_body)
        return {413, "request body of " + std::to_string(length) + " bytes is larger than the upload limit"};
      break;
  }
  return {};
}

}  // namespace sam3::server
