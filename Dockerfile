# One image for the gateway and the publisher (the command chooses). Build: docker build -t minutes .
# Nothing is compiled: SQLite comes with libsql as a prebuilt binary (@libsql/linux-<arch>-gnu).
FROM node:20-bookworm-slim AS build
RUN npm install -g pnpm@10.34.9
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build && pnpm prune --prod

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
USER node
ENV NODE_ENV=production
CMD ["node", "apps/gateway/dist/main.js"]
