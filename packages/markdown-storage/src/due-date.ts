// Meeting action items end with a due date in one of the languages our protocols are written in;
// Confluence shows a `<time>` element as a date lozenge on the task. The match is anchored at the end
// of the task's first paragraph and the date is validated, so ordinary text in parentheses survives.

const trailingDue =
  /\((?:due|срок|fällig|faellig)\s*:?\s*(\d{4})-(\d{2})-(\d{2})\)(\s*)$|\((?:due|срок|fällig|faellig)\s*:?\s*(\d{2})\.(\d{2})\.(\d{4})\)(\s*)$/iu;

/** Validates a calendar date and formats it as `YYYY-MM-DD`, or `undefined` when it does not exist. */
export const isoDate = (year: number, month: number, day: number): string | undefined => {
  if (month < 1 || month > 12 || day < 1 || year < 1) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
};

/**
 * Replaces a trailing `(due YYYY-MM-DD)`, `(срок: DD.MM.YYYY)` or `(fällig: DD.MM.YYYY | YYYY-MM-DD)`
 * in already-rendered task text with `<time datetime="YYYY-MM-DD" />`. Text without a valid trailing
 * due date is returned unchanged.
 */
export const renderDueDate = (html: string): string => {
  const m = trailingDue.exec(html);
  if (m === null) return html;
  const iso =
    m[1] !== undefined
      ? isoDate(Number(m[1]), Number(m[2]), Number(m[3]))
      : isoDate(Number(m[7]), Number(m[6]), Number(m[5]));
  if (iso === undefined) return html;
  return `${html.slice(0, m.index)}<time datetime="${iso}" />${m[4] ?? m[8] ?? ""}`;
};
