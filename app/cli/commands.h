// sam3.cpp — `sam3` subcommands. Each lives in its own cmd_<name>.cpp and returns the process exit code.
#pragma once
#include <functional>
#include <memory>
#include <string>

namespace sam3 {
class Model;
}

namespace sam3::cli {

int cmd_batch(int argc, char** argv);  // cmd_batch.cpp (+ batch_*.cpp)
int cmd_bench(int argc, char** argv);  // cmd_bench.cpp
int cmd_compare(int argc, char** argv);  // cmd_compare.cpp
int cmd_convert(int argc, char** argv);  // cmd_convert.cpp
int cmd_encode(int argc, char** argv);  // cmd_encode.cpp
int cmd_info(int argc, char** argv);
int cmd_make_random_checkpoint(int argc, char** argv);  // cmd_random_checkpoint.cpp
int cmd_segment(int argc, char** argv);  // cmd_segment.cpp
int cmd_pick(int argc, char** argv);     // cmd_pick.cpp
// Per-prompt stage timings of `sam3 bench` (bench_prompt.cpp), next to the matmul rate of the prompt modules'
// precision (`rate_name`): `rate_before` measured by the caller, `measure_rate()` called again after the timed runs;
// the ratios use the higher of the two (the stricter baseline on a machine whose speed drifts).
void bench_prompt_stages(std::shared_ptr<const Model> model, int n_threads, double rate_before,
                         const std::function<double()>& measure_rate, const char* rate_name, int runs);
// The interactive head's timings of `sam3 bench` (bench_pick.cpp): the SAM2 neck per image, one pick.
void bench_pick_stages(std::shared_ptr<const Model> model, int n_threads, int runs);
int cmd_serve(int argc, char** argv);  // cmd_serve.cpp (the server itself: app/server)
int cmd_tokenize(int argc, char** argv);

// A usage error found after parsing: "<command>: error: <message>" and the --help hint on stderr; returns 2 (main.cpp).
int usage_error(const char* command, const std::string& message);

}  // namespace sam3::cli
