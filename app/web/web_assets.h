// sam3.cpp — the web UI (the HTML/CSS/JS files of app/web) embedded into the sam3 binary at build time.
// cmake/embed_web.cmake generates the definitions (<build>/generated/web_assets.cpp, CMake target
// `sam3_web_assets`), one entry per file of app/web:
//   path  the file's path under app/web, '/'-separated, no leading '/': "index.html", "app.js"; the server serves
//         it at GET /<path> and answers GET / with "index.html"
//   mime  the Content-Type to send ("text/html; charset=utf-8", "text/javascript; charset=utf-8", ...)
//   data  the file's bytes (a NUL follows them, not counted in size), size  their number
// This is the table's only declaration: the generated source and the server (app/server/routes.cpp) include it.
#pragma once
#include <cstddef>

struct WebAsset {
  const char* path;
  const char* mime;
  const unsigned char* data;
  size_t size;
};

extern const WebAsset sam3_web_assets[];
extern const size_t sam3_web_assets_count;
