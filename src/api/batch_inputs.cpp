// sam3.cpp — the image files of a batch run (sam3.h: list_image_files): directories scanned recursively and sorted,
// image paths taken as they are, list files read line by line.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "sam3/sam3.h"

namespace sam3 {

namespace {

namespace fs = std::filesystem;

bool has_image_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

void scan_directory(const std::string& input, std::vector<std::string>& out) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::recursive_directory_iterator it(input, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code ec2;
    if (it->is_regular_file(ec2) && has_image_extension(it->path())) found.push_back(it->path().generic_string());
  }
  if (ec) throw Error("input directory '" + input + "': " + ec.message());
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

void read_list_file(const std::string& input, std::vector<std::string>& out) {
  std::ifstream f(input);
  if (!f) throw Error("input list '" + input + "': cannot be read");
  const fs::path base = fs::path(input).parent_path();
  std::string line;
  while (std::getline(f, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    const fs::path p(line);
    out.push_back(p.is_absolute() || base.empty() ? p.generic_string() : (base / p).generic_string());
  }
  if (f.bad()) throw Error("input list '" + input + "': read error");
}

}  // namespace

std::vector<std::string> list_image_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const std::string& input : inputs) {
    std::error_code ec;
    const fs::file_status st = fs::status(input, ec);
    if (ec || !fs::exists(st)) throw Error("input '" + input + "': no such file or directory");
    if (fs::is_directory(st))
      scan_directory(input, files);
    else if (has_image_extension(input))
      files.push_back(fs::path(input).generic_string());
    else
      read_list_file(input, files);
  }
  std::unordered_set<std::string> seen;
  for (const std::string& f : files)
    if (!seen.insert(f).second) throw Error("input: the image '" + f + "' is named twice");
  return files;
}

}  // namespace sam3
