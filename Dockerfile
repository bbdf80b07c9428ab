# syntax=docker/dockerfile:1
# Multi-stage build on Debian 12: build from source with the project's own scripts, run slim
# and non-root. Built and run for real by scripts/container-build and scripts/container-smoke
# (buildah and podman, no daemon); Docker builds it the same way:
#
#   docker build -t synthfeed:local .
#   docker run --rm -p 9090:9090 synthfeed:local        # cold_chain at 1x into null:, /metrics on :9090
#   docker run --rm synthfeed:local run /etc/synthfeed/profiles/factory_vibration.toml --count 5
#
# Profiles are baked into /etc/synthfeed/profiles. To use your own, mount a directory over it
# (it replaces the baked-in set) and name the file, e.g.
#   docker run --rm -v "$PWD/my-profiles:/etc/synthfeed/profiles:ro" synthfeed:local \
#     run /etc/synthfeed/profiles/mine.toml --speed 1x --sink kafka://broker:9092/t
# Flags have env twins (SYNTHFEED_SINK, SYNTHFEED_RATE, SYNTHFEED_PROFILE, ...).
# SYNTHFEED_HTTP=0.0.0.0:9090 is set, so /metrics, /livez and /readyz are always served and the
# health check finds its port; serve them elsewhere with --http (or SYNTHFEED_HTTP) and set
# HEALTHCHECK_PORT to match.

# Where the binary comes from: `source` (the default: compiled here, as on any clean machine) or
# `prebuilt` (build/release from the context, for CI: scripts/test puts the binary it has just
# built and tested into the image, the same Debian 12 toolchain and libraries, in seconds rather
# than the minutes of a second compile). Only the chosen stage is built.
ARG SYNTHFEED_ARTIFACTS=source

FROM debian:12 AS artifacts-source
WORKDIR /src
COPY scripts/setup scripts/setup
RUN SYNTHFEED_SETUP_BUILD_ONLY=1 ./scripts/setup && rm -rf /var/lib/apt/lists/*
COPY . .
# The context may carry a prebuilt binary (see .dockerignore): never mixed into this build.
RUN rm -rf build
# The commit `synthfeed --version` names (the context has no .git; cmake/build_info.cmake).
ARG SYNTHFEED_COMMIT=unknown
# ccache in a cache mount: a clean machine compiles everything (the mount starts empty), a
# rebuild after a source change recompiles only what changed. The mount is not in the image.
RUN --mount=type=cache,target=/root/.cache/ccache \
    export CCACHE_DIR=/root/.cache/ccache SYNTHFEED_COMMIT \
 && cmake --preset release -DSYNTHFEED_BUILD_TESTS=OFF -DSYNTHFEED_BUILD_BENCH=OFF \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
 && cmake --build --preset release --target synthfeed synthfeed_docs \
 && ccache --show-stats \
 && ./build/release/synthfeed --version \
 && mkdir /out && cp -r build/release/synthfeed build/release/share /out/

FROM debian:12-slim AS artifacts-prebuilt
COPY build/release/synthfeed /out/synthfeed
COPY build/release/share /out/share

# hadolint ignore=DL3006
FROM artifacts-${SYNTHFEED_ARTIFACTS} AS artifacts

FROM debian:12-slim
# The shared libraries the binary links (tests/integration/test_container_files.py checks this
# list against the binary's NEEDED entries); ca-certificates for TLS brokers with public CAs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libfmt9 libspdlog1.10 libtomlplusplus3 \
      librdkafka1 libmosquitto1 libprometheus-cpp-core1.0 libboost-url1.81.0 libssl3 \
      libfftw3-double3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 synthfeed \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/synthfeed --create-home synthfeed
COPY --from=artifacts /out/synthfeed /usr/local/bin/synthfeed
# The generated completions and man page (a few kB; the image has no bash-completion or man, so
# they are there to copy out: `docker run --rm --entrypoint cat IMAGE /usr/share/man/man1/synthfeed.1`).
COPY --from=artifacts /out/share/bash-completion/completions/synthfeed /usr/share/bash-completion/completions/synthfeed
COPY --from=artifacts /out/share/zsh/site-functions/_synthfeed /usr/share/zsh/vendor-completions/_synthfeed
COPY --from=artifacts /out/share/man/man1/synthfeed.1 /usr/share/man/man1/synthfeed.1
COPY profiles /etc/synthfeed/profiles
# Numeric user so Kubernetes' runAsNonRoot can verify it; a writable working directory for
# file: sinks and --summary-json.
USER 10001:10001
WORKDIR /var/lib/synthfeed
# /metrics, /livez, /readyz on every run (the env twin of --http; a flag overrides it).
ENV SYNTHFEED_HTTP=0.0.0.0:9090
# Smoke step: the binary starts with the slim image's libraries and the baked-in profiles load.
RUN synthfeed --version && synthfeed validate /etc/synthfeed/profiles/*.toml
EXPOSE 9090
# GET /livez must answer "HTTP/1.x 200"; a closed port, a hang (read -t) or any other status
# fails. bash's /dev/tcp because the slim image has no curl or wget.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${HEALTHCHECK_PORT:-9090} && printf 'GET /livez HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && IFS= read -r -t 3 status <&3 && [[ $status == *' 200 '* ]]"]
ENTRYPOINT ["synthfeed"]
# OCI annotations, last: an ARG is in the environment of every later RUN, so declared earlier
# the commit would re-run the apt-get step on every build.
ARG SYNTHFEED_VERSION=0.1.0
ARG SYNTHFEED_COMMIT=unknown
ARG SYNTHFEED_SOURCE=unknown
# The project ships no licence file yet: NOASSERTION (SPDX) until it does.
ARG SYNTHFEED_LICENSE=NOASSERTION
LABEL org.opencontainers.image.title="synthfeed" \
      org.opencontainers.image.description="Streaming IoT/event-feed emulator with ground-truth labels" \
      org.opencontainers.image.version="${SYNTHFEED_VERSION}" \
      org.opencontainers.image.revision="${SYNTHFEED_COMMIT}" \
      org.opencontainers.image.source="${SYNTHFEED_SOURCE}" \
      org.opencontainers.image.licenses="${SYNTHFEED_LICENSE}" \
      org.opencontainers.image.base.name="debian:12-slim"
CMD ["run", "/etc/synthfeed/profiles/cold_chain.toml", "--sink", "null:", "--speed", "1x"]
