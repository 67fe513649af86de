import type { Rule } from '../types';

// STUB: to be implemented (see issue 2). check() reports nothing yet.
export const rule: Rule = {
  meta: {
    code: 'GL501',
    name: 'unscaled-input',
    category: 'data',
    defaultSeverity: 'warning',
    fixable: 'none',
    summary: 'TODO',
    docs: '',
    options: [],
  },
  check() {
    return [];
  },
};
