/** The extractor contract: syntax -> ModelIR[]. One extractor per framework, one training pass. */
import type { ModelIR, Position, TrainingIR } from '../../shared/ir';
import type { PyFile } from '../python/file';
import type { EvalNotes } from '../python/limits';
import type { CallSite } from '../python/call-sites';
import type { AttributeWrite } from '../python/attribute-writes';

/**
 * Finds the models a file defines (framework-specific). Training facts are filled in by the training
 * pass. What the evaluation could not follow (limits reached, constructs not evaluated) goes to `notes`.
 */
export type ModelExtractor = (file: PyFile, notes?: EvalNotes, external?: ExternalSites, imported?: ImportedDefinitions, assigned?: AssignedAttributes) => ModelIR[];

/** Calls of a file's classes and builders made in other files of the workspace, by the name they have in the file. */
export type ExternalSites = ReadonlyMap<string, readonly CallSite[]>;

/**
 * The definition a name imports from another file of the workspace (`from models.backbone import
 * BackBone`, package re-exports followed): that file, parsed, and the name it has there; null when the
 * name does not come from a file of the workspace.
 */
export interface ImportedDefinitions {
  /** `local` as written in `importer`: a name it imports, or a dotted name through a module object it imports (`layers.ConvBN`). */
  (importer: string, local: string): { file: PyFile; symbol: string } | null;
  /** The names `importer` gets from star imports of workspace files (`from models import *`); what it binds itself excluded. */
  starNames?: (importer: string) => readonly string[];
}

/**
 * The functions of the workspace that assign a dict to attribute `attribute` of an object they are
 * given (`args.config = config` in `def my_model(args)`, see python/attribute-writes.ts), with their files.
 */
export type AssignedAttributes = (attribute: string) => readonly { file: PyFile; write: AttributeWrite }[];

/**
 * Training facts about a model this file does not define but imports, e.g. train.py does
 * `from model import build_model`, `model = build_model()`, then compiles/fits or loops over it.
 */
/**
 * ExternalTraining.module for a name the file uses but never binds and that no model of the file can
 * be (`model.fit(...)` in a script whose model lives in a notebook cell or another file): the linker
 * gives its facts to the project's only model, when there is exactly one.
 */
export const UNBOUND_NAME_MODULE = '<unbound name>';

/**
 * ExternalTraining.module for facts about a parameter of a module-level function the file defines and
 * never calls itself (`def workflow(model): model.compile(...)`): `symbol` names the function and
 * `parameter` the parameter; the linker gives the facts to the models other files pass there
 * (ModelPass).
 */
export const PARAMETER_MODULE = '<parameter>';

/** A parameter of a function: its name and position (for positional and keyword arguments alike). */
export interface ParameterRef {
  name: string;
  index: number;
}

export interface ExternalTraining {
  /** The module as written in the import ("model", ".model", "pkg.models.net"). */
  module: string;
  /** The imported symbol that builds the model (class, factory function or variable). */
  symbol: string;
  /** With PARAMETER_MODULE: the parameter of function `symbol` the facts are about. */
  parameter?: ParameterRef;
  /** Where this file calls `symbol` to build the model (`Seq(3, 32, 2)`): the instance built there, when calls build different ones. */
  builtAt?: Position;
  training: TrainingIR;
}

/**
 * A model this file passes to a function another file of the project defines (`workflow(lstm_model)`
 * with `from workflow import workflow`): the linker joins it with that function's parameter facts.
 */
export interface ModelPass {
  /** The function as imported: its module as written and its name there. */
  module: string;
  symbol: string;
  /** The argument: its position among the positional ones, or its keyword. */
  position: number | null;
  keyword: string | null;
  /** The model passed: one of this file's (by id) or one it imports. */
  model: { kind: 'local'; id: string } | { kind: 'external'; module: string; symbol: string; builtAt?: Position };
}

/**
 * The training pass: attaches optimizer / compile / fit / loops / data facts found in `file` to the
 * file's own models (mutating their `training`), and returns facts about imported models.
 */
export type TrainingExtractor = (file: PyFile, models: ModelIR[]) => ExternalTraining[];
