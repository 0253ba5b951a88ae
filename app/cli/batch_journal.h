// sam3.cpp — `sam3 batch`'s record journal: OUT/records.jsonl, one line per image finished or failed, appended and
// flushed to disk as each image ends, so that a crash loses only the images in flight. Locked against a second
// `sam3 batch` on the same directory.
#pragma once
#include <string>

namespace sam3::cli {

class BatchJournal {
 public:
  // Opens (creating) DIR/records.jsonl for appending, takes its lock (throws if another process holds it) and cuts
  // off a last line that a crash left without its '\n'.
  explicit BatchJournal(const std::string& dir);
  ~BatchJournal();
  BatchJournal(const BatchJournal&) = delete;
  BatchJournal& operator=(const BatchJournal&) = delete;
  // Appends `record` and a '\n' in one write, then fdatasync.
  void append(const std::string& record);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace sam3::cli
