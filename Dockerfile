# syntax=docker/dockerfile:1.7
#
# One Dockerfile for every kbflow process. Two final targets:
#
#   runtime  api, embedder, aggregator, maintenance and `migrate` (default target)
#   scraper  runtime plus Debian's Chromium for the browser engine
#
# Why two targets rather than one image with Chromium for all: Chromium and its
# libraries are ~400 MB and a large, frequently patched attack surface that only
# the scraper uses. Both targets are built from the same stages, so the code and
# node_modules layers are byte-identical; only the Chromium layer differs. The
# service is picked by the argument to the entrypoint:
#
#   docker build -t kbflow .                    && docker run kbflow api
#   docker build -t kbflow-scraper --target scraper . && docker run kbflow-scraper scraper
#
# Node 24 runs the TypeScript sources directly (type stripping): there is no
# build step, only `pnpm install` and `prisma generate`.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------------------
# pnpm at the version package.json pins (packageManager).
FROM ${NODE_IMAGE} AS pnpm
ARG PNPM_VERSION=10.34.8
ENV CI=true \
    npm_config_store_dir=/pnpm/store \
    npm_config_update_notifier=false
RUN npm install -g --no-audit --no-fund "pnpm@${PNPM_VERSION}"
WORKDIR /app

# ---------------------------------------------------------------------------
# Download every package of the lockfile into the store. Only the lockfile (and
# the settings and patches that shape it) are copied, so this layer is rebuilt
# only when dependencies change, not on every source edit.
FROM pnpm AS fetch
COPY pnpm-lock.yaml pnpm-workspace.yaml .npmrc package.json ./
COPY patches ./patches
RUN pnpm fetch

# ---------------------------------------------------------------------------
# Full install (the Prisma CLI is a devDependency) and the Prisma client, which
# is generated into packages/db/src/generated. Generating needs no engine
# download (prisma.config.ts points the CLI's schema-engine check at a
# stand-in); DATABASE_URL only has to be a valid URL, nothing connects.
FROM fetch AS build
COPY . .
RUN pnpm install --offline --frozen-lockfile
RUN DATABASE_URL=postgresql://x@localhost/x CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
    node_modules/.bin/prisma generate

# ---------------------------------------------------------------------------
# Production dependencies only, plus the generated client from `build`.
FROM fetch AS prod
COPY . .
RUN pnpm install --offline --frozen-lockfile --prod
COPY --from=build /app/packages/db/src/generated packages/db/src/generated

# ---------------------------------------------------------------------------
# The operating system layer shared by both final targets. tini is PID 1: it
# forwards SIGTERM to node (which drains its workers, see ShutdownManager) and
# reaps Chromium's child processes, which node as PID 1 would leave as zombies.
FROM ${NODE_IMAGE} AS os
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# MALLOC_ARENA_MAX=2: glibc gives each thread that allocates (libuv's pool,
# LanceDB's and Prisma's native threads) an arena of its own, and freed memory
# stays resident per arena. Two arenas kept every service 10-45 MB smaller in
# `./kbflow bench` at the same query latency (kbflow issue 6). The same value
# is set by `./kbflow up` and by the test harness (SERVICE_ENV in
# packages/testing), so what is measured is what is deployed.
# The listeners bind every interface inside a container (its network is its
# own); outside one the defaults are loopback.
ENV NODE_ENV=production \
    NODE_OPTIONS=--disable-warning=ExperimentalWarning \
    MALLOC_ARENA_MAX=2 \
    KBFLOW_API_HOST=0.0.0.0 \
    KBFLOW_METRICS_HOST=0.0.0.0
WORKDIR /app
# The embedded LanceDB default writes to .data/ under the working directory;
# compose and Kubernetes use Qdrant, but a lone `docker run` still works.
RUN mkdir -p /app/.data && chown 1000:1000 /app/.data

# ---------------------------------------------------------------------------
# Scraper target: Chromium before the application layer, so a code change does
# not reinstall the browser.
FROM os AS scraper
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-liberation \
 && rm -rf /var/lib/apt/lists/*
ENV KBFLOW_CHROMIUM_PATH=/usr/bin/chromium
# Application files stay owned by root: the process (uid 1000) cannot modify its own code.
COPY --from=prod /app /app
COPY --chmod=0755 docker/entrypoint.sh /app/docker/entrypoint.sh
# `node` (uid 1000) exists in the Node image; numeric so that Kubernetes
# runAsNonRoot can verify it. Not root, so Chromium can sandbox its renderers
# where the container may create user namespaces (KBFLOW_BROWSER_SANDBOX,
# docs/operations.md "The browser sandbox").
USER 1000:1000
EXPOSE 9101
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["scraper"]

# ---------------------------------------------------------------------------
# Default target: every other service and the migration.
FROM os AS runtime
COPY --from=prod /app /app
COPY --chmod=0755 docker/entrypoint.sh /app/docker/entrypoint.sh
USER 1000:1000
EXPOSE 8080 9102 9103 9104 9105
ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["api"]
