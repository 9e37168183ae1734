#pragma once
// The ambiguous framings of issue 6 (request smuggling), shared by smuggling_test.cpp and the
// smuggling_probe tool (which sends the same bytes to weft and to nginx for the comparison table
// of smuggling_compare.sh). Every case hides a complete second request inside what one reading
// would call the body, so a server that picks the wrong framing answers GET /smuggled.

#include <string>
#include <vector>

namespace weft::stress {

struct SmugglingCase {
  const char* name;
  std::string request_line_version;  ///< "HTTP/1.1" or "HTTP/1.0"
  std::string fields;                ///< field lines after Host, each with its CRLF
  std::string body;                  ///< then the smuggled request
  bool head_error;                   ///< weft rejects the head itself (else: the chunked body)
};

inline const std::string kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/// The whole request for `c`, sent to `path` with POST.
inline std::string smuggling_request(const SmugglingCase& c, const std::string& path) {
  return "POST " + path + " " + c.request_line_version + "\r\nHost: a\r\n" + c.fields + "\r\n" + c.body +
         kSmuggled;
}

inline const std::vector<SmugglingCase>& smuggling_cases() {
  static const std::vector<SmugglingCase> cases = {
      {"CL_and_TE", "HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", true},
      {"TE_and_CL", "HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n", true},
      {"duplicate_CL", "HTTP/1.1", "Content-Length: 5\r\nContent-Length: 40\r\n", "0\r\n\r\n", true},
      {"CL_list", "HTTP/1.1", "Content-Length: 5, 40\r\n", "0\r\n\r\n", true},
      {"CL_plus_sign", "HTTP/1.1", "Content-Length: +5\r\n", "0\r\n\r\n", true},
      {"CL_two_numbers", "HTTP/1.1", "Content-Length: 5 0\r\n", "0\r\n\r\n", true},
      {"TE_xchunked", "HTTP/1.1", "Transfer-Encoding: xchunked\r\n", "0\r\n\r\n", true},
      {"TE_chunked_identity", "HTTP/1.1", "Transfer-Encoding: chunked, identity\r\n", "0\r\n\r\n", true},
      {"TE_identity_chunked", "HTTP/1.1", "Transfer-Encoding: identity, chunked\r\n", "0\r\n\r\n", true},
      {"TE_twice", "HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n",
       true},
      {"TE_quoted", "HTTP/1.1", "Transfer-Encoding: \"chunked\"\r\n", "0\r\n\r\n", true},
      {"TE_space_before_colon", "HTTP/1.1", "Transfer-Encoding : chunked\r\n", "0\r\n\r\n", true},
      {"TE_tab_before_colon", "HTTP/1.1", "Transfer-Encoding\t: chunked\r\n", "0\r\n\r\n", true},
      {"TE_leading_space", "HTTP/1.1", " Transfer-Encoding: chunked\r\n", "0\r\n\r\n", true},
      {"TE_obs_fold", "HTTP/1.1", "Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n", true},
      {"TE_vertical_tab", "HTTP/1.1",
       "Transfer-Encoding: \x0b"
       "chunked\r\n",
       "0\r\n\r\n", true},
      {"TE_bare_CR", "HTTP/1.1", "X: a\rTransfer-Encoding: chunked\r\n", "0\r\n\r\n", true},
      {"TE_in_HTTP10", "HTTP/1.0", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n", true},
      {"bare_LF_in_head", "HTTP/1.1", "Transfer-Encoding: chunked\n", "0\r\n\r\n", true},
      {"chunk_bare_LF_size_line", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n",
       false},
      {"chunk_bare_LF_everywhere", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\nhello\n0\n\n", false},
      {"chunk_bare_LF_after_data", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5\r\nhello\n0\r\n\r\n",
       false},
      {"chunk_size_overflow", "HTTP/1.1", "Transfer-Encoding: chunked\r\n",
       "10000000000000005\r\nhello\r\n0\r\n\r\n", false},
      {"chunk_size_0x", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "0x5\r\nhello\r\n0\r\n\r\n", false},
      {"chunk_size_space", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5 \r\nhello\r\n0\r\n\r\n", false},
      // Chunk extensions outside the RFC 9112 7.1.1 grammar: readers lenient in different ways
      // (a quoted string read across lines, a bare CR taken as a line end) disagree on where the
      // size line ends, so each is refused.
      {"chunk_ext_empty_name", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5;\r\nhello\r\n0\r\n\r\n",
       false},
      {"chunk_ext_bad_name", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5;bad[=x\r\nhello\r\n0\r\n\r\n",
       false},
      {"chunk_ext_open_quote", "HTTP/1.1", "Transfer-Encoding: chunked\r\n",
       "5;a=\"b\r\nhello\r\n0;c=\"\r\n\r\n", false},
      {"chunk_ext_bare_CR", "HTTP/1.1", "Transfer-Encoding: chunked\r\n", "5;a\rb\r\nhello\r\n0\r\n\r\n",
       false},
      {"TE_bare_CR_after_value", "HTTP/1.1", "Transfer-Encoding: chunked\rX: y\r\n", "0\r\n\r\n", true},
  };
  return cases;
}

}  // namespace weft::stress
