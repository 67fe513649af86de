/** The rule registry: the one list that feeds the linter, hovers on codes, the CLI and the docs. */
import type { Rule } from './types';
import { rule as saturatingActivationStack } from './activation/saturating-activation-stack';
import { rule as softmaxInHiddenLayer } from './activation/softmax-in-hidden-layer';
import { rule as missingNonlinearity } from './activation/missing-nonlinearity';
import { rule as seluWithoutSelfNormalization } from './activation/selu-without-self-normalization';
import { rule as activationAppliedTwice } from './activation/activation-applied-twice';
import { rule as lossExpectsProbabilities } from './activation/loss-expects-probabilities';
import { rule as binaryLossOnSoftmax } from './activation/binary-loss-on-softmax';
import { rule as constantWeightInit } from './initialization/constant-weight-init';
import { rule as initActivationMismatch } from './initialization/init-activation-mismatch';
import { rule as initScaleOff } from './initialization/init-scale-off';
import { rule as batchnormAfterActivation } from './normalization/batchnorm-after-activation';
import { rule as biasBeforeBatchnorm } from './normalization/bias-before-batchnorm';
import { rule as dropoutBeforeBatchnorm } from './normalization/dropout-before-batchnorm';
import { rule as recurrentWithoutClipping } from './optimization/recurrent-without-clipping';
import { rule as learningRateTooHigh } from './optimization/learning-rate-too-high';
import { rule as unscaledInput } from './data/unscaled-input';

export const RULES: readonly Rule[] = [
  saturatingActivationStack,
  softmaxInHiddenLayer,
  missingNonlinearity,
  seluWithoutSelfNormalization,
  activationAppliedTwice,
  lossExpectsProbabilities,
  binaryLossOnSoftmax,
  constantWeightInit,
  initActivationMismatch,
  initScaleOff,
  batchnormAfterActivation,
  biasBeforeBatchnorm,
  dropoutBeforeBatchnorm,
  recurrentWithoutClipping,
  learningRateTooHigh,
  unscaledInput,
];

const BY_CODE = new Map(RULES.map((r) => [r.meta.code, r]));

export function ruleByCode(code: string): Rule | undefined {
  return BY_CODE.get(code.toUpperCase());
}
