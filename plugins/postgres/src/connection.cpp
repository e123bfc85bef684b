#include "connection.hpp"

#include <vector>

namespace vespid::postgres {
namespace {

// Server notices (a WARNING from the server, NOTICEs of DDL) would go to stderr by default;
// they belong in the gateway's log, under this instance.
void log_notice(void* arg, const char* message) {
  static_cast<const vsp::Host*>(arg)->debug("postgres: server notice: " + one_line(message));
}

}  // namespace

Connection::Connection(const Target& target, vsp::Host host,
                       std::chrono::milliseconds connect_timeout)
    : target_(target), host_(host), connect_timeout_(connect_timeout) {}

Connection::~Connection() {
  close(Failure::closed, "the plugin is stopping");
}

int Connection::fd() const noexcept {
  if (conn_ == nullptr || state_ == State::closed) return -1;
  // Asked every time: while connecting, libpq moves on to the next address (or host) with a
  // new socket.
  return PQsocket(conn_);
}

short Connection::poll_events() const noexcept {
  switch (state_) {
    case State::connecting:
      return polling_ == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    case State::idle:
      // Nothing is expected, but the server may close the session (a restart, an
      // administrator's pg_terminate_backend): notice it now rather than on the next request.
      return POLLIN;
    case State::running:
      // libpq's rule for non-blocking sends: while output is pending, wait for either, and
      // read when readable, so a server that is itself blocked writing results cannot
      // deadlock against us.
      return static_cast<short>(POLLIN | (flushing_ ? POLLOUT : 0));
    case State::closed:
      break;
  }
  return 0;
}

std::optional<Clock::time_point> Connection::deadline() const noexcept {
  if (state_ == State::connecting || state_ == State::running) return deadline_;
  return std::nullopt;
}

std::string Connection::describe() const {
  if (conn_ == nullptr) return target_.label;
  std::string out = std::string(PQhost(conn_)) + ":" + PQport(conn_);
  if (PQsslInUse(conn_) != 0) {
    const char* proto = PQsslAttribute(conn_, "protocol");
    out += std::string(" over TLS") + (proto != nullptr ? std::string(" (") + proto + ")" : "");
  } else {
    out += " without TLS";
  }
  return out;
}

Connection::Event Connection::connect(Clock::time_point now) {
  close(Failure::lost, "reconnecting");
  std::vector<const char*> keys, values;
  for (size_t i = 0; i < target_.keywords.size(); ++i) {
    keys.push_back(target_.keywords[i].c_str());
    values.push_back(target_.values[i].c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (conn_ == nullptr) {
    error_ = "out of memory";
    return Event::connect_failed;
  }
  if (PQstatus(conn_) == CONNECTION_BAD) {
    error_ = one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    return Event::connect_failed;
  }
  PQsetNoticeProcessor(conn_, &log_notice, const_cast<vsp::Host*>(&host_));
  state_ = State::connecting;
  // libpq's rule: start as if PQconnectPoll had asked to wait for writability.
  polling_ = PGRES_POLLING_WRITING;
  deadline_ = now + connect_timeout_;
  return Event::none;
}

Connection::Event Connection::advance_connect() {
  polling_ = PQconnectPoll(conn_);
  if (polling_ == PGRES_POLLING_FAILED) {
    error_ = one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    state_ = State::closed;
    return Event::connect_failed;
  }
  if (polling_ != PGRES_POLLING_OK) return Event::none;
  // Non-blocking sends, and pipeline mode: every request is one round trip.
  if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
    error_ = "could not switch the connection to pipeline mode: " + one_line(PQerrorMessage(conn_));
    PQfinish(conn_);
    conn_ = nullptr;
    state_ = State::closed;
    return Event::connect_failed;
  }
  state_ = State::idle;
  ++session_;
  return Event::connected;
}

Connection::Event Connection::run(Request& req, Clock::time_point deadline) {
  if (state_ != State::idle) {
    req.failure = Failure::lost;
    req.message = error_.empty() ? "the connection is not open" : error_;
    return Event::lost;
  }
  request_ = &req;
  req.results.clear();
  req.results.resize(req.statements.size());
  next_result_ = 0;
  early_told_ = false;
  state_ = State::running;
  deadline_ = deadline;
  for (size_t i = 0; i < req.statements.size(); ++i) {
    const Statement& s = req.statements[i];
    int ok = 0;
    const Params& p = s.params;
    switch (s.kind) {
      case Statement::Kind::sql:
        ok = PQsendQueryParams(conn_, s.text.c_str(), p.count(), nullptr, p.values(), p.lengths(),
                               p.formats(), /*resultFormat=*/1);
        break;
      case Statement::Kind::prepared:
        ok = PQsendQueryPrepared(conn_, s.name.c_str(), p.count(), p.values(), p.lengths(),
                                 p.formats(), /*resultFormat=*/1);
        break;
      case Statement::Kind::prepare:
        ok = PQsendPrepare(conn_, s.name.c_str(), s.text.c_str(), 0, nullptr);
        break;
    }
    if (ok != 1) return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
    // The server holds its output until the Sync unless asked: a Flush sends what it has.
    if (i + 1 == req.early_results && PQsendFlushRequest(conn_) != 1) {
      return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
    }
  }
  if (PQpipelineSync(conn_) != 1) return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
  return pump(0);
}

Connection::Event Connection::on_poll(short revents) {
  switch (state_) {
    case State::connecting:
      return advance_connect();
    case State::idle:
      if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) == CONNECTION_BAD) {
        return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
      }
      return Event::none;
    case State::running:
      return pump(revents);
    case State::closed:
      break;
  }
  return Event::none;
}

Connection::Event Connection::pump(short revents) {
  // Send what libpq still holds (PQflush: 0 all sent, 1 more to go, -1 failed).
  const int flushed = PQflush(conn_);
  if (flushed < 0) return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
  flushing_ = flushed == 1;
  if ((revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(conn_) == 0) {
    return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
  }
  // In pipeline mode each statement's results end with a NULL from PQgetResult, and the Sync
  // comes back as a PGRES_PIPELINE_SYNC result that ends the request.
  bool early = false;
  while (PQisBusy(conn_) == 0) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (PQstatus(conn_) == CONNECTION_BAD) {
        return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
      }
      // A NULL past the last statement would mean libpq and this code disagree about the
      // pipeline; give the connection up rather than mix up results.
      if (++next_result_ > request_->statements.size()) {
        return lose(Failure::lost, "internal error: more results than statements");
      }
      // Not returned here: libpq may hold more of the answer already, which no poll would
      // announce again.
      if (next_result_ == request_->early_results) early = true;
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      request_ = nullptr;
      state_ = State::idle;
      deadline_.reset();
      return Event::done;
    }
    if (next_result_ < request_->results.size() && !request_->results[next_result_]) {
      request_->results[next_result_].reset(r);
    } else {
      PQclear(r);  // a second result for one statement: only the first one matters here
    }
  }
  if (PQstatus(conn_) == CONNECTION_BAD)
    return lose(Failure::lost, one_line(PQerrorMessage(conn_)));
  if (early && !early_told_) {
    early_told_ = true;
    return Event::early;
  }
  return Event::none;
}

Connection::Event Connection::on_deadline(Clock::time_point now) {
  if (!deadline_ || now < *deadline_) return Event::none;
  if (state_ == State::connecting) {
    error_ =
        "timed out after " + std::to_string(connect_timeout_.count()) + " ms (connect_timeout_ms)";
    close(Failure::lost, error_);
    return Event::connect_failed;
  }
  if (state_ == State::running) {
    // The session is in an unknown state (a statement may still be running on the server):
    // the only safe way on is a new one.
    return lose(Failure::timeout, "no answer from the server in time (request_timeout_ms)");
  }
  return Event::none;
}

Connection::Event Connection::lose(Failure failure, const std::string& why) noexcept {
  error_ = why.empty() ? "the connection was closed" : why;
  close(failure, error_);
  return Event::lost;
}

void Connection::close(Failure failure, const std::string& why) noexcept {
  if (request_ != nullptr) {
    request_->failure = failure;
    request_->message = why;
    request_ = nullptr;
  }
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  state_ = State::closed;
  flushing_ = false;
  deadline_.reset();
}

}  // namespace vespid::postgres
