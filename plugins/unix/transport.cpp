#include "transport.hpp"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

namespace vespid::unix_transport {

namespace {

constexpr int kBacklog = 64;
constexpr int kAcceptsPerWakeup = 32;
constexpr uint64_t kAcceptBackoffMs = 100;

struct Peer {
  bool known = false;
  uid_t uid = 0;
  pid_t pid = 0;
};

Peer peer_of(int fd) {
  Peer p;
#ifdef SO_PEERCRED
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
    p.known = true;
    p.uid = cred.uid;
    p.pid = cred.pid;
  }
#else
  gid_t gid = 0;
  if (::getpeereid(fd, &p.uid, &gid) == 0) p.known = true;
#endif
  return p;
}

}  // namespace

std::unique_ptr<UnixTransport> UnixTransport::create(vsp::Host host, std::string_view config_json) {
  Config cfg = parse_config(config_json, host.state_dir());
  return std::make_unique<UnixTransport>(host, std::move(cfg));
}

UnixTransport::UnixTransport(vsp::Host host, Config cfg) : host_(host), cfg_(std::move(cfg)) {}

UnixTransport::~UnixTransport() {
  // Normally stop() finished everything. If the host gave up waiting, drop what is left without
  // calling back into a host that is tearing down.
  for (auto& [ptr, conn] : conns_) conn->abandon();
  conns_.clear();
  close_listener();
}

void UnixTransport::start() {
  listener_ = listen_at(cfg_.path, kBacklog);
  listen_watch_ = std::make_unique<vsp::Watch>(host_, listener_.fd, VSP_WATCH_READ,
                                               [this](uint32_t) { on_listener_ready(); });
  host_.info("listening on " + cfg_.path + " (operator.v1, local admin)");
}

void UnixTransport::close_listener() {
  accept_backoff_.reset();
  listen_watch_.reset();
  if (listener_.fd >= 0) {
    ::close(listener_.fd);
    remove_socket_file(cfg_.path, listener_);
    listener_.fd = -1;
  }
}

void UnixTransport::stop(std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  close_listener();
  if (conns_.empty()) {
    std::exchange(stop_done_, nullptr)();
    return;
  }
  // Copy first: a connection that closes at once removes itself from conns_.
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(conns_.size());
  for (auto& [ptr, conn] : conns_) open.push_back(conn);
  for (auto& conn : open) conn->close_on_loop(VSP_E_CLOSED, "gateway stopping");
}

void UnixTransport::on_listener_ready() {
  for (int i = 0; i < kAcceptsPerWakeup && listener_.fd >= 0; ++i) {
    const int fd = ::accept4(listener_.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      accept_one(fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      host_.warn(std::string("accept paused: ") + std::strerror(errno));
      listen_watch_->update(0);
      if (!accept_backoff_) {
        accept_backoff_ = std::make_unique<vsp::Timer>(host_, [this] {
          if (listen_watch_) listen_watch_->update(VSP_WATCH_READ);
        });
      }
      accept_backoff_->arm(kAcceptBackoffMs);
      return;
    }
    host_.error(std::string("accept failed: ") + std::strerror(errno));
    return;
  }
}

void UnixTransport::accept_one(int fd) {
  if (stopping_) {
    ::close(fd);
    return;
  }
  if (conns_.size() >= cfg_.max_connections) {
    host_.warn("refused a connection: max_connections (" + std::to_string(cfg_.max_connections) +
               ") reached");
    ::close(fd);
    return;
  }
  const Peer peer = peer_of(fd);
  // The 0600 file already keeps others out; checking the peer's uid as well means a socket
  // passed through a wrongly permissioned directory or an fd leaked to another user still
  // does not grant admin.
  if (peer.known && peer.uid != ::geteuid() && peer.uid != 0) {
    host_.warn("refused a connection from uid " + std::to_string(peer.uid) +
               ": only the gateway's own user and root are local admins");
    ::close(fd);
    return;
  }

  auto conn = std::make_shared<Connection>(
      host_, fd, ConnLimits{cfg_.max_message_bytes, cfg_.send_queue_bytes},
      [this](Connection* c) { on_connection_finished(c); });

  const std::string peer_address =
      peer.known ? "unix:uid=" + std::to_string(peer.uid) + ",pid=" + std::to_string(peer.pid)
                 : std::string("unix");
  vsp_conn_info info{};
  info.struct_size = sizeof info;
  info.dialect = "operator.v1";
  info.peer_address = peer_address.c_str();
  info.local_address = cfg_.path.c_str();
  info.flags = VSP_CONN_LOCAL_ADMIN;

  vsp_error err{};
  err.struct_size = sizeof err;
  vsp_host_conn* host_conn = nullptr;
  const int rc = host_.api()->conn_open(host_.instance(), &info, conn->handle(), &host_conn, &err);
  if (rc != VSP_OK) {
    host_.warn(std::string("the gateway refused a connection: ") + err.message);
    conn->abandon();  // closes fd; the host never knew it, so no conn_closed
    return;
  }
  conns_.emplace(conn.get(), conn);
  conn->attach(host_conn);
}

void UnixTransport::on_connection_finished(Connection* c) {
  conns_.erase(c);
  if (stopping_ && conns_.empty() && stop_done_) std::exchange(stop_done_, nullptr)();
}

int UnixTransport::send(vsp_plugin_conn* conn, std::string_view message) noexcept {
  return Connection::from(conn)->send(message);
}

int UnixTransport::send_batch(vsp_plugin_conn* conn, const vsp_msg* msgs,
                              std::size_t count) noexcept {
  return Connection::from(conn)->send_batch(msgs, count);
}

void UnixTransport::close(vsp_plugin_conn* conn, int code, const char*) noexcept {
  Connection::from(conn)->request_close(code);
}

}  // namespace vespid::unix_transport
