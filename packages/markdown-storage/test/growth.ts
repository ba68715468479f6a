/**
 * How much longer `run(4n)` takes than `run(n)` (the faster of two tries each): about 4 for
 * linear work, 16 for quadratic. A ratio, not a time: a machine slowed by other work slows both
 * sizes alike, so complexity tests do not fail on a busy machine the way a time limit did.
 */
export const growthOf = (run: (n: number) => void, n: number): number => {
  const time = (size: number) => {
    const started = performance.now();
    run(size);
    return performance.now() - started;
  };
  time(n); // warm-up: the first run also compiles
  const small = Math.min(time(n), time(n));
  const large = Math.min(time(4 * n), time(4 * n));
  return large / Math.max(small, 0.01);
};
