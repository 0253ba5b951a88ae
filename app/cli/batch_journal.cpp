// sam3.cpp — `sam3 batch`'s record journal (batch_journal.h).
#include "batch_journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sam3::cli {

namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw std::runtime_error(what + " '" + path + "': " + std::strerror(errno));
}

}  // namespace

BatchJournal::BatchJournal(const std::string& dir) : path_(dir + "/records.jsonl") {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot open", path_);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd_);
    throw std::runtime_error("another process (a sam3 batch still running?) is writing '" + path_ + "'");
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("cannot stat", path_);
  // Find the end of the last complete line; a tail after it is a record a crash cut short.
  off_t keep = st.st_size;
  char c = 0;
  while (keep > 0) {
    if (::pread(fd_, &c, 1, keep - 1) != 1) fail("cannot read", path_);
    if (c == '\n') break;
    --keep;
  }
  if (keep != st.st_size && ::ftruncate(fd_, keep) != 0) fail("cannot truncate", path_);
}

BatchJournal::~BatchJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void BatchJournal::append(const std::string& record) {
  const std::string line = record + "\n";
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("error writing", path_);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) fail("error syncing", path_);
}

}  // namespace sam3::cli
