// sam3.cpp — `sam3 serve`: load the model, start the worker and the HTTP server, print the bound address, serve
// until SIGINT/SIGTERM.
#pragma once
#include "options.h"

namespace sam3::server {

// Returns the process exit code; throws sam3::Error when the model cannot be loaded or the address not bound.
int run_server(const ServerOptions& opts);

}  // namespace sam3::server
