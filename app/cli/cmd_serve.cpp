// sam3.cpp — `sam3 serve -m MODEL [--config C] [--host H] [--port P] ...`: the HTTP server (app/server,
// docs/server.md).
#include <CLI/CLI.hpp>

#include "commands.h"
#include "options.h"
#include "server.h"

namespace sam3::cli {

int cmd_serve(int argc, char** argv) {
  CLI::App app{"Serve the model over HTTP: sessions, prompts, one-shot segmentation, the web UI (docs/server.md).",
               "sam3 serve"};
  server::ServerOptions opts;
  server::add_server_options(app, opts);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return server::run_server(opts);
}

}  // namespace sam3::cli
