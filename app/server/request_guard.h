// sam3.cpp — the checks every request goes through before routing, on its request line and headers only (no body
// has been read yet): Host (DNS rebinding), Origin (cross-site requests), and what body the route may take.
//
//   Host    with a loopback or named --host, the Host header's name must be that address, a loopback name when the
//           server is on loopback (localhost, 127.0.0.1, ::1), or an --allowed-host; on a wildcard address (0.0.0.0,
//           ::) any Host unless --allowed-host names some. A request without Host (HTTP/1.0) passes.       -> 403
//   Origin  a request that carries Origin must come from the server's own origin (http://<Host>) or the
//           --cors-origin ('*': any).                                                                     -> 403
//   Body    Transfer-Encoding (chunked, ...) is refused: bodies need a Content-Length, so that the limits apply
//           to the bytes read (-> 411); Content-Encoding other than identity is refused (-> 415); a route that
//           takes no body refuses one (-> 413); a POST (PUT, ...) to a path without a handler is a 404 before its body
//           is read;
//           a segment request above kMaxRequestJsonBytes and an upload above the upload limit are 413.
// The server closes every connection after its answer (keep-alive off), so an early answer never leaves an unread
// body on the connection to be taken for the next request.
#pragma once
#include <string>
#include <vector>

namespace httplib {
struct Request;
}

namespace sam3::server {

struct GuardConfig {
  std::string host;                        // --host: the bound address
  std::vector<std::string> allowed_hosts;  // --allowed-host (may hold "*": any)
  std::string cors_origin;                 // --cors-origin
  int64_t max_upload_body = 0;             // bytes: upload routes (the image plus multipart framing)
};

struct Refusal {
  int status = 0;  // 0: the request passes
  std::string message;
};

// What kind of body a route takes.
enum class BodyKind { None, Json, Upload, UnknownRoute };  // UnknownRoute: a POST/PUT/... no handler takes
BodyKind body_kind(const std::string& method, const std::string& path);

// The Host header's name without its port ("[::1]:8080" -> "::1", "Example.org:80" -> "example.org").
std::string host_name(const std::string& host_header);

// Host and Origin (before CORS preflights and the API key).
Refusal check_origin(const GuardConfig& cfg, const httplib::Request& req);
// Transfer-Encoding, Content-Encoding, Content-Length against the route (after the API key: a client without the
// key learns nothing about the limits).
Refusal check_body(const GuardConfig& cfg, const httplib::Request& req);

}  // namespace sam3::server
