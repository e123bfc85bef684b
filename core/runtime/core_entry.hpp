// How work from a thread of the gateway's own (the storage thread) enters the core.
//
// Posting it to the loop thread wakes that thread for every round of completions: a futex and
// two context switches, which on small virtual machines cost as much CPU as the work they carry.
// While the gateway runs, the calling thread hands the work to the Sequencer itself instead: run
// right there if the core is idle, queued for whichever thread runs the core if not, and no
// thread is woken either way. Before the gateway is up, start-up waits for storage on the loop
// (run_to_completion) and must see the work there; from the moment shutdown begins, transports
// are being torn down and the loop decides when core work stops. In both, work is posted to the
// loop as before.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "runtime/loop.hpp"

namespace vespid::core {

class CoreEntry {
 public:
  explicit CoreEntry(Loop& loop) : loop_(loop) {}

  // Any thread. Runs `work` as core work, inline or posted (above). Never refused: a posted
  // completion still runs during shutdown, so no coroutine is left waiting for it.
  void enter(std::function<void()> work);

  // Loop thread, once the gateway is ready: from now on work may run inline.
  void open();
  // Any thread, when shutdown begins: from now on work is posted. Returns once no work entered
  // inline before it is still running (unless called from inside such work).
  void close();

 private:
  Loop& loop_;
  std::mutex mutex_;
  std::condition_variable idle_;
  bool inline_ = false;  // guarded by mutex_
  int running_ = 0;      // guarded by mutex_: enter() calls inside the Sequencer right now
};

}  // namespace vespid::core
