// Gets published messages onto the wire at once, from a thread of the plugin's own.
//
// libnats buffers what is published and its flusher thread writes it about a millisecond later
// (it waits on purpose, to gather more), which made every message between two gateways ~1 ms
// late in each direction. libnats's send-asap option would write from the publishing thread,
// the gateway's core, which a slow server could then stall. Instead, a publish only signals
// this writer (cheap: a flag under a lock, a wake-up only when the writer is idle), and the
// writer flushes the connection: libnats writes its buffer and a PING, and the writer waits
// for the PONG. Publishes during that wait are gathered and go with the next flush, so under
// load there is at most one flush in flight and many messages per write.
//
// Threads: kick() from any thread; the writer's own thread does the rest.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace vespid::natsbus {

class PromptWriter {
 public:
  // `nc` must outlive stop(). `flush_timeout`: the most one flush waits for its PONG.
  PromptWriter(natsConnection* nc, std::chrono::milliseconds flush_timeout);
  ~PromptWriter();
  PromptWriter(const PromptWriter&) = delete;
  PromptWriter& operator=(const PromptWriter&) = delete;

  // Something was published: write it soon.
  void kick();
  // Ends the thread (waiting out a flush in flight, at most flush_timeout). Idempotent.
  void stop();

 private:
  void run();

  natsConnection* const nc_;
  const std::chrono::milliseconds flush_timeout_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool pending_ = false;   // under mu_
  bool stopping_ = false;  // under mu_
  std::thread thread_;     // last: starts once the rest is ready
};

}  // namespace vespid::natsbus
