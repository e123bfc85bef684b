#include "dispatch_channel.hpp"

#include <boost/asio/post.hpp>
#include <charconv>
#include <cstdio>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>

#include "clock.hpp"
#include "http_lite.hpp"
#include "json_scan.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

namespace {

// The bench's user and workflow: fixed uuids, since nothing checks more than their form.
constexpr const char* kBenchUserId = "b0000000-0000-4000-8000-000000000001";
constexpr const char* kBenchWorkflowId = "b0000000-0000-4000-8000-000000000002";
// What sits between a runId's channel and request parts (version 8, the RFC variant).
constexpr std::string_view kRunMiddle = "-8000-8000-";

std::string hex12(uint64_t id) {
  char text[13];
  std::snprintf(text, sizeof text, "%012llx", static_cast<unsigned long long>(id));
  return text;
}

// The `digits` hex digits at the front of `text` as a number, or nullopt.
std::optional<uint64_t> parse_hex(std::string_view text, std::size_t digits) {
  if (text.size() < digits) return std::nullopt;
  uint64_t value = 0;
  auto r = std::from_chars(text.data(), text.data() + digits, value, 16);
  if (r.ec != std::errc{} || r.ptr != text.data() + digits) return std::nullopt;
  return value;
}

}  // namespace

class DispatchChannel : public Channel, public std::enable_shared_from_this<DispatchChannel> {
 public:
  DispatchChannel(std::shared_ptr<StreamConn> conn, std::string run_prefix, const std::string& org,
                  const std::string& token, const std::string& payload)
      : conn_(std::move(conn)),
        run_prefix_(std::move(run_prefix)),
        org_(org),
        headers_({"x-gateway-token: " + token, "Content-Type: application/json"}),
        payload_json_(nlohmann::json{{"p", payload}}.dump()) {}

  asio::io_context& io() override { return conn_->io(); }
  void close() override {
    asio::post(conn_->io(), [c = conn_] { c->close(); });
  }

  void begin() {
    asio::post(conn_->io(), [weak = weak_from_this(), conn = conn_] {
      conn->start(
          [weak](std::string_view data) -> std::size_t {
            auto self = weak.lock();
            return self ? self->on_data(data) : data.size();
          },
          [](const boost::system::error_code&) {});
    });
  }

  void send_request(uint64_t id) override {
    // requestId = <runId>:<nodeId>:<attemptCount>; the runId carries the channel and the id.
    std::string body =
        R"({"organizationId":")" + org_ + R"(","requestedByUserId":")" + kBenchUserId +
        R"(","runId":")" + run_prefix_ + hex12(id) + R"(","workflowId":")" + kBenchWorkflowId +
        R"(","nodeId":"n","nodeType":"bench","attemptCount":1,"kind":"agent.execute","payload":)" +
        payload_json_ + "}";
    conn_->send(http_request("POST", "/internal/v1/dispatch-async", headers_, body));
    waiting_.push_back({id, now_ns()});
  }

  // On this channel's thread.
  void acked(uint64_t id) {
    if (reply_) reply_(id, true, {});
  }

  Histogram post_latency;
  std::vector<std::string> accepted;  // requestIds answered 201

 private:
  std::size_t on_data(std::string_view data) {
    std::size_t used = 0;
    while (true) {
      HttpResponse r;
      const std::size_t n = http_parse_response(data.substr(used), r);
      if (n == 0) return used;
      used += n;
      if (waiting_.empty()) continue;
      const auto [id, sent] = waiting_.front();
      waiting_.pop_front();
      if (r.status == 201) {
        post_latency.record(now_ns() - sent);
        // The gateway's word that the dispatch is durable: kept, to be read back later.
        std::string_view rid;
        scan_object(r.body, [&](std::string_view key, std::string_view raw) {
          if (key == "requestId") rid = plain_string(raw).value_or("");
          return key != "requestId";
        });
        if (!rid.empty()) accepted.emplace_back(rid);
        continue;
      }
      // Not dispatched: the round trip ends here as an error (the body's code names why).
      std::string code = std::to_string(r.status);
      scan_object(r.body, [&](std::string_view key, std::string_view raw) {
        if (key == "code") {
          code += ' ';
          code += plain_string(raw).value_or("?");
        }
        return key != "code";
      });
      if (r.status == 200) code += " cached";
      if (reply_) reply_(id, false, code);
    }
  }

  std::shared_ptr<StreamConn> conn_;
  std::string run_prefix_;
  std::string org_;
  std::vector<std::string> headers_;
  std::string payload_json_;
  std::deque<std::pair<uint64_t, uint64_t>> waiting_;  // HTTP answers come in order
};

DispatchRouter::DispatchRouter(const std::string& run_nonce) {
  uint32_t h = 2166136261u;  // FNV-1a: runs of one bench differ, and so do their routers
  for (unsigned char c : run_nonce) h = (h ^ c) * 16777619u;
  char text[10];
  std::snprintf(text, sizeof text, "%08x-", static_cast<unsigned>(h));
  prefix_ = text;
}

std::string DispatchRouter::run_id(std::size_t tag, uint64_t id) const {
  char channel[5];
  std::snprintf(channel, sizeof channel, "%04x", static_cast<unsigned>(tag));
  return prefix_ + channel + std::string(kRunMiddle) + hex12(id);
}

std::shared_ptr<Channel> DispatchRouter::add(std::shared_ptr<StreamConn> api_conn,
                                             const std::string& org, const std::string& token,
                                             const std::string& payload) {
  const std::size_t tag = channels_.size();
  std::string run_prefix = run_id(tag, 0);
  run_prefix.resize(run_prefix.size() - 12);  // without the request part
  auto ch = std::make_shared<DispatchChannel>(std::move(api_conn), std::move(run_prefix), org,
                                              token, payload);
  ch->begin();
  channels_.push_back(ch);
  return ch;
}

void DispatchRouter::ack(std::string_view request_id) {
  // <router>-<channel>-8000-8000-<request>:n:1
  if (!request_id.starts_with(prefix_)) return;
  request_id.remove_prefix(prefix_.size());
  const auto tag = parse_hex(request_id, 4);
  if (!tag) return;
  request_id.remove_prefix(4);
  if (!request_id.starts_with(kRunMiddle)) return;
  request_id.remove_prefix(kRunMiddle.size());
  const auto id = parse_hex(request_id, 12);
  if (!id || *tag >= channels_.size()) return;
  auto ch = channels_[*tag];
  asio::post(ch->io(), [ch, id = *id] { ch->acked(id); });
}

std::vector<std::string> DispatchRouter::accepted_ids() const {
  std::vector<std::string> all;
  for (const auto& ch : channels_) {
    std::promise<void> done;
    asio::post(ch->io(), [&] {
      all.insert(all.end(), ch->accepted.begin(), ch->accepted.end());
      done.set_value();
    });
    done.get_future().wait();
  }
  return all;
}

Histogram DispatchRouter::post_latency() const {
  Histogram h;
  for (const auto& ch : channels_) {
    std::promise<void> done;
    asio::post(ch->io(), [&] {
      h.merge(ch->post_latency);
      done.set_value();
    });
    done.get_future().wait();
  }
  return h;
}

}  // namespace vespid::bench
