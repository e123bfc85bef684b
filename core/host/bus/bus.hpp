// The message bus between the gateways of one system, as the core sees it: publish, subscribe
// (NATS-style subjects with `*` and `>`), request/reply with a deadline, and whether the bus is
// up. One implementation drives whichever bus plugin instance is loaded (plugin_bus.hpp); the
// semantics, threads included, are those of vespid/bus.h.
//
// Nothing here hops threads: handlers, `done` and state callbacks run on whatever thread the
// plugin delivers on (its own delivery thread, or the caller's), so core code enters its
// Sequencer itself.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace vespid::host {

// One message given to a handler; every view is valid only during the call.
struct BusMessage {
  std::string_view subject;
  std::string_view reply_to;  // empty: the publisher wants no reply
  std::string_view data;
};

enum class BusStatus {
  Ok,            // the first reply arrived
  Timeout,       // no reply within the timeout
  NoResponders,  // nobody is subscribed to the subject
  Down,          // the bus is down, or went down while waiting
  Error,         // refused: malformed subject, too large, buffer full (see `error`)
};

struct BusReply {
  BusStatus status;
  std::string data;   // the reply, with Ok
  std::string error;  // what went wrong, for every other status
};

const char* to_string(BusStatus status);

class Bus {
 public:
  // Called on any thread; never twice at once for one subscription, and in publish order per
  // publisher.
  using Handler = std::function<void(const BusMessage&)>;
  using SubscriptionId = uint64_t;

  virtual ~Bus() = default;

  // Any thread; never blocks. False (and logs why) when the bus refused it: down, overflow
  // (too large, or the plugin's buffer is full), bad subject. Delivery is at most once.
  virtual bool publish(std::string_view subject, std::string_view data,
                       std::string_view reply_to = {}) = 0;

  // Any thread. `queue_group` empty: every subscriber gets each message; otherwise one member of
  // the group does. The subscription outlives a loss of the bus (it is made again when the bus
  // is back). Throws std::runtime_error on failure (malformed pattern, bus stopped).
  virtual SubscriptionId subscribe(std::string pattern, std::string queue_group, Handler h) = 0;

  // Any thread, including inside the handler itself. When it returns the handler is not running
  // (unless it is the caller) and will not be called again. Unknown ids are ignored.
  virtual void unsubscribe(SubscriptionId id) = 0;

  // Any thread. `done` runs exactly once on any thread, possibly before request returns: Ok with
  // the first reply, Timeout, NoResponders, Down (the bus is down, or went down while waiting:
  // at once, not at the timeout), Error. A timeout of zero or less means the plugin's default.
  virtual void request(std::string_view subject, std::string_view data,
                       std::chrono::milliseconds timeout, std::function<void(BusReply)> done) = 0;

  // Any thread: whether the bus is up now.
  virtual bool up() const = 0;

  // Called on any thread, one call at a time, whenever the bus goes down or comes back; set it
  // before traffic starts. Replaces an earlier one.
  virtual void on_state(std::function<void(bool up, std::string_view reason)> fn) = 0;

  // The plugin id of the instance behind it: "local", "nats".
  virtual std::string_view plugin_name() const = 0;
};

}  // namespace vespid::host
