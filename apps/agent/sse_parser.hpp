// Server-sent events (the text/event-stream format of the WHATWG HTML spec), fed in arbitrary
// chunks as they come off the socket. Only what chat-completions streams use: `data:` lines
// (several in one event are joined with "\n"), `event:`, comments and blank-line dispatch.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace vespid::agent {

struct SseEvent {
  std::string event;  // the `event:` field; empty means "message"
  std::string data;
};

class SseParser {
 public:
  using Handler = std::function<void(const SseEvent&)>;

  explicit SseParser(Handler on_event) : on_event_(std::move(on_event)) {}

  // Feeds the next bytes of the stream; whole events found are handed to the handler.
  void feed(std::string_view chunk);
  // The stream ended: an event not yet terminated by a blank line is dispatched.
  void finish();

 private:
  void line(std::string_view l);
  void dispatch();

  Handler on_event_;
  std::string pending_;  // an incomplete line
  bool pending_cr_ = false;
  SseEvent current_;
  bool has_data_ = false;
};

}  // namespace vespid::agent
