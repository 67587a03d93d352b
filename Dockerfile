# syntax=docker/dockerfile:1
#
# artifactd: one self-contained executable (Bun runtime + app + lmdb's native addon)
# on a slim glibc base, for linux/amd64 and linux/arm64.
#
#   docker build -t artifactd .                    # this machine's platform
#   docker run -p 4200:4200 -v artifactd-data:/data artifactd
#
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/artifactd:TAG --push .
#
# The executable is cross-compiled: the build stage runs on the builder's own platform
# (BUILDPLATFORM, no emulation) and `npm run build -- --target linux-x64|linux-arm64` writes
# the target's executable with that target's Bun runtime and lmdb addon, both fetched from npm
# at the versions package-lock.json pins and checked against its sha512 (scripts/build.ts).
# Only the runtime stage is per TARGETPLATFORM, and it runs nothing at build time, so a
# multi-platform build needs no QEMU. Running the arm64 image under QEMU (an x86-64 host's
# `docker run --platform linux/arm64`) is another matter: QEMU 7.2 reserves LMDB's 64 GiB map as
# memory, which Linux refuses on a host with less RAM + swap than that, and the server crashes
# (SIGSEGV) as it opens its store (measured: scripts/qemu-noreserve.c says why, and is how CI
# runs the arm64 executable under QEMU). On arm64 hardware the map is only address space.

FROM --platform=$BUILDPLATFORM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Bun itself comes from npm (devDependency), as does lmdb's prebuilt addon for the builder
# (optional dependency). Of the install scripts only Bun's is needed: it puts the builder's Bun
# binary in place of node_modules/bun/bin/bun.exe, a placeholder until then (`npm ci
# --ignore-scripts` alone leaves `npm run build` failing with "Bun's postinstall script was not
# run"). lmdb's and msgpackr-extract's would only look for prebuilt addons; scarf's is analytics.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild bun
COPY . .
# Declared here, not earlier, so that both platforms share the layers above.
ARG TARGETARCH
# The verified downloads are cached between builds (node_modules/.cache/artifactd).
RUN --mount=type=cache,target=/root/.npm \
    --mount=type=cache,target=/app/node_modules/.cache/artifactd \
    case "$TARGETARCH" in \
      amd64) target=linux-x64 ;; \
      arm64) target=linux-arm64 ;; \
      *) echo "artifactd images are built for linux/amd64 and linux/arm64, not linux/$TARGETARCH" >&2; exit 1 ;; \
    esac \
 && npm run build -- --target "$target" \
 && cp "dist/artifactd-$target" /artifactd

FROM debian:bookworm-slim AS runtime
# The executable needs only glibc (>= 2.34); lmdb's addon, which it unpacks into
# $TMPDIR (default /tmp) and loads at start-up, also needs libstdc++6 and
# libgcc-s1, both already part of bookworm-slim. /tmp must therefore be writable
# and allow executables: with `docker run --read-only`, add `--tmpfs /tmp:exec`
# (Docker's tmpfs is noexec by default); artifactd says so in one line if not.
RUN groupadd --system --gid 10001 artifactd \
 && useradd --system --uid 10001 --gid artifactd --home-dir /data --no-create-home --shell /usr/sbin/nologin artifactd \
 && mkdir -p /data \
 && chown artifactd:artifactd /data
COPY --from=build /artifactd /usr/local/bin/artifactd
ENV ARTIFACTD_DATA_DIR=/data
VOLUME /data
EXPOSE 4200
USER artifactd
WORKDIR /data
ENTRYPOINT ["artifactd"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4200", "--data-dir", "/data"]
