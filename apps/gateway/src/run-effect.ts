/**
 * Runs a store (or Confluence) effect from a handler and turns its typed failures into problems:
 * not found → 404, invalid transition → 409, bad cursor or import line → 400, unavailable → 503.
 * Defects stay defects and become a generic 500 in the error handler.
 */
import { Cause, Effect, Exit, Option } from "effect";
import { HttpProblem, invalid, notFound, unavailable } from "./problem.js";

interface Tagged {
  readonly _tag: string;
  readonly message: string;
}

/** The problem for a tagged failure of the store. */
export const problemOf = (error: Tagged): HttpProblem => {
  switch (error._tag) {
    case "PublicationNotFoundError":
      return notFound(error.message);
    case "InvalidTransitionError":
      return new HttpProblem({ status: 409, detail: error.message, slug: "invalid-transition" });
    case "InvalidCursorError":
      return invalid("invalid paging cursor", [
        { path: "query.cursor", message: "not a cursor this API issued" },
      ]);
    case "ImportLineError":
      return invalid(error.message, [{ path: "body", message: error.message }]);
    case "StoreUnavailableError":
      return unavailable("the publication database is unavailable; try again later", "database-unavailable");
    default:
      return new HttpProblem({ status: 500, detail: "unexpected failure" });
  }
};

/** Runs `effect`; a typed failure rejects with its `HttpProblem`, a defect with the defect. */
export const runEffect = async <A, E extends Tagged>(effect: Effect.Effect<A, E>): Promise<A> => {
  const exit = await Effect.runPromiseExit(effect);
  if (Exit.isSuccess(exit)) return exit.value;
  const failure = Cause.failureOption(exit.cause);
  if (Option.isSome(failure)) throw problemOf(failure.value);
  throw Cause.squash(exit.cause);
};
