// sam3.cpp — the OpenAPI 3 description of the server's API, served at /openapi.json (docs/server.md in prose).
#pragma once
#include <string>

namespace sam3::server {

// The document as JSON text (checked to parse when the server starts).
std::string openapi_json();

}  // namespace sam3::server
