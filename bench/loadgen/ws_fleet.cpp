#include "ws_fleet.hpp"

#include <boost/asio/post.hpp>
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

namespace vespid::bench {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

using RoundShared = ConnectRound;

// A client frame: FIN, the opcode, the mask bit with a zero key (XOR with zeros leaves the
// payload as it is, so it needs no copy; the server only requires that the bit is set).
void append_frame(std::string& out, uint8_t opcode, std::string_view payload) {
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
  std::string message;  // a fragmented message being put together

  void open(std::shared_ptr<RoundShared> shared) {
    conn = std::make_shared<StreamConn>(io);
    auto self = shared_from_this();
    conn->connect(tcp_endpoint("127.0.0.1", fleet.port_),
                  [self, shared](const boost::system::error_code& ec) {
                    shared->connecting.fetch_sub(1);
                    if (ec) {
                      self->state = State::Done;
                      shared->refuse("connect: " + ec.message());
                      return;
                    }
                    self->state = State::Upgrading;
                    self->conn->send(http_request(
                        "GET", "/ws",
                        {"Upgrade: websocket", "Connection: Upgrade",
                         "Sec-WebSocket-Key: dmVzcGlkLWJlbmNoLWtleQ==", "Sec-WebSocket-Version: 13",
                         "Authorization: Bearer " + self->cred.token},
                        {}));
                    std::weak_ptr<Host> weak = self;
                    self->conn->start(
                        [weak, shared](std::string_view data) -> std::size_t {
                          auto h = weak.lock();
                          return h ? h->on_data(data, *shared) : data.size();
                        },
                        [weak, shared](const boost::system::error_code&) {
                          auto h = weak.lock();
                          if (!h) return;
                          if (h->state == State::Online) h->fleet.online_.fetch_sub(1);
                          if (h->state == State::Upgrading)
                            shared->refuse("closed during the upgrade");
                          h->state = State::Done;
                        });
                  });
  }

  std::size_t on_data(std::string_view data, RoundShared& shared) {
    std::size_t used = 0;
    if (state == State::Upgrading) {
      HttpResponse r;
      used = http_parse_response(data, r);
      const std::size_t head = data.find("\r\n\r\n");
      if (used == 0 && head != std::string_view::npos && data.starts_with("HTTP/1.1 101")) {
        used = head + 4;  // a 101 has no body
        r.status = 101;
      }
      if (used == 0) return 0;
      if (r.status != 101) {
        state = State::Done;
        shared.refuse("upgrade answered " + std::to_string(r.status));
        conn->close();
        return data.size();
      }
      state = State::Online;
      fleet.online_.fetch_add(1);
      shared.online_now();
      append_frame(
          conn->out(), 0x1,
          R"({"type":"hello","agentVersion":"bench","name":"bench","capabilities":{"maxInFlight":1000}})");
      conn->flush_soon();
    }
    while (true) {
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
        append_frame(conn->out(), 0xA, payload);
        conn->flush_soon();
      } else if (opcode == 0x8) {
        conn->close();
        return data.size();
      } else if (opcode == 0x1 || opcode == 0x0) {
        if (fin && message.empty()) {
          on_message(payload);
        } else {
          message.append(payload);
          if (fin) {
            std::string whole;
            whole.swap(message);
            on_message(whole);
          }
        }
      }
    }
  }

  void on_message(std::string_view text) {
    std::string_view type, request_id, payload;
    scan_object(text, [&](std::string_view key, std::string_view raw) {
      if (key == "type")
        type = raw;
      else if (key == "requestId")
        request_id = raw;
      else if (key == "payload")
        payload = raw;
      return true;
    });
    if (type == "\"execute\"") {
      std::string frame = R"({"type":"execute_result","requestId":)";
      frame += request_id;
      frame += R"(,"status":"succeeded","output":)";
      frame += payload.empty() ? std::string_view("null") : payload;
      frame += "}";
      append_frame(conn->out(), 0x1, frame);
      conn->flush_soon();
      fleet.executes_.fetch_add(1, std::memory_order_relaxed);
    } else if (type == "\"execute_ack\"") {
      if (fleet.on_ack_) fleet.on_ack_(plain_string(request_id).value_or(""));
    }
  }
};

WsFleet::WsFleet(IoPool& pool, int ws_port) : pool_(pool), port_(ws_port) {}
WsFleet::~WsFleet() = default;

std::vector<WsCred> WsFleet::pair(int n, const std::string& socket_path, const std::string& org,
                                  int api_port, double timeout_s) {
  (void)timeout_s;
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
  std::vector<WsCred> creds(static_cast<std::size_t>(n));
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

void WsFleet::close_all() {
  close_members(hosts_);
}

}  // namespace vespid::bench
