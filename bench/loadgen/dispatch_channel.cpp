#include "dispatch_channel.hpp"

#include <boost/asio/post.hpp>
#include <charconv>
#include <deque>
#include <future>
#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "http_lite.hpp"
#include "json_scan.hpp"

namespace vespid::bench {

namespace asio = boost::asio;

class DispatchChannel : public Channel, public std::enable_shared_from_this<DispatchChannel> {
 public:
  DispatchChannel(std::shared_ptr<StreamConn> conn, std::size_t tag, const std::string& nonce,
                  const std::string& org, const std::string& token, const std::string& payload)
      : conn_(std::move(conn)),
        run_prefix_(nonce + "t" + std::to_string(tag) + "i"),
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
        R"({"organizationId":")" + org_ + R"(","requestedByUserId":"bench","runId":")" +
        run_prefix_ + std::to_string(id) +
        R"(","workflowId":"bench","nodeId":"n","nodeType":"bench","attemptCount":1,"kind":"agent.execute","payload":)" +
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

std::shared_ptr<Channel> DispatchRouter::add(std::shared_ptr<StreamConn> api_conn,
                                             const std::string& org, const std::string& token,
                                             const std::string& payload) {
  auto ch = std::make_shared<DispatchChannel>(std::move(api_conn), channels_.size(), nonce_, org,
                                              token, payload);
  ch->begin();
  channels_.push_back(ch);
  return ch;
}

void DispatchRouter::ack(std::string_view request_id) {
  // <nonce>t<tag>i<id>:n:1
  if (!request_id.starts_with(nonce_)) return;
  request_id.remove_prefix(nonce_.size());
  if (request_id.empty() || request_id.front() != 't') return;
  request_id.remove_prefix(1);
  std::size_t tag = 0;
  uint64_t id = 0;
  auto r1 = std::from_chars(request_id.data(), request_id.data() + request_id.size(), tag);
  if (r1.ec != std::errc{} || r1.ptr == request_id.data() + request_id.size() || *r1.ptr != 'i') {
    return;
  }
  const char* p = r1.ptr + 1;
  if (std::from_chars(p, request_id.data() + request_id.size(), id).ec != std::errc{}) return;
  if (tag >= channels_.size()) return;
  auto ch = channels_[tag];
  asio::post(ch->io(), [ch, id] { ch->acked(id); });
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
