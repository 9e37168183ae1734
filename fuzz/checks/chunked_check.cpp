// fuzz_chunked's invariants (see checks.hpp).
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "checks.hpp"
#include "http/chunked_decoder.hpp"
#include "input.hpp"
#include "limits.hpp"
#include "reference_chunked.hpp"

namespace weft::fuzz {
namespace {

using http::ChunkedDecoder;
using http::ChunkedResult;
using http::ChunkedStatus;

struct Outcome {
  ChunkedStatus status = ChunkedStatus::kNeedMore;
  http::ParseError error = http::ParseError::kNone;
  std::size_t end = 0;  // kDone: the body's last byte + 1; kError: bytes used up to the error
  std::string body;
  [[nodiscard]] std::string describe() const {
    return "status=" + std::to_string(static_cast<int>(status)) +
           " error=" + std::string(http::reason(error)) + " end=" + std::to_string(end) +
           " body=" + std::to_string(body.size()) + "B";
  }
  [[nodiscard]] bool same(const Outcome& o) const {
    return status == o.status && error == o.error && body == o.body &&
           (status != ChunkedStatus::kDone || end == o.end);
  }
};

// decode() over `data` cut at `cuts`, each piece in its own exact-size allocation.
Failure decode_pieces(ChunkedDecoder& decoder, std::string_view data, const std::vector<std::size_t>& cuts,
                      Outcome& out) {
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    ExactCopy copy(data.substr(start, cut - start));
    const std::string_view piece = copy.view();
    std::size_t offset = 0;
    for (;;) {
      const ChunkedResult r = decoder.decode(piece.substr(offset));
      if (r.consumed > piece.size() - offset) return "consumed past the input";
      if (r.status == ChunkedStatus::kData) {
        if (r.data.empty() || r.data.data() + r.data.size() != piece.data() + offset + r.consumed) {
          return "data view does not end at consumed";
        }
        out.body.append(r.data);
        offset += r.consumed;
        continue;
      }
      if (r.status == ChunkedStatus::kNeedMore) {
        if (r.consumed != piece.size() - offset) return "need-more without using all input";
        break;
      }
      out.status = r.status;
      out.error = r.error;
      out.end = start + offset + r.consumed;
      if ((r.status == ChunkedStatus::kError) != (r.error != http::ParseError::kNone))
        return "error status and error disagree";
      return std::nullopt;
    }
    start = cut;
  }
  out.end = data.size();
  return std::nullopt;
}

// decode_in_place() the way a connection uses it: decoded bytes stay at the front of one buffer,
// each new piece is appended right after them and decoded in place.
Failure decode_in_place(ChunkedDecoder& decoder, std::string_view data, const std::vector<std::size_t>& cuts,
                        Outcome& out) {
  std::vector<char> buffer(data.size());
  std::size_t decoded = 0;
  std::size_t start = 0;
  for (const std::size_t cut : cuts) {
    const std::size_t n = cut - start;
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(start),
              data.begin() + static_cast<std::ptrdiff_t>(cut),
              buffer.begin() + static_cast<std::ptrdiff_t>(decoded));
    const http::InPlaceResult r = decoder.decode_in_place(std::span<char>(buffer.data() + decoded, n));
    if (r.consumed > n || r.decoded > r.consumed) return "in place: consumed or decoded past the input";
    if (r.status == ChunkedStatus::kData) return "in place returned kData";
    decoded += r.decoded;
    if (r.status != ChunkedStatus::kNeedMore) {
      out.status = r.status;
      out.error = r.error;
      out.end = start + r.consumed;
      break;
    }
    if (r.consumed != n) return "in place: need-more without using all input";
    start = cut;
  }
  if (out.status == ChunkedStatus::kNeedMore) out.end = data.size();
  out.body.assign(buffer.data(), decoded);
  return std::nullopt;
}

}  // namespace

Failure check_chunked(Bytes bytes) {
  const Input in = Input::from(bytes);
  const http::ParserLimits limits = in.small_limits() ? small_limits() : http::ParserLimits{};
  const std::string_view data = in.data;
  const std::vector<std::size_t> cuts = in.cuts();

  ChunkedDecoder decoder(limits);
  Outcome whole;
  if (Failure f =
          decode_pieces(decoder, data, data.empty() ? cuts : std::vector<std::size_t>{data.size()}, whole)) {
    return "whole: " + *f;
  }
  if (decoder.body_size() > limits.max_body) return "body size over max_body";
  if (whole.status == ChunkedStatus::kDone && decoder.body_size() != whole.body.size()) {
    return "body_size() " + std::to_string(decoder.body_size()) + " != decoded " +
           std::to_string(whole.body.size());
  }
  // Latched: after the end or an error, nothing more is consumed.
  if (whole.status != ChunkedStatus::kNeedMore) {
    const ChunkedResult again = decoder.decode("0\r\n\r\n");
    if (again.status != whole.status || again.consumed != 0 || again.error != whole.error)
      return "result not latched";
  }

  const ReferenceChunked ref = reference_chunked(data, limits);
  if (whole.status == ChunkedStatus::kDone) {
    if (!ref.complete) return "decoder accepted a body the strict reading rejects: " + ref.why;
    if (ref.consumed != whole.end) {
      return "body ends at " + std::to_string(whole.end) + ", strict reading says " +
             std::to_string(ref.consumed);
    }
    if (ref.body != whole.body) return "body differs from the strict reading";
  } else if (ref.complete) {
    return "decoder says " + whole.describe() + " but a valid body of " + std::to_string(ref.consumed) +
           " bytes is there";
  }

  decoder.reset();
  Outcome pieces;
  if (Failure f = decode_pieces(decoder, data, cuts, pieces)) return "pieces: " + *f;
  if (!pieces.same(whole))
    return "split changes the result: whole " + whole.describe() + " / pieces " + pieces.describe();

  decoder.reset();
  Outcome in_place;
  if (Failure f = decode_in_place(decoder, data, cuts, in_place)) return f;
  if (!in_place.same(whole))
    return "in place differs: whole " + whole.describe() + " / in place " + in_place.describe();
  return std::nullopt;
}

}  // namespace weft::fuzz
