/** Spawns the built CLI (dist/cli.js, built by test/global-setup.ts) on fixture trees in temp folders. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inject, onTestFinished } from 'vitest';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const CLI = join(REPO_ROOT, 'dist/cli.js');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `timeoutMs`: big models probed end to end need longer than the default minute on a loaded machine. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): CliRun {
  const buildError = inject('bundleBuildError');
  if (buildError) throw new Error(buildError);
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temp folder holding `files` (path -> text or bytes); remove it with `cleanup()`. */
export function fixtureTree(files: Record<string, string | Buffer>): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'gl-cli-'));
  for (const [relative, content] of Object.entries(files)) {
    const path = join(root, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return { root, cleanup: () => { rmSync(root, { recursive: true, force: true }); } };
}

/** A fixture tree removed when the test that made it finishes (call it inside a test). */
export function tempTree(files: Record<string, string | Buffer>): string {
  const { root, cleanup } = fixtureTree(files);
  onTestFinished(cleanup);
  return root;
}

/** A Keras model with seven hidden sigmoid layers in a row (predicted vanishing): GL101 on line 6. */
export const SIGMOID_STACK = `from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(256, activation="sigmoid"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
`;

/** Its clean twin: ReLU with He initialization. */
export const RELU_STACK = `from tensorflow import keras
from tensorflow.keras import layers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
    layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
`;

/** A PyTorch MLP with batch norm placed after its ReLU: GL301 (information by default) on the BatchNorm1d line. */
export const BN_AFTER_RELU = `import torch
from torch import nn

net = nn.Sequential(
    nn.Linear(64, 128),
    nn.ReLU(),
    nn.BatchNorm1d(128),
    nn.Linear(128, 10),
)
`;
