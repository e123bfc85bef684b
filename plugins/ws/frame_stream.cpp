#include "frame_stream.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/websocket/detail/frame.hpp>
#include <boost/beast/websocket/detail/hybi13.hpp>
#include <cstddef>
#include <cstring>
#include <new>
#include <span>
#include <utility>
#include <vector>

#include "deadline_queue.hpp"

namespace vespid::ws {

namespace websocket = beast::websocket;
using websocket::error;
using Clock = std::chrono::steady_clock;

namespace {

enum Opcode : uint8_t {
  kContinuation = 0,
  kText = 1,
  kBinary = 2,
  kClose = 8,
  kPing = 9,
  kPong = 10
};

// Read at once when a frame header is wanted: a few small messages, or the start of a big one
// (whose rest is then read straight into the caller's buffer).
constexpr std::size_t kHeaderRead = 4096;
constexpr std::size_t kMaxHeader = 10;  // a server frame's: no mask
constexpr std::size_t kMaxControlPayload = 125;

// A server frame's header (FIN set, no mask) for `n` bytes of payload; returns its length.
std::size_t server_header(uint8_t* out, uint8_t opcode, std::uint64_t n) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (n < 126) {
    out[1] = static_cast<uint8_t>(n);
    return 2;
  }
  if (n <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(n >> 8);
    out[3] = static_cast<uint8_t>(n);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) out[2 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
  return 10;
}

// For the operation an idle connection keeps waiting (its readiness wait): a block of its own
// size. Asio's default recycles a thread's freed operation blocks, so a small wait would sit for
// minutes in a block left over from a handshake's larger operation. (Its keep-alive is a
// Deadline, which holds no operation at all.)
template <class T>
struct ExactAllocator {
  using value_type = T;
  ExactAllocator() = default;
  template <class U>
  ExactAllocator(const ExactAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  template <class U>
  bool operator==(const ExactAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const ExactAllocator<U>&) const noexcept {
    return false;
  }
};

bool is_token(std::string_view list, std::string_view token) {
  return http::token_list{list}.exists(token);
}

}  // namespace

struct FrameStream::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(Stream s)
      : stream(std::move(s)), deadline(stream.get_executor(), &on_deadline, this) {}

  // ---- Input ------------------------------------------------------------------------------

  enum class Parsed { frame, need_more, failed };

  bool reader_wanted() const noexcept {
    // A close of ours reads on (dropping data) until the peer's close frame.
    return rd_done != nullptr || (close_sent && close_done != nullptr);
  }

  void start_read(std::string& out, std::size_t max, ReadHandler done) {
    if (finished) {
      const beast::error_code ec = end_ec;
      net::post(stream.get_executor(), [done = std::move(done), ec] { done(ec, 0); });
      return;
    }
    rd_done = std::move(done);
    rd_out = &out;
    rd_max = std::max<std::size_t>(max, 1);
    in_initiation = true;
    pump_read();
    in_initiation = false;
  }

  void complete_read(beast::error_code ec, std::size_t n) {
    if (!rd_done) return;
    ReadHandler done = std::exchange(rd_done, nullptr);
    if (in_initiation) {
      // Never from inside async_read_some: a peer's run of small messages would otherwise nest
      // one call per message.
      net::post(stream.get_executor(), [done = std::move(done), ec, n] { done(ec, n); });
    } else {
      done(ec, n);
    }
  }

  void pump_read() {
    while (reader_wanted() && !rd_waiting && !close_received && !failed) {
      if (in_frame) {
        if (!read_payload()) return;
        continue;
      }
      switch (parse_frame()) {
        case Parsed::frame:
          break;
        case Parsed::need_more:
          if (!fill_input()) return;
          break;
        case Parsed::failed:
          return;
      }
    }
  }

  // Moves payload of the data frame being read to the caller. Returns true to go on parsing
  // (nothing was owed to a caller), false once a read completed or a wait started.
  bool read_payload() {
    const bool deliver = rd_done != nullptr;  // else our close is waiting: data is dropped
    const std::size_t old = deliver ? rd_out->size() : 0;
    std::size_t n = 0;
    if (payload_left > 0) {
      if (in_pos < in.size()) {
        n = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left, in.size() - in_pos));
        if (deliver) {
          n = std::min(n, rd_max);
          rd_out->append(in, in_pos, n);
        }
        in_pos += n;
      } else if (deliver) {
        // Nothing buffered: straight from the socket into the caller's string.
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(payload_left, rd_max));
        rd_out->resize(old + want);
        beast::error_code ec;
        const bool got = read_socket(net::mutable_buffer(rd_out->data() + old, want), n, ec);
        rd_out->resize(old + n);  // before the caller can hear of a failure
        if (!got) {
          if (ec) input_failed(ec);
          return false;
        }
      } else {
        return fill_input();
      }
      if (deliver) unmask(reinterpret_cast<uint8_t*>(rd_out->data() + old), n);
      payload_left -= n;
    }
    if (!deliver) {
      if (payload_left == 0) {
        in_frame = false;
        if (frame_fin) in_message = false;
      }
      return true;
    }
    if (!msg_binary && !utf8.write(reinterpret_cast<const uint8_t*>(rd_out->data() + old), n)) {
      rd_out->resize(old);  // a read that fails appends nothing
      fail(error::bad_frame_payload);
      return false;
    }
    msg_done = false;
    if (payload_left == 0) {
      in_frame = false;
      if (frame_fin) {
        // A message that ends inside a character is the session's to refuse, in the host's
        // dialect (ends_on_character_boundary), however its last frame was cut: every byte
        // before the end has been checked here.
        in_message = false;
        msg_done = true;
      }
    }
    complete_read({}, n);
    return false;
  }

  // Eight bytes at a time (a frame's payload can be megabytes): the key is the mask from where
  // the last call stopped, twice over, so it stays in step from one word to the next.
  void unmask(uint8_t* p, std::size_t n) noexcept {
    uint8_t key[8];
    for (std::size_t j = 0; j < 8; ++j) key[j] = mask[(mask_pos + j) & 3];
    uint64_t word_key;
    std::memcpy(&word_key, key, 8);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      word ^= word_key;
      std::memcpy(p + i, &word, 8);
    }
    for (; i < n; ++i) p[i] ^= key[i & 7];
    mask_pos = (mask_pos + n) & 3;
  }

  Parsed parse_frame() {
    const auto* p = reinterpret_cast<const uint8_t*>(in.data()) + in_pos;
    const std::size_t avail = in.size() - in_pos;
    if (avail < 2) return Parsed::need_more;
    const bool fin = (p[0] & 0x80) != 0;
    const uint8_t op = p[0] & 0x0F;
    const uint8_t len7 = p[1] & 0x7F;
    // What the first two bytes show is judged at once, before the rest arrives.
    if ((p[0] & 0x70) != 0) return fail(error::bad_reserved_bits);
    if (op > kBinary && op != kClose && op != kPing && op != kPong) return fail(error::bad_opcode);
    if ((p[1] & 0x80) == 0) return fail(error::bad_unmasked_frame);
    const bool control = op >= kClose;
    if (control && !fin) return fail(error::bad_control_fragment);
    if (control && len7 > kMaxControlPayload) return fail(error::bad_control_size);
    if (op == kContinuation && !in_message) return fail(error::bad_continuation);
    if ((op == kText || op == kBinary) && in_message) return fail(error::bad_data_frame);

    const std::size_t header = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    if (avail < header) return Parsed::need_more;
    std::uint64_t len = len7;
    if (len7 == 126) {
      len = (std::uint64_t{p[2]} << 8) | p[3];
      if (len < 126) return fail(error::bad_size);  // lengths are written in the fewest bytes
    } else if (len7 == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
      if ((len >> 63) != 0 || len <= 0xFFFF) return fail(error::bad_size);
    }
    std::memcpy(mask.data(), p + header - 4, 4);
    mask_pos = 0;

    if (control) {
      if (avail < header + len) return Parsed::need_more;
      std::array<uint8_t, kMaxControlPayload> payload;
      const auto n = static_cast<std::size_t>(len);
      std::memcpy(payload.data(), p + header, n);
      in_pos += header + n;
      unmask(payload.data(), n);
      return on_control(op, payload.data(), n);
    }
    in_pos += header;
    if (op != kContinuation) {
      in_message = true;
      msg_binary = op == kBinary;
      utf8.reset();
    }
    frame_fin = fin;
    payload_left = len;
    in_frame = true;
    return Parsed::frame;
  }

  Parsed on_control(uint8_t op, const uint8_t* payload, std::size_t n) {
    if (op == kPing) {
      if (!close_sent && !close_due) {
        control_payload.assign(reinterpret_cast<const char*>(payload), n);  // the latest wins
        pong_due = true;
        pump_write();
      }
      return Parsed::frame;
    }
    if (op == kPong) return Parsed::frame;  // input like any other (keep-alive)
    // The peer's close.
    if (n == 1) return fail(error::bad_close_size);
    websocket::close_reason cr;
    if (n >= 2) {
      const auto code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
      if (!websocket::detail::is_valid_close_code(code)) return fail(error::bad_close_code);
      websocket::detail::utf8_checker check;
      if (!check.write(payload + 2, n - 2) || !check.finish()) {
        return fail(error::bad_close_payload);
      }
      cr.code = code;
      cr.reason.assign(reinterpret_cast<const char*>(payload + 2), n - 2);
    }
    peer_close = std::make_unique<websocket::close_reason>(cr);
    close_received = true;
    drop_input();
    if (!close_sent && !close_due) {
      // Answered with its own code (1000 when it gave none), as Beast does.
      const uint16_t code = cr.code == websocket::close_code::none
                                ? static_cast<uint16_t>(websocket::close_code::normal)
                                : static_cast<uint16_t>(cr.code);
      queue_close(code, {});
    }
    arm_deadline();
    teardown_when_ready();
    return Parsed::failed;  // parsing stops here (not an error: the read ends with closed)
  }

  // Reads more input into `in`. Returns true when bytes came; false when a wait started or the
  // connection failed.
  bool fill_input() {
    if (in_pos == in.size()) {
      in_pos = 0;
      in.clear();
    }
    if (in.empty() && !may_read && !(stream.is_tls() && stream.tls().has_pending())) {
      std::string().swap(in);  // idle: no buffer while waiting
      wait(tls_detail::Want::readable);
      return false;
    }
    if (in_pos > 0) {
      in.erase(0, in_pos);
      in_pos = 0;
    }
    // Read on the stack and append what came: growing `in` by kHeaderRead first would zero
    // 4 KiB for every frame header, most of which a small message never fills.
    std::array<char, kHeaderRead> buf;
    std::size_t n = 0;
    beast::error_code ec;
    const bool got = read_socket(net::mutable_buffer(buf.data(), buf.size()), n, ec);
    in.append(buf.data(), n);
    if (!got && ec) input_failed(ec);
    return got;
  }

  // One non-blocking read from the socket (through OpenSSL under TLS). Returns true with the
  // bytes read; false when it waits for readiness (a wait has started) or the connection failed
  // (`ec`: the caller ends the stream once its buffer is back in shape).
  bool read_socket(net::mutable_buffer buffer, std::size_t& n, beast::error_code& ec) {
    n = 0;
    tls_detail::Want want = tls_detail::Want::nothing;
    if (stream.is_tls()) {
      want = stream.tls().try_read(buffer, n, ec);
    } else {
      do {
        // A non-blocking socket's read returns EINTR rather than retrying it (Asio hands a
        // user-set non-blocking socket's errors back as they are).
        n = stream.socket().read_some(buffer, ec);
      } while (ec == net::error::interrupted);
      if (ec == net::error::would_block || ec == net::error::try_again) {
        ec = {};
        want = tls_detail::Want::readable;
      }
    }
    if (want != tls_detail::Want::nothing) {
      may_read = false;
      wait(want);
      return false;
    }
    if (ec) return false;
    // A short read emptied the socket (and OpenSSL's buffer, or has_pending says otherwise):
    // the next one waits for readiness instead of trying and failing.
    if (n < buffer.size()) may_read = false;
    input_seen = true;
    return true;
  }

  void wait(tls_detail::Want want) {
    rd_waiting = true;
    stream.socket().async_wait(
        want == tls_detail::Want::writable ? Socket::wait_write : Socket::wait_read,
        net::bind_allocator(ExactAllocator<void>(),
                            [self = shared_from_this()](beast::error_code ec) {
                              self->rd_waiting = false;
                              if (ec) {
                                self->input_failed(ec);
                                return;
                              }
                              self->may_read = true;
                              self->pump_read();
                            }));
  }

  void drop_input() {
    std::string().swap(in);
    in_pos = 0;
    in_frame = false;
  }

  // The connection is gone (or was cut): everything outstanding ends with why.
  void input_failed(beast::error_code ec) {
    if (timed_out) ec = beast::error::timeout;
    if (!failed && !close_received) {
      failed = true;
      fail_ec = ec;
    }
    drop_input();
    end(fail_ec ? fail_ec : ec);
  }

  // A protocol violation by the peer: our close frame (1002, 1007 for text that is not UTF-8),
  // the teardown, then the read completes with `ec`.
  Parsed fail(beast::error_code ec) {
    if (failed) return Parsed::failed;
    failed = true;
    fail_ec = ec;
    drop_input();
    if (!close_sent && !close_due) {
      queue_close(ec == error::bad_frame_payload
                      ? static_cast<uint16_t>(websocket::close_code::bad_payload)
                      : static_cast<uint16_t>(websocket::close_code::protocol_error),
                  {});
    }
    arm_deadline();
    teardown_when_ready();
    return Parsed::failed;
  }

  // ---- Output ------------------------------------------------------------------------------

  void start_write(const std::string* messages, std::size_t count, WriteHandler done) {
    if (finished) {
      const beast::error_code ec = end_ec ? end_ec : beast::error_code(error::closed);
      net::post(stream.get_executor(), [done = std::move(done), ec] { done(ec, 0); });
      return;
    }
    // After a close frame (the peer's answered, or a failure's) nothing more goes out, but the
    // message is refused only when the stream ends, after the read has said why: the caller
    // learns of the close, not of a write that failed because of it.
    wr_done = std::move(done);
    wr_msgs = messages;
    wr_count = count;
    pump_write();
  }

  void queue_close(uint16_t code, std::string_view reason) {
    close_due = true;
    pong_due = false;  // a pong not sent yet has no place before a close
    control_payload.clear();
    control_payload.push_back(static_cast<char>(code >> 8));
    control_payload.push_back(static_cast<char>(code & 0xFF));
    control_payload.append(reason.substr(0, kMaxControlPayload - 2));
    pump_write();
  }

  void pump_write() {
    if (writing || tearing_down || finished || close_sent) return;
    if (pong_due && !close_due) {
      pong_due = false;
      write_control(kPong, std::exchange(control_payload, std::string()));
      return;
    }
    if (ping_due && !close_due) {
      ping_due = false;
      write_control(kPing, {});
      return;
    }
    if (close_due) {
      // After the write in progress (none now), before any other message. close_due stays set
      // until it is out, so that no message is taken in meanwhile.
      write_control(kClose, std::exchange(control_payload, std::string()));
      return;
    }
    if (wr_done) write_message();
  }

  void write_control(uint8_t op, std::string payload) {
    // The frame lives in the handler (at a stable address) until it is written: an open
    // connection keeps no control frame buffer.
    auto frame = std::make_unique<std::string>(kMaxHeader, '\0');
    const std::size_t h =
        server_header(reinterpret_cast<uint8_t*>(frame->data()), op, payload.size());
    frame->resize(h);
    *frame += payload;
    const net::const_buffer bytes = net::buffer(*frame);
    writing = true;
    net::async_write(stream, bytes,
                     [self = shared_from_this(), op, frame = std::move(frame)](beast::error_code ec,
                                                                               std::size_t) {
                       self->writing = false;
                       if (op == kClose) {
                         self->close_due = false;
                         self->close_sent = true;  // nothing follows it
                       }
                       if (ec) {
                         self->output_failed(ec);
                         return;
                       }
                       if (op == kClose) {
                         self->pump_read();  // our close reads on until the peer's
                         self->teardown_when_ready();
                       }
                       self->pump_write();
                     });
  }

  // A message handed to async_write and not started: it completes with `ec`.
  void refuse_waiting_message(beast::error_code ec) {
    if (!wr_done || message_writing) return;
    WriteHandler done = std::exchange(wr_done, nullptr);
    net::post(stream.get_executor(), [done = std::move(done), ec] { done(ec, 0); });
  }

  // The messages as text frames, one gathered write: a header and a payload each.
  void write_message() {
    writing = true;
    message_writing = true;
    // One block for the write: the buffer list (two per message), then the frame headers.
    const std::size_t buffer_count = 2 * wr_count;
    wr_block = std::make_unique_for_overwrite<std::byte[]>(
        buffer_count * sizeof(net::const_buffer) + wr_count * kMaxHeader);
    auto* headers =
        reinterpret_cast<uint8_t*>(wr_block.get()) + buffer_count * sizeof(net::const_buffer);
    net::const_buffer* buffers = nullptr;
    std::size_t payload = 0;
    for (std::size_t i = 0; i < wr_count; ++i) {
      uint8_t* header = headers + i * kMaxHeader;
      const std::string& message = wr_msgs[i];
      void* slot = wr_block.get() + 2 * i * sizeof(net::const_buffer);
      auto* first =
          new (slot) net::const_buffer(header, server_header(header, kText, message.size()));
      new (first + 1) net::const_buffer(message.data(), message.size());
      if (i == 0) buffers = first;
      payload += message.size();
    }
    net::async_write(stream, std::span<const net::const_buffer>(buffers, buffer_count),
                     [self = shared_from_this(), payload](beast::error_code ec, std::size_t) {
                       self->writing = false;
                       self->message_writing = false;
                       self->wr_block.reset();  // an idle connection keeps no write state
                       WriteHandler done = std::exchange(self->wr_done, nullptr);
                       if (ec) {
                         done(ec, 0);
                         self->output_failed(ec);
                         return;
                       }
                       done({}, payload);
                       self->pump_write();
                     });
  }

  void output_failed(beast::error_code ec) {
    if (timed_out) ec = beast::error::timeout;
    if (!failed && !close_received) {
      failed = true;
      fail_ec = ec;
    }
    beast::error_code ignored;
    stream.socket().close(ignored);  // the reading side learns it from its wait
    if (WriteHandler done = std::exchange(wr_done, nullptr)) done(ec, 0);
    if (!rd_waiting) end(fail_ec ? fail_ec : ec);
  }

  // ---- Closing ------------------------------------------------------------------------------

  void start_close(const websocket::close_reason& why, Handler done) {
    if (finished || close_sent || close_due) {
      const beast::error_code ec = finished && end_ec ? end_ec : beast::error_code(error::closed);
      net::post(stream.get_executor(), [done = std::move(done), ec] { done(ec); });
      return;
    }
    close_done = std::move(done);
    arm_deadline();
    queue_close(static_cast<uint16_t>(why.code),
                std::string_view(why.reason.data(), why.reason.size()));
  }

  // Once both close frames are through (or ours is out after a failure), the TCP teardown.
  void teardown_when_ready() {
    if (tearing_down || finished || writing) return;
    const bool exchanged = close_sent && close_received;
    const bool failed_and_told = failed && close_sent;
    if (!exchanged && !failed_and_told) return;
    tearing_down = true;
    async_teardown(beast::role_type::server, stream,
                   [self = shared_from_this()](beast::error_code) {
                     self->tearing_down = false;
                     beast::error_code ignored;
                     self->stream.socket().close(ignored);
                     self->end(self->failed ? self->fail_ec : beast::error_code(error::closed));
                   });
  }

  // Completes whatever is outstanding; the stream is done.
  void end(beast::error_code ec) {
    if (!finished) {
      finished = true;
      end_ec = ec;
      deadline.cancel();
    }
    complete_read(end_ec, 0);
    refuse_waiting_message(end_ec);
    if (Handler done = std::exchange(close_done, nullptr)) {
      // Our close succeeded when the peer's close frame answered it.
      const beast::error_code result =
          close_received && !failed && end_ec == error::closed ? beast::error_code() : end_ec;
      if (in_initiation) {
        net::post(stream.get_executor(), [done = std::move(done), result] { done(result); });
      } else {
        done(result);
      }
    }
  }

  // ---- Timers -------------------------------------------------------------------------------

  void arm_keep_alive() {
    if (idle_timeout == Clock::duration::zero()) return;
    deadline_closes = false;
    deadline.expires_after(idle_timeout / 2);
  }

  static void on_deadline(void* impl) {
    const std::shared_ptr<Impl> self = static_cast<Impl*>(impl)->shared_from_this();
    if (self->deadline_closes) {
      self->cut_off();
    } else {
      self->on_keep_alive();
    }
  }

  void on_keep_alive() {
    if (finished || failed || close_due || close_sent) return;
    if (input_seen) {
      input_seen = false;
      ping_outstanding = false;
    } else if (!ping_outstanding) {
      // Half the idle timeout without input: a ping (when asked for) and one more half.
      ping_outstanding = true;
      if (keep_alive_pings) {
        ping_due = true;
        pump_write();
      }
    } else {
      cut_off();
      return;
    }
    arm_keep_alive();
  }

  // The closing handshake (ours, the peer's, or a failure's) gets handshake_timeout.
  void arm_deadline() {
    if (handshake_timeout == Clock::duration::zero()) {
      deadline.cancel();  // no limit: only the keep-alive is stopped
      return;
    }
    deadline_closes = true;
    deadline.expires_after(handshake_timeout);
  }

  // Out of time: the socket is closed and what is outstanding completes with timeout.
  void cut_off() {
    if (finished) return;
    timed_out = true;
    if (!failed) {
      failed = true;
      fail_ec = beast::error::timeout;
    }
    beast::error_code ignored;
    stream.socket().close(ignored);
    if (!rd_waiting && !writing && !tearing_down) end(beast::error::timeout);
  }

  Stream stream;
  // The keep-alive's next tick while open, then the closing handshake's end (deadline_closes).
  Deadline deadline;
  bool deadline_closes = false;

  // Options.
  Clock::duration handshake_timeout = std::chrono::seconds(30);
  Clock::duration idle_timeout = Clock::duration::zero();  // zero: none
  bool keep_alive_pings = false;

  // Input.
  ReadHandler rd_done;            // the caller's read while one is outstanding
  std::string* rd_out = nullptr;  // what it appends to, at most rd_max bytes
  std::size_t rd_max = 0;
  std::string in;  // read and not parsed yet; released whenever it is drained and we wait
  std::size_t in_pos = 0;
  std::uint64_t payload_left = 0;  // of the data frame being read
  std::array<uint8_t, 4> mask{};
  std::size_t mask_pos = 0;
  websocket::detail::utf8_checker utf8;                 // the text message being read
  std::unique_ptr<websocket::close_reason> peer_close;  // once the peer's close frame came
  bool rd_waiting = false;  // a readiness wait on the socket is outstanding
  bool may_read = false;    // the socket reported readiness and no read has drained it since
  bool in_initiation = false;
  bool in_frame = false;
  bool frame_fin = false;
  bool in_message = false;
  bool msg_binary = false;
  bool msg_done = false;
  bool input_seen = false;  // since the last keep-alive tick
  bool ping_outstanding = false;

  // Output.
  WriteHandler wr_done;
  const std::string* wr_msgs = nullptr;  // the caller's messages, wr_count of them
  std::size_t wr_count = 0;
  // While they are written: their buffer list (a header and a payload each), then the headers'
  // bytes (kMaxHeader each), in one allocation.
  std::unique_ptr<std::byte[]> wr_block;
  std::string control_payload;   // of the pong or the close that is due
  bool writing = false;          // a frame is on its way to the socket
  bool message_writing = false;  // and it is the caller's message
  bool pong_due = false;
  bool ping_due = false;

  // Closing.
  Handler close_done;
  bool close_due = false;   // our close frame is queued
  bool close_sent = false;  // and written (nothing follows it)
  bool close_received = false;
  bool failed = false;  // a protocol violation, a dead socket or a timeout: fail_ec says which
  bool tearing_down = false;
  bool timed_out = false;
  bool finished = false;  // the socket is closed; end_ec is what every later call gets
  beast::error_code fail_ec;
  beast::error_code end_ec;
};

FrameStream::FrameStream(Stream stream) : impl_(std::make_shared<Impl>(std::move(stream))) {}

FrameStream::~FrameStream() {
  // Handlers in flight may hold the Impl; its deadline must not act past the owner.
  impl_->deadline.cancel();
}

Stream& FrameStream::next_layer() noexcept {
  return impl_->stream;
}

void FrameStream::set_option(const websocket::stream_base::timeout& opt) {
  impl_->handshake_timeout = opt.handshake_timeout == websocket::stream_base::none()
                                 ? Clock::duration::zero()
                                 : Clock::duration(opt.handshake_timeout);
  impl_->idle_timeout = opt.idle_timeout == websocket::stream_base::none()
                            ? Clock::duration::zero()
                            : Clock::duration(opt.idle_timeout);
  impl_->keep_alive_pings = opt.keep_alive_pings;
}

void FrameStream::async_accept(const Request& req, Handler done) {
  // The checks Beast's accept makes, in its order; refusals answer in the API's JSON form.
  beast::error_code refused;
  http::status status = http::status::bad_request;
  std::string why;
  const auto header = [&](http::field f) -> std::optional<std::string_view> {
    auto it = req.find(f);
    if (it == req.end()) return std::nullopt;
    return std::string_view(it->value().data(), it->value().size());
  };
  const auto connection = header(http::field::connection);
  const auto upgrade = header(http::field::upgrade);
  const auto key = header(http::field::sec_websocket_key);
  const auto version = header(http::field::sec_websocket_version);
  if (req.version() != 11) {
    refused = error::bad_http_version;
    why = "a WebSocket upgrade must be HTTP/1.1";
  } else if (req.method() != http::verb::get) {
    refused = error::bad_method;
    why = "a WebSocket upgrade must be a GET";
  } else if (!header(http::field::host)) {
    refused = error::no_host;
    why = "the upgrade request has no Host header";
  } else if (!connection || !is_token(*connection, "upgrade")) {
    refused = error::no_connection_upgrade;
    why = "the upgrade request's Connection header does not name upgrade";
  } else if (!upgrade || !is_token(*upgrade, "websocket")) {
    refused = error::no_upgrade_websocket;
    why = "the upgrade request's Upgrade header does not name websocket";
  } else if (!key || key->empty()) {
    refused = error::no_sec_key;
    why = "the upgrade request has no Sec-WebSocket-Key";
  } else if (key->size() > websocket::detail::sec_ws_key_type::static_capacity) {
    refused = error::bad_sec_key;
    why = "the upgrade request's Sec-WebSocket-Key is too long";
  } else if (!version) {
    refused = error::no_sec_version;
    why = "the upgrade request has no Sec-WebSocket-Version";
  } else if (*version != "13") {
    refused = error::bad_sec_version;
    status = http::status::upgrade_required;
    why = "this server speaks WebSocket version 13";
  }

  Response res;
  if (refused) {
    res = json_response(status, req.version(), false, error_json("BAD_REQUEST", why));
    if (refused == error::bad_sec_version) res.set(http::field::sec_websocket_version, "13");
  } else {
    res.result(http::status::switching_protocols);
    res.version(11);
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, "Upgrade");
    websocket::detail::sec_ws_accept_type accept;
    websocket::detail::make_sec_ws_accept(accept, *key);
    res.set(http::field::sec_websocket_accept, std::string_view(accept.data(), accept.size()));
  }
  auto impl = impl_;
  impl->stream.expires_after(std::chrono::duration_cast<Clock::duration>(
      impl->handshake_timeout == Clock::duration::zero() ? std::chrono::hours(24)
                                                         : impl->handshake_timeout));
  write_message(impl->stream, http::message_generator(std::move(res)),
                [impl, refused, done = std::move(done)](beast::error_code ec) {
                  impl->stream.expires_never();
                  if (ec || refused) {
                    impl->finished = true;
                    impl->end_ec = ec ? ec : refused;
                    done(impl->end_ec);
                    return;
                  }
                  if (!impl->stream.is_tls()) {
                    beast::error_code ignored;
                    impl->stream.socket().non_blocking(true, ignored);
                  }
                  impl->arm_keep_alive();
                  done({});
                });
}

void FrameStream::async_read_some(std::string& out, std::size_t max, ReadHandler done) {
  impl_->start_read(out, max, std::move(done));
}

bool FrameStream::got_binary() const noexcept {
  return impl_->msg_binary;
}

bool FrameStream::is_message_done() const noexcept {
  return impl_->msg_done;
}

const websocket::close_reason& FrameStream::reason() const noexcept {
  static const websocket::close_reason none;
  return impl_->peer_close ? *impl_->peer_close : none;
}

void FrameStream::async_write(const std::string* messages, std::size_t count, WriteHandler done) {
  impl_->start_write(messages, count, std::move(done));
}

void FrameStream::async_close(const websocket::close_reason& why, Handler done) {
  impl_->start_close(why, std::move(done));
}

}  // namespace vespid::ws
