/**
 * Public links. The repository URL is a placeholder until the project is published: change it here
 * and every link (LSP codeDescription, hovers, SARIF helpUri) follows.
 */
export const REPOSITORY_URL = 'https://example.invalid/gradient-lens';

/** The documentation page of a rule, e.g. docs/rules/GL101.md. */
export function ruleDocsUrl(code: string): string {
  return `${REPOSITORY_URL}/blob/main/docs/rules/${code.toUpperCase()}.md`;
}
