// sdk_json_tool: the small JSON and socket chores of the SDK test scripts, so that they need
// nothing beyond bash, coreutils and binutils.
//
//   sdk_json_tool free-port          a TCP port on 127.0.0.1 that nothing listens on right now
//   sdk_json_tool get TEXT PATH      the value at a dotted PATH ("error.code") of the JSON TEXT:
//                                    strings raw, anything else as compact JSON.
//                                    Exit 3 if PATH is absent, 2 if TEXT is not JSON.
//   sdk_json_tool modules FILE       the `vespid-gateway plugins --json` listing in FILE, one
//                                    module a line, tab-separated:
//                                      file loadable name abi error plugins
//                                    with error "-" when null and plugins as
//                                    "id/kind/description" joined by "|". Exit 1 (saying why) if
//                                    the listing does not have the documented shape.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

using nlohmann::json;

int usage() {
  std::cerr << "usage: sdk_json_tool free-port | get TEXT PATH | modules FILE\n";
  return 64;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return 1;
  }
  ::close(fd);
  std::cout << ntohs(addr.sin_port) << "\n";
  return 0;
}

int get(const std::string& text, const std::string& path) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return 2;
  const json* at = &value;
  std::istringstream keys(path);
  for (std::string key; std::getline(keys, key, '.');) {
    if (!at->is_object() || !at->contains(key)) return 3;
    at = &(*at)[key];
  }
  std::cout << (at->is_string() ? at->get<std::string>() : at->dump()) << "\n";
  return 0;
}

// One field of the listing; throws with a message naming what is wrong.
const json& field(const json& obj, const char* key, json::value_t type, bool nullable = false) {
  if (!obj.is_object() || !obj.contains(key)) {
    throw std::runtime_error(std::string("missing key \"") + key + "\" in " + obj.dump());
  }
  const json& v = obj[key];
  if (v.type() != type && !(nullable && v.is_null())) {
    throw std::runtime_error(std::string("key \"") + key + "\" has the wrong type in " +
                             obj.dump());
  }
  return v;
}

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '|') c = ' ';
  }
  return s;
}

int modules(const std::string& file) {
  std::ifstream in(file);
  json listing = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (listing.is_discarded()) {
    std::cerr << file << ": not JSON\n";
    return 1;
  }
  try {
    for (const json& m : field(listing, "modules", json::value_t::array)) {
      std::string line = one_line(field(m, "file", json::value_t::string).get<std::string>());
      line += '\t';
      line += field(m, "loadable", json::value_t::boolean).get<bool>() ? "true" : "false";
      line += '\t' + one_line(field(m, "name", json::value_t::string).get<std::string>());
      field(m, "version", json::value_t::string);  // checked, not printed
      line += '\t' + one_line(field(m, "abi", json::value_t::string).get<std::string>());
      const json& error = field(m, "error", json::value_t::string, /*nullable=*/true);
      line += '\t' + (error.is_null() ? std::string("-") : one_line(error.get<std::string>()));
      line += '\t';
      bool first = true;
      for (const json& p : field(m, "plugins", json::value_t::array)) {
        if (!first) line += '|';
        first = false;
        line += one_line(field(p, "id", json::value_t::string).get<std::string>()) + '/' +
                one_line(field(p, "kind", json::value_t::string).get<std::string>()) + '/' +
                one_line(field(p, "description", json::value_t::string).get<std::string>());
      }
      std::cout << line << "\n";
    }
  } catch (const std::exception& e) {
    std::cerr << file << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "free-port" && argc == 2) return free_port();
  if (cmd == "get" && argc == 4) return get(argv[2], argv[3]);
  if (cmd == "modules" && argc == 3) return modules(argv[2]);
  return usage();
}
