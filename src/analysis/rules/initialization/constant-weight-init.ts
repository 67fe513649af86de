import type { Rule } from '../types';

// STUB: to be implemented (see issue 2). check() reports nothing yet.
export const rule: Rule = {
  meta: {
    code: 'GL201',
    name: 'constant-weight-init',
    category: 'initialization',
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
