// The description of a CLI11 app and what is rendered from it, on a made-up command line
// whose texts hold every character bash, zsh and roff need escaped.
#include <CLI/CLI.hpp>

#include "src/cli/completion.hpp"
#include "src/cli/man_page.hpp"
#include "tests/test_support.hpp"

namespace synthfeed {
namespace {

using testing::has_program;
using testing::run_shell;

/// A program "toy" with a command "go", a hidden command and a hidden option.
struct toy_command_line {
    CLI::App app{"toy: it's \"quoted\", [bracketed] \\ and \xE2\x80\xA6 (an ellipsis)", "toy"};
    std::string level, profile, secret;
    std::vector<std::string> many, stages;
    double rate = 0;
    bool flag = false;

    toy_command_line() {
        app.set_version_flag("--version", "toy 1");
        app.add_option("--level", level, "how loud")
            ->check(CLI::IsMember({"low", "high"}))
            ->envname("TOY_LEVEL");
        CLI::App* go = app.add_subcommand("go", ".starts with a dot: it's [odd] \\ `x` $HOME");
        go->add_option("profile", profile, "'quoted' at the start")->required();
        go->add_option("--many", many, "a: b ] c -X")
            ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        CLI::Option* rate_option = go->add_option("--rate", rate, "per second");
        go->add_option("--stage", stages, "DUR:RATE")->excludes(rate_option);
        go->add_flag("-f,--flag", flag, "a flag\n.with a second line");
        go->add_option("--secret", secret, "not shown")->group("");
        go->footer("Footer text:\n  item one: a\n    continued\n  item two");
        go->fallthrough();
        app.add_subcommand("hidden", "not shown")->group("");
    }
};

const option_doc* find(const std::vector<option_doc>& options, const std::string& name) {
    for (const auto& o : options)
        if (o.display_name() == name) return &o;
    return nullptr;
}

TEST(CommandDocs, DescribesTheTreeAsTheParserSeesIt) {
    toy_command_line toy;
    const command_doc doc = describe_command_line(toy.app);
    EXPECT_EQ(doc.name, "toy");
    ASSERT_EQ(doc.commands.size(), 1u) << "the hidden command is left out";
    const command_doc& go = doc.commands[0];

    const option_doc* level = find(doc.options, "--level");
    ASSERT_NE(level, nullptr);
    EXPECT_EQ(level->value.kind, value_kind::choice) << "from the CLI::IsMember check";
    ASSERT_EQ(level->value.choices.size(), 2u);
    EXPECT_EQ(level->value.choices[0].name, "low");
    EXPECT_EQ(level->value.choices[1].name, "high");
    EXPECT_EQ(level->envname, "TOY_LEVEL");
    EXPECT_EQ(level->value_name, "TEXT");
    const option_doc* version = find(doc.options, "--version");
    ASSERT_NE(version, nullptr);
    EXPECT_TRUE(version->ends_parsing);
    EXPECT_FALSE(version->takes_value());

    ASSERT_EQ(go.positionals.size(), 1u);
    EXPECT_EQ(go.positionals[0].positional, "profile");
    EXPECT_TRUE(go.positionals[0].required);
    EXPECT_EQ(go.positionals[0].value.kind, value_kind::file);
    EXPECT_EQ(go.positionals[0].value.pattern, "*.toml");
    EXPECT_EQ(find(go.options, "--secret"), nullptr) << "hidden";
    const option_doc* flag = find(go.options, "--flag");
    ASSERT_NE(flag, nullptr);
    EXPECT_EQ(flag->names, (std::vector<std::string>{"-f", "--flag"}));
    EXPECT_TRUE(find(go.options, "--many")->repeatable);
    EXPECT_FALSE(find(go.options, "--rate")->repeatable);
    EXPECT_EQ(find(go.options, "--stage")->excludes, std::vector<std::string>{"--rate"});
    EXPECT_EQ(find(go.options, "--rate")->excludes, std::vector<std::string>{"--stage"});
    // Fallthrough: the program's options other than the --help go has itself.
    EXPECT_NE(find(go.inherited, "--level"), nullptr);
    EXPECT_NE(find(go.inherited, "--version"), nullptr);
    EXPECT_EQ(find(go.inherited, "--help"), nullptr);
}

/// The rendering tests, with a temp directory for what they hand to bash, zsh and groff.
class CommandDocsRendering : public ::testing::Test {
  protected:
    void TearDown() override { std::filesystem::remove_all(dir_); }

    /// Writes `text` to a file of the temp directory; its path.
    std::string written(const std::string& name, const std::string& text) const {
        testing::write_file(dir_ / name, text);
        return (dir_ / name).string();
    }

    std::filesystem::path dir_ = testing::temp_dir("command-docs");
};

TEST_F(CommandDocsRendering, TheScriptsParseWhateverTheTextsHold) {
    toy_command_line toy;
    const command_doc doc = describe_command_line(toy.app);
    const auto bash = run_shell("bash -n " + written("toy.bash", bash_completion(doc)));
    EXPECT_EQ(bash.exit_code, 0) << bash.err;
    EXPECT_EQ(bash.err, "");
    if (!has_program("zsh")) GTEST_SKIP() << "zsh is not installed (scripts/setup installs it)";
    const auto zsh = run_shell("zsh -n " + written("_toy", zsh_completion(doc)));
    EXPECT_EQ(zsh.exit_code, 0) << zsh.err;
    EXPECT_EQ(zsh.err, "");
}

TEST_F(CommandDocsRendering, TheManPageEscapesWhatRoffWouldRead) {
    toy_command_line toy;
    const std::string page = man_page(describe_command_line(toy.app), "toy 1");
    EXPECT_NE(page.find(".TH TOY 1 \"\" \"toy 1\""), std::string::npos) << page;
    EXPECT_NE(page.find("toy \\- it's \"quoted\", [bracketed] \\e and \\[u2026] (an ellipsis)"),
              std::string::npos)
        << page;
    EXPECT_NE(page.find("\n\\&.starts with a dot"), std::string::npos) << page;
    EXPECT_NE(page.find("\n\\&'quoted' at the start"), std::string::npos) << page;
    EXPECT_NE(page.find("a flag\n\\&.with a second line"), std::string::npos) << page;
    EXPECT_NE(page.find("\\fB\\%\\-f\\fR, \\fB\\%\\-\\-flag\\fR"), std::string::npos) << page;
    EXPECT_NE(page.find("\\fB\\%\\-\\-many\\fR \\fI\\%TEXT\\fR ...\n"), std::string::npos) << page;
    EXPECT_NE(page.find("\n.br\nNot with \\fB\\%\\-\\-rate\\fR.\n"), std::string::npos) << page;
    EXPECT_NE(page.find("\\fB\\%TOY_LEVEL\\fR\nSets \\fB\\%\\-\\-level\\fR."), std::string::npos)
        << page;
    EXPECT_NE(page.find(".IP\nitem one: a\ncontinued\n.IP\nitem two\n"), std::string::npos) << page;
    EXPECT_EQ(page.find("secret"), std::string::npos) << "hidden";
    if (!has_program("groff")) GTEST_SKIP() << "groff is not installed";
    const auto groff = run_shell("groff -man -Tutf8 -ww -z " + written("toy.1", page));
    EXPECT_EQ(groff.exit_code, 0);
    EXPECT_EQ(groff.err, "");
}

} // namespace
} // namespace synthfeed
