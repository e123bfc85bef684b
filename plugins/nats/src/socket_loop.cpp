#include "socket_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>
#include <vespid/plugin.hpp>

namespace vespid::natsbus {
namespace {

constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kSocketTag = 1;

int make_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) {
    throw vsp::Error(VSP_E_IO,
                     std::string("nats: cannot make the socket poller: ") + std::strerror(errno));
  }
  return fd;
}

int make_wake(int epoll_fd) {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (fd < 0 || ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    ::close(epoll_fd);
    throw vsp::Error(VSP_E_IO, std::string("nats: cannot make the socket poller's wake-up: ") +
                                   std::strerror(err));
  }
  return fd;
}

}  // namespace

SocketLoop::SocketLoop(bool publisher_writes)
    : publisher_writes_(publisher_writes),
      epoll_fd_(make_epoll()),
      wake_fd_(make_wake(epoll_fd_)),
      thread_([this] { run(); }) {}

SocketLoop::~SocketLoop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake();
  thread_.join();
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void SocketLoop::wake() {
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void SocketLoop::wait_idle(std::unique_lock<std::mutex>& lock) {
  if (std::this_thread::get_id() == thread_.get_id()) return;
  idle_.wait(lock, [this] { return !busy_; });
}

void SocketLoop::add_subscription(natsSubscription* sub, Deliver fn, void* ctx) {
  {
    std::lock_guard lock(mu_);
    deliveries_.push_back(Delivery{sub, fn, ctx});
  }
  wake();  // messages may have come between the subscribing and now
}

void SocketLoop::remove_subscription(natsSubscription* sub) {
  std::unique_lock lock(mu_);
  std::erase_if(deliveries_, [sub](const Delivery& d) { return d.sub == sub; });
  ++removals_;
  wait_idle(lock);
}

natsStatus SocketLoop::install(natsOptions* opts) {
  natsStatus s = natsOptions_SetEventLoop(opts, this, &SocketLoop::on_attach, &SocketLoop::on_read,
                                          &SocketLoop::on_write, &SocketLoop::on_detach);
  // With an event loop, "send as soon as possible" means: ask the loop for write interest at
  // each publish, instead of signalling a flusher thread that waits a millisecond first.
  if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, true);
  return s;
}

natsStatus SocketLoop::watch_locked(uint32_t events) {
  if (events == watched_ || fd_ < 0) return NATS_OK;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = kSocketTag;
  const int op = watched_ == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (::epoll_ctl(epoll_fd_, op, fd_, &ev) != 0 && op != EPOLL_CTL_DEL) return NATS_SYS_ERROR;
  watched_ = events;
  return NATS_OK;
}

natsStatus SocketLoop::on_attach(void** user_data, void* loop, natsConnection* nc, natsSock fd) {
  auto* self = static_cast<SocketLoop*>(loop);
  *user_data = self;
  std::lock_guard lock(self->mu_);
  // On a reconnect the old socket already left the poller (libnats removed both interests
  // before closing it); this is a new one.
  self->nc_ = nc;
  self->fd_ = fd;
  self->watched_ = 0;
  return self->watch_locked(EPOLLIN);
}

natsStatus SocketLoop::on_read(void* user_data, bool add) {
  auto* self = static_cast<SocketLoop*>(user_data);
  std::lock_guard lock(self->mu_);
  return self->watch_locked(add ? self->watched_ | EPOLLIN : self->watched_ & ~uint32_t{EPOLLIN});
}

natsStatus SocketLoop::on_write(void* user_data, bool add) {
  auto* self = static_cast<SocketLoop*>(user_data);
  natsConnection* nc = nullptr;
  {
    std::lock_guard lock(self->mu_);
    if (!add) {
      if (self->publisher_writing_) self->write_withdrawn_ = true;
      return self->watch_locked(self->watched_ & ~uint32_t{EPOLLOUT});
    }
    const bool publisher_may_write = self->publisher_writes_ && self->nc_ != nullptr &&
                                     !self->publisher_writing_ &&
                                     std::this_thread::get_id() != self->thread_.get_id();
    if (!publisher_may_write) return self->watch_locked(self->watched_ | EPOLLOUT);
    nc = self->nc_;
    self->publisher_writing_ = true;
    self->write_withdrawn_ = false;
  }
  // libnats's lock is held (it is recursive): the write below re-enters on_write(false) when
  // the socket took everything, or when the write failed and the connection is being dropped.
  natsConnection_ProcessWriteEvent(nc);
  std::lock_guard lock(self->mu_);
  self->publisher_writing_ = false;
  if (self->write_withdrawn_) return NATS_OK;
  // The socket was full: the loop writes the rest when it has room.
  return self->watch_locked(self->watched_ | EPOLLOUT);
}

natsStatus SocketLoop::on_detach(void* user_data) {
  auto* self = static_cast<SocketLoop*>(user_data);
  std::unique_lock lock(self->mu_);
  self->watch_locked(0);
  self->nc_ = nullptr;
  self->fd_ = -1;
  // The connection may be freed once this returns: wait out a process call in flight, unless
  // it is that call which closed the connection.
  self->wait_idle(lock);
  return NATS_OK;
}

void SocketLoop::run() {
  epoll_event events[2];
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events, 2, -1);
    if (n < 0 && errno != EINTR) return;  // only on a broken poller: nothing left to do
    uint32_t ready = 0;
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kSocketTag) {
        ready = events[i].events;
      } else {
        uint64_t count = 0;
        (void)!::read(wake_fd_, &count, sizeof count);
        woken = true;
      }
    }
    natsConnection* nc = nullptr;
    bool read = false, write = false;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      // Only what is still wanted: an interest withdrawn since the poll returned is stale
      // (libnats takes a write with nothing to write for a closed connection).
      read = (ready & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 && (watched_ & EPOLLIN) != 0;
      write = (ready & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0 && (watched_ & EPOLLOUT) != 0;
      if (nc_ == nullptr) read = write = false;
      if (!read && !write && !woken) continue;
      nc = nc_;
      busy_ = true;
    }
    if (read) natsConnection_ProcessReadEvent(nc);
    if (read || woken) deliver_waiting();
    if (write) {
      // The read (or a delivery) may have lost the connection, and a reconnect attached anew.
      std::lock_guard lock(mu_);
      write = nc_ == nc && (watched_ & EPOLLOUT) != 0;
    }
    if (write) natsConnection_ProcessWriteEvent(nc);
    std::lock_guard lock(mu_);
    busy_ = false;
    idle_.notify_all();
  }
}

void SocketLoop::deliver_waiting() {
  std::size_t i = 0;
  for (;;) {
    Delivery d{};
    uint64_t removals = 0;
    {
      std::lock_guard lock(mu_);
      if (i >= deliveries_.size()) return;
      d = deliveries_[i];
      removals = removals_;
    }
    ++i;
    int waiting = 0;
    if (natsSubscription_GetPending(d.sub, &waiting, nullptr) != NATS_OK) continue;
    for (; waiting > 0; --waiting) {
      natsMsg* msg = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&msg, d.sub, 0);
      // A slow consumer's dropped messages were reported by libnats's error callback; the ones
      // kept follow.
      if (s == NATS_SLOW_CONSUMER) continue;
      if (s != NATS_OK) break;
      d.fn(d.ctx, msg);
      std::lock_guard lock(mu_);
      if (removals_ != removals) {
        // A delivery unsubscribed something, perhaps `d.sub` itself: start over on what is left.
        i = 0;
        break;
      }
    }
  }
}

}  // namespace vespid::natsbus
