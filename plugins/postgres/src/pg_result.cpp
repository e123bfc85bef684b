#include "pg_result.hpp"

#include <vespid/plugin.hpp>

#include "params.hpp"

namespace vespid::postgres {

std::string_view field(const PGresult* r, int row, int col) noexcept {
  return {PQgetvalue(r, row, col), static_cast<size_t>(PQgetlength(r, row, col))};
}

bool is_null(const PGresult* r, int row, int col) noexcept {
  return PQgetisnull(r, row, col) != 0;
}

int64_t int_field(const PGresult* r, int row, int col) {
  if (is_null(r, row, col)) {
    throw vsp::Error(VSP_E_INTERNAL, "postgres: the server returned NULL where a number belongs");
  }
  std::string_view f = field(r, row, col);
  if (f.size() == 4) {
    uint32_t v = 0;
    for (char c : f) v = (v << 8) | static_cast<uint8_t>(c);
    return static_cast<int32_t>(v);
  }
  return decode_int8(f);
}

bool succeeded(const PGresult* r) noexcept {
  if (r == nullptr) return false;
  const ExecStatusType s = PQresultStatus(r);
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

std::string sqlstate(const PGresult* r) {
  const char* s = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s != nullptr ? s : "";
}

std::string describe(const PGresult* r) {
  if (r == nullptr) return "no result";
  if (PQresultStatus(r) == PGRES_PIPELINE_ABORTED) return "not run: an earlier statement failed";
  const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  std::string out = primary != nullptr ? primary : one_line(PQresultErrorMessage(r));
  if (out.empty()) out = PQresStatus(PQresultStatus(r));
  const std::string state = sqlstate(r);
  if (!state.empty()) out += " (SQLSTATE " + state + ")";
  if (const char* detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL)) {
    out += ": " + one_line(detail);
  }
  return out;
}

int status_for_sqlstate(std::string_view state) noexcept {
  if (state == "53100") return VSP_E_FULL;
  if (state == "42501") return VSP_E_PERMISSION;
  if (state == "54000") return VSP_E_INVALID;
  return VSP_E_IO;
}

std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      // "\n\t" continues a sentence (libpq's hints); a bare "\n" ends one.
      const bool continues = i + 1 < text.size() && text[i + 1] == '\t';
      if (continues) ++i;
      if (i + 1 < text.size()) out += continues ? " " : "; ";
    } else if (c == '\t' || c == '\r') {
      out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

}  // namespace vespid::postgres
