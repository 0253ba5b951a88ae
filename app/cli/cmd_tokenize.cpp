// placeholder until its component lands
#include "commands.h"
#include "core/error.h"

namespace sam3::cli {
int cmd_tokenize(int, char**) { throw Error("'tokenize' is not implemented yet"); }
}  // namespace sam3::cli
