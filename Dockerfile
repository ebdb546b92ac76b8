# The platform in one container, started with the same command `npm start` runs, but as the
# container's main process so `docker stop` (SIGTERM) reaches it and shutdown is graceful.
# Without DATABASE_URL/REDIS_URL it runs embedded (PGlite in /app/data: mount a volume there);
# docker-compose.yml runs it against PostgreSQL 16 and Redis 7.
FROM node:20-bookworm-slim

WORKDIR /app

# Dependencies first, so source changes do not reinstall them. Every workspace's package.json
# is needed for `npm ci` to match the lockfile.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY server/package.json server/
COPY sim/package.json sim/
COPY web/package.json web/
RUN npm ci --no-audit --no-fund

COPY tsconfig.base.json ./
COPY contracts contracts

# The web app, built into web/dist, which the server serves at /. Map tiles are fixed at build
# time: `--build-arg VITE_TILE_URL=...` (`none` for no tiles); OpenStreetMap's by default.
ARG VITE_TILE_URL=
COPY web web
RUN npm run build -w web

COPY server server
COPY sim sim
RUN mkdir -p data && chown node:node data

ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
USER node
EXPOSE 3000

HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "--max-semi-space-size=64", "--import", "tsx", "server/src/main.ts"]
