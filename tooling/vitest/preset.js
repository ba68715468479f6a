// Shared vitest preset: resolves workspace packages to their TypeScript sources and, when
// running under CI, also writes a JSON report that .ci/run sums into one totals line.
import { defineConfig } from "vitest/config";

const conditions = ["@minutes/source", "import", "module", "node", "default"];
// vitest forwards ssr conditions to Node as `--conditions`: "import"/"module" there would make
// CommonJS packages such as pg load ESM builds through require() and crash.
const ssrConditions = ["@minutes/source", "node", "default"];

/**
 * @param {{ timeout?: number, setupFiles?: string[], poolOptions?: object }} [options]
 */
export const minutesVitestConfig = (options = {}) =>
  defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions: ssrConditions, externalConditions: ["@minutes/source"] } },
    test: {
      include: ["test/**/*.test.ts"],
      testTimeout: options.timeout ?? 30_000,
      hookTimeout: options.timeout ?? 60_000,
      setupFiles: [...(options.setupFiles ?? [])],
      reporters: process.env.CI ? ["default", "json"] : ["default"],
      outputFile: { json: ".reports/vitest.json" },
      passWithNoTests: true,
    },
  });
