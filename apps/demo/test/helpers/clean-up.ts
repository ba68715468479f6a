/**
 * Runs every clean-up step, also those after one that fails, then fails with the first failure:
 * nothing is left running because an early step threw, and a failing step is still seen.
 */
export const cleanUp = async (...steps: ReadonlyArray<() => unknown>): Promise<void> => {
  const failures: Array<unknown> = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      failures.push(e);
    }
  }
  if (failures.length > 0) throw failures[0];
};
