#include "core/mime.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using weft::core::mime_type_for;

TEST(MimeTypeFor, KnowsTheCommonWebTypes) {
  EXPECT_EQ(mime_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("old.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("site.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for("mod.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for("data.json"), "application/json");
  EXPECT_EQ(mime_type_for("notes.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(mime_type_for("feed.xml"), "application/xml");
  EXPECT_EQ(mime_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(mime_type_for("a.png"), "image/png");
  EXPECT_EQ(mime_type_for("a.jpg"), "image/jpeg");
  EXPECT_EQ(mime_type_for("a.jpeg"), "image/jpeg");
  EXPECT_EQ(mime_type_for("a.gif"), "image/gif");
  EXPECT_EQ(mime_type_for("a.webp"), "image/webp");
  EXPECT_EQ(mime_type_for("favicon.ico"), "image/x-icon");
  EXPECT_EQ(mime_type_for("m.wasm"), "application/wasm");
  EXPECT_EQ(mime_type_for("doc.pdf"), "application/pdf");
  EXPECT_EQ(mime_type_for("v.mp4"), "video/mp4");
  EXPECT_EQ(mime_type_for("v.webm"), "video/webm");
  EXPECT_EQ(mime_type_for("f.woff"), "font/woff");
  EXPECT_EQ(mime_type_for("f.woff2"), "font/woff2");
}

TEST(MimeTypeFor, IgnoresTheCaseOfTheExtension) {
  EXPECT_EQ(mime_type_for("INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for("photo.JpG"), "image/jpeg");
}

TEST(MimeTypeFor, UsesTheLastExtensionOfTheFileName) {
  EXPECT_EQ(mime_type_for("/srv/site/a.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for("/srv/archive.tar.gz"), "application/gzip");
}

TEST(MimeTypeFor, FallsBackToOctetStream) {
  EXPECT_EQ(mime_type_for("Makefile"), "application/octet-stream");
  EXPECT_EQ(mime_type_for("/srv/site.d/README"), "application/octet-stream");  // dot in a directory
  EXPECT_EQ(mime_type_for("trailing."), "application/octet-stream");
  EXPECT_EQ(mime_type_for(""), "application/octet-stream");
  EXPECT_EQ(mime_type_for("a.htmlx"), "application/octet-stream");
}

TEST(MimeTypeFor, TableIsSortedAndTextTypesCarryUtf8) {
  const auto table = weft::core::mime_table();
  ASSERT_GT(table.size(), 60U);
  for (std::size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].extension, table[i].extension) << "unsorted at " << table[i].extension;
  }
  for (const auto& e : table) {
    const bool text = e.type.rfind("text/", 0) == 0;
    EXPECT_EQ(text, e.type.find("; charset=utf-8") != std::string_view::npos) << e.extension;
    EXPECT_EQ(mime_type_for("x." + std::string(e.extension)), e.type) << e.extension;
  }
}

TEST(MimeTypeFor, KnowsMediaFontsArchivesAndData) {
  EXPECT_EQ(mime_type_for("a.avif"), "image/avif");
  EXPECT_EQ(mime_type_for("a.mp3"), "audio/mpeg");
  EXPECT_EQ(mime_type_for("a.ogg"), "audio/ogg");
  EXPECT_EQ(mime_type_for("a.ttf"), "font/ttf");
  EXPECT_EQ(mime_type_for("a.zip"), "application/zip");
  EXPECT_EQ(mime_type_for("a.csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(mime_type_for("a.md"), "text/markdown; charset=utf-8");
  EXPECT_EQ(mime_type_for("site.webmanifest"), "application/manifest+json");
  EXPECT_EQ(mime_type_for("a.averyveryverylongextension"), "application/octet-stream");
}

}  // namespace
