/** How a process ended: its exit code (`null` when killed, e.g. by the timeout) and its output. */
export interface MainResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `src/main.ts` of the package at `root` (with tsx and the `@minutes/source` condition) with
 * `args`, and an environment of only PATH, `NATS_URL` pointing at a closed port (so a process
 * that wrongly starts connects nowhere) and `env` on top. Killed after 25 s; never rejects.
 */
export declare const runSourceMain: (
  root: string,
  args: ReadonlyArray<string>,
  env?: Record<string, string>,
) => Promise<MainResult>;
