import type { Rule } from '../types';

// STUB: to be implemented (see issue 2). check() reports nothing yet.
export const rule: Rule = {
  meta: {
    code: 'GL102',
    name: 'softmax-in-hidden-layer',
    category: 'activation',
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
