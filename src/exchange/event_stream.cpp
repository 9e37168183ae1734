#include "weft/event_stream.hpp"

#include <stdexcept>
#include <string>

namespace weft {
namespace {

void check_field(std::string_view value, std::string_view name, bool nul_too) {
  if (value.find_first_of("\r\n") != std::string_view::npos ||
      (nul_too && value.find('\0') != std::string_view::npos)) {
    throw std::invalid_argument("weft::EventStream: the " + std::string(name) + " holds a line break" +
                                (nul_too ? " or NUL" : ""));
  }
}

// Appends "<prefix><line>\n" for each line of `text` (split on LF, CRLF or CR).
void append_lines(std::string& out, std::string_view prefix, std::string_view text) {
  for (;;) {
    const std::size_t end = text.find_first_of("\r\n");
    out += prefix;
    out += text.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) return;
    const std::size_t next =
        text[end] == '\r' && end + 1 < text.size() && text[end + 1] == '\n' ? end + 2 : end + 1;
    text.remove_prefix(next);
  }
}

}  // namespace

EventStream EventStream::start(Reply& reply, Response head) {
  head.set_header("Content-Type", "text/event-stream");
  head.set_header("Cache-Control", "no-cache");
  head.set_header("X-Accel-Buffering", "no");
  return EventStream(reply.stream(std::move(head)));
}

std::string EventStream::format(const Event& event) {
  check_field(event.event, "event type", false);
  check_field(event.id, "id", true);
  std::string out;
  out.reserve(event.data.size() + event.event.size() + event.id.size() + 32);
  if (!event.event.empty()) append_lines(out, "event: ", event.event);
  if (!event.id.empty()) append_lines(out, "id: ", event.id);
  if (event.retry) out += "retry: " + std::to_string(event.retry->count()) + "\n";
  append_lines(out, "data: ", event.data);
  out += '\n';
  return out;
}

bool EventStream::send(const Event& event) { return stream_.write(format(event)); }

bool EventStream::comment(std::string_view text) {
  std::string out;
  append_lines(out, ": ", text);
  return stream_.write(out);
}

}  // namespace weft
