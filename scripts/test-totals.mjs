// Adds up the JSON reports vitest writes under CI (see tooling/vitest) into the one line CI
// reads: `tests: N passed, N failed`. A package whose report is missing counts as one failure.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
for (const group of ["apps", "packages"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const dir = join(group, name);
    if (!existsSync(join(dir, "package.json"))) continue;
    const report = join(dir, ".reports", "vitest.json");
    if (!existsSync(report)) {
      console.error(`no test report for ${dir}`);
      failed += 1;
      continue;
    }
    const r = JSON.parse(readFileSync(report, "utf8"));
    passed += r.numPassedTests ?? 0;
    const failedTests = r.numFailedTests ?? 0;
    // A test file that fails to load has no failed test but a failed suite: count it too.
    failed += failedTests > 0 ? failedTests : (r.numFailedTestSuites ?? 0);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed`);
