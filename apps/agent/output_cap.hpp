// A command's output, kept up to a cap: stdout and stderr together hold at most `cap` bytes (the
// reference node host's rule, 200 000 by default). What comes after is counted and dropped,
// and the result says it was truncated, so a chatty command cannot fill the agent's memory or
// a bridge line (1 MiB by default on the gateway).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vespid::agent {

class OutputCap {
 public:
  explicit OutputCap(std::size_t cap) : cap_(cap) {}

  void add_stdout(std::string_view chunk) { add(stdout_, chunk); }
  void add_stderr(std::string_view chunk) { add(stderr_, chunk); }

  const std::string& stdout_text() const { return stdout_; }
  const std::string& stderr_text() const { return stderr_; }
  bool truncated() const { return dropped_ > 0; }
  std::size_t dropped_bytes() const { return dropped_; }
  std::size_t cap() const { return cap_; }

 private:
  void add(std::string& into, std::string_view chunk);

  std::size_t cap_;
  std::size_t kept_ = 0;
  std::size_t dropped_ = 0;
  std::string stdout_, stderr_;
};

// A byte cut may split a UTF-8 sequence; JSON needs text. Invalid sequences become U+FFFD.
std::string valid_utf8(std::string_view bytes);

}  // namespace vespid::agent
