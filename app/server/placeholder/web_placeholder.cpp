// sam3.cpp — stands in for the web UI's generated assets (see ../web_assets.h) while the build has none: one page
// that points at the API description.
#include "web_assets.h"

namespace {

constexpr char kPage[] =
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sam3 server</title></head>\n"
    "<body><h1>sam3 server</h1>\n<p>The web UI is not part of this build. The HTTP API is described at "
    "<a href=\"/openapi.json\">/openapi.json</a>; the server's health is at <a href=\"/health\">/health</a>.</p>\n"
    "</body></html>\n";

}  // namespace

const WebAsset sam3_web_assets[] = {
    {"index.html", "text/html; charset=utf-8", reinterpret_cast<const unsigned char*>(kPage), sizeof(kPage) - 1},
};
const size_t sam3_web_assets_count = 1;
