#include "netlink_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vespid::tailnet {

NetlinkWatch::NetlinkWatch(vsp::Host host, std::uint32_t settle_ms, std::function<void()> changed)
    : host_(host), settle_ms_(settle_ms), changed_(std::move(changed)) {
  fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd_ < 0) {
    throw vsp::Error(VSP_E_IO,
                     std::string("tailnet: cannot open a netlink socket: ") + std::strerror(errno));
  }
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    ::close(fd_);
    throw vsp::Error(VSP_E_IO,
                     std::string("tailnet: cannot subscribe to address events: ") + strerror(e));
  }
  settle_ = std::make_unique<vsp::Timer>(host_, [this] { changed_(); });
  watch_ =
      std::make_unique<vsp::Watch>(host_, fd_, VSP_WATCH_READ, [this](uint32_t) { readable(); });
}

NetlinkWatch::~NetlinkWatch() {
  watch_.reset();  // before the fd closes
  settle_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void NetlinkWatch::readable() {
  // Which address changed does not matter: the interfaces are scanned again. Drain, then settle.
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    // EAGAIN: drained. ENOBUFS: the kernel dropped events; a rescan covers them anyway.
    break;
  }
  settle_->arm(settle_ms_);
}

}  // namespace vespid::tailnet
