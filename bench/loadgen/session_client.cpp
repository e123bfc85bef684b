#include "session_client.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <stdexcept>

#include "json_scan.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

namespace {

std::vector<std::string> login_headers(const ClientLogin& l) {
  return {"Authorization: Bearer " + l.token, "x-org-id: " + l.org_id};
}

// The fields of a vespid.client.v1 frame the clients read.
struct ClientFrame {
  std::string_view type, id, session_id, seq, request_id, agent_id, duplicate, code, message,
      event_type;
};

ClientFrame scan_frame(std::string_view text) {
  ClientFrame f;
  scan_object(text, [&](std::string_view key, std::string_view raw) {
    if (key == "type")
      f.type = raw;
    else if (key == "id")
      f.id = raw;
    else if (key == "sessionId")
      f.session_id = raw;
    else if (key == "seq")
      f.seq = raw;
    else if (key == "requestId")
      f.request_id = raw;
    else if (key == "agentId")
      f.agent_id = raw;
    else if (key == "duplicate")
      f.duplicate = raw;
    else if (key == "code")
      f.code = raw;
    else if (key == "message")
      f.message = raw;
    else if (key == "eventType")
      f.event_type = raw;
    return true;
  });
  return f;
}

std::string join_frame(const std::string& sid, uint64_t after_seq) {
  return R"({"type":"session_join","id":"join","sessionId":")" + sid + R"(","afterSeq":)" +
         std::to_string(after_seq) + "}";
}

}  // namespace

void SeqTrack::see(uint64_t seq) {
  ++events;
  if (seq == last + 1) {
    last = seq;
    return;
  }
  if (first_anomaly.empty()) {
    first_anomaly = "seq " + std::to_string(seq) + (seq > last ? " after " : " again after ") +
                    std::to_string(last);
  }
  if (seq > last) {
    ++gaps;
    last = seq;
  } else {
    ++repeats;
  }
}

// ---------------------------------------------------------------------------------------------

SessionSender::SessionSender(asio::io_context& io, ClientLogin login, std::string session_id,
                             uint64_t after_seq, std::string tag)
    : io_(io), login_(std::move(login)), session_id_(std::move(session_id)), tag_(std::move(tag)) {
  track.last = after_seq;
}

void SessionSender::open_blocking(double timeout_s) {
  auto joined = joined_.get_future();
  asio::post(io_, [self = shared_from_this()] {
    self->conn_ = std::make_shared<StreamConn>(self->io_);
    self->conn_->connect(
        tcp_endpoint("127.0.0.1", self->login_.port), [self](const boost::system::error_code& ec) {
          if (ec) {
            self->join_answered_ = true;
            self->joined_.set_value("connect: " + ec.message());
            return;
          }
          self->conn_->send(ws_upgrade_request("/ws/client", login_headers(self->login_)));
          std::weak_ptr<SessionSender> weak = self;
          self->conn_->start(
              [weak](std::string_view data) -> std::size_t {
                auto s = weak.lock();
                if (!s) return data.size();
                std::size_t used = 0;
                if (!s->upgraded_) {
                  int status = 0;
                  used = ws_parse_upgrade(data, status);
                  if (used == 0) return 0;
                  if (status != 101) {
                    s->join_answered_ = true;
                    s->joined_.set_value("upgrade answered " + std::to_string(status));
                    s->conn_->close();
                    return data.size();
                  }
                  s->upgraded_ = true;
                  append_client_frame(s->conn_->out(), 0x1,
                                      join_frame(s->session_id_, s->track.last));
                  s->conn_->flush_soon();
                }
                used += s->reader_.read(data.substr(used), *s->conn_,
                                        [&](std::string_view m) { s->on_frame(m); });
                if (s->reader_.closed()) {
                  s->closed_by_peer = true;
                  s->close_reason =
                      std::to_string(s->reader_.close_code()) + " " + s->reader_.close_reason();
                  s->conn_->close();
                }
                return used;
              },
              [weak](const boost::system::error_code& cec) {
                auto s = weak.lock();
                if (!s) return;
                if (!s->closing_ && !s->closed_by_peer) {
                  s->closed_by_peer = true;
                  s->close_reason = "socket: " + cec.message();
                }
                if (!s->join_answered_) {
                  s->join_answered_ = true;
                  s->joined_.set_value("closed before session_joined: " + s->close_reason);
                }
              });
        });
  });
  if (joined.wait_for(std::chrono::milliseconds(static_cast<int>(timeout_s * 1000))) !=
      std::future_status::ready) {
    throw std::runtime_error("session " + session_id_ + ": no session_joined in time");
  }
  if (auto why = joined.get(); !why.empty()) {
    throw std::runtime_error("session " + session_id_ + ": " + why);
  }
}

void SessionSender::send_request(uint64_t id) {
  if (!conn_ || !conn_->open()) {
    // Answered later, not from inside the driver's send.
    asio::post(io_, [self = shared_from_this(), id] {
      if (self->reply_) self->reply_(id, false, "CLOSED");
    });
    return;
  }
  // The message and the idempotency key are unique in the run, so each acknowledged send can
  // be found again by its text at its seq.
  const std::string n = std::to_string(id);
  std::string f = R"({"type":"session_send","id":)";
  f += n;
  f += R"(,"sessionId":")";
  f += session_id_;
  f += R"(","message":"soak )";
  f += tag_;
  f += ' ';
  f += n;
  f += R"(","idempotencyKey":")";
  f += tag_;
  f += '-';
  f += n;
  f += R"("})";
  append_client_frame(conn_->out(), 0x1, f);
  conn_->flush_soon();
}

void SessionSender::close() {
  asio::post(io_, [self = shared_from_this()] {
    self->closing_ = true;
    if (self->conn_) self->conn_->close();
  });
}

void SessionSender::on_frame(std::string_view text) {
  const ClientFrame f = scan_frame(text);
  if (f.type == "\"session_event\"") {
    if (auto seq = to_uint(f.seq)) track.see(*seq);
    const bool final = f.event_type == "\"agent_final\"";
    // Ends replayed by the join (before session_joined) belong to earlier turns.
    if (at_turn_end_ && join_answered_ && (final || f.event_type == "\"error\"")) {
      if (turns_.empty()) {
        early_ends_.emplace_back(to_uint(f.seq).value_or(0), final);
      } else {
        const uint64_t id = turns_.front();
        turns_.pop_front();
        ++turns_ended;
        if (reply_) reply_(id, final, final ? "" : "turn error");
      }
    }
  } else if (f.type == "\"session_accepted\"") {
    const auto id = to_uint(f.id);
    AcceptedSend a;
    a.session_id = plain_string(f.session_id).value_or("");
    a.seq = to_uint(f.seq).value_or(0);
    a.request_id = plain_string(f.request_id).value_or("");
    a.dispatched = !f.agent_id.empty() && f.agent_id != "null";
    if (id) a.message = "soak " + tag_ + " " + std::to_string(*id);
    const bool duplicate = f.duplicate == "true";
    if (duplicate) ++duplicates;
    const bool dispatched = a.dispatched;
    if (!duplicate) accepted.push_back(std::move(a));
    if (at_turn_end_ && id && !duplicate && dispatched) {
      // An end already seen after this send's user_message is its turn's; older ones are not.
      const uint64_t seq = to_uint(f.seq).value_or(0);
      while (!early_ends_.empty() && early_ends_.front().first <= seq) early_ends_.pop_front();
      if (early_ends_.empty()) {
        turns_.push_back(*id);  // answered by its turn's end
      } else {
        const bool ok = early_ends_.front().second;
        early_ends_.pop_front();
        ++turns_ended;
        if (reply_) reply_(*id, ok, ok ? "" : "turn error");
      }
    } else if (at_turn_end_ && id && !duplicate && reply_) {
      reply_(*id, false, "NOT_DISPATCHED");  // no host took the turn: no end will come
    } else if (id && reply_) {
      reply_(*id, !duplicate, duplicate ? "duplicate" : "");
    }
  } else if (f.type == "\"session_error\"") {
    const auto id = to_uint(f.id);
    const std::string code(plain_string(f.code).value_or("?"));
    if (f.id == "\"join\"") {
      if (!join_answered_) {
        join_answered_ = true;
        joined_.set_value("join refused: " + code);
      }
    } else if (id && reply_) {
      reply_(*id, false, code);
    } else {
      ++stray_errors;
    }
  } else if (f.type == "\"session_joined\"") {
    if (!join_answered_) {
      join_answered_ = true;
      joined_.set_value("");
    }
  }
}

// ---------------------------------------------------------------------------------------------

SlowReader::SlowReader(asio::io_context& io, ClientLogin login, std::string session_id, Mode mode,
                       double stall_s)
    : io_(io),
      login_(std::move(login)),
      session_id_(std::move(session_id)),
      mode_(mode),
      stall_s_(stall_s),
      timer_(io) {}

void SlowReader::start() {
  asio::post(io_, [self = shared_from_this()] { self->connect(); });
}

void SlowReader::catch_up() {
  asio::post(io_, [self = shared_from_this()] {
    self->fast_ = true;
    self->timer_.cancel();
    if (self->conn_) {
      self->conn_->set_max_read(0);
      self->conn_->resume_reading();
    }
  });
}

void SlowReader::stop() {
  std::promise<void> done;
  asio::post(io_, [self = shared_from_this(), &done] {
    self->stopped_ = true;
    self->timer_.cancel();
    if (self->conn_) self->conn_->close();
    done.set_value();
  });
  done.get_future().wait();
}

void SlowReader::connect() {
  if (stopped_) return;
  ++joins;
  upgraded_ = false;
  reader_ = std::make_unique<WsReader>();
  conn_ = std::make_shared<StreamConn>(io_);
  // A small window: the gateway's writes back up here soon after the reader stops.
  conn_->set_receive_buffer(16 * 1024);
  auto conn = conn_;
  conn->connect(tcp_endpoint("127.0.0.1", login_.port), [self = shared_from_this(), conn](
                                                            const boost::system::error_code& ec) {
    if (conn != self->conn_) return;
    if (ec) return self->on_closed("connect: " + ec.message());
    conn->send(ws_upgrade_request("/ws/client", login_headers(self->login_)));
    std::weak_ptr<SlowReader> weak = self;
    conn->start(
        [weak, conn](std::string_view data) -> std::size_t {
          auto s = weak.lock();
          if (!s || conn != s->conn_) return data.size();
          std::size_t used = 0;
          if (!s->upgraded_) {
            int status = 0;
            used = ws_parse_upgrade(data, status);
            if (used == 0) return 0;
            if (status != 101) {
              s->on_closed("upgrade answered " + std::to_string(status));
              conn->close();
              return data.size();
            }
            s->upgraded_ = true;
            // The first join replays the whole session; a rejoin continues where it was.
            append_client_frame(conn->out(), 0x1, join_frame(s->session_id_, s->track.last));
            conn->flush_soon();
            if (!s->fast_ && s->mode_ == Mode::Stall) {
              conn->pause_reading();
              s->timer_.expires_after(
                  std::chrono::milliseconds(static_cast<int>(s->stall_s_ * 1000)));
              s->timer_.async_wait([weak](const boost::system::error_code& tec) {
                auto t = weak.lock();
                if (tec || !t || !t->conn_) return;
                t->fast_ = true;
                t->conn_->resume_reading();
              });
            } else if (!s->fast_) {
              conn->set_max_read(2048);
            }
          }
          used += s->reader_->read(data.substr(used), *conn,
                                   [&](std::string_view m) { s->on_frame(m); });
          if (s->reader_->closed()) {
            const std::string why =
                std::to_string(s->reader_->close_code()) + " " + s->reader_->close_reason();
            s->on_closed(why);  // first: the close below is then not counted again
            conn->close();
            return data.size();
          }
          if (!s->fast_ && s->mode_ == Mode::Trickle) s->trickle_pause();
          return used;
        },
        [weak, conn](const boost::system::error_code& cec) {
          auto s = weak.lock();
          if (!s || conn != s->conn_) return;
          s->on_closed("socket: " + cec.message());
        });
  });
}

void SlowReader::trickle_pause() {
  // 2 KiB per 25 ms: about 80 KiB/s, a few hundred events a second.
  conn_->pause_reading();
  timer_.expires_after(std::chrono::milliseconds(25));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (ec || !s || !s->conn_) return;
    s->conn_->resume_reading();
  });
}

void SlowReader::on_closed(const std::string& why) {
  if (stopped_) return;
  ++closes;
  ++close_reasons[why];
  conn_.reset();
  timer_.cancel();
  // Rejoin at full speed from the last seq seen, after a moment.
  fast_ = true;
  timer_.expires_after(std::chrono::milliseconds(200));
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (ec || !s) return;
    s->connect();
  });
}

void SlowReader::on_frame(std::string_view text) {
  const ClientFrame f = scan_frame(text);
  if (f.type == "\"session_event\"") {
    if (auto seq = to_uint(f.seq)) track.see(*seq);
  } else if (f.type == "\"session_joined\"" && joins == 1) {
    scan_object(text, [&](std::string_view key, std::string_view raw) {
      if (key == "replayed") replayed_first = to_uint(raw).value_or(0);
      return key != "replayed";
    });
  }
}

}  // namespace vespid::bench
