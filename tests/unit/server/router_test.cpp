#include "server/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using weft::server::Router;
using Outcome = Router::Outcome;
using Params = std::vector<std::pair<std::string, std::string>>;

// The route id a match found, or -1 for 404, -2 for 405 and -4 for the OPTIONS answer, so
// expectations read as one value.
long route_of(const Router& router, std::string_view method, std::string_view path) {
  const Router::Match match = router.match(method, path);
  switch (match.outcome) {
    case Outcome::kFound:
      return static_cast<long>(match.route);
    case Outcome::kMethodNotAllowed:
      return -2;
    case Outcome::kNotFound:
      return -1;
    case Outcome::kOptions:
      return -4;
  }
  return -3;
}

constexpr long kNotFound = -1;
constexpr long kNotAllowed = -2;
constexpr long kOptionsAnswer = -4;

TEST(Router, MatchesTheRoot) {
  Router router;
  router.add("GET", "/", 1);
  EXPECT_EQ(route_of(router, "GET", "/"), 1);
  EXPECT_EQ(route_of(router, "GET", "/x"), kNotFound);
}

TEST(Router, MatchesLiteralPathsExactly) {
  Router router;
  router.add("GET", "/hello", 1);
  router.add("GET", "/hello/world", 2);
  EXPECT_EQ(route_of(router, "GET", "/hello"), 1);
  EXPECT_EQ(route_of(router, "GET", "/hello/world"), 2);
  EXPECT_EQ(route_of(router, "GET", "/hello/"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/hell"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/hello/world/x"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/Hello"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/"), kNotFound);
}

TEST(Router, TreatsATrailingSlashAsSignificant) {
  Router router;
  router.add("GET", "/dir/", 1);
  EXPECT_EQ(route_of(router, "GET", "/dir/"), 1);
  EXPECT_EQ(route_of(router, "GET", "/dir"), kNotFound);
}

TEST(Router, FindsNothingInAnEmptyRouterOrForANonOriginPath) {
  Router router;
  EXPECT_EQ(route_of(router, "GET", "/"), kNotFound);
  router.add("OPTIONS", "/", 1);
  EXPECT_EQ(route_of(router, "OPTIONS", "*"), kNotFound);
  EXPECT_EQ(route_of(router, "OPTIONS", ""), kNotFound);
}

TEST(Router, CapturesAParameter) {
  Router router;
  router.add("GET", "/hello/{name}", 7);
  const Router::Match match = router.match("GET", "/hello/Ada Lovelace");
  ASSERT_EQ(match.outcome, Outcome::kFound);
  EXPECT_EQ(match.route, 7u);
  EXPECT_EQ(match.params, (Params{{"name", "Ada Lovelace"}}));
}

TEST(Router, AParameterMatchesExactlyOneNonEmptySegment) {
  Router router;
  router.add("GET", "/hello/{name}", 1);
  EXPECT_EQ(route_of(router, "GET", "/hello/"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/hello"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/hello/a/b"), kNotFound);
}

TEST(Router, CapturesSeveralParametersInPatternOrder) {
  Router router;
  router.add("GET", "/users/{user}/posts/{post}", 1);
  const Router::Match match = router.match("GET", "/users/42/posts/7");
  ASSERT_EQ(match.outcome, Outcome::kFound);
  EXPECT_EQ(match.params, (Params{{"user", "42"}, {"post", "7"}}));
}

TEST(Router, ALiteralBeatsAParameterAtTheSamePosition) {
  Router router;
  router.add("GET", "/users/{id}", 1);
  router.add("GET", "/users/me", 2);  // registered later, still wins
  EXPECT_EQ(route_of(router, "GET", "/users/me"), 2);
  EXPECT_EQ(route_of(router, "GET", "/users/you"), 1);
  EXPECT_TRUE(router.match("GET", "/users/me").params.empty());
}

TEST(Router, FallsBackToAParameterWhenTheLiteralBranchDoesNotMatch) {
  Router router;
  router.add("GET", "/a/b/c", 1);
  router.add("GET", "/a/{x}/d", 2);
  EXPECT_EQ(route_of(router, "GET", "/a/b/c"), 1);
  const Router::Match match = router.match("GET", "/a/b/d");
  ASSERT_EQ(match.outcome, Outcome::kFound);
  EXPECT_EQ(match.route, 2u);
  EXPECT_EQ(match.params, (Params{{"x", "b"}}));  // nothing left over from the literal branch
}

TEST(Router, FallsBackToAParameterRouteOfTheRequestedMethod) {
  Router router;
  router.add("POST", "/a/b", 1);
  router.add("GET", "/a/{x}", 2);
  EXPECT_EQ(route_of(router, "GET", "/a/b"), 2);
  EXPECT_EQ(route_of(router, "POST", "/a/b"), 1);
}

TEST(Router, ARestParameterTakesTheRestOfThePath) {
  Router router;
  router.add("GET", "/static/{file...}", 3);
  const Router::Match match = router.match("GET", "/static/css/site/a.css");
  ASSERT_EQ(match.outcome, Outcome::kFound);
  EXPECT_EQ(match.route, 3u);
  EXPECT_EQ(match.params, (Params{{"file", "css/site/a.css"}}));
  EXPECT_EQ(router.match("GET", "/static/a.css").params, (Params{{"file", "a.css"}}));
  EXPECT_EQ(router.match("GET", "/static/dir/").params, (Params{{"file", "dir/"}}));
}

TEST(Router, ARestParameterIsNeverEmpty) {
  Router router;
  router.add("GET", "/static/{file...}", 1);
  EXPECT_EQ(route_of(router, "GET", "/static/"), kNotFound);
  EXPECT_EQ(route_of(router, "GET", "/static"), kNotFound);
}

TEST(Router, ARestParameterAtTheRootTakesAnyPathButTheRoot) {
  Router router;
  router.add("GET", "/{path...}", 1);
  EXPECT_EQ(router.match("GET", "/a/b").params, (Params{{"path", "a/b"}}));
  EXPECT_EQ(route_of(router, "GET", "/"), kNotFound);
}

TEST(Router, LiteralAndParameterBeatARestParameter) {
  Router router;
  router.add("GET", "/files/{path...}", 1);
  router.add("GET", "/files/{name}", 2);
  router.add("GET", "/files/index", 3);
  EXPECT_EQ(route_of(router, "GET", "/files/index"), 3);
  EXPECT_EQ(route_of(router, "GET", "/files/other"), 2);
  EXPECT_EQ(route_of(router, "GET", "/files/a/b"), 1);
}

TEST(Router, KeepsParameterNamesPerRoute) {
  Router router;
  router.add("GET", "/items/{id}", 1);
  router.add("DELETE", "/items/{item_id}", 2);
  EXPECT_EQ(router.match("GET", "/items/5").params, (Params{{"id", "5"}}));
  EXPECT_EQ(router.match("DELETE", "/items/5").params, (Params{{"item_id", "5"}}));
}

TEST(Router, MatchesTheDecodedPathAsGiven) {
  Router router;
  router.add("GET", "/a b/{x}", 1);
  EXPECT_EQ(router.match("GET", "/a b/c d").params, (Params{{"x", "c d"}}));
}

TEST(Router, AnswersMethodNotAllowedWithTheAllowedMethods) {
  Router router;
  router.add("POST", "/items", 1);
  router.add("GET", "/items", 2);
  router.add("DELETE", "/items", 3);
  const Router::Match match = router.match("PUT", "/items");
  EXPECT_EQ(match.outcome, Outcome::kMethodNotAllowed);
  EXPECT_EQ(match.allow, "GET, HEAD, POST, DELETE, OPTIONS");
  EXPECT_TRUE(match.params.empty());
}

TEST(Router, AllowListsTheMethodsOfEveryMatchingPattern) {
  Router router;
  router.add("GET", "/a/{x}", 1);
  router.add("POST", "/a/b", 2);
  router.add("PATCH", "/a/{x...}", 3);
  router.add("PUT", "/a/c", 4);  // another path: not listed
  EXPECT_EQ(router.match("DELETE", "/a/b").allow, "GET, HEAD, POST, OPTIONS, PATCH");
}

TEST(Router, AllowPutsOtherMethodsAfterTheStandardOnes) {
  Router router;
  router.add("PROPFIND", "/dav", 1);
  router.add("MKCOL", "/dav", 2);
  router.add("OPTIONS", "/dav", 3);
  EXPECT_EQ(router.match("GET", "/dav").allow, "OPTIONS, MKCOL, PROPFIND");  // OPTIONS once
}

TEST(Router, AllowListsHeadOnceWhenBothGetAndHeadAreRouted) {
  Router router;
  router.add("HEAD", "/x", 1);
  router.add("GET", "/x", 2);
  EXPECT_EQ(router.match("POST", "/x").allow, "GET, HEAD, OPTIONS");
}

// OPTIONS /known/path without an OPTIONS route: the server answers it (204) with the Allow of the
// path, so a client can discover the methods (RFC 9110 9.3.7).
TEST(Router, AnswersOptionsForARoutedPathWithoutAnOptionsRoute) {
  Router router;
  router.add("GET", "/items/{id}", 1);
  router.add("DELETE", "/items/{id}", 2);
  router.add("POST", "/items", 3);
  const Router::Match match = router.match("OPTIONS", "/items/7");
  EXPECT_EQ(match.outcome, Outcome::kOptions);
  EXPECT_EQ(match.allow, "GET, HEAD, DELETE, OPTIONS");
  EXPECT_TRUE(match.params.empty());
  EXPECT_EQ(router.match("OPTIONS", "/items").allow, "POST, OPTIONS");
  EXPECT_EQ(route_of(router, "OPTIONS", "/nothing"), kNotFound);
  EXPECT_EQ(route_of(router, "OPTIONS", "*"), kNotFound);  // the server as a whole: allow_all
}

// The application's own OPTIONS route (e.g. for CORS preflight) wins, wherever it matches.
TEST(Router, UsesTheApplicationsOptionsRouteWhenOneMatches) {
  Router router;
  router.add("GET", "/api/{x...}", 1);
  router.add("OPTIONS", "/api/{x...}", 2);
  router.add("GET", "/api/users/{id}", 3);
  EXPECT_EQ(route_of(router, "OPTIONS", "/api/anything"), 2);
  EXPECT_EQ(route_of(router, "OPTIONS", "/api/users/9"), 2);  // the literal branch has no OPTIONS
  EXPECT_EQ(route_of(router, "GET", "/api/users/9"), 3);
  router.add("GET", "/other", 4);
  EXPECT_EQ(route_of(router, "OPTIONS", "/other"), kOptionsAnswer);
  EXPECT_EQ(router.match("POST", "/api/x").allow, "GET, HEAD, OPTIONS");  // listed once
}

// OPTIONS *: every method of every route, plus what the caller serves besides (static files).
TEST(Router, AllowsEveryRoutedMethodForTheServerAsAWhole) {
  Router router;
  EXPECT_EQ(router.allow_all(), "OPTIONS");
  EXPECT_EQ(router.allow_all({"GET", "HEAD"}), "GET, HEAD, OPTIONS");
  router.add("POST", "/a", 1);
  router.add("PROPFIND", "/dav", 2);
  router.add("GET", "/b/{x}", 3);
  router.add("POST", "/c", 4);
  EXPECT_EQ(router.allow_all(), "GET, HEAD, POST, OPTIONS, PROPFIND");
  EXPECT_EQ(router.allow_all({"GET", "HEAD"}), "GET, HEAD, POST, OPTIONS, PROPFIND");
}

TEST(Router, AnswersNotFoundWhenNoPatternMatchesThePath) {
  Router router;
  router.add("POST", "/items", 1);
  const Router::Match match = router.match("GET", "/other");
  EXPECT_EQ(match.outcome, Outcome::kNotFound);
  EXPECT_TRUE(match.allow.empty());
}

TEST(Router, AnswersHeadWithAGetRoute) {
  Router router;
  router.add("GET", "/page/{n}", 4);
  const Router::Match match = router.match("HEAD", "/page/2");
  ASSERT_EQ(match.outcome, Outcome::kFound);
  EXPECT_EQ(match.route, 4u);
  EXPECT_EQ(match.params, (Params{{"n", "2"}}));
}

TEST(Router, PrefersAHeadRouteToTheGetRouteOfTheSamePattern) {
  Router router;
  router.add("GET", "/x", 1);
  router.add("HEAD", "/x", 2);
  EXPECT_EQ(route_of(router, "HEAD", "/x"), 2);
  EXPECT_EQ(route_of(router, "GET", "/x"), 1);
}

TEST(Router, DoesNotAnswerGetWithAHeadRoute) {
  Router router;
  router.add("HEAD", "/x", 1);
  EXPECT_EQ(route_of(router, "GET", "/x"), kNotAllowed);
  EXPECT_EQ(router.match("GET", "/x").allow, "HEAD, OPTIONS");
}

TEST(Router, ComparesMethodsCaseSensitively) {
  Router router;
  router.add("GET", "/x", 1);
  EXPECT_EQ(route_of(router, "get", "/x"), kNotAllowed);
}

TEST(Router, RefusesADuplicateRoute) {
  Router router;
  router.add("GET", "/users/{id}", 1);
  EXPECT_THROW(router.add("GET", "/users/{id}", 2), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/users/{other}", 2), std::invalid_argument);  // same shape
  EXPECT_NO_THROW(router.add("POST", "/users/{id}", 3));
  EXPECT_NO_THROW(router.add("GET", "/users/{id...}", 4));  // another shape
  EXPECT_NO_THROW(router.add("GET", "/users/me", 5));
  EXPECT_EQ(router.size(), 4u);
  EXPECT_EQ(route_of(router, "GET", "/users/9"), 1);  // the refused route changed nothing
}

TEST(Router, RefusesPatternsThatDoNotStartWithASlash) {
  Router router;
  EXPECT_THROW(router.add("GET", "", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "hello", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "{name}", 1), std::invalid_argument);
}

TEST(Router, RefusesBadBraces) {
  Router router;
  for (const std::string_view pattern :
       {"/{", "/}", "/{name", "/name}", "/{}", "/{...}", "/a{b}", "/{a}b", "/{a}{b}", "/{a{b}}", "/x/{a b}",
        "/{a.b}", "/{a/b}", "/{a..}", "/{a....}"}) {
    EXPECT_THROW(router.add("GET", pattern, 1), std::invalid_argument) << pattern;
  }
  EXPECT_EQ(router.size(), 0u);
}

TEST(Router, RefusesARestParameterBeforeTheEnd) {
  Router router;
  EXPECT_THROW(router.add("GET", "/{a...}/b", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{a...}/", 1), std::invalid_argument);
}

TEST(Router, RefusesEmptySegmentsAndRepeatedNames) {
  Router router;
  EXPECT_THROW(router.add("GET", "//", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/a//b", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{a}/{a}", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET", "/{a}/{a...}", 1), std::invalid_argument);
}

TEST(Router, RefusesAMethodThatIsNotAToken) {
  Router router;
  EXPECT_THROW(router.add("", "/", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GE T", "/", 1), std::invalid_argument);
  EXPECT_THROW(router.add("GET\r\n", "/", 1), std::invalid_argument);
}

TEST(Router, NamesThePatternInTheError) {
  Router router;
  try {
    router.add("GET", "/a/{b", 1);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("/a/{b"), std::string::npos) << e.what();
  }
}

TEST(Router, HandlesAVeryDeepPathWithoutRecursingIntoIt) {
  Router router;
  router.add("GET", "/{a}/{b}", 1);
  router.add("GET", "/x/{rest...}", 2);
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "/x";
  EXPECT_EQ(route_of(router, "GET", deep), 2);
  EXPECT_EQ(route_of(router, "GET", "/y" + deep), kNotFound);
}

TEST(Router, MatchesManyRoutes) {
  Router router;
  for (std::size_t i = 0; i < 200; ++i) router.add("GET", "/r" + std::to_string(i) + "/{id}", i);
  for (std::size_t i = 0; i < 200; ++i) {
    const Router::Match match = router.match("GET", "/r" + std::to_string(i) + "/x");
    ASSERT_EQ(match.outcome, Outcome::kFound);
    EXPECT_EQ(match.route, i);
  }
}

TEST(Router, CanBeMoved) {
  Router router;
  router.add("GET", "/a", 1);
  Router moved = std::move(router);
  EXPECT_EQ(route_of(moved, "GET", "/a"), 1);
}

}  // namespace
