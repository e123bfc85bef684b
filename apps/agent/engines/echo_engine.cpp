#include "echo_engine.hpp"

#include <algorithm>
#include <cctype>
#include <thread>
#include <vector>

namespace vespid::agent {

namespace {

bool is_space(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

// "  hello big\nworld " -> ["  hello", " big", "\nworld "]: whitespace goes with the word after
// it; trailing whitespace with the last word.
std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && is_space(s[j])) ++j;
    while (j < s.size() && !is_space(s[j])) ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  if (out.size() > 1 && std::all_of(out.back().begin(), out.back().end(), is_space)) {
    out[out.size() - 2] += out.back();
    out.pop_back();
  }
  return out;
}

}  // namespace

EngineResult run_echo_engine(const AgentTask& task, EngineIo& io, std::chrono::milliseconds delay) {
  EngineResult r;
  const auto words = words_of(task.message);
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (io.cancelled()) return {false, {}, "CANCELLED: the node host is shutting down"};
    if (std::chrono::steady_clock::now() >= task.deadline) {
      return {false, {}, "TIMEOUT: the engine did not finish in time"};
    }
    if (i > 0 && delay.count() > 0) std::this_thread::sleep_for(delay);
    r.text += words[i];
    if (!io.delta(words[i])) break;
  }
  r.ok = true;
  return r;
}

}  // namespace vespid::agent
