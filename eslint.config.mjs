// `npm run lint` runs this: ESLint's recommended rules and typescript-eslint's strict type-checked rules on every TypeScript file of the three
// tsconfigs (src, test, bench, webview-ui). A rule switched off or relaxed here says why in one line.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test/fixtures/**', 'test/e2e/workspace/**', '**/*.js', '**/*.mjs'] },
  // ESLint's own recommended rules catch what types do not (a duplicate case clause, an unreachable loop).
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // vitest.config.ts sits outside the tsconfigs; the default project types it.
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // noUncheckedIndexedAccess types an index read `T | undefined`; `a[i]!` (an index known in range) is the
      // one non-null assertion allowed, every other `!` is a real narrowing instead.
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSNonNullExpression:not([expression.type="MemberExpression"][expression.computed=true])',
          message: 'Only an index read known to be in range may be asserted (`a[i]!`); narrow anything else with a check.',
        },
      ],
      // Numbers read naturally in messages (`line ${n}`); other non-strings still need an explicit String().
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Rule options are read through one typed getter, option<number>(key), over values the registry validates.
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
      // A defaulted parameter is dropped by key when its argument is written but not a constant (the intent).
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Spreads here are meant: echarts' base tooltip object into an option, a Python string into code points.
      '@typescript-eslint/no-misused-spread': 'off',
      // A tree visitor returns false to skip a subtree, or nothing to go on: `boolean | void` says exactly that.
      '@typescript-eslint/no-invalid-void-type': 'off',
    },
  },
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      // vscode.Disposable is a class, yet VS Code takes any object with dispose(); ours are such objects.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // vitest's asymmetric matchers (expect.any, expect.stringMatching, expect.objectContaining) are typed `any`.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
