// One way to turn a schema library's issues (zod's `{ path, message }[]`) into
// a typed error's parts: the first failing field, a short summary of up to
// three issues, and the full list for `details`.

export interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
}

export interface IssueSummary {
  /** Dotted path of the first issue, or `fallback` when it is at the root. */
  field: string;
  /** `path: message; …` for the first three issues. */
  summary: string;
  issues: { path: string[]; message: string }[];
}

export function summarizeIssues(error: unknown, fallback: string): IssueSummary {
  const issues = ((error as { issues?: SchemaIssue[] } | undefined)?.issues ?? []).map((i) => ({ path: i.path.map(String), message: i.message }));
  const first = issues[0];
  return {
    field: first && first.path.length > 0 ? first.path.join('.') : fallback,
    summary: issues
      .slice(0, 3)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; '),
    issues,
  };
}
