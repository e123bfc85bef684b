// A wire dialect's codec and semantics, on the core side of the transport boundary.
// One instance per dialect serves every connection of that dialect. All calls run inside the
// Sequencer. Frames of one connection are handed over one at a time: on_message for the next
// frame starts only when the previous one's task finished, so a connection's frames are handled
// and answered in order.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runtime/task.hpp"

namespace vespid::core {

class Connection;

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual std::string_view name() const noexcept = 0;

  // A connection of this dialect opened; decide its principal (handshake credentials, transport
  // flags). Returning a task lets authentication read storage before the first frame is handled.
  virtual Task<void> on_open(std::shared_ptr<Connection> conn) = 0;
  virtual Task<void> on_message(std::shared_ptr<Connection> conn, std::string message) = 0;
  // A hot frame handled at once, while `message` is still the transport's: no copy of it, no
  // task. Called only when nothing of the connection is ahead of the frame. A dialect takes here
  // only frames whose handling never waits (it may start a concurrent task that owns what it
  // needs) and returns true; false leaves the frame to on_message, unchanged. What it throws is
  // answered as on_message's failures are.
  virtual bool on_message_now(Connection& /*conn*/, std::string_view /*message*/) { return false; }
  // The transport could not frame the peer's input: answer in this dialect's error form.
  virtual void on_protocol_error(Connection& conn, int status, const std::string& message) = 0;
  // The peer flooded the connection's queue (limits.connection_queue_depth).
  virtual void on_overload(Connection& conn, const std::string& message) = 0;
  // A frame's handler ended with an error it did not answer itself (a field of the wrong type,
  // a storage failure, a defect): answer it in this dialect's error form, so that every frame
  // gets an answer. `code` is an api::ApiError code (INVALID_REQUEST, UNAVAILABLE, INTERNAL...).
  virtual void on_frame_failed(Connection& conn, const std::string& code,
                               const std::string& message) = 0;
  virtual void on_close(Connection& /*conn*/) {}
  // True for a dialect whose every message carries its own credentials (REST): its connections
  // are never "unauthenticated" and do not count against limits.max_anonymous_per_peer.
  virtual bool authenticates_each_message() const noexcept { return false; }
};

}  // namespace vespid::core
