import { minutesVitestConfig } from "@minutes/vitest-config";

export default minutesVitestConfig();
