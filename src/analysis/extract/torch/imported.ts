/**
 * Modules built by code of another file (a user class imported from another file of the workspace, a
 * torchvision architecture from the catalogue): the interpreter runs that code where it is written
 * (its own imports and names), and the layers it makes are seen where this file builds or calls them.
 *
 * Every range in the model must be a line of the model's own file (findings, hovers and probe numbers
 * are shown there), so a layer made elsewhere is relocated to the line of this file that builds the
 * module (`self.net = BackBone(...)`), or that calls it when it was built elsewhere. Its argument
 * range is dropped: a fix must never edit a line it does not see.
 */
import type { Range } from '../../../shared/ir';
import { relocateLayer } from '../relocate';
import type { Slot } from './values';

/** Module layers whose line is settled (built here, or relocated when the module was built). */
const placed = new WeakSet<Slot>();

/**
 * A module of file `from` was built at `at`: its layers made there point at `at` (and keep where `from`
 * writes them); those it was given (`MySequential(nn.Linear(20, 256), ...)`) keep their own line.
 */
export function placeBuilt(slots: readonly Slot[], given: ReadonlySet<Slot>, at: Range, from?: string): void {
  for (const slot of slots) {
    if (!given.has(slot) && !placed.has(slot)) relocateLayer(slot.layer, at, from);
    placed.add(slot);
  }
}

/** Layers the model's own file builds keep their line wherever they run (`self.conv.fc = nn.Linear(...)` into a torchvision model). */
export function placeOwn(slots: readonly Slot[]): void {
  for (const slot of slots) placed.add(slot);
}

/** Whether a layer traced while code of another file runs keeps its line (see placeBuilt). */
export const isPlaced = (slot: Slot): boolean => placed.has(slot);
