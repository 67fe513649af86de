// Types of generate.mjs for the tests that edit its files (test/unit/python/incremental-memory.test.ts).
import type { SourceEdit } from '../src/analysis/api';

export declare const HEADER: string;
export declare function modelBlock(i: number): string;
export declare function helperBlock(i: number): string;
export declare function generateFile(lines: number, kind?: 'dense' | 'typical'): string;
export declare function editSite(text: string): number;
export declare function editAt(text: string, index: number, oldText: string, newText: string): SourceEdit;
