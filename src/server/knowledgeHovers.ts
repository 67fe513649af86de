/** The knowledge base's hover texts, as the hover handler consumes them. */
import type { HoverKnowledge } from './handlers/hover';

export const KNOWLEDGE_HOVERS: HoverKnowledge = {
  initializer: (layer, init) => `**${init.spelling}** on ${layer.name}: fan_in ${layer.fanIn ?? '?'}, fan_out ${layer.fanOut ?? '?'}`,
  activation: (activation) => `**${activation.spelling}**`,
  layer: () => null,
};
