# One image for both processes: the API (default CMD) and the worker (`node dist/bin/worker.js`).
# Not built on the development machine (no Docker there); see docker-compose.yml.

ARG NODE_IMAGE=node:20-bookworm-slim

# Production dependencies only, installed once and copied into the runtime stage.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# All dependencies, then `tsc -p tsconfig.build.json` into dist/ (same folder layout as the sources).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm run build:workflows -- dist/workflow-bundle.js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The PDF documents embed DejaVu and WenQuanYi Micro Hei when installed (templates/markdown-pdf.ts): text beyond
# Latin-1, Chinese, Japanese and Korean included, reads as typed. The data connectors run restic
# (connectors/backups/restic.ts) and PostgreSQL's client tools (pg_dump, pg_restore).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei restic postgresql-client && rm -rf /var/lib/apt/lists/*
# package.json carries "type": "module", which the compiled ESM in dist/ needs.
COPY --chown=node:node package.json package-lock.json ./
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# Read at run time from <projectRoot>/templates (projectRoot is /app: the parent of config/config.js's folder, minus /dist).
COPY --chown=node:node templates ./templates
# The state database's versioned SQL migrations, read at start from the same place (connectors/state-db/state-db.ts).
COPY --chown=node:node connectors/state-db/migrations ./connectors/state-db/migrations
# The worker runs the workflow code bundled in the build stage (dist/workflow-bundle.js): no webpack at start.
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# DATA_DIR in compose. Created here owned by node so a fresh named volume mounted on it inherits
# that ownership and the non-root process can write documents and the ledger.
RUN mkdir -p /data && chown node:node /data
USER node
# Every interface of the container: the API's default, loopback, is unreachable through a published port.
ENV HOST=0.0.0.0
EXPOSE 3000
CMD ["node", "dist/bin/api.js"]
