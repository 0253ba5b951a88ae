// sam3.cpp — the web UI's files, embedded in the binary at build time (the generated source is owned by "webui",
// made by CMake from app/web/*). The server serves them at GET /<path> (GET / -> "index.html").
//
// The interface (global namespace, C++ linkage): a generated source defines
//   const WebAsset sam3_web_assets[] = {{"index.html", "text/html; charset=utf-8", data, size}, ...};
//   const size_t sam3_web_assets_count = N;
// (it may include this header or repeat the struct exactly). The CMake target that compiles it is named
// `sam3_web_assets`; while no such target exists, app/server/placeholder/web_placeholder.cpp stands in with a
// single page that says the UI is not built (see the top-level CMakeLists.txt).
#pragma once
#include <cstddef>

struct WebAsset {
  const char* path;           // relative to app/web, '/'-separated, no leading '/': "index.html", "js/app.js"
  const char* mime;           // Content-Type to send
  const unsigned char* data;  // the file's bytes (not NUL-terminated)
  size_t size;
};

extern const WebAsset sam3_web_assets[];
extern const size_t sam3_web_assets_count;
