/**
 * How much longer `run(4n)` takes than `run(n)`: about 4 for linear work (1 for work with a fixed
 * bound), 16 for quadratic. A ratio, not a time: a machine slowed by other work slows both sizes
 * alike, so complexity tests do not fail on a busy machine the way a time limit did.
 *
 * The two sizes are timed in alternation, five rounds of 20 ms each (a round is at least one run),
 * and each keeps its fastest round: a stretch of load from other processes, or one collection,
 * slows a round of one size, not the comparison.
 */
const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

export const growthOf = (run: (n: number) => void, n: number): number => {
  const perRun = (size: number) => {
    const started = cpuMs();
    let runs = 0;
    let elapsed = 0;
    do {
      run(size);
      runs++;
      elapsed = cpuMs() - started;
    } while (elapsed < 20);
    return elapsed / runs;
  };
  perRun(n); // warm-up: the first runs also compile
  perRun(4 * n);
  let small = Number.POSITIVE_INFINITY;
  let large = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 5; round++) {
    small = Math.min(small, perRun(n));
    large = Math.min(large, perRun(4 * n));
  }
  return large / small;
};
