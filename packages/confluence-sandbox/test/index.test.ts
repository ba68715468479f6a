import { expect, it } from "vitest";
import * as api from "../src/index.js";

it("exports exactly the documented runtime API", () => {
  expect(Object.keys(api).sort()).toEqual([
    "DEFAULT_CLOUD_ID",
    "FaultController",
    "buildSandboxApp",
    "checkStorage",
    "renderStorage",
    "startSandbox",
  ]);
});
