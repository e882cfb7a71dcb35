# syntax=docker/dockerfile:1
# One image for the worker, the gateway, the codec server and the CLI:
#   docker run IMAGE worker | gateway | codec-server | status <id> | ...
# Debian (glibc), never Alpine: the Temporal core bridge is a native module built for glibc.
# Pinned; bump deliberately (and re-run the compose test, which checks this file).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build: dev dependencies and TypeScript, producing dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY client ./client
COPY common ./common
COPY simulator ./simulator
COPY workers ./workers
COPY workflows ./workflows
RUN npm run build

# Production dependencies only (workflow bundles come prebuilt in dist; webpack, which
# @temporalio/worker brings itself, bundles at start should they not match). The core bridge
# ships native builds for five platforms; only this one's is kept (about 110 MB less).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
 && keep="$(uname -m)-unknown-linux-gnu" \
 && cd node_modules/@temporalio/core-bridge/releases \
 && test -d "$keep" \
 && for platform in *; do [ "$platform" = "$keep" ] || rm -rf "$platform"; done \
 && cd /app && chmod a+rx node_modules/@ffmpeg-installer/*/ffmpeg node_modules/@ffprobe-installer/*/ffprobe

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    SORA_SERIES_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY examples ./examples
# The gateway's review page, served as it is (no build step).
COPY client/gateway/review-page ./client/gateway/review-page
# Assets and manifests; a volume mounted here inherits this ownership.
RUN mkdir -p /data && chown node:node /data
USER node
# Worker: the Temporal server sees a worker of this container polling its task queue.
# Other services set SORA_SERIES_HEALTH_URL (or pass --url) to check their own endpoint instead.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["node", "dist/client/cli.js", "healthcheck"]
ENTRYPOINT ["node", "dist/client/cli.js"]
CMD ["worker"]
