// sam3.cpp — the `sam3` command-line tool: `sam3 <command> [options]`, like git.
#include <cstdio>
#include <cstring>
#include <exception>

#include "commands.h"

namespace sam3::cli {

int usage_error(const char* command, const std::string& message) {
  std::fprintf(stderr, "%s: error: %s\nRun with --help for more information.\n", command, message.c_str());
  return 2;
}

}  // namespace sam3::cli

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

constexpr Command kCommands[] = {
    {"batch", sam3::cli::cmd_batch, "segment a dataset with text/box prompts: COCO results, resumable"},
    {"bench", sam3::cli::cmd_bench, "time the image encoder (per stage, GFLOP/s, peak memory)"},
    {"compare", sam3::cli::cmd_compare, "compare two models or precisions on the same images and prompts"},
    {"convert", sam3::cli::cmd_convert, "store a checkpoint's weights in bf16 / int8 / f16 (smaller, faster to load)"},
    {"encode", sam3::cli::cmd_encode, "encode an image once and save its embedding"},
    {"info", sam3::cli::cmd_info, "print a checkpoint's config and tensor summary"},
    {"make-random-checkpoint", sam3::cli::cmd_make_random_checkpoint, "write a random checkpoint (official layout)"},
    {"pick", sam3::cli::cmd_pick, "segment ONE object from clicks / a box / a previous mask (interactive)"},
    {"segment", sam3::cli::cmd_segment, "segment an image with text and/or box prompts (JSON, overlay)"},
    {"serve", sam3::cli::cmd_serve, "HTTP server: sessions, prompts, one-shot segmentation, web UI"},
    {"tokenize", sam3::cli::cmd_tokenize, "print the CLIP BPE token ids of texts"},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: sam3 <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.help);
  std::fprintf(out, "\nrun 'sam3 <command> --help' for a command's options\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (!std::strcmp(argv[1], c.name)) {
      try {
        return c.run(argc - 1, argv + 1);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sam3 %s: error: %s\n", c.name, e.what());
        return 1;
      }
    }
  }
  std::fprintf(stderr, "sam3: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
