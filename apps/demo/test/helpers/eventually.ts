/** How often `eventually` looks again (it polls with a deadline; nothing here sleeps to wait). */
const POLL_MS = 100;

/** Polls `check` until it returns something other than undefined, or fails naming `what`. */
export const eventually = async <A>(
  check: () => Promise<A | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<A> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new Error(`timed out waiting for ${what}`);
};
