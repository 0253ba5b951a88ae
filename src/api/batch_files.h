// sam3.cpp — what the batch-output functions (batch_records.cpp, batch_merge.cpp) share: the record files of an
// output directory, read line by line, and files written atomically (library internal; layout in sam3.h).
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "io/result_json.h"

namespace sam3 {

// A record as read back: an image done or an image failed.
struct BatchRecordHead {
  int64_t id = 0;
  std::string file_name;
  bool failed = false;
};

// dir/records.jsonl (when there) and dir/shards/*.jsonl (sorted by name): the files holding a run's records.
std::vector<std::string> batch_record_files(const std::string& dir);

// Calls fn(file index, byte offset of the line, parsed record) for every complete line (one ending in '\n') of
// every record file; a last line without its '\n' (cut short by a crash) is skipped. Throws sam3::Error naming the
// file and line on a line that is not a record.
void for_each_batch_record(const std::vector<std::string>& files,
                           const std::function<void(size_t, uint64_t, const Json&, const BatchRecordHead&)>& fn);

// The record's file name as it reads back from JSON (invalid UTF-8 replaced), to compare with an input's name.
std::string json_round_trip(const std::string& s);

// Checks that record `head` belongs to `image_files` (id in range, same file name); throws sam3::Error otherwise.
void check_record_matches(const BatchRecordHead& head, const std::vector<std::string>& image_files,
                          const std::string& where);

}  // namespace sam3
