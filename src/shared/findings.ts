/** Findings: what rules report. Editor-independent; the server maps them to LSP diagnostics. */
import type { Range, Location, ActivationName, InitializerIR, LayerKind, OptimizerIR } from './ir';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

export type RuleCategory = 'activation' | 'initialization' | 'normalization' | 'optimization' | 'data';

export interface TextEdit {
  file: string;
  range: Range;
  newText: string;
}

export interface Fix {
  title: string;
  /** 'safe' fixes keep the model's meaning apart from the problem fixed; 'unsafe' ones change more. */
  safety: 'safe' | 'unsafe';
  edits: TextEdit[];
}

/** IR-level edit operations: the probe applies them to show a fix's effect before the user takes it. */
export type IrEditOp =
  | { op: 'set-activation'; layerId: string; activation: ActivationName }
  | { op: 'set-kernel-init'; layerId: string; init: Pick<InitializerIR, 'name' | 'params' | 'options'> }
  | { op: 'set-recurrent-init'; layerId: string; init: Pick<InitializerIR, 'name' | 'params' | 'options'> }
  | { op: 'set-use-bias'; layerId: string; value: boolean }
  | { op: 'move-before'; layerId: string; beforeLayerId: string }
  | { op: 'replace-kind'; layerId: string; kind: LayerKind }
  | { op: 'remove-layer'; layerId: string }
  | { op: 'insert-after'; afterLayerId: string; kind: LayerKind; activation: ActivationName | null }
  | { op: 'set-optimizer'; patch: Partial<Pick<OptimizerIR, 'learningRate' | 'clipnorm' | 'clipvalue' | 'globalClipnorm'>> };

export interface WhatIf {
  /** Short, e.g. "relu + he_normal instead of sigmoid". */
  title: string;
  ops: IrEditOp[];
}

export interface RelatedInfo {
  location: Location;
  message: string;
}

export interface Finding {
  code: string;
  /** Kebab-case rule name, e.g. "saturating-activation-stack". */
  name: string;
  message: string;
  severity: Severity;
  file: string;
  range: Range;
  related: RelatedInfo[];
  fixes: Fix[];
  whatIf: WhatIf | null;
  /** ModelIR.id of the model the finding is about. */
  modelId: string;
  /**
   * Set on a finding that marks where a problem reported elsewhere comes from (GL401 marks the recurrent
   * layer of a model trained at these sites): it is suppressed with them, when every site is suppressed.
   */
  echoes?: Location[];
  /**
   * Set on a mark that shows the same layer where another file writes it (not a cause, as GL401's mark is):
   * a suppression of the mark silences the findings it echoes as well.
   */
  writtenHere?: true;
}

/** The finding with its message and its related notes passed through `rename` (a notebook's line mentions named by cell: messageInCells). */
export function renameFindingMessages(finding: Finding, rename: (text: string) => string): Finding {
  return { ...finding, message: rename(finding.message), related: finding.related.map((r) => ({ ...r, message: rename(r.message) })) };
}
