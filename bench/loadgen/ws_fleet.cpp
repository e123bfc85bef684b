#include "ws_fleet.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "clock.hpp"
#include "http_lite.hpp"
#include "json_scan.hpp"
#include "operator_client.hpp"
#include "stream_conn.hpp"
#include "ws_frames.hpp"

namespace vespid::bench {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

using RoundShared = ConnectRound;

}  // namespace

struct WsFleet::Host : std::enable_shared_from_this<WsFleet::Host> {
  enum class State { Connecting, Upgrading, Online, Done };
  Host(asio::io_context& io_, WsFleet& fleet_, WsCred cred_)
      : io(io_), fleet(fleet_), cred(std::move(cred_)) {}

  asio::io_context& io;
  WsFleet& fleet;
  WsCred cred;
  std::shared_ptr<StreamConn> conn;
  State state = State::Connecting;
  WsReader reader;

  void open(std::shared_ptr<RoundShared> shared) {
    conn = std::make_shared<StreamConn>(io);
    if (fleet.tls_) conn->use_tls(fleet.tls_);
    auto self = shared_from_this();
    conn->connect(tcp_endpoint("127.0.0.1", fleet.port_), [self, shared](
                                                              const boost::system::error_code& ec) {
      shared->connecting.fetch_sub(1);
      if (ec) {
        self->state = State::Done;
        shared->refuse("connect: " + ec.message());
        return;
      }
      self->state = State::Upgrading;
      self->conn->send(ws_upgrade_request("/ws", {"Authorization: Bearer " + self->cred.token}));
      std::weak_ptr<Host> weak = self;
      self->conn->start(
          [weak, shared](std::string_view data) -> std::size_t {
            auto h = weak.lock();
            return h ? h->on_data(data, *shared) : data.size();
          },
          [weak, shared](const boost::system::error_code& cec) {
            auto h = weak.lock();
            if (!h) return;
            if (h->state == State::Online) {
              h->fleet.online_.fetch_sub(1);
              // Not our own close (close_all): the gateway dropped this host.
              if (h->reader.closed()) {
                std::string why = "close frame ";
                why += std::to_string(h->reader.close_code());
                why += ' ';
                why += h->reader.close_reason();
                h->fleet.dropped(why);
              } else if (cec != boost::asio::error::operation_aborted) {
                h->fleet.dropped(cec.message());
              }
            }
            if (h->state == State::Upgrading) shared->refuse("closed during the upgrade");
            h->state = State::Done;
          });
    });
  }

  std::size_t on_data(std::string_view data, RoundShared& shared) {
    std::size_t used = 0;
    if (state == State::Upgrading) {
      int status = 0;
      used = ws_parse_upgrade(data, status);
      if (used == 0) return 0;
      if (status != 101) {
        state = State::Done;
        shared.refuse("upgrade answered " + std::to_string(status));
        conn->close();
        return data.size();
      }
      state = State::Online;
      fleet.online_.fetch_add(1);
      shared.online_now();
      append_client_frame(
          conn->out(), 0x1,
          R"({"type":"hello","agentVersion":"bench","name":"bench","capabilities":{"maxInFlight":1000}})");
      conn->flush_soon();
    }
    used += reader.read(data.substr(used), *conn, [this](std::string_view m) { on_message(m); });
    if (reader.closed()) conn->close();
    return used;
  }

  void on_message(std::string_view text) {
    std::string_view type, request_id, payload, kind;
    scan_object(text, [&](std::string_view key, std::string_view raw) {
      if (key == "type")
        type = raw;
      else if (key == "requestId")
        request_id = raw;
      else if (key == "payload")
        payload = raw;
      else if (key == "kind")
        kind = raw;
      return true;
    });
    if (type == "\"execute\"") {
      if (kind == "\"agent.run\"" && fleet.turn_deltas_ > 0) {
        run_turn(request_id, payload);
        fleet.turns_.fetch_add(1, std::memory_order_relaxed);
      } else {
        std::string frame = R"({"type":"execute_result","requestId":)";
        frame += request_id;
        frame += R"(,"status":"succeeded","output":)";
        frame += payload.empty() ? std::string_view("null") : payload;
        frame += "}";
        append_client_frame(conn->out(), 0x1, frame);
      }
      conn->flush_soon();
      fleet.executes_.fetch_add(1, std::memory_order_relaxed);
    } else if (type == "\"execute_ack\"") {
      if (fleet.on_ack_) fleet.on_ack_(plain_string(request_id).value_or(""));
    }
  }

  // A session turn the way vespid-agent streams one: assistant deltas, the whole message, the
  // final, then the result. The answer repeats the user's message, so a reader can match it.
  void run_turn(std::string_view request_id, std::string_view payload) {
    // The reference's agent.run payload: the user's message is runInput.message.
    std::string_view run_input, message = "?";
    scan_object(payload, [&](std::string_view key, std::string_view raw) {
      if (key != "runInput") return true;
      run_input = raw;
      return false;
    });
    scan_object(run_input, [&](std::string_view key, std::string_view raw) {
      if (key != "message") return true;
      message = plain_string(raw).value_or("?");
      return false;
    });
    const auto ts = std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    int seq = 0;
    auto event = [&](std::string_view kind, std::string_view text) {
      std::string f = R"({"type":"execute_event","requestId":)";
      f += request_id;
      f += R"(,"event":{"seq":)";
      f += std::to_string(++seq);
      f += R"(,"ts":)";
      f += ts;
      f += R"(,"kind":")";
      f += kind;
      f += R"(","level":"info","payload":{"text":")";
      f += text;
      f += R"("}}})";
      append_client_frame(conn->out(), 0x1, f);
    };
    std::string whole;
    for (int i = 0; i < fleet.turn_deltas_; ++i) {
      std::string piece = i == 0 ? std::string(message) : " part" + std::to_string(i);
      event("agent.assistant_delta", piece);
      whole += piece;
    }
    event("agent.assistant_message", whole);
    event("agent.final", whole);
    std::string r = R"({"type":"execute_result","requestId":)";
    r += request_id;
    r += R"(,"status":"succeeded","output":{"text":")";
    r += whole;
    r += R"("}})";
    append_client_frame(conn->out(), 0x1, r);
  }
};

WsFleet::WsFleet(IoPool& pool, int ws_port, std::shared_ptr<TlsClient> tls)
    : pool_(pool), port_(ws_port), tls_(std::move(tls)) {}
WsFleet::~WsFleet() = default;

std::vector<WsCred> WsFleet::pair(int n, const std::string& socket_path, const std::string& org,
                                  int api_port, double timeout_s) {
  (void)timeout_s;
  return pair_with_tokens(mint_tokens(n, socket_path, org), api_port);
}

std::vector<std::string> WsFleet::mint_tokens(int n, const std::string& socket_path,
                                              const std::string& org) {
  std::vector<std::string> tokens;
  auto admin = cli::OperatorClient::connect(socket_path);
  for (int done = 0; done < n;) {
    const int batch = std::min(n - done, 256);
    std::string reqs;
    for (int i = 0; i < batch; ++i) {
      reqs += json{{"type", "req"},
                   {"id", i},
                   {"method", "agents.pairingToken"},
                   {"params", {{"org", org}}}}
                  .dump() +
              "\n";
    }
    admin.send_raw(reqs);
    for (int got = 0; got < batch;) {
      auto line = admin.read_line(std::chrono::seconds(60));
      if (!line) throw std::runtime_error("no answer to agents.pairingToken");
      json r = json::parse(*line);
      if (r.value("type", "") != "res") continue;
      if (!r.value("ok", false)) throw std::runtime_error("agents.pairingToken: " + r.dump());
      tokens.push_back(r["payload"]["token"]);
      ++got;
    }
    done += batch;
  }
  return tokens;
}

std::vector<WsCred> WsFleet::pair_with_tokens(const std::vector<std::string>& tokens,
                                              int api_port) {
  std::vector<WsCred> creds(tokens.size());
  std::atomic<std::size_t> next{0};
  std::string error;
  std::mutex mu;
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < tokens.size(); i = next++) {
        try {
          const std::string body = json{{"pairingToken", tokens[i]},
                                        {"name", "bench-host-" + std::to_string(i)},
                                        {"agentVersion", "bench"},
                                        {"capabilities", {{"maxInFlight", 1000}}}}
                                       .dump();
          HttpResponse r = http_call(api_port, "POST", "/v1/agents/pair",
                                     {"Content-Type: application/json"}, body);
          if (r.status != 201)
            throw std::runtime_error("pair answered " + std::to_string(r.status) + " " + r.body);
          json j = json::parse(r.body);
          creds[i] = {j["agentId"], j["agentToken"]};
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          if (error.empty()) error = e.what();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  if (!error.empty()) throw std::runtime_error("pairing node hosts: " + error);
  return creds;
}

ConnectStats WsFleet::connect_all(const std::vector<WsCred>& hosts, double timeout_s,
                                  std::size_t max_connecting) {
  auto shared = std::make_shared<RoundShared>();
  const std::size_t before = online_.load();
  const uint64_t start = now_ns();
  const uint64_t deadline = start + static_cast<uint64_t>(timeout_s * 1e9);
  for (const auto& c : hosts) {
    auto h = std::make_shared<Host>(pool_.next(), *this, c);
    hosts_.push_back(h);
    shared->connecting.fetch_add(1);
    asio::post(h->io, [h, shared] { h->open(shared); });
    shared->throttle(max_connecting);
  }
  return shared->finish(online_, before, hosts.size(), start, deadline);
}

void WsFleet::dropped(const std::string& why) {
  std::lock_guard lock(mu_);
  ++dropped_[why];
}

std::map<std::string, uint64_t> WsFleet::dropped_by_gateway() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void WsFleet::close_all() {
  close_members(hosts_);
}

}  // namespace vespid::bench
