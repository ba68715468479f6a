/**
 * How much longer `run(4n)` takes than `run(n)`: about 4 for linear work (1 for work with a fixed
 * bound), 16 for quadratic. A ratio, not a time: a machine slowed by other work slows both sizes
 * alike, so complexity tests do not fail on a busy machine the way a time limit did. Each size is
 * run until 50 ms have passed (the time of one run, on average), the better of two such rounds,
 * so a run of a millisecond is not at the mercy of the timer or of one collection.
 */
export const growthOf = (run: (n: number) => void, n: number): number => {
  const perRun = (size: number) => {
    const started = performance.now();
    let runs = 0;
    let elapsed = 0;
    do {
      run(size);
      runs++;
      elapsed = performance.now() - started;
    } while (elapsed < 50);
    return elapsed / runs;
  };
  perRun(n); // warm-up: the first runs also compile
  const small = Math.min(perRun(n), perRun(n));
  const large = Math.min(perRun(4 * n), perRun(4 * n));
  return large / small;
};
