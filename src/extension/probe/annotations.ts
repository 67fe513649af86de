/**
 * What the editor writes next to each layer line after a probe (pure: no vscode), one annotation per
 * source line; layers made in a loop share their line and show the range of their norms.
 */
import { formatGradNorm } from '../../shared/probe-format';
import { DEFAULT_THRESHOLDS, type ProbeLayerResult, type ProbeResult, type VerdictKind } from '../../shared/probe';

export interface LineAnnotation {
  line: number;
  text: string;
  problem: boolean;
  hover: string;
}

const formatNorm = (value: number | undefined): string => formatGradNorm(value, 2);

const lastOf = (values: number[]): number | undefined => values[values.length - 1];

/** One annotation per source line (layers made in a loop share their line). */
export function annotationsFor(result: ProbeResult): LineAnnotation[] {
  const verdictsOf = (layer: ProbeLayerResult): VerdictKind[] => result.verdicts.filter((v) => v.layers.includes(layer.name)).map((v) => v.kind);
  const weighted = result.layers.filter((l) => l.gradNorm.length > 0);
  const lastNorm = lastOf(weighted[weighted.length - 1]?.gradNorm ?? []);
  const byLine = new Map<number, ProbeLayerResult[]>();
  for (const layer of result.layers) {
    if (layer.gradNorm.length === 0 && verdictsOf(layer).length === 0) continue;
    byLine.set(layer.line, [...(byLine.get(layer.line) ?? []), layer]);
  }
  return [...byLine].map(([line, layers]) => {
    const norms = layers.map((l) => lastOf(l.gradNorm)).filter((n): n is number => n !== undefined);
    const kinds = [...new Set(layers.flatMap(verdictsOf))];
    const min = Math.min(...norms);
    const max = Math.max(...norms);
    const value = norms.length === 0 ? '' : norms.length === 1 || min === max ? `∇ ${formatNorm(norms[0])}` : `∇ ${formatNorm(min)}…${formatNorm(max)} (${layers.length} layers)`;
    const text = [value, kinds.join(', ')].filter(Boolean).join(' ');
    const hover = [
      `**Gradient Lens probe** — ${layers.map((l) => `\`${l.name}\``).join(', ')}`,
      '',
      norms.length
        ? `∇ is the L2 norm of the gradient of the loss with respect to this layer's weights at the last of ${result.steps} training steps (batch ${result.batchSize}, seed ${result.seed}, ${result.optimizer}, synthetic data). ` +
          `First step: ${layers.map((l) => formatNorm(l.gradNorm[0])).join(', ')}. Last layer at the last step: ${formatNorm(lastNorm)}.`
        : 'This layer has no weights; it is named by a verdict.',
      '',
      `Vanishing means a layer gets less than ${DEFAULT_THRESHOLDS.vanishingRatio} of the last hidden layer's gradient norm: its weights barely move (Glorot & Bengio 2010); below ${DEFAULT_THRESHOLDS.attenuatedRatio} the first layer is attenuated (it learns slower). ` +
        `Exploding means a ratio above ${DEFAULT_THRESHOLDS.explodingRatio} or norms that grow by more than ${DEFAULT_THRESHOLDS.explodingGrowth}× (Pascanu et al. 2013).`,
      ...result.verdicts.filter((v) => layers.some((l) => v.layers.includes(l.name))).map((v) => `\n- **${v.kind}** (${v.severity}): ${v.message}`),
    ].join('\n');
    return { line, text, problem: kinds.length > 0, hover };
  });
}

