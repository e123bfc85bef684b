// The client side of WebSocket framing that every bench WebSocket speaks (the /ws node hosts and
// the /ws/client control clients): the upgrade request, masked client frames, and reading the
// server's frames off a byte stream, answering pings. Written here on StreamConn, so writes
// coalesce like every other bench socket.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "http_lite.hpp"
#include "stream_conn.hpp"

namespace vespid::bench {

// A client frame: FIN, the opcode, the mask bit with a zero key (XOR with zeros leaves the
// payload as it is, so it needs no copy; the server only requires that the bit is set).
inline void append_client_frame(std::string& out, uint8_t opcode, std::string_view payload) {
  out += static_cast<char>(0x80 | opcode);
  const std::size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(0x80 | n);
  } else if (n < 65536) {
    out += static_cast<char>(0x80 | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
  }
  out.append(4, '\0');
  out.append(payload);
}

// The upgrade request for `path` with extra header lines ("name: value").
inline std::string ws_upgrade_request(std::string_view path, std::vector<std::string> headers) {
  headers.insert(headers.begin(),
                 {"Upgrade: websocket", "Connection: Upgrade",
                  "Sec-WebSocket-Key: dmVzcGlkLWJlbmNoLWtleQ==", "Sec-WebSocket-Version: 13"});
  return http_request("GET", path, headers, {});
}

// Reads the upgrade answer at the front of `data`: the bytes it took (0: not all there yet) and
// the status in `status` (101 when upgraded).
inline std::size_t ws_parse_upgrade(std::string_view data, int& status) {
  HttpResponse r;
  std::size_t used = http_parse_response(data, r);
  const std::size_t head = data.find("\r\n\r\n");
  if (used == 0 && head != std::string_view::npos && data.starts_with("HTTP/1.1 101")) {
    used = head + 4;  // a 101 has no body
    r.status = 101;
  }
  if (used > 0) status = r.status;
  return used;
}

// Server frames off a byte stream: whole text messages (fragments put together) go to the
// handler, pings are answered on `conn`, a close frame ends the reading.
class WsReader {
 public:
  // Calls on_text(message) for each whole text message in `data`; returns the bytes consumed.
  // On a close frame sets closed() (with the peer's code and reason) and consumes everything.
  template <typename F>
  std::size_t read(std::string_view data, StreamConn& conn, F&& on_text) {
    std::size_t used = 0;
    while (!closed_) {
      std::string_view rest = data.substr(used);
      if (rest.size() < 2) return used;
      const uint8_t b0 = static_cast<uint8_t>(rest[0]), b1 = static_cast<uint8_t>(rest[1]);
      std::size_t len = b1 & 0x7f, off = 2;
      if (len == 126) {
        if (rest.size() < 4) return used;
        len = (static_cast<uint8_t>(rest[2]) << 8) | static_cast<uint8_t>(rest[3]);
        off = 4;
      } else if (len == 127) {
        if (rest.size() < 10) return used;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | static_cast<uint8_t>(rest[2 + i]);
        off = 10;
      }
      if (b1 & 0x80) off += 4;  // servers do not mask; skip a key if one is there
      if (rest.size() < off + len) return used;
      const std::string_view payload = rest.substr(off, len);
      used += off + len;
      const uint8_t opcode = b0 & 0x0f;
      const bool fin = b0 & 0x80;
      if (opcode == 0x9) {  // ping -> pong with the same payload
        append_client_frame(conn.out(), 0xA, payload);
        conn.flush_soon();
      } else if (opcode == 0x8) {
        closed_ = true;
        if (payload.size() >= 2) {
          close_code_ = (static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]);
          close_reason_.assign(payload.substr(2));
        }
        return data.size();
      } else if (opcode == 0x1 || opcode == 0x0) {
        if (fin && message_.empty()) {
          on_text(payload);
        } else {
          message_.append(payload);
          if (fin) {
            std::string whole;
            whole.swap(message_);
            on_text(std::string_view(whole));
          }
        }
      }
    }
    return data.size();
  }

  bool closed() const noexcept { return closed_; }
  int close_code() const noexcept { return close_code_; }
  const std::string& close_reason() const noexcept { return close_reason_; }

 private:
  std::string message_;  // a fragmented message being put together
  bool closed_ = false;
  int close_code_ = 0;
  std::string close_reason_;
};

}  // namespace vespid::bench
