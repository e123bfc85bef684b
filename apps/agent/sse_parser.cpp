#include "sse_parser.hpp"

namespace vespid::agent {

void SseParser::feed(std::string_view chunk) {
  for (char c : chunk) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the \n of a \r\n ending already handled
    }
    if (c == '\r' || c == '\n') {
      pending_cr_ = (c == '\r');
      line(pending_);
      pending_.clear();
      continue;
    }
    pending_.push_back(c);
  }
}

void SseParser::finish() {
  if (!pending_.empty()) {
    line(pending_);
    pending_.clear();
  }
  dispatch();
}

void SseParser::line(std::string_view l) {
  if (l.empty()) {
    dispatch();
    return;
  }
  if (l.front() == ':') return;  // comment (keep-alive)
  std::string_view field = l, value;
  if (const auto colon = l.find(':'); colon != std::string_view::npos) {
    field = l.substr(0, colon);
    value = l.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (has_data_) current_.data.push_back('\n');
    current_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    current_.event = std::string(value);
  }
  // `id` and `retry` mean nothing to a one-shot request; other fields are ignored by the spec.
}

void SseParser::dispatch() {
  if (has_data_) on_event_(current_);
  current_ = SseEvent{};
  has_data_ = false;
}

}  // namespace vespid::agent
