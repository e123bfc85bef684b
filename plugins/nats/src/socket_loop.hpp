// The connection's socket, polled by a thread of the plugin's own (libnats's external event
// loop interface), so that what the gateway publishes goes out without waiting and without a
// PING behind it.
//
// Left to itself, libnats reads on a thread of its own and writes from a flusher thread that
// waits about a millisecond on purpose to gather more, so every message between two gateways
// was ~1 ms late in each direction. Its send-asap option writes from the publishing thread
// instead, the gateway's core, which a slow server could then stall. With this loop attached,
// libnats puts the socket in non-blocking mode and only asks for write interest when a publish
// leaves bytes in its buffer; the loop's thread writes them as soon as the socket takes them.
// Publishes made meanwhile join the same write, so under load one write carries many messages,
// and no flush (no PING, no PONG) is needed for any of it.
//
// Messages are handed out by the same thread, right after the read that brought them: the
// subscriptions are libnats's synchronous kind, which no thread of libnats's reads, and the
// loop takes what each has waiting after every read. libnats's asynchronous kind would pass
// each message to a delivery thread first, one more hand-off per message. One thread hands out
// every subscription's messages, in the order they came.
//
// Over plain TCP the publisher may write itself, at once: the socket is non-blocking, so the
// gateway's thread only ever pays a send() that takes what the socket has room for, and what is
// left is the loop's to finish. That spares the hand-off to the loop's thread on every message
// (TLS cannot: its write may have to wait for a read, and OpenSSL does not take a write and a
// read of one connection on two threads at once).
//
// libnats calls attach/read/write with its connection lock held, from whatever thread it is on
// (the publisher, its reconnect thread, the loop itself); detach comes after the connection
// closed, without that lock. This class never calls libnats while holding its own lock, so the
// two locks are never taken in the other order.
//
// Threads: the loop's own thread polls, calls libnats's process functions and the delivery
// functions; libnats's callbacks run on libnats's threads or the loop's; the rest on any.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace vespid::natsbus {

class SocketLoop {
 public:
  // `publisher_writes`: the thread that publishes writes at once (plain TCP only, see above).
  // Throws vsp::Error when the poller cannot be made (out of file descriptors).
  explicit SocketLoop(bool publisher_writes);
  // Ends the thread. The connection must have been destroyed (or never attached) by then.
  ~SocketLoop();
  SocketLoop(const SocketLoop&) = delete;
  SocketLoop& operator=(const SocketLoop&) = delete;

  // Hands this loop to libnats: `opts` will attach its connection here, and publishes will
  // leave their bytes for this loop to write (send-asap, so libnats runs no flusher thread).
  natsStatus install(natsOptions* opts);

  // Takes ownership of `msg`.
  using Deliver = void (*)(void* ctx, natsMsg* msg);
  // Hands `sub`'s messages (a synchronous subscription) to `fn`, on the loop's thread, from now
  // on; those that came before are handed out at once.
  void add_subscription(natsSubscription* sub, Deliver fn, void* ctx);
  // After it returns `sub` gets no more calls, and none is running unless the caller is that
  // call itself (then the one running is the last). Call it before destroying `sub`.
  void remove_subscription(natsSubscription* sub);

 private:
  struct Delivery {
    natsSubscription* sub;
    Deliver fn;
    void* ctx;
  };
  // libnats's callbacks; `loop_or_self` is this.
  static natsStatus on_attach(void** user_data, void* loop, natsConnection* nc, natsSock fd);
  static natsStatus on_read(void* self, bool add);
  static natsStatus on_write(void* self, bool add);
  static natsStatus on_detach(void* self);

  // Under mu_: tells the poller which events of fd_ to watch (none: fd_ leaves the poller).
  natsStatus watch_locked(uint32_t events);
  void run();
  // On the loop's thread, busy_: every subscription's waiting messages, to their functions.
  void deliver_waiting();
  // Wakes the thread, to stop or to deliver.
  void wake();
  // Under the lock held by `lock`: waits until the thread is outside libnats and the delivery
  // functions, unless the caller is that thread.
  void wait_idle(std::unique_lock<std::mutex>& lock);

  const bool publisher_writes_;
  const int epoll_fd_;
  const int wake_fd_;  // an eventfd: a subscription was added, or the destructor is waiting

  std::mutex mu_;
  std::condition_variable idle_;  // busy_ fell back to false
  natsConnection* nc_ = nullptr;  // under mu_; null once detached
  int fd_ = -1;                   // under mu_; the socket libnats attached last
  uint32_t watched_ = 0;          // under mu_; EPOLLIN / EPOLLOUT as the poller has them for fd_
  bool busy_ = false;  // under mu_; the thread is inside a libnats process call or a delivery
  std::vector<Delivery> deliveries_;  // under mu_
  uint64_t removals_ = 0;             // under mu_; subscriptions removed so far
  bool stopping_ = false;             // under mu_
  // Under mu_: a publisher is inside its own write (libnats's lock held, so at most one), and
  // whether libnats withdrew the write interest during it (all written, or the socket lost).
  bool publisher_writing_ = false;
  bool write_withdrawn_ = false;

  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace vespid::natsbus
