// `synthfeed preview` end to end: files written in each format, and bad input refused with
// exit 2 (or 1 for a missing rasteriser) naming the flag.
#include <gtest/gtest.h>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;

namespace {

const std::string cold_chain = source_path("profiles/cold_chain.toml");

process_result preview(const std::string& flags, const std::string& env = "") {
    return run_synthfeed("preview " + cold_chain + " " + flags, env);
}

void expect_usage_error(const process_result& r, const std::vector<std::string>& parts) {
    EXPECT_FALSE(r.crashed) << r.err;
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& part : parts)
        EXPECT_NE(r.err.find(part), std::string::npos) << "missing \"" << part << "\" in " << r.err;
}

} // namespace

TEST(PreviewCli, WritesHtmlAndSvgAndSaysWhere) {
    const auto dir = temp_dir("preview-formats");
    for (const char* name : {"p.html", "p.svg"}) {
        const auto out = (dir / name).string();
        const auto r = preview("--device reefer-00002 --duration 6h --out " + out);
        EXPECT_EQ(r.exit_code, 0) << r.err;
        EXPECT_EQ(r.out, "preview: wrote " + out + "\n");
        const std::string text = read_file(out);
        EXPECT_NE(text.find("<g class=\"panel\" data-field=\"compressor_kw\""), std::string::npos);
        EXPECT_NE(text.find("cold-chain: reefer-00002"), std::string::npos);
    }
    EXPECT_TRUE(read_file(dir / "p.html").starts_with("<!DOCTYPE html>"));
    EXPECT_TRUE(read_file(dir / "p.svg").starts_with("<?xml"));
    std::filesystem::remove_all(dir);
}

TEST(PreviewCli, WritesPngWithRsvgConvert) {
    if (!has_program("rsvg-convert")) GTEST_SKIP() << "rsvg-convert (librsvg2-bin) missing";
    const auto dir = temp_dir("preview-png");
    const auto out = (dir / "p.png").string();
    const auto r = preview("--group reefer --duration 1d --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(read_file(out).starts_with("\x89PNG\r\n"));
    std::filesystem::remove_all(dir);
}

TEST(PreviewCli, PngWithoutRsvgConvertSaysWhatToInstall) {
    const auto dir = temp_dir("preview-no-rsvg");
    const auto r = preview("--duration 1h --out " + (dir / "p.png").string(), "PATH=/nonexistent");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("--out: cannot write PNG: rsvg-convert is not on PATH (Debian package "
                         "librsvg2-bin)"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(std::filesystem::exists(dir / "p.png"));
    std::filesystem::remove_all(dir);
}

TEST(PreviewCli, UnknownDeviceIsNamedWithTheClosestId) {
    expect_usage_error(preview("--device reefer-0001 --out /tmp/unused.html"),
                       {"synthfeed: error: --device: no device \"reefer-0001\" in " + cold_chain +
                            " (did you mean \"reefer-00001\"?)",
                        "ids run reefer-00000 to reefer-01999"});
}

TEST(PreviewCli, UnknownGroupIsNamedWithTheGroups) {
    expect_usage_error(preview("--group refer --out /tmp/unused.html"),
                       {"--group: no group \"refer\"", "did you mean \"reefer\"?"});
}

TEST(PreviewCli, BadDurationIsRefused) {
    expect_usage_error(preview("--duration 3days --out /tmp/unused.html"),
                       {"--duration: invalid duration \"3days\""});
    expect_usage_error(preview("--duration 0s --out /tmp/unused.html"),
                       {"--duration: must be longer than 0"});
    expect_usage_error(preview("--start 2026-13-01 --out /tmp/unused.html"), {"--start"});
}

TEST(PreviewCli, UnwritableOutIsRefusedBeforeGenerating) {
    expect_usage_error(preview("--out /nonexistent-dir/p.html"),
                       {"--out: /nonexistent-dir/p.html: cannot open for writing"});
}

TEST(PreviewCli, UnknownExtensionIsRefused) {
    expect_usage_error(
        preview("--out /tmp/p.pdf"),
        {"--out: expected a path ending in .html, .svg or .png, got \"/tmp/p.pdf\""});
    EXPECT_FALSE(std::filesystem::exists("/tmp/p.pdf"));
}

TEST(PreviewCli, DeviceAndGroupExcludeEachOther) {
    const auto r = preview("--device reefer-00000 --group reefer --out /tmp/unused.html");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;
}

TEST(PreviewCli, MissingOutIsAUsageError) {
    const auto r = preview("");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}
