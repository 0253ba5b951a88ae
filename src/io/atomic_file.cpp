// sam3.cpp — atomic output files (temporary file + rename).
#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace sam3 {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  for (int n = 0;; ++n) {
    tmp_ = path_ + ".tmp." + std::to_string(getpid()) + "." + std::to_string(n);
    const int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);  // mode as umask allows
    if (fd >= 0) {
      file_ = fdopen(fd, "wb");
      if (!file_) {
        ::close(fd);
        ::unlink(tmp_.c_str());
        throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
      }
      return;
    }
    if (errno != EEXIST || n >= 100) throw Error("cannot write '" + path_ + "': " + std::strerror(errno));
  }
}

AtomicFile::~AtomicFile() {
  if (file_) std::fclose(file_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t size) {
  if (size && std::fwrite(data, 1, size, file_) != size)
    throw Error("error writing '" + path_ + "': " + std::strerror(errno));
}

void AtomicFile::commit() {
  const bool ok = std::fflush(file_) == 0 && fsync(fileno(file_)) == 0;
  const int err = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!ok || !closed) throw Error("error writing '" + path_ + "': " + std::strerror(ok ? errno : err));
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw Error("cannot write '" + path_ + "': rename: " + std::strerror(errno));
  committed_ = true;
}

void write_file_atomic(const std::string& path, const void* data, size_t size) {
  AtomicFile f(path);
  f.write(data, size);
  f.commit();
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

void check_not_an_input(const std::string& output, const std::vector<std::string>& inputs, const std::string& what) {
  for (const std::string& in : inputs) {
    if (in.empty() || output.empty()) continue;
    if (output == in || same_file(output, in))
      throw Error(what + " '" + output + "' is the input '" + in + "': refusing to overwrite it");
  }
}

}  // namespace sam3
