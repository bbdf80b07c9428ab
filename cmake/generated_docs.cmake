# Writes the bash and zsh completion scripts and the man page under ${OUT_DIR} by running the
# built synthfeed (`completion bash|zsh`, `man`), so they describe exactly its command line.
# Run with -DSYNTHFEED=path/to/synthfeed -DOUT_DIR=build/share.
cmake_minimum_required(VERSION 3.25)

# Writes what `synthfeed ARGS...` prints to ${OUT_DIR}/${path}, or stops the build.
function(write_output path)
    get_filename_component(dir "${OUT_DIR}/${path}" DIRECTORY)
    file(MAKE_DIRECTORY "${dir}")
    execute_process(COMMAND "${SYNTHFEED}" ${ARGN}
                    OUTPUT_FILE "${OUT_DIR}/${path}.tmp" RESULT_VARIABLE status)
    if(NOT status EQUAL 0)
        file(REMOVE "${OUT_DIR}/${path}.tmp")
        message(FATAL_ERROR "`synthfeed ${ARGN}` failed (${status})")
    endif()
    file(RENAME "${OUT_DIR}/${path}.tmp" "${OUT_DIR}/${path}")
endfunction()

write_output(bash-completion/completions/synthfeed completion bash)
write_output(zsh/site-functions/_synthfeed completion zsh)
write_output(man/man1/synthfeed.1 man)
