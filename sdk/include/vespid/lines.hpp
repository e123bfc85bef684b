// Header-only helpers for transports that frame messages as lines (one message, then '\n'), as
// the bridge and unix transports do. They cover the steps of writing a batch of messages
// (vsp_msg, transport.h) that every such transport repeats: gathering the lines into iovecs for
// one write, writing them to an idle socket at once, and queueing whatever part of them that
// write did not take. vsp::SendQueue (send_queue.hpp) builds its line queue from them;
// vsp::LineFramer (line_framer.hpp) is the input side.
#ifndef VESPID_LINES_HPP
#define VESPID_LINES_HPP

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <string>

#include "vespid/transport.h"

namespace vsp::lines {

// Bytes the batch takes on the wire: every message plus its newline.
inline std::size_t wire_size(const vsp_msg* msgs, std::size_t count) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count; ++i) n += msgs[i].len + 1;
  return n;
}

// Fills iov[0, 2*count) with each message and a newline (`newline` must point at a '\n' that
// outlives the write). The caller checks that 2*count fits its array.
inline void gather(const vsp_msg* msgs, std::size_t count, const char* newline,
                   iovec* iov) noexcept {
  for (std::size_t i = 0; i < count; ++i) {
    iov[2 * i] = {const_cast<char*>(msgs[i].data), msgs[i].len};
    iov[2 * i + 1] = {const_cast<char*>(newline), 1};
  }
}

// The most lines write_now() gathers into one sendmsg (two iovecs each); a longer batch queues.
constexpr std::size_t kMaxDirectLines = 32;

// Writes the batch's lines to the non-blocking socket `fd` in one sendmsg, never blocking and
// never raising SIGPIPE. Returns how many bytes went out: 0 when none could (a full socket
// buffer, an error, or more than kMaxDirectLines lines), possibly a part of a line. An error is
// left for the connection's own writer to find and report; the caller queues the unsent rest
// with append_unsent.
inline std::size_t write_now(int fd, const vsp_msg* msgs, std::size_t count) noexcept {
  if (fd < 0 || count > kMaxDirectLines) return 0;
  static const char newline = '\n';
  iovec iov[2 * kMaxDirectLines];
  gather(msgs, count, &newline, iov);
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2 * count;
  const ssize_t n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

// Appends to `out` what remains of the batch's lines after the first `sent` bytes of them went
// out (a partial line stays first, so the order on the wire is kept).
inline void append_unsent(std::string& out, const vsp_msg* msgs, std::size_t count,
                          std::size_t sent) {
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t line = msgs[i].len + 1;
    if (sent >= line) {
      sent -= line;
      continue;
    }
    if (sent < msgs[i].len) out.append(msgs[i].data + sent, msgs[i].len - sent);
    out.push_back('\n');
    sent = 0;
  }
}

}  // namespace vsp::lines

#endif  // VESPID_LINES_HPP
