// vespid.client.v1 control clients on /ws/client, for the soaks and storage-compare: a sender
// that is also a load channel (session_send, answered by session_accepted, or by its turn's
// end), and a slow consumer that joins a busy session from its first event and then reads
// slowly or not at all for a while. Both check that the events of the session they joined
// arrive once each, in seq order, without holes. Every call must come from the connection's own
// io_context thread unless it says otherwise.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "load.hpp"
#include "stream_conn.hpp"
#include "ws_frames.hpp"

namespace vespid::bench {

// Where and as whom a control client connects.
struct ClientLogin {
  int port = 0;  // the ws listener with /ws/client
  std::string token;
  std::string org_id;
};

// The seqs of one session as one reader saw them, from the afterSeq of its join.
struct SeqTrack {
  uint64_t last = 0;     // the highest seq seen
  uint64_t events = 0;   // events received
  uint64_t gaps = 0;     // a seq that skipped over one or more
  uint64_t repeats = 0;  // a seq not above the last one (seen twice, or out of order)
  std::string first_anomaly;
  void see(uint64_t seq);
  bool clean() const { return gaps == 0 && repeats == 0; }
};

// A write the gateway acknowledged: session_accepted for a session_send.
struct AcceptedSend {
  std::string session_id;
  uint64_t seq = 0;
  std::string message;
  std::string request_id;
  bool dispatched = false;  // agentId was not null: a turn went to a node host
};

// A control client that joins one session (afterSeq = where this slot's last connection
// stopped) and sends messages to it as a load channel: each request is a session_send with a
// unique message and idempotencyKey; the answer is session_accepted (ok) or session_error.
class SessionSender : public Channel, public std::enable_shared_from_this<SessionSender> {
 public:
  SessionSender(boost::asio::io_context& io, ClientLogin login, std::string session_id,
                uint64_t after_seq, std::string tag);

  // Any thread: connects, upgrades, joins; blocks until session_joined or throws.
  void open_blocking(double timeout_s = 30);

  boost::asio::io_context& io() override { return io_; }
  void send_request(uint64_t id) override;
  void close() override;

  // Before open_blocking: a request is answered when its turn ends (the session_event
  // agent_final, ok, or error, not ok) instead of at session_accepted. Events are fanned out
  // only once stored, so that is the turn's latency to durable. Keep one send in flight per
  // session: turns are matched to sends in order.
  void reply_at_turn_end() { at_turn_end_ = true; }
  // Turns ended (agent_final or error) while a send waited for one.
  uint64_t turns_ended = 0;

  const std::string& session_id() const noexcept { return session_id_; }
  SeqTrack track;
  std::vector<AcceptedSend> accepted;
  uint64_t duplicates = 0;    // session_accepted with duplicate:true (never expected)
  uint64_t stray_errors = 0;  // session_error without an id
  std::string close_reason;   // set when the gateway closed it
  bool closed_by_peer = false;

 private:
  void on_frame(std::string_view text);

  boost::asio::io_context& io_;
  ClientLogin login_;
  std::string session_id_;
  std::string tag_;
  std::shared_ptr<StreamConn> conn_;
  WsReader reader_;
  bool upgraded_ = false;
  bool closing_ = false;
  std::promise<std::string> joined_;  // "" when joined, else why not
  bool join_answered_ = false;
  bool at_turn_end_ = false;
  std::deque<uint64_t> turns_;  // accepted sends waiting for their turn's end, oldest first
  // Turn ends (seq, ok) seen before the session_accepted of their send: the host may answer
  // and its events be stored before the accept reaches this socket.
  std::deque<std::pair<uint64_t, bool>> early_ends_;
};

// A slow consumer: joins `session_id` with afterSeq 0 on a socket with a small receive buffer,
// then either reads nothing for `stall_s` (Stall) or reads a little at a time (Trickle) until
// catch_up(); from then on it reads at full speed. If the gateway closes it (a slow consumer
// past its hold limit, or silent past two ping intervals: documented), it rejoins with afterSeq
// = the last seq it saw, as a client should; those closes are counted.
class SlowReader : public std::enable_shared_from_this<SlowReader> {
 public:
  enum class Mode { Stall, Trickle };
  SlowReader(boost::asio::io_context& io, ClientLogin login, std::string session_id, Mode mode,
             double stall_s);

  // Any thread.
  void start();
  void catch_up();  // stop stalling or trickling
  void stop();      // close for good

  boost::asio::io_context& io() noexcept { return io_; }
  Mode mode() const noexcept { return mode_; }
  const std::string& session_id() const noexcept { return session_id_; }
  SeqTrack track;
  uint64_t joins = 0;
  uint64_t closes = 0;  // closed by the gateway (then rejoined)
  std::map<std::string, uint64_t> close_reasons;
  uint64_t replayed_first = 0;  // "replayed" of the first join's session_joined

 private:
  void connect();
  void on_frame(std::string_view text);
  void trickle_pause();
  void on_closed(const std::string& why);

  boost::asio::io_context& io_;
  ClientLogin login_;
  std::string session_id_;
  Mode mode_;
  double stall_s_;
  std::shared_ptr<StreamConn> conn_;
  std::unique_ptr<WsReader> reader_;
  boost::asio::steady_timer timer_;
  bool upgraded_ = false;
  bool fast_ = false;  // caught up: no more pauses
  bool stopped_ = false;
};

}  // namespace vespid::bench
