#pragma once
/// \file
/// HTTP request methods weft implements (internal, not public API).

#include <cstdint>
#include <optional>
#include <string_view>

namespace weft::http {

/// The methods of RFC 9110 section 9 plus PATCH (RFC 5789). A request with any other method is
/// answered 501 by the parser, so a parsed RequestHead always holds one of these.
enum class Method : std::uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kConnect,
  kOptions,
  kTrace,
  kPatch,
};

/// The method named by `token`, compared case-sensitively (RFC 9110 section 9.1: "get" is not
/// GET); std::nullopt for any other token.
[[nodiscard]] std::optional<Method> method_from_token(std::string_view token) noexcept;

/// The canonical token of `method`, e.g. "GET". Static storage.
[[nodiscard]] std::string_view to_string(Method method) noexcept;

}  // namespace weft::http
