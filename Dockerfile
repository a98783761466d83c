# syntax=docker/dockerfile:1
# Multi-stage build of apps/example-service. Build: docker build -t example-service .

FROM node:20.20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages ./packages
COPY apps ./apps
RUN npm ci --no-audit --no-fund \
 && npx turbo run build --filter=@plinth/example-service... \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /src/package.json ./
COPY --from=build --chown=node:node /src/node_modules ./node_modules
COPY --from=build --chown=node:node /src/packages ./packages
COPY --from=build --chown=node:node /src/apps/example-service ./apps/example-service
USER node
EXPOSE 3000
# Exec form: node is PID 1 and receives SIGTERM itself; plinth handles it (no shell in between).
# --max-semi-space-size=4, the example's start flag (as in its package.json "start"): V8's
# young generation would otherwise grow to 32 MB on the garbage of startup and stay that
# size; capped, RSS at ready is about 20 MB lower, GET throughput 0.985× (within the
# spread of the runs; bench/young-generation.bench.ts).
CMD ["node", "--max-semi-space-size=4", "apps/example-service/dist/main.js"]
