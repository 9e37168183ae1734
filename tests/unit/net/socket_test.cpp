#include "net/socket.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <stdexcept>
#include <system_error>

namespace {

using namespace weft::net;

TEST(Socket, ParsesIpv4AndIpv6Literals) {
  EXPECT_EQ(parse_endpoint("127.0.0.1", 80).addr.ss_family, AF_INET);
  EXPECT_EQ(parse_endpoint("::1", 80).addr.ss_family, AF_INET6);
  EXPECT_EQ(parse_endpoint("[::1]", 80).addr.ss_family, AF_INET6);
  EXPECT_EQ(format_endpoint(parse_endpoint("127.0.0.1", 8080).addr), "127.0.0.1:8080");
  EXPECT_EQ(format_endpoint(parse_endpoint("::1", 8080).addr), "[::1]:8080");
}

TEST(Socket, RejectsHostNamesAndGarbage) {
  EXPECT_THROW((void)parse_endpoint("localhost", 80), std::invalid_argument);
  EXPECT_THROW((void)parse_endpoint("1.2.3", 80), std::invalid_argument);
  EXPECT_THROW((void)parse_endpoint("", 80), std::invalid_argument);
}

TEST(Socket, FormatsUrls) {
  EXPECT_EQ(format_url("127.0.0.1", 7878), "http://127.0.0.1:7878/");
  EXPECT_EQ(format_url("::1", 7878), "http://[::1]:7878/");
  EXPECT_EQ(format_url("[::]", 1), "http://[::]:1/");
}

TEST(Socket, ListensOnAnyFreePortAndReportsIt) {
  UniqueFd fd = listen_tcp(parse_endpoint("127.0.0.1", 0), 16);
  EXPECT_GT(local_port(fd.get()), 0);
}

TEST(Socket, PortInUseNamesTheAddress) {
  // A listener without SO_REUSEPORT holds the port exclusively.
  UniqueFd holder(::socket(AF_INET, SOCK_STREAM, 0));
  const Endpoint any = parse_endpoint("127.0.0.1", 0);
  ASSERT_EQ(::bind(holder.get(), reinterpret_cast<const sockaddr*>(&any.addr), any.len), 0);
  ASSERT_EQ(::listen(holder.get(), 1), 0);
  const std::uint16_t port = local_port(holder.get());
  try {
    (void)listen_tcp(parse_endpoint("127.0.0.1", port), 16);
    FAIL() << "bind succeeded on a port in use";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(port)), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

TEST(PeerAddress, FormatsLikeFormatEndpointAndIsSmall) {
  using weft::net::parse_endpoint;
  using weft::net::PeerAddress;
  EXPECT_EQ(PeerAddress(parse_endpoint("127.0.0.1", 50312).addr).to_string(), "127.0.0.1:50312");
  EXPECT_EQ(PeerAddress(parse_endpoint("::1", 8080).addr).to_string(), "[::1]:8080");
  EXPECT_EQ(PeerAddress(parse_endpoint("::ffff:10.0.0.1", 80).addr).to_string(), "10.0.0.1:80");
  EXPECT_EQ(PeerAddress().to_string(), "-");
  EXPECT_LE(sizeof(PeerAddress), 20u);
}

}  // namespace
