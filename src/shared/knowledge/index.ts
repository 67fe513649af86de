/**
 * The initializer / activation / layer knowledge base: the theory every rule, hover and probe verdict
 * cites (Glorot & Bengio 2010, He et al. 2015, Klambauer et al. 2017, Ioffe & Szegedy 2015,
 * Pascanu et al. 2013). Pure data and math; imports only src/shared/ir.
 *
 * - initializerStats(init, fanIn, fanOut): distribution, mean, effective std, uniform limit (Keras
 *   truncation and PyTorch gains included); initializerDoc(name); initFamily(init).
 * - targetStd(activation, fanIn, fanOut, framework?): the variance-preserving std (He / LeCun /
 *   Glorot, see activations.ts for the convention); recommendedInit(activation, framework).
 * - activationInfo(name), layerInfo(kind).
 * - effectiveActivation(layer, model): the activation really acting on a layer's output.
 * - assessKernelInit(layer, init, model): the verdict GL202/GL203 and the hovers share.
 * - describeInitializerHover / describeActivationHover / describeLayerHover: hover Markdown.
 */
export * from './references';
export * from './math';
export * from './activations';
export * from './initializers';
export * from './layers';
export * from './model-walk';
export * from './judgement';
export * from './format';
export * from './hover';
export * from './activation-functions';
export * from './propagation';
