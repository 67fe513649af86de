/** The training pass (being written): attaches optimizer / compile / fit / loops / data facts. */
import type { TrainingExtractor } from './types';

export const extractTraining: TrainingExtractor = () => [];
