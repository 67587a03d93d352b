# syntax=docker/dockerfile:1
#
# artifactd: one self-contained executable (Bun runtime + app + lmdb's native addon)
# on a slim glibc base.
#
#   docker build -t artifactd .
#   docker run -p 4200:4200 -v artifactd-data:/data artifactd
#
# The build only supports linux-x64 glibc (scripts/embed-lmdb-addon.ts embeds
# @lmdb/lmdb-linux-x64's N-API addon), hence the pinned platform.

FROM --platform=linux/amd64 node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Bun itself comes from npm (devDependency), as does lmdb's prebuilt addon
# (optional dependency @lmdb/lmdb-linux-x64), both as prebuilt files inside the
# packages, so no install script is needed (same as npm 11 in dev and CI).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM --platform=linux/amd64 debian:bookworm-slim AS runtime
# The executable needs only glibc (>= 2.34); lmdb's addon, which it unpacks into
# $TMPDIR (default /tmp) and loads at start-up, also needs libstdc++6 and
# libgcc-s1, both already part of bookworm-slim.
RUN groupadd --system --gid 10001 artifactd \
 && useradd --system --uid 10001 --gid artifactd --home-dir /data --no-create-home --shell /usr/sbin/nologin artifactd \
 && mkdir -p /data \
 && chown artifactd:artifactd /data
COPY --from=build /app/dist/artifactd /usr/local/bin/artifactd
ENV ARTIFACTD_DATA_DIR=/data
VOLUME /data
EXPOSE 4200
USER artifactd
WORKDIR /data
ENTRYPOINT ["artifactd"]
CMD ["serve", "--host", "0.0.0.0", "--port", "4200", "--data-dir", "/data"]
