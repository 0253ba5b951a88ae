// sam3.cpp — an error with the HTTP status to answer it with; handlers throw it, the router turns it into
// {"error": message} (plus any extra fields) with that status.
#pragma once
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace sam3::server {

class HttpError : public std::runtime_error {
 public:
  HttpError(int status_code, const std::string& message, nlohmann::ordered_json extra_fields = nullptr)
      : std::runtime_error(message), status(status_code), extra(std::move(extra_fields)) {}
  int status;
  nlohmann::ordered_json extra;  // null, or an object merged into the error body
};

}  // namespace sam3::server
