# One image for the gateway and the publisher (the command chooses). Build: docker build -t minutes .
# Nothing is compiled: SQLite comes with libsql as a prebuilt binary (@libsql/linux-<arch>-gnu).
# .dockerignore keeps secrets and data out of the context (.env, config*.json, databases, vaults);
# the final stage takes only what runs, so nothing else of the context reaches the image either.
FROM node:20-bookworm-slim AS build
RUN npm install -g pnpm@10.34.9
# pnpm asks before it removes a modules directory, and without a terminal it aborts instead.
ENV CI=true
WORKDIR /app
COPY . .
# The production modules are installed anew from the store: `pnpm prune --prod` in a workspace
# also unlinks the packages' own dependencies.
RUN pnpm install --frozen-lockfile && pnpm build \
  && rm -rf node_modules apps/*/node_modules packages/*/node_modules tooling/*/node_modules \
  && pnpm install --prod --frozen-lockfile --offline

FROM node:20-bookworm-slim
WORKDIR /app
# The workspace's production node_modules (each package's links point into the root's .pnpm) and
# the packages with their package.json files and compiled dist/.
COPY --from=build /app/package.json /app/pnpm-workspace.yaml ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages ./packages
COPY --from=build /app/apps ./apps
# Where docker-compose.yml mounts the token vault's volume: a new volume takes this directory's
# owner and mode, so the vault CLI, running as node, can write the vault there.
RUN mkdir -m 0700 /vault && chown node:node /vault
USER node
ENV NODE_ENV=production
CMD ["node", "apps/gateway/dist/main.js"]
