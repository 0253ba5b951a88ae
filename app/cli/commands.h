// sam3.cpp — `sam3` subcommands. Each lives in its own cmd_<name>.cpp and returns the process exit code.
#pragma once

namespace sam3::cli {

int cmd_bench(int argc, char** argv);  // cmd_bench.cpp
int cmd_encode(int argc, char** argv);  // cmd_encode.cpp
int cmd_info(int argc, char** argv);
int cmd_make_random_checkpoint(int argc, char** argv);  // cmd_random_checkpoint.cpp
int cmd_segment(int argc, char** argv);  // cmd_segment.cpp
int cmd_tokenize(int argc, char** argv);

}  // namespace sam3::cli
