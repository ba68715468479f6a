import type { UserConfig } from "vitest/config";

export interface MinutesVitestOptions {
  readonly timeout?: number;
  readonly setupFiles?: ReadonlyArray<string>;
}

export declare const minutesVitestConfig: (options?: MinutesVitestOptions) => UserConfig;
