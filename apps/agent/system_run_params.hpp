// The parameters of the bridge commands a node runs, as the reference node host takes them
// (clawdbot src/node-host/runner.ts): `system.run {command: [argv...], rawCommand?, cwd?, env?,
// timeoutMs?, needsScreenRecording?, agentId?, sessionKey?}` and `system.which {bins: [...]}`.
// Pure: reading and checking, and the environment a child gets. Nothing runs here.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vespid::agent {

struct RunLimits {
  std::chrono::milliseconds default_timeout{30'000};  // no timeoutMs: the gateway's invoke wait
  std::chrono::milliseconds max_timeout{300'000};     // a larger timeoutMs is cut to this
  std::size_t max_output_bytes = 200'000;             // stdout + stderr together (the reference's)
  std::size_t max_args = 4096;
  std::size_t max_arg_bytes = 256 * 1024;  // all of argv together
};

struct RunParams {
  std::vector<std::string> argv;
  std::string cwd;                         // empty: the agent's own
  std::map<std::string, std::string> env;  // on top of the safe minimum (child_environment)
  std::vector<std::string> dropped_env;    // keys refused (PATH, LD_*, ...), for the log
  std::chrono::milliseconds timeout{0};
  std::string command_text;             // rawCommand, else argv joined: for logs and exec.* events
  std::string session_key;              // "node" when not given, as the reference
  bool needs_screen_recording = false;  // refused: a headless node records no screen
};

// What was wrong with the parameters: the message of an INVALID_REQUEST answer.
struct ParamsError {
  std::string message;
};

// `params` is the parsed paramsJSON (null when it was missing). Returns RunParams or sets
// `error` and returns nullopt.
std::optional<RunParams> parse_run_params(const nlohmann::json& params, const RunLimits& limits,
                                          ParamsError& error);

// system.which: the names asked about, trimmed, empties dropped.
std::optional<std::vector<std::string>> parse_which_params(const nlohmann::json& params,
                                                           ParamsError& error);

// Environment keys a caller may not set: they change which code a child loads (PATH, LD_*,
// DYLD_*, interpreter options) rather than what it is asked to do.
bool env_key_blocked(const std::string& key);

// The child's whole environment, "KEY=value" each: the safe minimum of the agent's own (PATH,
// HOME, USER, LOGNAME, LANG, LC_ALL, LC_CTYPE, TZ, TMPDIR; PATH defaults to
// /usr/local/bin:/usr/bin:/bin) and then `extra`. Nothing else of the agent's environment (API
// keys, VESPID_*) reaches a command.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& extra,
                                           const std::map<std::string, std::string>& own);
// The agent's own values of the safe-minimum keys, from ::environ.
std::map<std::string, std::string> own_safe_environment();
// PATH as the child will see it.
std::string child_path(const std::map<std::string, std::string>& own);

// argv as one line for people: words with spaces or quotes are quoted.
std::string format_command(const std::vector<std::string>& argv);

}  // namespace vespid::agent
