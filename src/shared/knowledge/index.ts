/** The initializer / activation / layer knowledge base: the theory every rule, hover and probe verdict cites. */
export * from './references';
export * from './math';
export * from './activations';
export * from './initializers';
export * from './layers';
export * from './model-walk';
export * from './judgement';
export * from './format';
export * from './hover';
