#pragma once
// Reading a whole file (a log weft wrote, a page of the built-in site) for a comparison.

#include <optional>
#include <string>

namespace weft::test {

/// The contents of a file, or nullopt.
[[nodiscard]] std::optional<std::string> read_file(const std::string& path);

}  // namespace weft::test
