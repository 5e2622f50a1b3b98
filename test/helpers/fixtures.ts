// Moved to fixtures/core.ts (shared with the benchmarks); kept here for the tests.
export * from "../../fixtures/core";
