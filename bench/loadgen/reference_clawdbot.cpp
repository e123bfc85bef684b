#include "reference_clawdbot.hpp"

#include <fstream>
#include <map>
#include <stdexcept>

#include "clawdbot_operator.hpp"
#include "scenario_common.hpp"

namespace vespid::bench {

namespace {

std::map<std::string, std::string> read_tokens(const std::string& file) {
  std::map<std::string, std::string> out;
  std::ifstream in(file);
  std::string id, token;
  while (in >> id >> token) out[id] = token;
  return out;
}

}  // namespace

std::vector<NodeCred> clawdbot_bridge_creds(IoPool& pool, const ReferenceOptions& r, int n) {
  auto have = read_tokens(r.node_tokens);
  std::vector<std::string> missing;
  for (int i = 0; i < n; ++i) {
    const std::string id = "ref-bench-" + std::to_string(i);
    if (!have.count(id)) missing.push_back(id);
  }
  if (!missing.empty()) {
    note("pairing " + std::to_string(missing.size()) + " bridge nodes on the reference");
    auto op = ClawdbotOperator::open(pool.next(), r.port, r.token);
    PairApprover approver;
    approver.pending = [op] {
      const auto list = op->call("node.pair.list", nlohmann::json::object());
      std::vector<std::pair<std::string, std::string>> out;
      for (const auto& p : list.value("pending", nlohmann::json::array())) {
        out.emplace_back(p.value("nodeId", ""), p.value("requestId", ""));
      }
      return out;
    };
    approver.approve = [op](const std::vector<std::string>& ids, std::string& last_error) {
      for (const auto& rid : ids) {
        try {
          op->call("node.pair.approve", {{"requestId", rid}});
        } catch (const std::exception& e) {
          last_error = e.what();
        }
      }
    };
    BridgeFleet pairing(pool, r.bridge_port);
    const auto paired = pairing.pair(missing, approver);
    pairing.close_all();
    op->close();
    std::ofstream out(r.node_tokens, std::ios::app);
    for (const auto& cred : paired) {
      out << cred.id << ' ' << cred.token << '\n';
      have[cred.id] = cred.token;
    }
    if (!out) throw std::runtime_error("cannot write " + r.node_tokens);
  }
  std::vector<NodeCred> creds;
  for (int i = 0; i < n; ++i) {
    const std::string id = "ref-bench-" + std::to_string(i);
    creds.push_back({id, have.at(id)});
  }
  return creds;
}

Target clawdbot_invoke_target(IoPool& pool, const ReferenceOptions& r,
                              std::shared_ptr<const std::vector<std::string>> nodes,
                              std::string payload) {
  auto spread = std::make_shared<std::size_t>(0);
  Target t{"clawdbot", r.pid,
           [&pool, port = r.port, token = r.token, nodes = std::move(nodes),
            payload = std::move(payload), spread](int callers) {
             std::vector<std::shared_ptr<Channel>> chs;
             for (int i = 0; i < callers; ++i) {
               auto op = ClawdbotOperator::open(pool.next(), port, token);
               op->invoke_nodes(nodes, *spread, payload);
               *spread += nodes->size() / std::max(callers, 1) + 1;
               chs.push_back(op);
             }
             return chs;
           }};
  t.more_cpu = reference_more_cpu(r);
  return t;
}

}  // namespace vespid::bench
