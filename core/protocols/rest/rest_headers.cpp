#include "protocols/rest/rest_headers.hpp"

#include <nlohmann/json.hpp>

namespace vespid::core {

const std::string* RestHeaders::find(std::string_view name) const noexcept {
  for (const Item& item : items_) {
    if (item.first == name) return &item.second;
  }
  return nullptr;
}

void RestHeaders::set(std::string name, std::string value) {
  for (Item& item : items_) {
    if (item.first == name) {
      item.second = std::move(value);
      return;
    }
  }
  items_.emplace_back(std::move(name), std::move(value));
}

RestHeaders RestHeaders::from_object(const nlohmann::json& object) {
  RestHeaders out;
  if (!object.is_object()) return out;
  out.items_.reserve(object.size());
  for (const auto& [name, value] : object.items()) {
    if (value.is_string()) out.items_.emplace_back(name, value.get<std::string>());
  }
  return out;
}

nlohmann::json RestHeaders::to_object() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : items_) out[name] = value;
  return out;
}

}  // namespace vespid::core
