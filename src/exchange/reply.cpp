#include "weft/reply.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "exchange/exchange.hpp"
#include "weft/log.hpp"

namespace weft {

namespace exchange {

ReplyHandle::~ReplyHandle() {
  if (!exchange_->answered() && !exchange_->cancelled()) {
    log(LogLevel::error, "a Reply was dropped without an answer: answering 500");
    exchange_->answer(Response::text(500, "500 Internal Server Error: the handler did not answer\n"));
  }
}

}  // namespace exchange

Reply::Reply() noexcept = default;
Reply::Reply(std::shared_ptr<exchange::Exchange> exchange)
    : handle_(std::make_shared<exchange::ReplyHandle>(std::move(exchange))) {}

namespace {

exchange::Exchange& unanswered(const std::shared_ptr<exchange::ReplyHandle>& handle, const char* what) {
  if (!handle) throw std::logic_error(std::string("weft::Reply::") + what + ": an empty Reply");
  exchange::Exchange& ex = *handle->exchange();
  if (ex.answered()) throw std::logic_error(std::string("weft::Reply::") + what + ": already answered");
  return ex;
}

}  // namespace

void Reply::send(Response response) {
  if (!unanswered(handle_, "send").answer(std::move(response)) && !cancelled()) {
    throw std::logic_error("weft::Reply::send: already answered");
  }
}

ResponseStream Reply::stream(Response head) {
  exchange::Exchange& ex = unanswered(handle_, "stream");
  if (!ex.start_stream(std::move(head)) && !ex.cancelled()) {
    throw std::logic_error("weft::Reply::stream: already answered");
  }
  return ResponseStream(std::make_shared<exchange::StreamHandle>(handle_->exchange()));
}

bool Reply::cancelled() const noexcept { return handle_ && handle_->exchange()->cancelled(); }

void Reply::on_cancel(std::function<void()> fn) {
  if (handle_) handle_->exchange()->on_cancel(std::move(fn));
}

Reply::operator bool() const noexcept { return handle_ && !handle_->exchange()->answered(); }

ResponseStream::ResponseStream() noexcept = default;
ResponseStream::ResponseStream(std::shared_ptr<exchange::StreamHandle> handle) noexcept
    : handle_(std::move(handle)) {}

bool ResponseStream::write(std::string_view bytes) { return handle_ && handle_->exchange().write(bytes); }

void ResponseStream::end() {
  if (handle_) handle_->exchange().end_stream();
}

bool ResponseStream::cancelled() const noexcept { return !handle_ || handle_->exchange().cancelled(); }

void ResponseStream::on_ready(std::function<void()> fn) {
  if (handle_) handle_->exchange().on_ready(std::move(fn));
}

void ResponseStream::on_cancel(std::function<void()> fn) {
  if (handle_) handle_->exchange().on_cancel(std::move(fn));
}

std::size_t ResponseStream::buffered() const noexcept { return handle_ ? handle_->exchange().buffered() : 0; }

void BodyReader::read(std::function<void(std::string_view)> on_data, std::function<void(BodyEnd)> on_end) {
  if (exchange_) {
    exchange_->read_body(std::move(on_data), std::move(on_end));
    return;
  }
  if (on_data && !buffered_.empty()) on_data(buffered_);
  if (on_end) on_end(BodyEnd::complete);
}

}  // namespace weft
