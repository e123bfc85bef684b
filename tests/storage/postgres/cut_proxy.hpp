// A TCP proxy on 127.0.0.1 between the plugin and the test server that can break one connection
// at the worst moment of a commit: when the plugin sends COMMIT. It either swallows the COMMIT
// (the server never commits) or passes it on and swallows the answer (the server commits, the
// plugin never hears it), then closes both sides. Afterwards it can refuse every new connection,
// as a server that went away would.
//
// It recognises COMMIT as the bytes "COMMIT\0" in what the client sends: the plugin sends its
// COMMIT as SQL text in a Parse message, NUL-terminated, and nothing else it sends contains
// them (its other statements mention commit_log and synchronous_commit, in lower case).
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace vespid::storage_test::postgres {

class CutProxy {
 public:
  enum class Cut {
    swallow_commit,  // the COMMIT never reaches the server
    swallow_answer,  // the server gets the COMMIT; its answer never reaches the client
  };

  explicit CutProxy(int upstream_port);
  ~CutProxy();
  CutProxy(const CutProxy&) = delete;
  CutProxy& operator=(const CutProxy&) = delete;

  int port() const noexcept { return port_; }
  // The next COMMIT triggers `cut`, once. With refuse_after, every connection accepted after the
  // cut is closed at once.
  void arm(Cut cut, bool refuse_after = false);
  // Accept connections again after a refusing cut.
  void stop_refusing() noexcept { refusing_ = false; }
  bool fired() const noexcept { return fired_; }

 private:
  struct Pair {
    int client = -1;
    int server = -1;
    bool cut_on_answer = false;  // swallow_answer fired on this pair: drop what comes back
  };
  void run();
  void close_pair(Pair& p);

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int stop_fd_ = -1;  // an eventfd: written by the destructor to end run()

  std::mutex mu_;  // guards armed_, cut_, refuse_after_ (set by the test thread)
  bool armed_ = false;
  Cut cut_ = Cut::swallow_commit;
  bool refuse_after_ = false;
  std::atomic<bool> fired_{false};
  std::atomic<bool> refusing_{false};

  std::vector<Pair> pairs_;  // the proxy thread only
  std::thread thread_;
};

}  // namespace vespid::storage_test::postgres
