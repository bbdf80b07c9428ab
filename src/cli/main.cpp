#include "src/cli/cli.hpp"

int main(int argc, char** argv) {
    return synthfeed::run_cli(argc, argv);
}
