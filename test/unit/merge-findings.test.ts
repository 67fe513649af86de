/**
 * One finding per problem: a block's finding that comes back in every model holding it, or in identical
 * instances, is reported once and names the others; findings that differ in their numbers stay apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeText } from './project-helper';
import { defined } from '../defined';

const BLOCK = `import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = ConvBlock(3, 16)
        self.b2 = ConvBlock(16, 32)

    def forward(self, x):
        return self.b2(self.b1(x))


class ConvBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return self.bn(self.conv(x)).relu()
`;

describe('repeated findings', () => {
  it("keep the block's own message (even when the model holding it comes first) and name the paths it is held under", async () => {
    const r = await analyzeText(BLOCK, '/m/block.py');
    expect(r.findings.map((f) => `${f.code}@${f.range.start.line + 1}`)).toEqual(['GL302@17']);
    const finding = defined(r.findings[0]);
    expect(finding.message).toMatch(/^'conv' adds a bias right before BatchNorm 'bn', .* \(also in Net: b1, b2\)$/);
    expect(finding.related.map((x) => `${x.message}@${x.location.range.start.line + 1}`)).toEqual(["BatchNorm 'bn' cancels the bias@18", 'also in Net: b1, b2@4']);
    expect(finding.fixes.length).toBeGreaterThan(0);
  });

  it('name identical instances by their call', async () => {
    const path = join(__dirname, '../fixtures/rules/GL302/bad_torch_block_in_models.py');
    const r = await analyzeText(readFileSync(path, 'utf8'), path);
    expect(r.findings.map((f) => f.message.replace(/^.*Set bias=False\./, ''))).toEqual([' (also in Net() at line 28: b1, b2; Net() at line 32: b1, b2)']);
    expect(defined(r.findings[0]).related.slice(1).map((x) => x.location.range.start.line + 1)).toEqual([28, 32]);
  });

  it('stay apart when the instances give different numbers', async () => {
    const text = `import torch.nn as nn


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc1 = nn.Linear(width, 256)
        self.fc2 = nn.Linear(256, 10)
        nn.init.normal_(self.fc1.weight, mean=0.0, std=1.0)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


small = Net(784)
large = Net(64)
`;
    const r = await analyzeText(text, '/m/widths.py');
    expect(r.findings.map((f) => `${f.code}@${f.range.start.line + 1} ${/is ([\d.]+x)/.exec(f.message)?.[1]} ${/\(instance (.*)\)$/.exec(f.message)?.[1]}`)).toEqual([
      'GL203@9 19.8x Net(784), line 15',
      'GL203@9 5.7x Net(64), line 16',
    ]);
  });
});
