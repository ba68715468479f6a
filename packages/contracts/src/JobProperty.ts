/**
 * The content property that says which job a Confluence page belongs to. The publisher writes it
 * with every page it creates or updates; whoever is about to write, move or delete a page a record
 * names reads it first, since a page id alone proves nothing (ids restart in every site).
 */

/** Key of the content property (`minutes.job`) that names the job owning a page. */
export const JOB_PROPERTY_KEY = "minutes.job";

/**
 * The job a `minutes.job` property value names; `undefined` when the value is not Minutes' (not an
 * object with a string `jobId`). A page without the property, or with another value, is no job's
 * page by this rule.
 */
export const jobOfJobProperty = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const jobId = (value as { readonly jobId?: unknown }).jobId;
  return typeof jobId === "string" ? jobId : undefined;
};
