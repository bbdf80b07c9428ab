#include "src/cli/man_page.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace synthfeed {
namespace {

/// The code point of the UTF-8 sequence at text[i] and its length; U+FFFD for a bad one.
std::pair<char32_t, std::size_t> decode_utf8(std::string_view text, std::size_t i) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0;
    if (length == 0 || i + length > text.size()) return {U'\uFFFD', 1};
    char32_t cp = lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[i + k]);
        if ((next & 0xC0) != 0x80) return {U'\uFFFD', 1};
        cp = (cp << 6) | (next & 0x3F);
    }
    return {cp, length};
}

/// `text` as roff input: '\' and '-' escaped (so options copy as typed, with ASCII minus
/// signs), characters beyond ASCII as \[uXXXX], and a line starting with '.' or '\'' guarded
/// with \& so it is not read as a request.
std::string roff(std::string_view text) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size();) {
        const char ch = text[i];
        if (line_start && (ch == '.' || ch == '\'')) out += "\\&";
        line_start = ch == '\n';
        if (static_cast<unsigned char>(ch) >= 0x80) {
            const auto [cp, length] = decode_utf8(text, i);
            out += fmt::format("\\[u{:04X}]", static_cast<std::uint32_t>(cp));
            i += length;
            continue;
        }
        if (ch == '\\')
            out += "\\e";
        else if (ch == '-')
            out += "\\-";
        else
            out += ch;
        ++i;
    }
    return out;
}

// Names in bold or italics, never hyphenated (\%): SYNTHFEED_SPEED, not SYNTH-FEED_SPEED.
std::string bold(std::string_view text) {
    return "\\fB\\%" + roff(text) + "\\fR";
}
std::string italic(std::string_view text) {
    return "\\fI\\%" + roff(text) + "\\fR";
}

/// A positional argument as a synopsis shows it: "profile", "profiles...", "[name]".
std::string synopsis_argument(const option_doc& p) {
    const std::string text = italic(p.positional) + (p.repeatable ? "..." : "");
    return p.required ? text : "[" + text + "]";
}

/// "synthfeed run [OPTIONS] profile" (`command` empty for the program alone).
std::string synopsis(std::string_view program, const command_doc& c, bool is_program) {
    std::string out = ".B " + roff(program) + (is_program ? "" : " " + roff(c.name)) + "\n";
    out += "[" + italic("OPTIONS") + "]";
    if (is_program && !c.commands.empty()) out += " " + italic("COMMAND");
    for (const auto& p : c.positionals) out += " " + synopsis_argument(p);
    return out + "\n";
}

/// One .TP entry: the names and value ("..." when repeatable), what it does, the fixed values
/// with what each means, then its notes on a line of their own.
std::string option_entry(const option_doc& o) {
    std::string heading;
    for (const auto& name : o.names) heading += (heading.empty() ? "" : ", ") + bold(name);
    if (o.names.empty())
        heading = italic(o.positional);
    else if (o.takes_value() && !o.value_name.empty())
        heading += " " + italic(o.value_name);
    if (o.repeatable) heading += " ...";
    std::string out = ".TP\n" + heading + "\n" + roff(o.description) + "\n";
    const bool described = o.value.kind == value_kind::choice &&
                           std::any_of(o.value.choices.begin(), o.value.choices.end(),
                                       [](const value_choice& c) { return !c.summary.empty(); });
    if (described) {
        out += ".RS\n";
        for (const auto& c : o.value.choices)
            out += ".TP\n" + bold(c.name) + "\n" + roff(c.summary) + "\n";
        out += ".RE\n";
    }
    std::string notes;
    if (o.required && !o.names.empty()) notes += " Required.";
    if (!o.excludes.empty()) {
        std::string with;
        for (const auto& name : o.excludes) with += (with.empty() ? "" : ", ") + bold(name);
        notes += " Not with " + with + ".";
    }
    if (!o.envname.empty()) notes += " Environment: " + bold(o.envname) + ".";
    if (!notes.empty()) out += (described ? ".IP\n" : ".br\n") + notes.substr(1) + "\n";
    return out;
}

/// A footer of --help (already wrapped): lines at the margin make paragraphs, an indented
/// line starts an indented paragraph, and lines indented deeper continue it.
std::string footer_text(std::string_view footer) {
    std::string out;
    std::size_t item_indent = 0;
    bool in_paragraph = false;
    while (!footer.empty()) {
        const auto end = std::min(footer.find('\n'), footer.size());
        const std::string_view line = footer.substr(0, end);
        footer.remove_prefix(std::min(end + 1, footer.size()));
        const auto indent = line.find_first_not_of(' ');
        if (indent == std::string_view::npos) {
            in_paragraph = false;
            continue;
        }
        if (indent == 0 && !in_paragraph) {
            out += ".PP\n";
            item_indent = 0;
        } else if (indent > 0 && (item_indent == 0 || indent <= item_indent)) {
            out += ".IP\n";
            item_indent = indent;
        }
        in_paragraph = true;
        out += roff(line.substr(indent)) + "\n";
    }
    return out;
}

std::string options_text(const command_doc& c) {
    std::string out;
    for (const auto& p : c.positionals) out += option_entry(p);
    for (const auto& o : c.options) out += option_entry(o);
    return out;
}

/// Each variable that sets an option, with the options it sets ("run --rate").
std::string environment_text(const command_doc& top) {
    std::vector<std::pair<std::string, std::vector<std::string>>> variables;
    auto add = [&](const std::string& where, const option_doc& o) {
        if (o.envname.empty()) return;
        const std::string what = where + (where.empty() ? "" : " ") + o.display_name();
        for (auto& [name, uses] : variables)
            if (name == o.envname) {
                uses.push_back(what);
                return;
            }
        variables.push_back({o.envname, {what}});
    };
    for (const auto* list : {&top.positionals, &top.options})
        for (const auto& o : *list) add("", o);
    for (const auto& sub : top.commands)
        for (const auto* list : {&sub.positionals, &sub.options})
            for (const auto& o : *list) add(sub.name, o);
    std::string out;
    for (const auto& [name, uses] : variables) {
        std::string text;
        for (const auto& use : uses) text += (text.empty() ? "" : ", ") + bold(use);
        out += ".TP\n" + bold(name) + "\nSets " + text + ".\n";
    }
    return out;
}

} // namespace

std::string man_page(const command_doc& c, std::string_view version) {
    std::string title = c.name;
    std::transform(title.begin(), title.end(), title.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    // CLI11's description reads "synthfeed: what it does"; NAME wants "synthfeed \- what".
    std::string_view summary = c.description;
    if (summary.starts_with(c.name + ": ")) summary.remove_prefix(c.name.size() + 2);

    std::string out =
        ".\\\" Generated by `" + c.name + " man` from its command line definition: do not edit.\n";
    out += ".TH " + roff(title) + " 1 \"\" \"" + roff(version) + "\" \"User Commands\"\n";
    out += ".SH NAME\n" + roff(c.name) + " \\- " + roff(summary) + "\n";
    out += ".SH SYNOPSIS\n" + synopsis(c.name, c, true);
    for (const auto& sub : c.commands) out += ".br\n" + synopsis(c.name, sub, false);
    out += ".SH DESCRIPTION\nThe commands of " + bold(c.name) + ":\n";
    for (const auto& sub : c.commands)
        out += ".TP\n" + bold(sub.name) + "\n" + roff(sub.description) + "\n";
    out += ".PP\n" + bold(c.name) + " " + italic("COMMAND") + " " + bold("--help") +
           " prints a command's options; they are described under COMMANDS below.\n";
    if (!c.options.empty()) out += ".SH OPTIONS\n" + options_text(c);
    out += ".SH COMMANDS\n";
    for (const auto& sub : c.commands) {
        out += ".SS " + roff(sub.name) + "\n" + roff(sub.description) + ".\n.PP\n" +
               synopsis(c.name, sub, false) + options_text(sub);
        if (!sub.inherited.empty()) {
            std::string names;
            for (const auto& o : sub.inherited)
                names += (names.empty() ? "" : ", ") + bold(o.display_name());
            out += ".PP\nThe program's " + names + " may follow the command too.\n";
        }
        out += footer_text(sub.footer);
    }
    if (const std::string env = environment_text(c); !env.empty())
        out +=
            ".SH ENVIRONMENT\nAn option given on the command line wins over its variable.\n" + env;
    return out;
}

} // namespace synthfeed
