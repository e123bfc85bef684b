// A rest.v1 request's headers as its transport gave them: names in lower case, each name once
// (a transport joins a repeated header's values, as HTTP allows), values as text.
//
// A request carries a handful, and a route reads two or three of them by name, so they are kept
// as a short list of pairs: a search through it is cheaper than building a JSON object (a tree
// node and two strings per header) for every request, which is what they were before.
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vespid::core {

class RestHeaders {
 public:
  using Item = std::pair<std::string, std::string>;

  // The value of the header `name` (lower case), or nullptr when the request has none.
  const std::string* find(std::string_view name) const noexcept;
  // Gives `name` the value `value`, replacing the one it had: of a name given twice, the last
  // value holds, as of a key repeated in a JSON object.
  void set(std::string name, std::string value);

  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  std::vector<Item>::const_iterator begin() const noexcept { return items_.begin(); }
  std::vector<Item>::const_iterator end() const noexcept { return items_.end(); }

  // From an envelope's "headers" object: its string members. A member of another type names no
  // header value and is left out (a route reading it found nothing before, too).
  static RestHeaders from_object(const nlohmann::json& object);
  // As a JSON object, for tests and logs.
  nlohmann::json to_object() const;

 private:
  std::vector<Item> items_;
};

}  // namespace vespid::core
