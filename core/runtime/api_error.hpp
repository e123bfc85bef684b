// A failure that goes back to the caller as {code, message, details}. Every dialect maps it to
// its own error form (operator.v1 `res ok:false`, bridge.v1 `error`, rest.v1 status codes).
#pragma once

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace vespid::api {

class ApiError : public std::runtime_error {
 public:
  ApiError(std::string code, const std::string& message, nlohmann::json details = nullptr)
      : std::runtime_error(message), code_(std::move(code)), details_(std::move(details)) {}
  const std::string& code() const noexcept { return code_; }
  const nlohmann::json& details() const noexcept { return details_; }

 private:
  std::string code_;
  nlohmann::json details_;
};

inline ApiError invalid(const std::string& m, nlohmann::json d = nullptr) {
  return {"INVALID_REQUEST", m, std::move(d)};
}
inline ApiError not_found(const std::string& m) {
  return {"NOT_FOUND", m};
}
inline ApiError conflict(const std::string& m) {
  return {"CONFLICT", m};
}
inline ApiError forbidden(const std::string& m, nlohmann::json d = nullptr) {
  return {"FORBIDDEN", m, std::move(d)};
}
inline ApiError unauthorized(const std::string& m) {
  return {"UNAUTHORIZED", m};
}
inline ApiError unavailable(const std::string& m) {
  return {"UNAVAILABLE", m};
}

}  // namespace vespid::api
