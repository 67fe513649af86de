// Types of thread-cpu.mjs for bench/probe-cases.ts.
export declare function mainThreadCpuMs(): number | null;
