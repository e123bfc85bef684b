#include "pool.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vespid::postgres {

// ---- Waiter --------------------------------------------------------------------------------

void Pool::Waiter::finish() {
  // Notify under the lock: the waiter may return and destroy this object the moment it sees
  // `done`, so the condition variable must not be touched after the mutex is released.
  std::lock_guard lock(mu);
  done = true;
  cv.notify_one();
}

void Pool::Waiter::wait() {
  std::unique_lock lock(mu);
  cv.wait(lock, [this] { return done; });
}

// ---- Lease ---------------------------------------------------------------------------------

Pool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->release(slot_);
}

// ---- The storage thread's side -------------------------------------------------------------

Pool::Pool(const Target& target, vsp::Host host, unsigned size,
           std::chrono::milliseconds connect_timeout)
    : target_(target), host_(host), slots_(size) {
  for (Slot& s : slots_) s.conn = std::make_unique<Connection>(target_, host_, connect_timeout);
}

Pool::~Pool() {
  stop();
}

void Pool::start() {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    throw vsp::Error(VSP_E_IO, std::string("postgres: eventfd: ") + std::strerror(errno));
  }
  thread_ = std::thread([this] { loop(); });
}

void Pool::stop() noexcept {
  {
    std::lock_guard lock(inbox_mu_);
    stopping_ = true;
  }
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) {
    ::close(wake_fd_);
    wake_fd_ = -1;
  }
}

bool Pool::post(std::function<void()> fn) {
  {
    std::lock_guard lock(inbox_mu_);
    if (stopping_) return false;
    inbox_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  return true;
}

Pool::Lease Pool::acquire(Clock::time_point deadline) {
  Acquire a;
  a.deadline = deadline;
  if (!post([this, &a] {
        acquirers_.push_back(&a);
        dispatch();
      })) {
    throw vsp::Error(VSP_E_CLOSED, "postgres: the plugin is stopping");
  }
  a.waiter.wait();
  if (a.status != VSP_OK) throw vsp::Error(a.status, a.error);
  return Lease(this, a.slot, a.session);
}

Pool::Ran Pool::run(Lease& lease, Request& req, Clock::time_point deadline) {
  Connection& conn = *slots_[lease.slot()].conn;
  return drive(conn, conn.run(req, deadline));
}

void Pool::finish_run(Lease& lease) {
  Connection& conn = *slots_[lease.slot()].conn;
  if (conn.state() == Connection::State::running) drive(conn, Connection::Event::none);
}

Pool::Ran Pool::drive(Connection& conn, Connection::Event ev) {
  for (;;) {
    switch (ev) {
      case Connection::Event::done:
      case Connection::Event::lost:
        return Ran::ended;
      case Connection::Event::early:
        return Ran::early;
      default:
        break;
    }
    if (conn.state() != Connection::State::running) return Ran::ended;
    int timeout_ms = -1;
    if (auto d = conn.deadline()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*d - Clock::now()).count();
      timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 60000));
    }
    pollfd p{conn.fd(), conn.poll_events(), 0};
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno != EINTR) {
      conn.close(Failure::lost, std::string("poll failed: ") + std::strerror(errno));
      return Ran::ended;
    }
    ev = n > 0 ? conn.on_poll(p.revents) : conn.on_deadline(Clock::now());
  }
}

void Pool::discard(Lease& lease) {
  slots_[lease.slot()].conn->close(Failure::lost, "discarded");
}

void Pool::release(size_t slot) {
  post([this, slot] {
    slots_[slot].leased = false;
    dispatch();
  });
}

// ---- The loop thread -----------------------------------------------------------------------

void Pool::loop() {
  pthread_setname_np(pthread_self(), "vsp-postgres");
  std::vector<pollfd> fds;
  std::vector<size_t> fd_slot;
  while (true) {
    try {
      if (!turn(fds, fd_slot)) break;
    } catch (const std::exception& e) {
      // Nothing may escape the thread (std::terminate); a failed turn is retried.
      host_.error(std::string("postgres: internal error on the I/O thread: ") + e.what());
    }
  }
  shutdown_loop();
}

bool Pool::turn(std::vector<pollfd>& fds, std::vector<size_t>& fd_slot) {
  fds.clear();
  fd_slot.clear();
  fds.push_back(pollfd{wake_fd_, POLLIN, 0});
  std::optional<Clock::time_point> next;
  auto earliest = [&next](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].leased) continue;  // its holder drives it
    const Connection& c = *slots_[i].conn;
    if (c.fd() >= 0) {
      fds.push_back(pollfd{c.fd(), c.poll_events(), 0});
      fd_slot.push_back(i);
    }
    if (auto d = c.deadline()) earliest(*d);
  }
  for (const Acquire* a : acquirers_) earliest(a->deadline);
  int timeout_ms = -1;
  if (next) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now()).count();
    timeout_ms = static_cast<int>(std::clamp<long long>(left, 0, 60000));
  }
  if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
    host_.error(std::string("postgres: poll failed: ") + std::strerror(errno));
    ::usleep(10000);  // never spin; a failing poll has no better remedy
  }

  // Sockets first, with the readiness just reported; then the queued work, whose changes
  // (a request sent, a connection opened) the next poll will watch.
  for (size_t k = 1; k < fds.size(); ++k) {
    if (fds[k].revents == 0) continue;
    const size_t i = fd_slot[k - 1];
    // The socket may have been closed by an earlier slot's event handling (it never is
    // today, but a stale fd must not be handed to another connection).
    if (slots_[i].conn->fd() != fds[k].fd) continue;
    handle(i, slots_[i].conn->on_poll(fds[k].revents));
  }
  const auto now = Clock::now();
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].leased) handle(i, slots_[i].conn->on_deadline(now));
  }
  expire_acquirers(now);

  if ((fds[0].revents & POLLIN) != 0) {
    uint64_t n;
    (void)!::read(wake_fd_, &n, sizeof n);
  }
  std::deque<std::function<void()>> work;
  bool stopping;
  {
    std::lock_guard lock(inbox_mu_);
    work.swap(inbox_);
    stopping = stopping_;
  }
  for (auto& fn : work) {
    try {
      fn();
    } catch (const std::exception& e) {
      host_.error(std::string("postgres: internal error on the I/O thread: ") + e.what());
    }
  }
  return !stopping;
}

void Pool::handle(size_t i, Connection::Event ev) {
  Slot& s = slots_[i];
  switch (ev) {
    case Connection::Event::none:
      return;
    case Connection::Event::connected:
      host_.info(std::string("postgres: ") + (s.was_connected ? "reconnected" : "connected") +
                 " to " + s.conn->describe() + " (" + target_.who + ", connection " +
                 std::to_string(i + 1) + " of " + std::to_string(slots_.size()) + ")");
      s.was_connected = true;
      dispatch();
      return;
    case Connection::Event::connect_failed:
      fail_acquirers(VSP_E_IO, "postgres: cannot connect to " + target_.label +
                                   (target_.who.empty() ? "" : " (" + target_.who + ")") + ": " +
                                   s.conn->error());
      return;
    case Connection::Event::early:
    case Connection::Event::done:
      return;  // only a lease holder runs requests, and it handles their events itself
    case Connection::Event::lost:
      host_.warn("postgres: lost the idle connection " + std::to_string(i + 1) + " to " +
                 target_.label + ": " + s.conn->error() + " (reopened when next needed)");
      return;
  }
}

void Pool::dispatch() {
  while (!acquirers_.empty()) {
    Acquire* a = acquirers_.front();
    auto idle = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) {
      return !s.leased && s.conn->state() == Connection::State::idle;
    });
    if (idle != slots_.end()) {
      idle->leased = true;
      a->slot = static_cast<size_t>(idle - slots_.begin());
      a->session = idle->conn->session();
      acquirers_.pop_front();
      a->waiter.finish();
      continue;
    }
    const auto connecting = std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) {
      return !s.leased && s.conn->state() == Connection::State::connecting;
    });
    if (static_cast<size_t>(connecting) >= acquirers_.size()) return;  // enough under way
    auto closed = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) {
      return !s.leased && s.conn->state() == Connection::State::closed;
    });
    if (closed == slots_.end()) return;  // every slot is busy: wait for a release
    handle(static_cast<size_t>(closed - slots_.begin()), closed->conn->connect(Clock::now()));
  }
}

void Pool::fail_acquirers(int status, const std::string& error) {
  // A connect failure says the server cannot be reached right now: every caller waiting for a
  // connection hears it, rather than each waiting for its own attempt to fail the same way.
  while (!acquirers_.empty()) {
    Acquire* a = acquirers_.front();
    acquirers_.pop_front();
    a->status = status;
    a->error = error;
    a->waiter.finish();
  }
}

void Pool::expire_acquirers(Clock::time_point now) {
  for (auto it = acquirers_.begin(); it != acquirers_.end();) {
    Acquire* a = *it;
    if (now < a->deadline) {
      ++it;
      continue;
    }
    it = acquirers_.erase(it);
    a->status = VSP_E_IO;
    a->error = "postgres: no connection to " + target_.label +
               " was ready within request_timeout_ms (all " + std::to_string(slots_.size()) +
               " busy or still connecting)";
    a->waiter.finish();
  }
}

void Pool::shutdown_loop() {
  // stop() runs on the storage thread, which then holds no lease and runs nothing: every
  // connection is this thread's to close.
  for (Slot& s : slots_) s.conn->close(Failure::closed, "the plugin is stopping");
  // Nothing can be queued any more: post() refuses once stopping_ is set, and the work queued
  // before it was run by the loop's last turn.
  fail_acquirers(VSP_E_CLOSED, "postgres: the plugin is stopping");
}

}  // namespace vespid::postgres
