// Bad profiles, flags and env (run), and bad score input: exit code 2, a message naming
// file/line/key or flag, no crash.
#include <gtest/gtest.h>

#include "tests/test_support.hpp"

using namespace synthfeed::testing;

namespace {

const std::string good_group = R"(
[[group]]
name = "g"
count = 3
id = "d-{index}"
interval = "1s"
  [[group.field]]
  name = "x"
  signal = { kind = "constant", value = 1.0 }
)";

struct bad_case {
    std::string name;
    std::string profile; ///< written to bad.toml; empty = use a good profile
    std::string flags;
    std::vector<std::string> expected; ///< substrings of stderr
    /// What runs before the flags; "<profile>" is bad.toml, and "<dir>" (here and in the
    /// flags) the case's directory.
    std::string command = "run <profile> --count 1 --progress off --sink null:";
    std::vector<std::pair<std::string, std::string>> files = {}; ///< written under <dir> first
};

/// `synthfeed score` on the files of score_files() with `flags` after them.
const std::string score_command =
    "score --truth <dir>/l.jsonl --episodes <dir>/e.jsonl --detections <dir>/d.jsonl";

/// A truth of two ticks of one device, the second in a level shift, and a detection of it;
/// `replace` gives one file other text.
std::vector<std::pair<std::string, std::string>>
score_files(const std::pair<std::string, std::string>& replace = {}) {
    std::vector<std::pair<std::string, std::string>> files{
        {"l.jsonl",
         R"({"device_id":"d-0","seq":0,"ts":"2026-01-01T00:00:00.000Z","label":"normal","episode":null,"episodes":[],"emitted":true})"
         "\n"
         R"({"device_id":"d-0","seq":1,"ts":"2026-01-01T00:00:01.000Z","label":"level_shift","episode":"d-0:0:0","episodes":["d-0:0:0"],"emitted":true})"
         "\n"},
        {"e.jsonl",
         R"({"episode":"d-0:0:0","device_id":"d-0","group":"g","field":"x","kind":"level_shift","class":"value","start":"2026-01-01T00:00:01.000Z","end":"2026-01-01T00:00:02.000Z","magnitude":1.0})"
         "\n"},
        {"d.jsonl", R"({"device_id":"d-0","seq":1,"is_anomaly":1})"
                    "\n"},
    };
    for (auto& f : files)
        if (f.first == replace.first) f.second = replace.second;
    return files;
}

std::string good_group_named(const std::string& name) {
    return "name = \"" + name + "\"\n" + good_group;
}

std::string good_profile() {
    return "name = \"ok\"\n" + good_group;
}

std::string field_with(const std::string& lines) {
    return "name = \"p\"\n[[group]]\nname = \"g\"\ncount = 3\nid = "
           "\"d-{index}\"\n[[group.field]]\nname = \"x\"\n" +
           lines + "\n";
}

const std::vector<bad_case> cases = {
    {"toml_syntax", "name = \"p\"\n[[group]\n", "", {"bad.toml:2:"}},
    {"unknown_top_key",
     "name = \"p\"\nsede = 4\n" + good_group,
     "",
     {"bad.toml:2:1", "sede", "did you mean \"seed\""}},
    {"unknown_noise_key",
     field_with("signal = { kind = \"constant\", value = 1.0 }\nnoise = { kind = \"gaussian\", "
                "stdev = 1.0 }"),
     "",
     {"bad.toml:9:30", "group[0].field[0].noise.stdev", "did you mean \"stddev\""}},
    {"negative_count",
     "name = \"p\"\n[[group]]\nname = \"g\"\ncount = -5\n",
     "",
     {"bad.toml:4:", "group[0].count", "between 1"}},
    {"too_many_devices",
     [] {
         std::string text = "name = \"p\"\n";
         for (int g = 0; g < 11; ++g)
             text += "[[group]]\nname = \"g" + std::to_string(g) +
                     "\"\ncount = 100000000\n[[group.field]]\nname = \"x\"\nsignal = { kind = "
                     "\"constant\", value = 1 }\n";
         return text;
     }(),
     "",
     {"bad.toml", "group", "1100000000 devices", "at most 1000000000"}},
    {"zero_interval",
     "name = \"p\"\n[[group]]\nname = \"g\"\ninterval = \"0s\"\n",
     "",
     {"bad.toml:4:", "group[0].interval", "longer than 0"}},
    {"negative_stddev",
     field_with("signal = { kind = \"constant\", value = 1.0 }\nnoise = { kind = \"gaussian\", "
                "stddev = -0.5 }"),
     "",
     {"bad.toml:9:", "noise.stddev", "must not be negative"}},
    {"nan_value",
     field_with("signal = { kind = \"constant\", value = nan }"),
     "",
     {"bad.toml:8:", "signal.value", "finite"}},
    {"wrong_type",
     "name = \"p\"\n[[group]]\nname = \"g\"\ncount = \"ten\"\n",
     "",
     {"bad.toml:4:", "group[0].count", "expected an integer, got string"}},
    {"unknown_signal_kind",
     field_with("signal = { kind = \"wobble\" }"),
     "",
     {"bad.toml:8:", "signal.kind", "unknown value \"wobble\""}},
    {"anomaly_unknown_field",
     good_profile() + "[[group.anomaly]]\nkind = \"spike\"\nfield = \"y\"\nrate = \"1/h\"\n",
     "",
     {"bad.toml:13:", "group[0].anomaly[0].field", "no field \"y\""}},
    {"bad_duration",
     good_profile() + "[[group.anomaly]]\nkind = \"level_shift\"\nfield = \"x\"\nrate = "
                      "\"1/h\"\nduration = \"5 minutes\"\n",
     "",
     {"bad.toml:15:", "anomaly[0].duration", "invalid duration"}},
    {"jitter_too_large",
     "name = \"p\"\n[[group]]\nname = \"g\"\ninterval = \"1s\"\njitter = \"600ms\"\n",
     "",
     {"bad.toml:5:", "group[0].jitter"}},
    {"unset_env_var",
     "name = \"${SYNTHFEED_TEST_SURELY_UNSET}\"\n" + good_group,
     "",
     {"bad.toml:1:9", "SYNTHFEED_TEST_SURELY_UNSET", "not set"}},
    {"duplicate_field",
     field_with("signal = { kind = \"constant\", value = 1.0 }\n[[group.field]]\nname = "
                "\"x\"\nsignal = { kind = \"constant\", value = 2.0 }"),
     "",
     {"bad.toml:10:", "duplicate field name \"x\""}},
    {"id_without_index",
     "name = \"p\"\n[[group]]\nname = \"g\"\ncount = 2\nid = \"dev\"\n",
     "",
     {"bad.toml:5:", "group[0].id", "{index}"}},
    {"bad_rate",
     good_profile() + "[[group.anomaly]]\nkind = \"spike\"\nfield = \"x\"\nrate = \"often\"\n",
     "",
     {"bad.toml:14:", "anomaly[0].rate", "invalid rate"}},
    {"reversed_range",
     field_with("signal = { kind = \"constant\", value = [5.0, 1.0] }"),
     "",
     {"bad.toml:8:", "signal.value", "low is above high"}},
    {"window_unknown_device",
     good_profile() + "[[group.anomaly]]\nkind = \"dropout\"\nwindows = [ { start = \"1h\", end = "
                      "\"2h\", devices = [\"d-9\"] } ]\n",
     "",
     {"bad.toml:13:", "devices", "no device \"d-9\""}},
    {"reserved_field_name",
     "name = \"p\"\n[[group]]\nname = \"g\"\n[[group.field]]\nname = \"ts\"\nsignal = { kind = "
     "\"constant\" }\n",
     "",
     {"bad.toml:5:", "field[0].name", "reserved"}},
    {"missing_name", good_group, "", {"bad.toml:1:1", "name", "is required"}},
    {"flag_speed", "", "--speed fast", {"--speed", "fast"}},
    {"fault_probability",
     good_group_named("p") + "  [[group.fault]]\n  kind = \"duplicate\"\n  probability = 2.0\n",
     "",
     {"bad.toml:", "group[0].fault[0].probability", "(0, 1]"}},
    {"fault_late_without_delay",
     good_group_named("p") + "  [[group.fault]]\n  kind = \"late\"\n  probability = 0.1\n",
     "",
     {"group[0].fault[0].delay", "required"}},
    {"fraud_in_a_sensor_group",
     good_group_named("p") + "  [[group.fraud]]\n  kind = \"card_testing\"\n",
     "",
     {"group[0].fraud", "transaction group"}},
    {"transaction_group_with_fields",
     "name = \"p\"\n[[group]]\nname = \"c\"\nmodel = \"transactions\"\n[group.transactions]\nrate "
     "= "
     "\"4/day\"\n[[group.field]]\nname = \"x\"\nsignal = { kind = \"constant\", value = 1.0 }\n",
     "",
     {"bad.toml:", "group[0].field", "derives its fields"}},
    {"states_dwell_count",
     field_with("signal = { kind = \"states\", states = [\"a\", \"b\"], dwell = [\"1m\"], next = "
                "[[0, 1], [1, 0]] }"),
     "",
     {"bad.toml:8:", "dwell", "one duration range per state"}},
    {"derived_from_unknown",
     field_with("signal = { kind = \"derived\", from = \"nope\", scale = 2.0 }"),
     "",
     {"bad.toml:", "signal", "no earlier field"}},
    {"parent_unknown",
     "name = \"p\"\n[[group]]\nname = \"g\"\nparent = \"gw\"\n[[group.field]]\nname = \"x\"\n"
     "signal = { kind = \"constant\", value = 1.0 }\n",
     "",
     {"bad.toml:4:", "group[0].parent", "no earlier group"}},
    {"drift_without_change",
     good_group_named("p") + "  [[group.drift]]\n  field = \"x\"\n  start = \"1h\"\n",
     "",
     {"group[0].drift[0].shift", "a shift or a scale"}},
    {"flag_shard", "", "--shard 2/2", {"--shard", "0 <= I < N"}},
    {"flag_duration", "", "--duration 5", {"--duration", "invalid duration"}},
    {"flag_sink_scheme",
     "",
     "--sink kafkaa://host/topic",
     {"--sink", "unknown sink scheme \"kafkaa\""}},
    {"sink_bad_percent_escape",
     "",
     "--sink 'mqtt://user:p%zz@127.0.0.1:1/t'",
     {"--sink", "mqtt://user:***@127.0.0.1:1/t", "bad percent-escape in the user info"}},
    {"mqtt_table_unknown_option",
     "name = \"p\"\n[mqtt]\nqso = 1\n" + good_group,
     "--sink mqtt://127.0.0.1:1/t",
     {"bad.toml:3:1", "mqtt.qso", "did you mean \"qos\""}},
    {"flag_format", "", "--format xml", {"--format", "xml"}},
    {"flag_count_type", "", "--count lots", {"--count", "lots"}},
    {"flag_threads", "", "--threads 0", {"--threads"}},
    {"flag_unknown", "", "--bogus 1", {"--bogus"}},
    {"flag_start", "", "--start yesterday", {"--start", "yesterday"}},
    {"flag_labels_unwritable",
     "",
     "--labels /nonexistent-dir/labels.jsonl",
     {"--labels", "cannot open"}},
    {"env_speed", "", "ENV:SYNTHFEED_SPEED=warp", {"--speed", "warp"}},
    {"flag_stage_syntax", "", "--stage 30s", {"--stage", "expected DUR:RATE", "\"30s\""}},
    {"flag_stage_negative", "", "--stage 30s:-5", {"--stage", "\"30s:-5\"", "from 0 to"}},
    {"flag_stage_last_zero",
     "",
     "--stage 30s:1000,1m:0",
     {"--stage", "\"1m:0\"", "greater than 0"}},
    {"flag_stage_with_rate", "", "--stage 30s:1000 --rate 5", {"--rate excludes --stage"}},
    {"load_stages_last_zero",
     good_profile() + "[load]\nshape = \"stages\"\nstages = [{ duration = \"1m\", target = 10 "
                      "}, { duration = \"1m\", target = 0 }]\n",
     "",
     {"bad.toml:13:73", "load.stages[1].target", "greater than 0"}},
    {"load_stages_no_duration",
     good_profile() + "[load]\nshape = \"stages\"\nstages = [{ target = 10 }]\n",
     "",
     {"bad.toml:13:11", "load.stages[0].duration", "is required"}},
    {"flag_devices_syntax", "", "--devices lots", {"--devices", "GROUP=N", "\"lots\""}},
    {"flag_devices_unknown_group", "", "--devices gg=5", {"--devices", "did you mean \"g\""}},
    {"flag_devices_too_few",
     "",
     "--devices 0",
     {"--devices", "a fleet of 0 is too small for 1 group"}},
    {"flag_devices_group_too_large",
     "",
     "--devices g=200000000",
     {"--devices", "group \"g\"", "1 to 100000000"}},
    {"flag_devices_twice", "", "--devices 5 --devices 6", {"--devices", "given twice"}},
    {"flag_devices_window_past_count",
     good_profile() + "[[group.anomaly]]\nkind = \"dropout\"\nwindows = [ { start = \"1h\", end "
                      "= \"2h\", devices = [\"d-2\"] } ]\n",
     "--devices 2",
     {"--devices", "does not hold with g 2", "bad.toml:13:", "no device \"d-2\""}},
    {"flag_devices_id_without_index",
     "name = \"p\"\n[[group]]\nname = \"g\"\nid = \"dev\"\n[[group.field]]\nname = \"x\"\n"
     "signal = { kind = \"constant\" }\n",
     "--devices 3",
     {"--devices", "does not hold with g 3", "group[0].id", "{index}"}},
    {"env_devices", "", "ENV:SYNTHFEED_DEVICES=many", {"--devices", "many"}},
    {"flag_pad_to_zero", "", "--pad-to 0", {"--pad-to", "from 1 to 16384", "\"0\""}},
    {"flag_pad_to_too_large", "", "--pad-to 100000", {"--pad-to", "from 1 to 16384"}},
    {"flag_pad_to_type", "", "--pad-to 1k", {"--pad-to", "\"1k\""}},
    {"labels_layout_uri",
     "",
     "--labels file:<dir>/te --labels-format timeeval",
     {"--labels", "a TimeEval layout is a directory of files: give a path, not a URI"}},
    {"labels_layout_unbounded",
     "",
     "--labels <dir>/te --labels-format timeeval",
     {"--labels", "bound it with --count or --duration"},
     "run <profile> --progress off --sink null:"},
    {"labels_layout_too_many_devices",
     "",
     "--devices 20000 --labels <dir>/nab --labels-format nab",
     {"--labels", "at most 10000 devices", "this run has 20000"}},
    {"labels_layout_too_many_rows",
     "",
     "--duration 400d --labels <dir>/nab --labels-format nab",
     {"--labels", "at most 10000000 messages", "about 103680000"},
     "run <profile> --progress off --sink null:"},
    {"labels_layout_not_empty",
     "",
     "--labels <dir>/full --labels-format timeeval",
     {"--labels", "is not empty"},
     "run <profile> --count 1 --progress off --sink null:",
     {{"full/old.csv", "x\n"}}},
    {"score_unknown_metric",
     "",
     "--threshold 'f2>=0.8'",
     {"--threshold", "unknown metric \"f2\"", "did you mean \"f1\""},
     score_command,
     score_files()},
    {"score_bad_alpha",
     "",
     "--alpha 2",
     {"--alpha", "expected a number from 0 to 1, got \"2\""},
     score_command,
     score_files()},
    {"score_malformed_truth_line",
     "",
     "",
     {"<dir>/l.jsonl:2", "not a JSON object"},
     score_command,
     score_files(
         {"l.jsonl",
          R"({"device_id":"d-0","seq":0,"ts":"2026-01-01T00:00:00.000Z","label":"normal","episode":null,"episodes":[],"emitted":true})"
          "\n{\"device_id\":\"d-0\",\"seq\":\n"})},
    {"score_malformed_detection_line",
     "",
     "",
     {"<dir>/d.jsonl:2", "not a JSON object"},
     score_command,
     score_files({"d.jsonl", "{\"device_id\":\"d-0\",\"seq\":1,\"is_anomaly\":1}\n[1, 2]\n"})},
    {"score_detection_missing_key",
     "",
     "",
     {"<dir>/d.jsonl:1", "seq", "missing: give seq or ts"},
     score_command,
     score_files({"d.jsonl", "{\"device_id\":\"d-0\",\"is_anomaly\":1}\n"})},
};

/// How GoogleTest names a case in its output (instead of "120-byte object <...>").
void PrintTo(const bad_case& c, std::ostream* os) {
    *os << c.name << " (flags: \"" << c.flags << "\")";
}

class BadInput : public ::testing::TestWithParam<bad_case> {};

} // namespace

namespace {

/// Runs one case; `err` keeps only the error lines, with the case's directory as "<dir>" (the
/// rest of stderr, such as an embedded broker's port, changes from run to run).
process_result run_case(const bad_case& c) {
    const auto dir = temp_dir("bad-" + c.name);
    const auto path = dir / "bad.toml";
    write_file(path, c.profile.empty() ? good_profile() : c.profile);
    for (const auto& [name, text] : c.files) {
        std::filesystem::create_directories((dir / name).parent_path());
        write_file(dir / name, text);
    }
    auto expand = [&](std::string text) {
        for (const auto& [from, to] : {std::pair<std::string, std::string>{"<dir>", dir.string()},
                                       {"<profile>", path.string()}})
            for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
                text.replace(at, from.size(), to);
        return text;
    };
    std::string env, flags = c.flags;
    if (flags.starts_with("ENV:")) env = flags.substr(4), flags.clear();
    auto r = run_synthfeed(expand(c.command) + " " + expand(flags), env);
    std::filesystem::remove_all(dir);
    std::string errors;
    for (std::string line : lines(r.err)) {
        if (!line.starts_with("synthfeed: error:")) continue;
        for (auto at = line.find(dir.string()); at != std::string::npos;
             at = line.find(dir.string(), at))
            line.replace(at, dir.string().size(), "<dir>");
        errors += line + "\n";
    }
    r.err = errors;
    return r;
}

} // namespace

TEST_P(BadInput, ExitsTwoWithAPreciseMessage) {
    const bad_case& c = GetParam();
    const auto r = run_case(c);
    EXPECT_FALSE(r.crashed) << r.err;
    EXPECT_EQ(r.exit_code, 2) << r.err;
    for (const auto& s : c.expected)
        EXPECT_NE(r.err.find(s), std::string::npos) << "missing \"" << s << "\" in: " << r.err;
}

// The full text of every message, so a change of wording is a reviewed diff
// (SYNTHFEED_UPDATE_GOLDEN=1 rewrites the file).
TEST(BadInput, EveryMessageReadsAsTheGoldenText) {
    std::string all;
    for (const auto& c : cases) all += "## " + c.name + "\n" + run_case(c).err;
    const std::string golden = source_path("tests/golden/bad_input_errors.txt");
    if (std::getenv("SYNTHFEED_UPDATE_GOLDEN")) write_file(golden, all);
    EXPECT_EQ(all, read_file(golden)) << "error texts differ from " << golden;
}

INSTANTIATE_TEST_SUITE_P(Table, BadInput, ::testing::ValuesIn(cases),
                         [](const auto& info) { return info.param.name; });

TEST(BadInput, ValidateReportsEveryBadFileAndPassesGoodOnes) {
    const auto dir = temp_dir("validate");
    write_file(dir / "good.toml", good_profile());
    write_file(dir / "bad.toml", "name = 3\n");
    const auto r = run_synthfeed("validate " + (dir / "good.toml").string() + " " +
                                 (dir / "bad.toml").string());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.out.find("ok: " + (dir / "good.toml").string()), std::string::npos);
    EXPECT_NE(r.err.find("bad.toml:1:8: name: expected a string"), std::string::npos) << r.err;
    const auto missing = run_synthfeed("validate /nonexistent.toml");
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_NE(missing.err.find("/nonexistent.toml: cannot open profile"), std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST(BadInput, ShippedProfilesValidate) {
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(source_path("profiles"))) {
        if (entry.path().extension() != ".toml") continue;
        const auto r = run_synthfeed("validate " + entry.path().string());
        EXPECT_EQ(r.exit_code, 0) << entry.path() << ": " << r.err;
    }
}
