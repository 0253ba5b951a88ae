#include "core/dump.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "io/safetensors.h"

namespace sam3 {

Dumper::Dumper(std::string dir) : dir_(std::move(dir)) {
  if (mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST)
    throw Error("SAM3_DUMP: cannot create directory '" + dir_ + "': " + std::strerror(errno));
}

Dumper Dumper::from_env() {
  const char* d = std::getenv("SAM3_DUMP");
  if (!d || !*d) return Dumper();
  return Dumper(d);
}

void Dumper::add(const std::string& name, const Tensor& t) {
  if (!enabled()) return;
  pending_[name] = t.clone();
}

void Dumper::flush(const std::string& stage) {
  if (!enabled() || pending_.empty()) return;
  write_safetensors(dir_ + "/" + stage + ".safetensors", pending_, {{"producer", "sam3.cpp"}, {"stage", stage}});
  pending_.clear();
}

}  // namespace sam3
