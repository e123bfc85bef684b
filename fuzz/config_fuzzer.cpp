// The gateway's configuration file (core/config/config.hpp): config::load reads a JSON text
// (comments allowed), checks every key against the schema and builds the effective
// configuration. The input is the file's content.
//
// Invariants: load throws config::ConfigError and nothing else (the gateway prints it and exits
// with its config exit code; anything else is an unexplained crash at start); an accepted file
// gives an effective configuration that is itself an accepted file and loads to the same
// configuration (what `config show` prints can be used as a config file); the masked view and
// every public key read without throwing.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "check.hpp"
#include "config/config.hpp"
#include "config/schema.hpp"
#include "known_bugs.hpp"

namespace {

namespace config = vespid::config;

// The file lives in memory: /proc/self/fd/<memfd> is a path config::load can open.
class MemFile {
 public:
  MemFile() : fd_(::memfd_create("vespid-fuzz-config", 0)) {
    FUZZ_CHECK(fd_ >= 0, "memfd_create");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& write(const std::string& text) {
    FUZZ_CHECK(::ftruncate(fd_, 0) == 0, "ftruncate");
    FUZZ_CHECK(::pwrite(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()),
               "pwrite");
    return path_;
  }

 private:
  int fd_;
  std::string path_;
};

std::optional<config::GatewayConfig> load(MemFile& file, const std::string& text) {
  config::LoadOptions options;
  options.file = file.write(text);
  try {
    return config::load(options);
  } catch (const config::ConfigError&) {
    return std::nullopt;
  } catch (const nlohmann::json::out_of_range& e) {
    // Known defect 3 (known_bugs.hpp): load() catches parse_error only, so a number too large
    // for a double ("1e400") ends the gateway with nlohmann's message instead of a ConfigError.
    FUZZ_CHECK(!vespid::fuzz::check_known_bugs(), "load threw out_of_range, not ConfigError");
    FUZZ_CHECK(e.id == 406, "load threw an out_of_range other than a number overflow");
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static MemFile* file = new MemFile;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto cfg = load(*file, text);
  if (!cfg) return 0;
  FUZZ_CHECK(cfg->effective.is_object(), "an effective configuration that is not an object");
  (void)config::masked(*cfg).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  for (const auto& key : config::schema()) (void)config::lookup_public(*cfg, key.path);

  const auto again = load(*file, cfg->effective.dump());
  FUZZ_CHECK(again.has_value(), "the effective configuration is not an accepted file");
  FUZZ_CHECK(again->effective == cfg->effective, "the effective configuration does not round-trip");
  return 0;
}
