#include "files/conditional.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "files/http_date_parse.hpp"

namespace {

using weft::files::Conditions;
using weft::files::etag_list_matches;
using weft::files::evaluate_preconditions;
using weft::files::if_range_holds;
using weft::files::make_etag;
using weft::files::Precondition;
using weft::files::Validators;

constexpr std::string_view kEtag = "\"abc\"";
constexpr std::string_view kLastModified = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr std::string_view kEarlier = "Sun, 06 Nov 1994 08:49:36 GMT";
constexpr std::string_view kLater = "Sun, 06 Nov 1994 08:49:38 GMT";

Validators validators() {
  Validators v;
  v.etag = kEtag;
  v.last_modified = *weft::files::parse_http_date(kLastModified);
  v.last_modified_strong = true;
  return v;
}

Precondition eval(const Conditions& c, bool get = true) {
  return evaluate_preconditions(c, validators(), get);
}

TEST(EtagListMatches, StrongAndWeakComparison) {
  EXPECT_TRUE(etag_list_matches("\"abc\"", kEtag, false));
  EXPECT_FALSE(etag_list_matches("W/\"abc\"", kEtag, false));  // strong never matches W/
  EXPECT_TRUE(etag_list_matches("W/\"abc\"", kEtag, true));
  EXPECT_TRUE(etag_list_matches("\"x\", \"y\",W/\"abc\"", kEtag, true));
  EXPECT_TRUE(etag_list_matches(" * ", kEtag, false));
  EXPECT_FALSE(etag_list_matches("\"abcd\"", kEtag, true));
  EXPECT_FALSE(etag_list_matches("abc", kEtag, true));                  // unquoted: malformed
  EXPECT_FALSE(etag_list_matches("\"a,b\", \"abc", kEtag, true));       // unterminated
  EXPECT_TRUE(etag_list_matches("\"a,b\", \"abc\"", "\"a,b\"", true));  // comma inside a tag
}

// RFC 9110 13.2.2, step by step.
TEST(Preconditions, IfMatchFalseIs412AndWinsOverEverything) {
  Conditions c;
  c.if_match = "\"other\"";
  c.if_none_match = "\"abc\"";
  c.if_modified_since = kLastModified;
  EXPECT_EQ(eval(c), Precondition::kFailed);
  c.if_match = "\"abc\"";
  EXPECT_EQ(eval(c), Precondition::kNotModified);  // step 1 true -> step 3
  c.if_match = "W/\"abc\"";
  EXPECT_EQ(eval(c), Precondition::kFailed);  // If-Match uses strong comparison
  c.if_match = "*";
  EXPECT_EQ(eval(c), Precondition::kNotModified);
}

TEST(Preconditions, IfUnmodifiedSinceOnlyWithoutIfMatch) {
  Conditions c;
  c.if_unmodified_since = kEarlier;
  EXPECT_EQ(eval(c), Precondition::kFailed);
  c.if_unmodified_since = kLastModified;
  EXPECT_EQ(eval(c), Precondition::kProceed);
  c.if_unmodified_since = kEarlier;
  c.if_match = "\"abc\"";  // If-Match present: If-Unmodified-Since is ignored
  EXPECT_EQ(eval(c), Precondition::kProceed);
  Conditions bad;
  bad.if_unmodified_since = "yesterday";  // invalid date: ignored
  EXPECT_EQ(eval(bad), Precondition::kProceed);
}

TEST(Preconditions, IfNoneMatchIsWeak304ForGetAnd412Otherwise) {
  Conditions c;
  c.if_none_match = "W/\"abc\"";
  EXPECT_EQ(eval(c), Precondition::kNotModified);
  EXPECT_EQ(eval(c, /*get=*/false), Precondition::kFailed);
  c.if_none_match = "*";
  EXPECT_EQ(eval(c), Precondition::kNotModified);
  c.if_none_match = "\"x\", \"y\"";
  EXPECT_EQ(eval(c), Precondition::kProceed);
}

TEST(Preconditions, IfNoneMatchOverridesIfModifiedSince) {
  Conditions c;
  c.if_none_match = "\"other\"";
  c.if_modified_since = kLater;  // would be 304 alone
  EXPECT_EQ(eval(c), Precondition::kProceed);
}

TEST(Preconditions, IfModifiedSince) {
  Conditions c;
  c.if_modified_since = kLastModified;
  EXPECT_EQ(eval(c), Precondition::kNotModified);  // equal: not modified
  c.if_modified_since = kLater;
  EXPECT_EQ(eval(c), Precondition::kNotModified);
  c.if_modified_since = kEarlier;
  EXPECT_EQ(eval(c), Precondition::kProceed);
  c.if_modified_since = std::string_view("Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(eval(c), Precondition::kProceed);  // a list: ignored
  c.if_modified_since = kLastModified;
  EXPECT_EQ(eval(c, /*get=*/false), Precondition::kProceed);  // GET/HEAD only
}

TEST(IfRange, EntityTagNeedsStrongExactMatch) {
  EXPECT_TRUE(if_range_holds("\"abc\"", validators()));
  EXPECT_FALSE(if_range_holds("W/\"abc\"", validators()));
  EXPECT_FALSE(if_range_holds("\"abd\"", validators()));
  EXPECT_FALSE(if_range_holds("\"abc\", \"x\"", validators()));
}

TEST(IfRange, DateMustEqualAStrongLastModified) {
  EXPECT_TRUE(if_range_holds(kLastModified, validators()));
  EXPECT_FALSE(if_range_holds(kLater, validators()));  // exact match, not "later or equal"
  EXPECT_FALSE(if_range_holds(kEarlier, validators()));
  Validators weak = validators();
  weak.last_modified_strong = false;
  EXPECT_FALSE(if_range_holds(kLastModified, weak));
  EXPECT_FALSE(if_range_holds("garbage", validators()));
}

TEST(MakeEtag, ChangesWithInodeSizeMtimeAndCoding) {
  struct stat a {};
  a.st_ino = 0x10;
  a.st_size = 5;
  a.st_mtim.tv_sec = 1;
  a.st_mtim.tv_nsec = 2;
  const std::string base = make_etag(a);
  EXPECT_EQ(base, "\"10-5-3b9aca02\"");
  EXPECT_EQ(make_etag(a, "br"), "\"10-5-3b9aca02-br\"");
  struct stat b = a;
  b.st_mtim.tv_nsec = 3;
  EXPECT_NE(make_etag(b), base);
  b = a;
  b.st_size = 6;
  EXPECT_NE(make_etag(b), base);
  b = a;
  b.st_ino = 0x11;
  EXPECT_NE(make_etag(b), base);
}

}  // namespace
