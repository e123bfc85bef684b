// What a running `vespid-agent start` tells `status`: a small JSON file next to the credentials
// file (`agent.json` -> `agent.state.json`), written when start begins, rewritten when the link
// connects or drops, and removed when start ends. A process killed outright leaves it behind;
// readers tell a stale file by its pid no longer being a live vespid-agent.
//
// `{pid, credentialsFile, startedAt, connected, gatewayUrl?, connectedSince?}`, mode 0600,
// replaced atomically so a reader never sees half a file.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace vespid::agent {

// The state file that belongs to a credentials file.
std::string run_state_path(const std::string& credentials_path);

struct RunState {
  int pid = 0;
  std::string credentials_file;
  std::string started_at;  // UTC ISO 8601
  bool connected = false;
  std::string gateway_url;      // while connected
  std::string connected_since;  // while connected
  bool alive = false;           // read_run_state: the pid is a live vespid-agent

  nlohmann::json to_json() const;
};

// The state of the agent started with this credentials file; nullopt when no file exists (or it
// cannot be read: then nothing is known to run).
std::optional<RunState> read_run_state(const std::string& credentials_path);

// Owned by `start`: writes the file now, and removes it when destroyed.
class RunStateFile {
 public:
  explicit RunStateFile(const std::string& credentials_path);
  ~RunStateFile();
  RunStateFile(const RunStateFile&) = delete;
  RunStateFile& operator=(const RunStateFile&) = delete;

  void connected(const std::string& gateway_url);
  void disconnected();

 private:
  void write() const;

  std::string path_;
  RunState state_;
};

}  // namespace vespid::agent
