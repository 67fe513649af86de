import { expect, it } from 'vitest';
import { Project } from '../../../src/analysis/project';

// Found by the language server's fuzz test: a chained assignment whose last link has no right side
// used to keep the torch interpreter looping forever.
it('reads a module with a broken chained assignment and still extracts its model', async () => {
  const project = await Project.create();
  const text = [
    'import torch.nn as nn',
    'import torch.nn.functional as F',
    'for i in range(3):',
    '    pass',
    'x = F:.B()',
    'class Net(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.fc = nn.Linear(8, 4)',
    '    def forward(self, x):',
    '        y = z = F:.relu()',
    '        return self.fc(x)',
    '',
  ].join('\n');
  project.setFile('net.py', text);
  const result = project.analyzeFile('net.py');
  expect(result.error).toBeNull();
  expect(result.models.map((m) => [m.name, m.layers.map((l) => l.kind)])).toEqual([['Net', ['dense']]]);
  expect(result.notices.some((n) => /Syntax error at line 5/.test(n.message))).toBe(true);
});
