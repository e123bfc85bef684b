// Serialises the core's work without giving it a thread of its own.
//
// The core's state (connections, routing, pending requests) has one owner at a time. Rather than
// hopping every frame onto a dedicated core thread (about 30 us to wake an idle thread on the
// other core of these machines), whichever thread delivers work runs it inline if the core is
// idle, and otherwise queues it for the thread that is currently running the core. Work queued
// while running is drained by the same thread before it lets go, in FIFO order, so the work of
// one producer runs in the order it was submitted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>
#include <vector>

namespace vespid::core {

// Cache lines of its own: its holder writes the load counters at every item, and two shards'
// Sequencers side by side would share one.
class alignas(64) Sequencer {
 public:
  using Work = std::function<void()>;

  // Runs `work` now on this thread if the core is idle, else queues it. Never blocks on other
  // work running (only on the queue's mutex). Re-entrant: calling it from inside core work
  // queues, so core code never nests.
  //
  // Work that runs at once is moved into the turn and called there; only queued work is wrapped
  // in a Work, whose allocation (any capture past 16 bytes) the common case, an idle core, does
  // without.
  template <class F>
  void execute(F&& work) {
    if (enter_if_idle()) {
      run_queue(&call<F>, const_cast<void*>(static_cast<const void*>(std::addressof(work))));
    } else {
      enqueue(Work(std::forward<F>(work)));
    }
  }

  // Runs `work` now on this thread if the core is idle, and says so; otherwise runs nothing and
  // returns false (inside core work too, so core code never nests). For a caller that can do
  // without a copy of what `work` refers to while it runs at once (a transport's borrowed frame)
  // and makes one only when the work has to wait.
  template <class F>
  bool run_if_idle(F&& work) {
    if (!enter_if_idle()) return false;
    run_queue(&call<F>, const_cast<void*>(static_cast<const void*>(std::addressof(work))));
    return true;
  }

  // A message from another shard (docs/design.md, "What crosses, and how"): left in this
  // Sequencer's inbox for a thread of its own, never run by the sender. The inbox is a
  // multi-producer, single-consumer list: a push is one compare-and-swap on a line of its own,
  // and takes no lock the Sequencer's own work takes. The message that finds the inbox empty wakes
  // one of the threads that called add_waker, which then calls drain(); the messages pushed before
  // the inbox is taken share that wake-up. Whoever holds the core takes the inbox before letting
  // go, so a message never waits behind an idle core. With no waker (none added yet, or the last
  // one gone) the sender runs it, as `execute` would. Messages of one sender run in the order
  // sent. Any thread.
  template <class F>
  void post(F&& work) {
    push_message(new Message<std::remove_cvref_t<F>>(std::forward<F>(work)));
  }

  // A thread that can run this Sequencer's messages: `wake(ctx)` must make it call drain() soon,
  // from any thread, without blocking and without calling back into this Sequencer, and return
  // false when it could not (the next waker is tried, then the message runs here). Returns the
  // handle for remove_waker. Any thread.
  using WakeFn = bool (*)(void* ctx);
  uint64_t add_waker(WakeFn wake, void* ctx);
  // After it returns `wake` of that handle is not called again and no call of it is running. A
  // wake it was sent that it will not answer now goes to another waker (or the queue runs here).
  // Any thread.
  void remove_waker(uint64_t handle);

  // True on the thread currently running core work.
  bool running_in_this_thread() const noexcept;

  // How many items a single thread drains before handing the rest to `handoff` (so one transport
  // thread is not kept from its own I/O for long). Set once at start-up.
  void set_handoff(std::function<void()> handoff, std::size_t drain_budget);

  // Drains the queue and the inbox on this thread (used by the handoff target and by a woken
  // waker). When another thread holds the core it returns at once: that thread takes the inbox
  // before it lets go.
  void drain();

  Sequencer() = default;
  ~Sequencer();
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // How loaded the core is, for /metrics (vespid_core_*): the wall time some thread held it
  // (running work, or descheduled while holding it: either way nobody else could run core work),
  // and the items it ran, by whether they found it idle or had to wait in the queue. Busy time
  // near the elapsed time says the core, not the sockets, is what holds the gateway back. Any
  // thread; each figure is read on its own (relaxed).
  struct Load {
    uint64_t busy_ns = 0;
    uint64_t ran_at_once = 0;
    uint64_t ran_queued = 0;
  };
  Load load() const noexcept;

 private:
  // Runs the caller's work from inside the core's turn. It is moved (copied, when the caller
  // passed an lvalue) into a local first, so that what it holds is released inside the turn, as
  // a queued Work's is, and not later on the caller's stack with the core let go.
  template <class F>
  static void call(void* work) {
    std::remove_cvref_t<F> local(std::forward<F>(*static_cast<std::remove_reference_t<F>*>(work)));
    local();
  }
  // Takes the core for this thread when nobody runs it and nothing waits (so running new work
  // first keeps every producer's order).
  bool enter_if_idle();
  void enqueue(Work work);
  struct InboxNode;
  void push_message(InboxNode* message);
  // Sends one wake-up to the first waker that takes it; false when none does.
  bool wake_a_waker();
  // The holder: moves what the inbox holds, oldest first, to the end of held_. Cheap when empty
  // (one load of a line the senders write only when they have something).
  void take_inbox();
  // Runs `first` (when given), then the queue, holding the core until it is empty or the drain
  // budget hands the rest off.
  void run_queue(void (*first)(void*) = nullptr, void* first_ctx = nullptr);

  std::mutex mutex_;
  std::deque<Work> queue_;
  bool running_ = false;
  std::function<void()> handoff_;
  std::size_t drain_budget_ = 0;  // 0: unbounded
  // Written only by the thread holding the core, read by anyone (load()).
  std::atomic<uint64_t> busy_ns_{0};
  std::atomic<uint64_t> ran_at_once_{0};
  std::atomic<uint64_t> ran_queued_{0};

  // A message: the sender's callable itself, in one allocation (no Work around it), freed by the
  // thread that ran it, inside its turn.
  struct InboxNode {
    InboxNode* next = nullptr;
    virtual void run() = 0;
    virtual ~InboxNode() = default;
  };
  template <class Fn>
  struct Message final : InboxNode {
    template <class A>
    explicit Message(A&& a) : fn(std::forward<A>(a)) {}
    void run() override { fn(); }
    Fn fn;
  };
  // Messages taken from the inbox, oldest first, not yet run: the holder's only.
  InboxNode* held_ = nullptr;
  InboxNode* held_tail_ = nullptr;
  // The inbox, newest first: pushed by senders, taken whole by the holder. A line of its own, so
  // that senders do not write the line the holder's own work reads.
  alignas(64) std::atomic<InboxNode*> inbox_{nullptr};
  // A wake-up has been sent and its drain() has not begun: a message that finds the inbox empty
  // meanwhile (its holder took it) needs no other.
  std::atomic<bool> wake_pending_{false};
  // running_, for senders, who take no lock: set with it, cleared just before the holder's last
  // look at the inbox.
  std::atomic<bool> holding_{false};

  struct Waker {
    uint64_t handle;
    WakeFn wake;
    void* ctx;
  };
  // Its own lock, not mutex_: a wake-up (a transport's post to its reactor) is not made while
  // producers wait for the queue. Held across the wake call so that remove_waker can promise
  // that none is running.
  std::mutex wakers_mutex_;
  std::vector<Waker> wakers_;  // guarded by wakers_mutex_; a handful (a shard's I/O threads)
  uint64_t next_waker_ = 1;    // guarded by wakers_mutex_
};

}  // namespace vespid::core
