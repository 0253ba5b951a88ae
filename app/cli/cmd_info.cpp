// placeholder until its component lands
#include "commands.h"
#include "core/error.h"

namespace sam3::cli {
int cmd_info(int, char**) { throw Error("'info' is not implemented yet"); }
}  // namespace sam3::cli
