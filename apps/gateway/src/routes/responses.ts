/** The problem answers every route documents (OpenAPI), from the one `Problem` schema. */

import { Problem } from "@minutes/contracts/api";
import { routeSchema } from "../plugins/schema-compiler.js";

const problem = routeSchema(Problem);

/** `4xx` and `5xx` answers are problem details. */
export const problemResponses = { "4xx": problem, "5xx": problem } as const;
